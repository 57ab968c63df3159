"""The NumPy engine's elementwise functions: one softmax, one sigmoid, one activation table.

Layers (layers.py, hopfield.py), losses, the fast path's NumPy back end, conv inference and the
model's second stage all take these, so every path computes the same numbers. The numba kernels
(fastpath, index_train) keep scalar forms of their own inside jit code, where these array functions
cannot run; ``code`` below is how a kernel is told which activation to apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis: (..., K) logits, e.g. (B, K) rows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)  # the max shift keeps exp() from overflowing
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, as exp(log_softmax): the loss's probabilities are the same numbers."""
    return np.exp(log_softmax(logits))


def softmax_heads(logits: np.ndarray, heads: tuple[slice, ...] | None = None) -> np.ndarray:
    """Softmax over each head's columns of (N, W) logits (a multi-task network's, sspred.heads), side by side:
    (N, W) with each head's block a distribution. None or one head: ``softmax`` over all W."""
    if heads is None or len(heads) == 1:
        return softmax(logits)
    return np.concatenate([softmax(logits[:, s]) for s in heads], axis=1)  # (N, W)


def logsumexp(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log sum exp(z) over ``axis``, shifted by the max so exp() cannot overflow."""
    top = z.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.exp(z - top).sum(axis=axis))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), split by sign so exp never overflows for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0) as a new array (a layer's input may still be needed, e.g. by a residual sum)."""
    return np.where(x > 0, x, 0).astype(x.dtype, copy=False)


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: ``forward(x)``, ``backward(y, dout)`` from its output y (what a
    layer caches), and ``code``, its number in the numba kernels (0 is the identity there)."""

    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray], np.ndarray]
    code: int


#: The activations a user can name (--activation, spec "type"), keyed by that name.
ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(sigmoid, lambda y, dout: dout * y * (1.0 - y), 1),
    "tanh": Activation(np.tanh, lambda y, dout: dout * (1.0 - y * y), 2),
    "relu": Activation(relu, lambda y, dout: np.where(y > 0, dout, 0).astype(dout.dtype, copy=False), 3),
}
#: Kernel code of "no activation" (a linear layer feeding the next directly).
IDENTITY_CODE = 0
