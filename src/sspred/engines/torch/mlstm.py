"""The UniRep mLSTM forward pass in torch (inference only), the twin of engines/numpy/mlstm.py, so states
can be computed on a GPU; the same equations, step for step."""

from __future__ import annotations

import numpy as np
import torch


class TorchCell:
    """A weight-normalised cell's matrices as tensors on a device."""

    def __init__(self, cell, device: torch.device, dtype: torch.dtype):
        def t(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.asarray(a)).to(device=device, dtype=dtype)

        self.wmx, self.wmh, self.wx, self.wh, self.b = t(cell.wmx), t(cell.wmh), t(cell.wx), t(cell.wh), t(cell.b)
        self.units = int(cell.wmh.shape[0])


def run_cell(cell: TorchCell, x: torch.Tensor) -> torch.Tensor:
    """One cell over inputs (B, T, in) -> its states (B, T, H), from zero state."""
    batch, steps, _ = x.shape
    units = cell.units
    h = x.new_zeros((batch, units))
    c = x.new_zeros((batch, units))
    out = x.new_empty((batch, steps, units))
    xw = x @ cell.wx + cell.b  # (B, T, in) @ (in, 4H) -> (B, T, 4H)
    xm = x @ cell.wmx  # (B, T, in) @ (in, H) -> (B, T, H)
    for s in range(steps):
        m = xm[:, s] * (h @ cell.wmh)  # (B, H) @ (H, H) -> (B, H)
        z = xw[:, s] + m @ cell.wh  # (B, H) @ (H, 4H) -> (B, 4H)
        i, f, o, u = z.split(units, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(u)
        h = torch.sigmoid(o) * torch.tanh(c)
        out[:, s] = h
    return out


class TorchMLSTM:
    """Embedding and cells on one device (float32 by default; TF32 products are left off, so the states match
    the NumPy engine's to float32 rounding)."""

    def __init__(self, embedding: np.ndarray, cells, device: str = "cpu", dtype: torch.dtype = torch.float32):
        self.device = torch.device(device)
        self.embedding = torch.as_tensor(np.asarray(embedding)).to(device=self.device, dtype=dtype)
        self.cells = [TorchCell(c, self.device, dtype) for c in cells]

    @torch.no_grad()
    def states(self, tokens: np.ndarray, all_cells: bool = False, half: bool = False) -> np.ndarray:
        """tokens (B, T) -> (B, T, H) float32 states (``all_cells``: (B, T, n_cells * H)), as NumPy; with
        ``half``, rounded to float16 on the device first."""
        x = self.embedding[torch.as_tensor(tokens, device=self.device)]  # (B, T) -> (B, T, 10)
        outs = []
        for cell in self.cells:
            x = run_cell(cell, x)
            outs.append(x)
        y = torch.cat(outs, dim=2) if all_cells and len(outs) > 1 else outs[-1]
        return (y.half() if half else y.float()).cpu().numpy()
