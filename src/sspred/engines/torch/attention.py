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

from sspred.engines.spec import alibi_slopes, attention_dims, query_rows, segments


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, dim: int, scale: float,
           slopes: torch.Tensor | None, rows: int | None = None) -> torch.Tensor:
    """Chains' attention outputs from their queries, keys and values (..., L, H*D) -> (..., L, H*D), each of
    the leading rows (none, or a batch of equal-length chains) on its own; ``slopes`` (H,) for ALiBi, or None.

    The scores go in blocks of ``rows`` query rows (None: engines.spec.query_rows, counting the leading
    rows), so a long chain's (..., H, L, L) never exists whole: with no gradient wanted memory is linear in L.
    Autograd keeps each block's weights for backward, i.e. the whole matrix, as training on short chains can
    afford. Under a trace (engines/torch/export.py) the chain is one block, built from shape operations only,
    so the traced graph keeps L dynamic."""
    lead, n = q.shape[:-2], q.shape[-2]

    def split(m):  # (..., L, H*D) -> (..., L, H, D) -> (..., H, L, D)
        return m.reshape(*lead, n, heads, dim).transpose(-3, -2)

    qh, kt, vh = split(q), split(k).transpose(-1, -2), split(v)  # (..., H, L, D), (..., H, D, L), (..., H, L, D)
    pos = torch.arange(n, device=q.device)
    m = None if slopes is None else slopes.to(device=q.device, dtype=q.dtype)[:, None, None]  # (H, 1, 1)

    def block(rows_q: torch.Tensor, rows_pos: torch.Tensor) -> torch.Tensor:
        s = scale * (rows_q @ kt)  # (..., H, B, D) @ (..., H, D, L) -> (..., H, B, L)
        if m is not None:
            dist = (rows_pos[:, None] - pos[None, :]).abs()  # (B, L)
            s = s - m * dist  # (H, 1, 1) * (B, L) -> (..., H, B, L)
        return torch.softmax(s, dim=-1) @ vh  # (..., H, B, L) @ (..., H, L, D) -> (..., H, B, D)

    # Traced, the chain is one block that reads qh and pos unsliced: a slice's end, or a loop's count,
    # would enter the graph as a constant of the example's length.
    step = n if torch.jit.is_tracing() else rows or query_rows(n, heads * math.prod(lead))
    if torch.jit.is_tracing() or step >= n:
        out = [block(qh, pos)]
    else:
        out = [block(qh[..., r0:r0 + step, :], pos[r0:r0 + step]) for r0 in range(0, n, step)]
    o = out[0] if len(out) == 1 else torch.cat(out, dim=-2)  # (..., H, L, D)
    return o.transpose(-3, -2).reshape(*lead, n, heads * dim)  # (..., L, H, D) -> (..., L, H*D)


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
        #: Query rows per attention block; None: engines.spec.query_rows (bounded scores per block).
        self.block: int | None = None

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``attend`` with this block's heads, scale and slopes: (..., L, H*D) each -> (..., L, H*D)."""
        return attend(q, k, v, self.h, self.d, self.scale, self.slopes if self.alibi else None, self.block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        segs = [(0, n)] if self.valid is None else segments(self.valid.cpu().numpy())
        q, k, v = x @ self.Wq, x @ self.Wk, x @ self.Wv  # (N, C) @ (C, H*D) -> (N, H*D)
        pieces, row = [], 0
        for a0, a1 in segs:
            if a0 > row:
                pieces.append(q.new_zeros(a0 - row, q.shape[1]))  # gap rows read nothing
            pieces.append(self.attend(q[a0:a1], k[a0:a1], v[a0:a1]))  # (L, H*D)
            row = a1
        if n > row:
            pieces.append(q.new_zeros(n - row, q.shape[1]))
        o = torch.cat(pieces) if pieces else q.new_zeros(0, q.shape[1])  # (N, H*D)
        y = o @ self.Wo  # (N, H*D) @ (H*D, C) -> (N, C)
        return y + x if self.residual else y
