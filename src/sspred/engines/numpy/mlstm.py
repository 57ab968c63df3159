"""The UniRep mLSTM forward pass (Krause et al. 2016's multiplicative LSTM, as Alley et al. 2019 trained it),
in NumPy, for inference only: a batch of chains of equal or different lengths, left to right.

Per step, for a cell with weight-normalised matrices (sspred.unirep.weights.Cell):
    m = (x Wmx) * (h Wmh);  z = x Wx + m Wh + b;  i, f, o, u = split(z, 4)
    c = sigmoid(f) c + sigmoid(i) tanh(u);  h = sigmoid(o) tanh(c)
A chain is read as a start token and its residues; the state after residue i is residue i's feature. The
cell reads left to right only, so right padding leaves the states of real residues as they are alone.
"""

from __future__ import annotations

import numpy as np

#: Steps whose input products (x Wx, x Wmx) are made in one matrix product: bounds their memory
#: ((B, STEPS, 4H) float32 is 58 MB for 64 chains at 1900 units).
STEPS = 32


def sigmoid(x: np.ndarray) -> np.ndarray:
    # The reference clips at -88, where exp(88) still fits float32, so no overflow warning and equal values.
    return 1.0 / (1.0 + np.exp(-np.maximum(x, -88.0)))


def run_cell(cell, x: np.ndarray) -> np.ndarray:
    """One cell over inputs (B, T, in) -> its states (B, T, H), from zero state."""
    batch, steps, _ = x.shape
    units = cell.units
    h = np.zeros((batch, units), np.float32)
    c = np.zeros((batch, units), np.float32)
    out = np.empty((batch, steps, units), np.float32)
    for t0 in range(0, steps, STEPS):
        block = x[:, t0:t0 + STEPS]  # (B, S, in)
        xw = block @ cell.wx + cell.b  # (B, S, in) @ (in, 4H) -> (B, S, 4H)
        xm = block @ cell.wmx  # (B, S, in) @ (in, H) -> (B, S, H)
        for s in range(block.shape[1]):
            m = xm[:, s] * (h @ cell.wmh)  # (B, H) @ (H, H) -> (B, H)
            z = xw[:, s] + m @ cell.wh  # (B, H) @ (H, 4H) -> (B, 4H)
            i, f, o, u = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(u)
            h = sigmoid(o) * np.tanh(c)
            out[:, t0 + s] = h
    return out


def mlstm_states(embedding: np.ndarray, cells, tokens: np.ndarray, all_cells: bool = False) -> np.ndarray:
    """States of every step: tokens (B, T) UniRep codes (start token first) -> (B, T, H), or with
    ``all_cells`` every cell's states side by side, (B, T, n_cells * H)."""
    x = embedding[tokens]  # (B, T) -> (B, T, 10)
    outs = []
    for cell in cells:
        x = run_cell(cell, x)
        outs.append(x)
    return np.concatenate(outs, axis=2) if all_cells and len(outs) > 1 else outs[-1]
