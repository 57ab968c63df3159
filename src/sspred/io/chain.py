"""A labelled chain: residues as symbol codes, 3-state labels and, where a set has them, 8-state labels.

A residue that is unobserved or outside the scored segment carries ``MASKED`` and is neither trained on
nor scored.

Two more per-residue targets ride along for multi-task training, each an int8 array of the chain's
length on every chain, "unknown" where the set says nothing:
- ``disorder``: DISORDERED (1) for an unresolved residue, ORDERED (0) for a resolved one,
  DISORDER_UNKNOWN (-1). Filled by the netsurfp2 (mask.fasta) and CB513/TS115 (``disorder`` column)
  readers, the labels NetSurfP-2.0 trained its disorder output on.
- ``conservation``: ConSurf class 1-9, CONSERVATION_UNKNOWN (0). Filled by the flip-conservation
  reader, whose chains have no secondary structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from sspred.alphabet import (CONSERVATION_UNKNOWN, DISORDER_UNKNOWN, DISORDERED, DSSP8_ALIASES, DSSP8_TO_3, MASKED,
                             ORDERED, STATES3, STATES8)
from sspred.errors import InputError
from sspred.features import encode


@dataclass
class Chain:
    """A labelled chain: residues, their symbol codes and int8 state labels, MASKED where not scored.

    ``disorder`` and ``conservation`` (int8, one per residue) default to
    all-unknown, so every chain carries both and a multi-task loss masks
    what a set lacks.

    Parameters
    ----------
    id : str
        The chain's name in its set.
    sequence : str
        One residue letter per position, length L.
    codes : numpy.ndarray of int, shape (L,)
        Residue symbol codes (``sspred.features.encode``).
    y3 : numpy.ndarray of int8, shape (L,)
        3-state labels, indices into "CHE"; ``MASKED`` (-1) where not scored.
    y8 : numpy.ndarray of int8, shape (L,), optional
        8-state labels into "HGIEBTSC", for a set that has them.
    meta : dict, optional
        What the reader knows besides (e.g. the source file).
    disorder : numpy.ndarray of int8, shape (L,), optional
        1 disordered, 0 ordered, -1 unknown; all unknown when None.
    conservation : numpy.ndarray of int8, shape (L,), optional
        ConSurf class 1-9, 0 unknown; all unknown when None.

    Examples
    --------
    >>> from sspred.io.chain import make_chain
    >>> chain = make_chain("a", "MKVL", "CHHE", eight=False)
    >>> chain.y3.tolist(), chain.disorder.tolist()
    ([0, 1, 1, 2], [-1, -1, -1, -1])
    """

    id: str
    sequence: str
    codes: np.ndarray
    y3: np.ndarray
    y8: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    #: DISORDERED / ORDERED per residue; DISORDER_UNKNOWN where the set does not say.
    disorder: np.ndarray | None = None
    #: Conservation class 1-9 per residue; CONSERVATION_UNKNOWN (0) where the set has none.
    conservation: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.sequence)
        if self.disorder is None:
            self.disorder = np.full(n, DISORDER_UNKNOWN, dtype=np.int8)
        if self.conservation is None:
            self.conservation = np.full(n, CONSERVATION_UNKNOWN, dtype=np.int8)

    def labels(self, states: str = "3") -> np.ndarray:
        """The chain's state labels of one alphabet.

        Parameters
        ----------
        states : {"3", "8"}, default "3"
            Which labels: 3-state or 8-state.

        Returns
        -------
        numpy.ndarray of int8, shape (L,)
            ``y3`` or ``y8``.

        Raises
        ------
        sspred.InputError
            When 8-state labels are asked of a chain without them.

        Examples
        --------
        >>> from sspred.io.chain import make_chain
        >>> make_chain("a", "MKV", "HGE", eight=True).labels("8").tolist()
        [0, 1, 3]
        """
        if states == "3":
            return self.y3
        if self.y8 is None:
            raise InputError("this set has no 8-state labels", record=self.id)
        return self.y8


def _state_indices(letters: str, table: str, *, path: str, record: str) -> np.ndarray:
    lookup = np.full(256, -2, dtype=np.int8)
    for i, s in enumerate(table):
        lookup[ord(s)] = i
    raw = np.frombuffer(letters.encode("latin-1", errors="replace"), dtype=np.uint8)
    out = lookup[raw]
    bad = np.flatnonzero(out == -2)
    if bad.size:
        raise InputError(f"unknown state letter {letters[bad[0]]!r}", path=path, record=record,
                         position=int(bad[0]) + 1)
    return out


def make_chain(chain_id: str, sequence: str, ss: str, *, eight: bool, mask: np.ndarray | None = None,
               path: str = "<input>", unobserved: str = "", disorder: np.ndarray | None = None) -> Chain:
    """Build a Chain from residues and a label string (3- or 8-state letters).

    Parameters
    ----------
    chain_id : str
        The chain's name.
    sequence : str
        One residue letter per position, length L.
    ss : str
        One state letter per residue: "CHE" letters, or DSSP's eight (and their aliases) when ``eight``.
    eight : bool
        Whether ``ss`` holds 8-state letters; the 3-state labels are then mapped from them.
    mask : numpy.ndarray of bool, shape (L,), optional
        True where the residue is scored.
    path : str, default "<input>"
        The file the chain came from, for error messages.
    unobserved : str, default ""
        Letters in ``ss`` (e.g. "X") that mask their residue.
    disorder : numpy.ndarray of int8, shape (L,), optional
        Disorder targets (see ``Chain``), stored as given; None leaves them unknown.

    Returns
    -------
    Chain
        The labelled chain.

    Raises
    ------
    sspred.InputError
        When the lengths differ, or for an unknown residue or state letter; it names the record and position.

    Examples
    --------
    >>> from sspred.io.chain import make_chain
    >>> make_chain("a", "MKVL", "CHXE", eight=False, unobserved="X").y3.tolist()
    [0, 1, -1, 2]
    """
    # The position is where the shorter of the two runs out: the first residue (or label) without a partner.
    if len(ss) != len(sequence):
        raise InputError(f"{len(sequence)} residues but {len(ss)} labels", path=path, record=chain_id,
                         position=min(len(ss), len(sequence)) + 1)
    if mask is not None and mask.size != len(sequence):
        raise InputError(f"{len(sequence)} residues but a mask of {mask.size}", path=path, record=chain_id,
                         position=min(mask.size, len(sequence)) + 1)
    if disorder is not None and disorder.size != len(sequence):
        raise InputError(f"{len(sequence)} residues but {disorder.size} disorder flags", path=path, record=chain_id,
                         position=min(disorder.size, len(sequence)) + 1)
    codes = encode(sequence, path=path, record=chain_id)
    observed = np.array([c not in unobserved for c in ss], dtype=bool) if unobserved else np.ones(len(ss), bool)
    if mask is not None:
        observed &= mask
    clean = "".join("C" if not o else c for c, o in zip(ss, observed)) if unobserved else ss
    if eight:
        s8 = "".join(DSSP8_ALIASES.get(c, c) for c in clean)
        y8 = _state_indices(s8, STATES8, path=path, record=chain_id)
        s3 = "".join(DSSP8_TO_3[c] for c in s8)
    else:
        y8, s3 = None, clean
    y3 = _state_indices(s3, STATES3, path=path, record=chain_id)
    y3[~observed] = MASKED
    if y8 is not None:
        y8[~observed] = MASKED
    return Chain(chain_id, sequence, codes, y3, y8, disorder=disorder)


def disorder_from_resolved(resolved: np.ndarray) -> np.ndarray:
    """Disorder targets from a boolean "resolved in the structure" array: unresolved residues are disordered.

    Parameters
    ----------
    resolved : numpy.ndarray of bool, shape (L,)
        True where the residue is resolved.

    Returns
    -------
    numpy.ndarray of int8, shape (L,)
        1 (disordered) where unresolved, 0 (ordered) where resolved.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.io.chain import disorder_from_resolved
    >>> disorder_from_resolved(np.array([True, False])).tolist()
    [0, 1]
    """
    return np.where(resolved, ORDERED, DISORDERED).astype(np.int8)


def count_scored(chains: Iterable[Chain]) -> int:
    """How many residues of ``chains`` are scored (3-state label not MASKED).

    Parameters
    ----------
    chains : iterable of Chain
        The chains to count.

    Returns
    -------
    int
        The number of scored residues.

    Examples
    --------
    >>> from sspred.io.chain import count_scored, make_chain
    >>> count_scored([make_chain("a", "MKVL", "CHXE", eight=False, unobserved="X")])
    3
    """
    return int(sum((c.y3 >= 0).sum() for c in chains))
