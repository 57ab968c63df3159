"""Optimizers: SGD with momentum, and Adam with bias correction (Kingma & Ba 2015)."""

from __future__ import annotations

from typing import Any

import numpy as np


class SGD:
    """v <- mu v - lr g;  theta <- theta + v."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 0.01, momentum: float = 0.0):
        self.lr, self.momentum = lr, momentum
        self.state = {"velocity": {k: np.zeros_like(v) for k, v in params.items()}}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        vel = self.state["velocity"]
        for k, p in params.items():
            vel[k] *= self.momentum
            vel[k] -= self.lr * grads[k]
            p += vel[k]


class Adam:
    """Adam; m and v are bias-corrected by 1 - beta^t."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.state: dict[str, Any] = {"t": np.zeros((), np.int64),
                      "m": {k: np.zeros_like(v) for k, v in params.items()},
                      "v": {k: np.zeros_like(v) for k, v in params.items()}}

    def step(self, params, grads):
        s = self.state
        s["t"] += 1
        t = int(s["t"])
        c1, c2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        for k, p in params.items():
            g = grads[k]
            m, v = s["m"][k], s["v"][k]
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


#: Optimizers keyed by the name the user types.
OPTIMIZERS = {"sgd": SGD, "adam": Adam}
