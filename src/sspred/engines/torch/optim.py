"""SGD with momentum and Adam, written out to match the NumPy engine's update rules and state names.

torch.optim's SGD keeps v = mu v + g and steps by lr v, which differs from
the NumPy engine (v = mu v - lr g) once the learning rate changes; writing the
two rules here keeps the engines step-for-step equal under any schedule, and
lets a checkpoint from one engine resume in the other.
"""

from __future__ import annotations

from typing import Any

import torch


class SGD:
    """v <- mu v - lr g;  theta <- theta + v."""

    def __init__(self, params: dict[str, torch.Tensor], lr: float = 0.01, momentum: float = 0.0):
        self.lr, self.momentum = lr, momentum
        self.state = {"velocity": {k: torch.zeros_like(p) for k, p in params.items()}}

    @torch.no_grad()
    def step(self, params: dict[str, torch.Tensor]) -> None:
        vel = self.state["velocity"]
        for k, p in params.items():
            assert p.grad is not None  # backward has run
            vel[k].mul_(self.momentum).sub_(self.lr * p.grad)
            p.add_(vel[k])


class Adam:
    """Adam (Kingma & Ba 2015); m and v are bias-corrected by 1 - beta^t."""

    def __init__(self, params: dict[str, torch.Tensor], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.state: dict[str, Any] = {"t": torch.zeros((), dtype=torch.int64),
                      "m": {k: torch.zeros_like(p) for k, p in params.items()},
                      "v": {k: torch.zeros_like(p) for k, p in params.items()}}

    @torch.no_grad()
    def step(self, params: dict[str, torch.Tensor]) -> None:
        s = self.state
        s["t"] += 1
        t = int(s["t"])
        c1, c2 = 1 - self.beta1 ** t, 1 - self.beta2 ** t
        for k, p in params.items():
            g = p.grad
            assert g is not None  # backward has run
            m, v = s["m"][k], s["v"][k]
            m.mul_(self.beta1).add_((1 - self.beta1) * g)
            v.mul_(self.beta2).add_((1 - self.beta2) * g * g)
            p.sub_(self.lr * (m / c1) / ((v / c2).sqrt() + self.eps))


#: Optimizers keyed by the name the user types (the same names as the NumPy engine's).
OPTIMIZERS = {"sgd": SGD, "adam": Adam}
