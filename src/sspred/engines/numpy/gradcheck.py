"""Central finite differences: the oracle every hand-written backward pass is checked against."""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Step of the central difference; with float64 the truncation error ~h^2 and rounding ~eps/h balance near 1e-6.
STEP = 1e-6


def numeric_grad(f: Callable[[], float], x: np.ndarray, h: float = STEP) -> np.ndarray:
    """d f / d x by central differences, perturbing ``x`` in place one entry at a time."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|), with a floor so exact zeros compare as equal."""
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-12)
    return float(np.abs(a - b).max() / scale)
