"""From residues to network inputs: symbol codes, index windows and one-hot rows.

A window is never stored as floats for a whole data set. Chains are kept as
arrays of symbol codes (uint8); a window is a row of indices into those codes,
and only a minibatch is turned into one-hot floats (``one_hot``).
"""

from __future__ import annotations

import numpy as np

from sspred.alphabet import ENCODING, N_UNITS, RESIDUE_CODE, SPACER
from sspred.errors import InputError


def encode(sequence: str, *, path: str | None = None, record: str | None = None) -> np.ndarray:
    """Symbol codes of a cleaned residue string, shape (L,), uint8.

    Raises InputError naming the first character that is not a residue letter
    (1-based position within the record).
    """
    raw = np.frombuffer(sequence.encode("latin-1", errors="replace"), dtype=np.uint8)
    codes = RESIDUE_CODE[raw]
    bad = np.flatnonzero(codes == 255)
    if bad.size:
        pos = int(bad[0])
        ch = sequence[pos]
        raise InputError(f"unknown residue symbol {ch!r}", path=path, record=record, position=pos + 1)
    return codes


def check_window(window: int) -> int:
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number, got {window}")
    return window


def pad(codes: np.ndarray, window: int) -> np.ndarray:
    """Codes with window//2 spacers on each side, shape (L + window - 1,)."""
    half = window // 2
    out = np.full(codes.size + 2 * half, SPACER, dtype=np.uint8)
    out[half:half + codes.size] = codes
    return out


def windows(codes: np.ndarray, window: int) -> np.ndarray:
    """Read-only (L, window) view of symbol codes centred on each residue; no copy."""
    return np.lib.stride_tricks.sliding_window_view(pad(codes, window), window)


def one_hot(windows_: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Input rows for a batch of windows: (B, window) codes -> (B, window * 21) floats."""
    enc = ENCODING.astype(dtype, copy=False)
    batch, width = windows_.shape
    return enc[windows_].reshape(batch, width * N_UNITS)  # (B, W, 21) -> (B, W*21)


class WindowIndex:
    """Every labelled residue of a set of chains, addressable as windows without copying.

    All chains are concatenated into one code array with window//2 spacers
    between and around them; ``centres`` holds the position of each labelled
    residue in that array, and ``labels`` its state index.
    """

    def __init__(self, chains, window: int, states: str = "3"):
        check_window(window)
        self.window = window
        half = window // 2
        parts, centres, labels, start = [np.full(half, SPACER, np.uint8)], [], [], half
        for chain in chains:
            y = chain.labels(states)
            parts += [chain.codes, np.full(half, SPACER, np.uint8)]
            keep = np.flatnonzero(y >= 0)
            centres.append(keep + start)
            labels.append(y[keep])
            start += chain.codes.size + half
        self.codes = np.concatenate(parts)
        self.centres = np.concatenate(centres).astype(np.int64) if centres else np.zeros(0, np.int64)
        self.labels = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)
        self.offsets = np.arange(-half, half + 1, dtype=np.int64)

    def __len__(self) -> int:
        return self.centres.size

    def batch(self, rows: np.ndarray) -> np.ndarray:
        """Codes of the windows of examples ``rows``: (B,) -> (B, window) uint8."""
        return self.codes[self.centres[rows, None] + self.offsets[None, :]]
