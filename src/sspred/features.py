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


def row_inputs(codes: np.ndarray, extra: np.ndarray | None, dtype=np.float32) -> np.ndarray:
    """A conv network's input rows: (N,) codes -> (N, 21) one-hot, with ``extra`` (N, D) features (a language
    model's states) beside it, (N, 21 + D)."""
    x = one_hot(codes[:, None], dtype)  # (N, 21)
    if extra is None:
        return x
    return np.concatenate([x, extra.astype(dtype, copy=False)], axis=1)  # (N, 21) + (N, D) -> (N, 21 + D)


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

    def examples(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What a learner steps on: the windows of ``rows`` and their labels."""
        return self.batch(rows), self.labels[rows]

    def eval_batches(self, size: int):
        """(inputs, labels) of every example in order, ``size`` at a time."""
        for s in range(0, len(self), size):
            yield self.examples(np.arange(s, min(s + size, len(self))))


# --- stage-2 (structure-to-structure) inputs -----------------------------------------------
#
# The second network of a cascade (Qian & Sejnowski's second net, PSIPRED's second pass) reads a
# window of the first stage's probabilities. Each position has the K probabilities plus a spacer
# unit that is on past either end of the chain, and the whole window gets chain-level inputs.

#: log10 of a typical chain length, subtracted so the log-length input is centred near 0.
LOG_LENGTH_CENTRE = 2.3


def chain_inputs(length: int) -> np.ndarray:
    """Chain-level inputs of the second stage, shape (1,): centred log10 of the chain length."""
    return np.array([np.log10(max(length, 1)) - LOG_LENGTH_CENTRE], dtype=np.float32)


def stage2_units(n_states: int) -> int:
    return n_states + 1


def stage2_rows(probs: np.ndarray, window: int) -> np.ndarray:
    """Inputs of the second stage for one chain: (L, K) probabilities -> (L, window*(K+1) + 1)."""
    length, k = probs.shape
    half = window // 2
    padded = np.zeros((length + 2 * half, k + 1), dtype=np.float32)  # (L + W - 1, K + 1)
    padded[:half, k] = padded[length + half:, k] = 1.0
    padded[half:half + length, :k] = probs
    win = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # (L, K+1, W)
    rows = win.transpose(0, 2, 1).reshape(length, window * (k + 1))  # (L, W*(K+1)), position-major
    extra = np.broadcast_to(chain_inputs(length), (length, 1))
    return np.concatenate([rows, extra], axis=1)


class DenseWindowIndex:
    """Like WindowIndex, over per-residue float features (L, F) instead of residue codes.

    Batches come out as float rows (B, window*(F+1) + 1) laid out exactly as ``stage2_rows``, so
    training and prediction see the same inputs.
    """

    def __init__(self, features: list[np.ndarray], labels: list[np.ndarray], window: int):
        check_window(window)
        self.window = window
        half = window // 2
        f = features[0].shape[1] if features else 0
        pad = np.zeros((half, f + 1), np.float32)
        pad[:, f] = 1.0
        parts, centres, ys, extras, start = [pad], [], [], [], half
        for feat, y in zip(features, labels):
            block = np.zeros((feat.shape[0], f + 1), np.float32)
            block[:, :f] = feat
            parts += [block, pad]
            keep = np.flatnonzero(y >= 0)
            centres.append(keep + start)
            ys.append(y[keep])
            extras.append(np.broadcast_to(chain_inputs(feat.shape[0]), (keep.size, 1)))
            start += feat.shape[0] + half
        self.rows = np.concatenate(parts)
        self.centres = np.concatenate(centres).astype(np.int64)
        self.labels = np.concatenate(ys).astype(np.int64)
        self.extras = np.concatenate(extras).astype(np.float32)
        self.offsets = np.arange(-half, half + 1, dtype=np.int64)

    def __len__(self) -> int:
        return self.centres.size

    def batch(self, rows: np.ndarray) -> np.ndarray:
        win = self.rows[self.centres[rows, None] + self.offsets[None, :]]  # (B, W, F+1)
        return np.concatenate([win.reshape(rows.size, -1), self.extras[rows]], axis=1)

    examples = WindowIndex.examples
    eval_batches = WindowIndex.eval_batches


def network_inputs(batch: np.ndarray, dtype=np.float32) -> np.ndarray:
    """What a network reads from a batch: one-hot rows for residue codes, the floats themselves otherwise."""
    return one_hot(batch, dtype) if batch.dtype == np.uint8 else batch.astype(dtype, copy=False)
