"""Softmax with cross-entropy as one numerically stable layer."""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.activations import log_softmax


class SoftmaxCrossEntropy:
    """Mean cross-entropy of integer targets (B,), or of target distributions (B, K), under softmax(logits).

    ``smoothing`` = rho gives the true class 1 - rho and every other class rho / (K - 1); target
    distributions (a teacher's, for distillation) are used as given.
    The gradient with respect to the logits is (softmax - target) / B, which is why the
    two are fused: it never divides by a probability.
    """

    def __init__(self, smoothing: float = 0.0):
        self.smoothing = smoothing

    def targets(self, y: np.ndarray, k: int, dtype) -> np.ndarray:
        if y.ndim == 2:
            return y.astype(dtype, copy=False)
        t = np.full((y.size, k), self.smoothing / (k - 1) if k > 1 else 0.0, dtype=dtype)  # (B, K)
        t[np.arange(y.size), y] = 1.0 - self.smoothing
        return t

    def forward(self, logits: np.ndarray, y: np.ndarray) -> float:
        logp = log_softmax(logits)  # (B, K)
        self.t = self.targets(y, logits.shape[1], logits.dtype)
        self.p = np.exp(logp)
        return float(-(self.t * logp).sum() / y.shape[0])

    def backward(self) -> np.ndarray:
        return (self.p - self.t) / self.t.shape[0]  # (B, K)
