"""Seeded random chains shaped like a proteome, the input of the speed and scale measurements (benchmarks/).

Speed does not depend on what the residues are, but it does depend on how many chains there are and how long they
are, so the lengths follow the human proteome's and the letters Swiss-Prot's composition.
"""

from __future__ import annotations

import os

import numpy as np

from sspred.alphabet import AMINO_ACIDS
from sspred.io.textfile import atomic_output

#: UniProtKB/Swiss-Prot amino-acid composition (percent), in AMINO_ACIDS order.
COMPOSITION = np.array([8.25, 1.38, 5.46, 6.72, 3.86, 7.07, 2.27, 5.91, 5.80, 9.64,
                        2.41, 4.06, 4.74, 3.93, 5.53, 6.65, 5.36, 6.86, 1.10, 2.92])
#: Log-normal protein lengths: median ~415 and mean ~570, as in the human proteome (~20k proteins, ~11.4M residues).
LENGTH_MU, LENGTH_SIGMA, LENGTH_MIN, LENGTH_MAX = np.log(415.0), 0.80, 30, 35_000


def proteome_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths of ``n`` proteins drawn from the human proteome's log-normal length distribution.

    Parameters
    ----------
    n : int
        How many lengths.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    numpy.ndarray
        (n,) int, each within LENGTH_MIN..LENGTH_MAX.

    Examples
    --------
    >>> lengths = proteome_lengths(1000, np.random.default_rng(0))
    >>> 300 < int(np.median(lengths)) < 550
    True
    """
    return np.clip(rng.lognormal(LENGTH_MU, LENGTH_SIGMA, n).astype(int), LENGTH_MIN, LENGTH_MAX)


def write_fasta(path: str | os.PathLike, lengths: np.ndarray, rng: np.random.Generator, line: int = 60) -> int:
    """Write random sequences of the given lengths (Swiss-Prot's composition) as FASTA wrapped at ``line``.

    Parameters
    ----------
    path : str or os.PathLike
        The file written; records are named ``seq000000``, ``seq000001``, ...
    lengths : numpy.ndarray
        (n,) int, one length per record.
    rng : numpy.random.Generator
        The source of randomness.
    line : int
        Residues per line.

    Returns
    -------
    int
        The number of residues written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "p.fasta"
    >>> write_fasta(path, np.array([5, 70]), np.random.default_rng(0))
    75
    >>> path.read_text().splitlines()[0]
    '>seq000000 random length 5'
    """
    letters = np.frombuffer(AMINO_ACIDS.encode(), np.uint8)
    p = COMPOSITION / COMPOSITION.sum()
    with atomic_output(path) as f:
        for i, n in enumerate(lengths):
            seq = letters[rng.choice(20, size=int(n), p=p)].tobytes().decode()
            f.write(f">seq{i:06d} random length {n}\n")
            f.write("\n".join(seq[j:j + line] for j in range(0, len(seq), line)) + "\n")
    return int(lengths.sum())
