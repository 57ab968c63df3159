"""The hopfield layer as a torch module: the twin of sspred.engines.numpy.hopfield.Hopfield.

Built from the same spec dict, with parameters named as in the NumPy engine (Wq, K, V) and stored
in the NumPy orientation (Wq is (in, dim), not nn.Linear's (out, in)), so a model file's
``layers.{i}.Wq`` loads into either engine unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Hopfield(nn.Module):
    """y = softmax(beta (x Wq) K^T) V, plus x when the spec says "residual"."""

    def __init__(self, spec: dict):
        super().__init__()
        self.spec = spec
        d, m, k = int(spec["in"]), int(spec["patterns"]), int(spec["dim"])
        out = int(spec.get("out", d))
        self.beta = float(spec.get("beta", 1.0 / math.sqrt(k)))
        self.residual = bool(spec.get("residual", False))
        if self.residual and out != d:
            raise ValueError(f"a residual hopfield layer needs out == in, got in={d}, out={out}")
        # Same initial scales as the NumPy engine's init (see its comment for why).
        self.Wq = nn.Parameter(torch.randn(d, k) / math.sqrt(d))
        self.K = nn.Parameter(torch.randn(m, k))
        self.V = nn.Parameter(torch.randn(m, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = x @ self.Wq  # (B, d) @ (d, k) -> (B, k)
        a = torch.softmax(self.beta * (q @ self.K.T), dim=1)  # (B, k) @ (k, M) -> (B, M)
        y = a @ self.V  # (B, M) @ (M, out) -> (B, out)
        return y + x if self.residual else y
