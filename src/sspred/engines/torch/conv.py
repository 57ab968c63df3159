"""The conv layer of engines/numpy/conv.py through torch's own conv1d; the same W (kernel*in, out) layout."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sspred.engines.spec import conv_dims


class Conv1d(nn.Module):
    def __init__(self, spec: dict):
        super().__init__()
        self.c_in, self.c_out, self.k, self.d, self.residual, self.masked = conv_dims(spec)
        self.W = nn.Parameter(torch.zeros(self.k * self.c_in, self.c_out))
        self.b = nn.Parameter(torch.zeros(self.c_out))
        #: (N,) bool: which rows are residues; None treats every row as one.
        self.valid: torch.Tensor | None = None

    def forward(self, x):
        if self.masked and self.valid is not None:
            x = x * self.valid[:, None].to(x.dtype)  # (N, C_in)
        weight = self.W.reshape(self.k, self.c_in, self.c_out).permute(2, 1, 0)  # (C_out, C_in, k), torch's layout
        # (1, C_in, N) * (C_out, C_in, k) -> (1, C_out, N) -> (N, C_out)
        y = F.conv1d(x.T[None], weight, self.b, padding=(self.k // 2) * self.d, dilation=self.d)[0].T
        return y + x if self.residual else y
