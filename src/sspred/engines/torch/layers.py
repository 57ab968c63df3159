"""torch modules for each layer type of a model file, keyed by the spec's 'type' like the NumPy LAYERS table.

Forward only: autograd gives the backward pass, and tests/test_engines_agree.py
holds it against the NumPy engine's hand-written one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sspred.engines.torch.attention import ChainAttention
from sspred.engines.torch.conv import Conv1d
from sspred.engines.torch.hopfield import Hopfield


class Linear(nn.Module):
    """y = x W + b with W stored (in, out), as in the NumPy engine and the model file (not torch's (out, in))."""

    def __init__(self, spec: dict):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(spec["in"], spec["out"]))
        self.b = nn.Parameter(torch.zeros(spec["out"]))

    def forward(self, x):
        return x @ self.W + self.b  # (B, in) @ (in, out) -> (B, out)


class Dropout(nn.Module):
    """Inverted dropout; masks come from ``generator`` (passed in), or ``fixed_mask`` (True = keep) in tests."""

    def __init__(self, spec: dict):
        super().__init__()
        self.rate = float(spec["rate"])
        self.generator: torch.Generator | None = None
        self.fixed_mask: torch.Tensor | None = None

    def forward(self, x):
        if not self.training or self.rate == 0:
            return x
        if self.fixed_mask is not None:
            keep = self.fixed_mask.to(x.device)
        else:
            keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype) >= self.rate  # (B, n)
        return x * (keep.to(x.dtype) / (1 - self.rate))


class BatchNorm(nn.Module):
    """Batch normalisation through torch's own F.batch_norm; gamma/beta learned, running statistics as buffers."""

    running_mean: torch.Tensor  # buffers (register_buffer)
    running_var: torch.Tensor

    def __init__(self, spec: dict):
        super().__init__()
        n = spec["n"]
        self.eps, self.momentum = spec.get("eps", 1e-5), spec.get("momentum", 0.1)
        self.gamma = nn.Parameter(torch.ones(n))
        self.beta = nn.Parameter(torch.zeros(n))
        self.register_buffer("running_mean", torch.zeros(n))
        self.register_buffer("running_var", torch.ones(n))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.gamma, self.beta,
                            training=self.training, momentum=self.momentum, eps=self.eps)


class Activation(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


#: Layer builders keyed by the name stored in model files (the same keys as the NumPy engine's LAYERS).
LAYERS = {
    "linear": Linear,
    "sigmoid": lambda spec: Activation(torch.sigmoid),
    "tanh": lambda spec: Activation(torch.tanh),
    "relu": lambda spec: Activation(torch.relu),
    "dropout": Dropout,
    "batchnorm": BatchNorm,
    "hopfield": Hopfield,
    "conv": Conv1d,
    "chain_attention": ChainAttention,
}


def build(spec: dict) -> nn.Module:
    try:
        return LAYERS[spec["type"]](spec)
    except KeyError:
        raise ValueError(f"unknown layer type {spec.get('type')!r}; known: {', '.join(LAYERS)}") from None
