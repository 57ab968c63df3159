"""Softmax with cross-entropy as one numerically stable layer, for one head or several (multi-task)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sspred.engines.numpy.activations import log_softmax
from sspred.heads import Heads, present


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


class MultiHeadCrossEntropy:
    """Weighted sum over heads of each head's mean cross-entropy over the rows where it has a label.

    ``logits`` (N, W) hold every head's logits side by side (``heads.slices()``); ``targets`` maps each head
    name to (N,) class indices, -1 where that row has no label for that head, or to (N, K_h) distributions (a
    teacher's), a row of zeros where absent. Head h contributes
    weight_h * SoftmaxCrossEntropy(smoothing) over its n_h present rows, or 0 when n_h = 0 (never 0/0).
    Each head's part is the single-head loss itself, so one head alone equals SoftmaxCrossEntropy
    exactly, smoothing rule included; its gradient is weight_h * (softmax - target) / n_h on that
    head's columns of its present rows and 0 everywhere else.
    """

    def __init__(self, heads: Heads, weights: Mapping[str, float] | None = None, smoothing: float = 0.0):
        self.heads = heads
        self.weights = heads.weights(weights)
        self.smoothing = smoothing

    def forward(self, logits: np.ndarray, targets: Mapping[str, np.ndarray]) -> float:
        n = logits.shape[0]
        self.heads.check_targets(targets, n)
        self.shape, self.dtype = logits.shape, logits.dtype
        #: name -> (present row indices, that head's fitted single-head loss); heads without labels are left out.
        self.fitted: dict[str, tuple[np.ndarray, SoftmaxCrossEntropy]] = {}
        #: name -> rows with a label (n_h), and name -> unweighted mean CE (0.0 where n_h = 0), for reports.
        self.counts: dict[str, int] = {}
        self.parts: dict[str, float] = {}
        total = 0.0
        for name, z in self.heads.split(logits).items():  # z: (N, K_h)
            rows = np.flatnonzero(present(np.asarray(targets[name])))  # (n_h,)
            self.counts[name], self.parts[name] = rows.size, 0.0
            if rows.size == 0:
                continue
            ce = SoftmaxCrossEntropy(self.smoothing)
            self.parts[name] = ce.forward(z[rows], np.asarray(targets[name])[rows])  # (n_h, K_h)
            self.fitted[name] = (rows, ce)
            total += self.weights[name] * self.parts[name]
        return float(total)

    def backward(self) -> np.ndarray:
        grad = np.zeros(self.shape, dtype=self.dtype)  # (N, W)
        slices = self.heads.slices()
        for name, (rows, ce) in self.fitted.items():
            # (n_h, K_h) = weight_h * (p - t) / n_h, into this head's columns of its present rows.
            grad[rows, slices[name]] = self.weights[name] * ce.backward()
        return grad
