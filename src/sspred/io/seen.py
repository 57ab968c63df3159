"""Duplicate-id detection over any number of records, in bounded memory.

A Python ``set`` of every id costs about 100 bytes per record and grows without
limit (a proteome dump has millions of records). ``SeenIds`` keeps 8-byte
hashes in an open-addressing NumPy table instead: 16 bytes per record at most,
and never more than ``MAX_SLOTS`` slots. Once the table is full it stops taking
new ids (``saturated`` turns true) but still recognises the ids it holds, so
duplicates are found exactly among the first ``MAX_SLOTS // 2`` records.

A hash collision (about 1e-7 for a million distinct ids) only produces a false
"duplicate id" warning; it never changes a prediction.
"""

from __future__ import annotations

import numpy as np

#: Table slots at most: 2**22 slots * 8 bytes = 32 MiB, for 2,097,152 ids at load factor 1/2
#: (growing to it briefly holds about twice that).
MAX_SLOTS = 1 << 22
_INITIAL_SLOTS = 1 << 10
_MASK64 = (1 << 64) - 1


class SeenIds:
    """A set of ids in bounded memory: ``add(id)`` records an id and says whether it was seen before.

    Parameters
    ----------
    max_slots : int, default MAX_SLOTS
        The most hash slots the table grows to, a power of two; past it the set stops recording
        (``saturated``) and says no id was seen.

    Examples
    --------
    >>> seen = SeenIds()
    >>> seen.add("a"), seen.add("b"), seen.add("a")
    (False, False, True)
    """

    def __init__(self, max_slots: int = MAX_SLOTS):
        assert max_slots >= _INITIAL_SLOTS and max_slots & (max_slots - 1) == 0, "a power of two"
        self.max_slots = max_slots
        self._set_table(np.zeros(_INITIAL_SLOTS, dtype=np.uint64))  # 0 marks an empty slot
        self.size = 0
        self.saturated = False

    def _set_table(self, table: np.ndarray) -> None:
        self._table = table
        # A memoryview reads and writes slots as plain Python ints, ~5x faster than NumPy scalar indexing.
        # numpy's stubs give ndarray __buffer__ only from Python 3.12; it has the buffer protocol on 3.11 too.
        self._slots = memoryview(table).cast("B").cast("Q")  # type: ignore[arg-type]

    @staticmethod
    def _hash(key: str) -> int:
        # Python's string hash (SipHash, salted per process) is uniform in its low bits; 0 is reserved.
        return (hash(key) & _MASK64) or 1

    def _probe(self, h: int) -> tuple[int, bool]:
        """(slot, found): the slot holding ``h``, or the empty slot where it would go (linear probing)."""
        slots, mask = self._slots, self._table.size - 1
        i = h & mask
        while True:
            v = slots[i]
            if v == h:
                return i, True
            if v == 0:
                return i, False
            i = (i + 1) & mask

    def __contains__(self, key: str) -> bool:
        return self._probe(self._hash(key))[1]

    def add(self, key: str) -> bool:
        """Record ``key`` and say whether it was (almost surely) seen before.

        Parameters
        ----------
        key : str
            The id.

        Returns
        -------
        bool
            True if it was seen before.

        Examples
        --------
        >>> seen = SeenIds()
        >>> seen.add("x"), seen.add("x")
        (False, True)
        """
        h = (hash(key) & _MASK64) or 1  # _hash, inlined with the probe: this runs once per record
        slots, mask = self._slots, self._table.size - 1
        i = h & mask
        while True:
            v = slots[i]
            if v == h:
                return True
            if v == 0:
                break
            i = (i + 1) & mask
        if (self.size + 1) * 2 > mask + 1:
            if mask + 1 >= self.max_slots:
                self.saturated = True
                return False
            self._grow()
            i, _ = self._probe(h)
        self._slots[i] = h
        self.size += 1
        return False

    def _grow(self) -> None:
        """Double the table, reinserting every hash with vectorized linear probing.

        Each round writes every pending hash into the slot it points at, if that slot is empty;
        where several point at one slot, one write wins and reads back. All the others move one
        slot on (the slot they point at is now full). That keeps the invariant of linear probing
        (no empty slot between a hash's home and its place) and needs no Python int per id: a
        list of them would cost more memory than the table itself.
        """
        pending = self._table[self._table != 0]  # (n,) uint64
        n_slots = self._table.size * 2
        self._slots.release()
        del self._table, self._slots  # free the old table before the new one is allocated
        table = np.zeros(n_slots, dtype=np.uint64)
        mask = np.uint64(n_slots - 1)
        slot = pending & mask
        while pending.size:
            empty = table[slot] == 0
            table[slot[empty]] = pending[empty]
            placed = table[slot] == pending  # hashes are distinct, so this is exactly the winners
            pending, slot = pending[~placed], (slot[~placed] + np.uint64(1)) & mask
        self._set_table(table)

    @property
    def nbytes(self) -> int:
        """The bytes the hash table holds."""
        return self._table.nbytes
