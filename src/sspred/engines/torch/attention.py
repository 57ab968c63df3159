"""The chain_attention layer as a torch module: the twin of sspred.engines.numpy.attention.ChainAttention.

Built from the same spec dict, with parameters named and oriented as in the NumPy engine (Wq, Wk, Wv
(in, heads*dim), Wo (heads*dim, in)), so a model file's ``layers.{i}.Wq`` loads into either engine.
Forward only: autograd gives the backward pass, which tests/test_attention.py holds against the
NumPy engine's hand-written one. The formulas are in the NumPy module's docstring.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sspred.engines.spec import alibi_slopes, attention_dims, segments


class ChainAttention(nn.Module):
    def __init__(self, spec: dict):
        super().__init__()
        self.c, self.h, self.d, self.residual, self.alibi = attention_dims(spec)
        self.scale = 1.0 / math.sqrt(self.d)  # the modern Hopfield beta
        hd = self.h * self.d
        self.Wq = nn.Parameter(torch.zeros(self.c, hd))
        self.Wk = nn.Parameter(torch.zeros(self.c, hd))
        self.Wv = nn.Parameter(torch.zeros(self.c, hd))
        self.Wo = nn.Parameter(torch.zeros(hd, self.c))
        # Not a buffer: derived from the spec alone, so the model file need not hold it.
        self.slopes = torch.from_numpy(alibi_slopes(self.h))  # (H,) float64
        #: (N,) bool: which rows are residues; None treats every row as one chain.
        self.valid: torch.Tensor | None = None

    def _heads(self, m: torch.Tensor) -> torch.Tensor:
        return m.reshape(m.shape[0], self.h, self.d).transpose(0, 1)  # (L, H*D) -> (L, H, D) -> (H, L, D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        segs = [(0, n)] if self.valid is None else segments(self.valid.cpu().numpy())
        q, k, v = x @ self.Wq, x @ self.Wk, x @ self.Wv  # (N, C) @ (C, H*D) -> (N, H*D)
        pieces, row = [], 0
        for a0, a1 in segs:
            if a0 > row:
                pieces.append(q.new_zeros(a0 - row, q.shape[1]))  # gap rows read nothing
            s = self.scale * (self._heads(q[a0:a1]) @ self._heads(k[a0:a1]).transpose(1, 2))  # -> (H, L, L)
            if self.alibi:
                pos = torch.arange(a1 - a0, device=x.device)
                dist = (pos[:, None] - pos[None, :]).abs()  # (L, L)
                s = s - self.slopes.to(device=x.device, dtype=x.dtype)[:, None, None] * dist  # (H, L, L)
            o = torch.softmax(s, dim=-1) @ self._heads(v[a0:a1])  # (H, L, L) @ (H, L, D) -> (H, L, D)
            pieces.append(o.transpose(0, 1).reshape(a1 - a0, -1))  # (H, L, D) -> (L, H, D) -> (L, H*D)
            row = a1
        if n > row:
            pieces.append(q.new_zeros(n - row, q.shape[1]))
        o = torch.cat(pieces) if pieces else q.new_zeros(0, q.shape[1])  # (N, H*D)
        y = o @ self.Wo  # (N, H*D) @ (H*D, C) -> (N, C)
        return y + x if self.residual else y
