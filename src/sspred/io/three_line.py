"""The three-line labelled format of the DSSP8 sets (fengtuan/LIFT_SS): its reader and its writer.

Per chain: '>ID', the sequence, then one DSSP 8-state letter per residue; 'X' marks an unobserved
residue. A header carrying ``states=3`` holds H/E/C labels instead (how ``write_three_line`` writes
a set with only 3-state labels), so every chain round-trips.
"""

from __future__ import annotations

import os
from typing import IO, Iterable

import numpy as np

from sspred.alphabet import STATES3, STATES8
from sspred.errors import InputError
from sspred.io.chain import Chain, make_chain
from sspred.io.textfile import open_text

#: Header token of a three-line record whose labels are 3-state (H/E/C), not DSSP's 8 states.
THREE_STATE_TAG = "states=3"
#: Label letter of an unobserved or unscored residue in the three-line format.
UNOBSERVED = "X"


def read_three_line(path: str | os.PathLike) -> list[Chain]:
    """Read the three-line format: '>ID', sequence, 8-state labels per chain; 'X' marks an unobserved residue.

    A header carrying ``states=3`` (written by ``write_three_line`` for sets
    with only 3-state labels) holds H/E/C labels instead.

    Parameters
    ----------
    path : str or os.PathLike
        The file, plain or gzipped.

    Returns
    -------
    list of Chain
        The chains, in file order.

    Raises
    ------
    sspred.InputError
        For a line count that is not a multiple of three, a missing header or id, or bad letters.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "set.txt"
    >>> _ = path.write_text(">a\\nMKVL\\nHGXE\\n")
    >>> chain = read_three_line(path)[0]
    >>> chain.y8.tolist(), chain.y3.tolist()
    ([0, 1, -1, 3], [1, 1, -1, 2])
    """
    path = str(path)
    chains = []
    with open_text(path) as handle:
        lines = [(i, l.strip()) for i, l in enumerate(handle, start=1) if l.strip()]
    if len(lines) % 3:
        raise InputError(f"expected 3 lines per chain, got {len(lines)} non-blank lines", path=path)
    for k in range(0, len(lines), 3):
        (ln, head), (_, seq), (_, ss) = lines[k:k + 3]
        if not head.startswith(">"):
            raise InputError(f"expected a '>' header, got {head[:40]!r}", path=path, line=ln)
        words = head[1:].split()
        if not words:
            raise InputError("header has no id", path=path, line=ln)
        chains.append(make_chain(words[0], seq, ss, eight=THREE_STATE_TAG not in words[1:], path=path,
                                 unobserved=UNOBSERVED))
    return chains


def three_line_record(chain: Chain) -> str:
    """One chain in the three-line format; masked residues are written 'X' so a reader masks them again.

    Parameters
    ----------
    chain : Chain
        The chain; its 8-state labels when it has them, else its 3-state ones (tagged ``states=3``).

    Returns
    -------
    str
        Three lines, each ending in a newline.

    Examples
    --------
    >>> from sspred.io.chain import make_chain
    >>> three_line_record(make_chain("a", "MKV", "CXH", eight=False, unobserved="X"))
    '>a states=3\\nMKV\\nCXH\\n'
    """
    if chain.y8 is not None:
        letters, y, tag = STATES8, chain.y8, ""
    else:
        letters, y, tag = STATES3, chain.y3, " " + THREE_STATE_TAG
    table = np.array(list(letters + UNOBSERVED))
    ss = "".join(table[np.where(y >= 0, y, len(letters))])  # MASKED (-1) -> the UNOBSERVED letter
    return f">{chain.id}{tag}\n{chain.sequence}\n{ss}\n"


def write_three_line(chains: Iterable[Chain], handle: IO[str]) -> int:
    """Write chains to a text handle in the format ``read_three_line`` reads.

    Parameters
    ----------
    chains : iterable of Chain
        The chains.
    handle : text file
        Where they go.

    Returns
    -------
    int
        How many chains were written.

    Examples
    --------
    >>> import io
    >>> from sspred.io.chain import make_chain
    >>> write_three_line([make_chain("a", "MKV", "HGE", eight=True)], io.StringIO())
    1
    """
    n = 0
    for chain in chains:
        handle.write(three_line_record(chain))
        n += 1
    return n
