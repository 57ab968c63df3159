"""Learning-rate schedules, keyed by the name the user types (``TrainConfig.schedule``).

The config checks a schedule name against ``sspred.names.SCHEDULES``, the keys of this table, and
imports nothing from here: the fit loop (``sspred.training``) imports this module, this module imports
the config's type only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sspred.config import TrainConfig


def _cosine(cfg: TrainConfig, epoch: int, state: dict) -> float:
    # Loshchilov & Hutter 2017 without restarts: cfg.lr at epoch 1 down to lr_min at the last epoch.
    frac = (epoch - 1) / max(cfg.epochs - 1, 1)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * frac))


#: Learning rate of an epoch (1-based) per schedule name; ``state`` carries reduce-on-plateau's current rate.
SCHEDULES: dict[str, Callable[[TrainConfig, int, dict], float]] = {
    "none": lambda cfg, epoch, state: cfg.lr,
    "step": lambda cfg, epoch, state: cfg.lr * cfg.lr_gamma ** ((epoch - 1) // max(cfg.lr_step, 1)),
    "cosine": _cosine,
    "plateau": lambda cfg, epoch, state: state["lr"],
}


def observe_plateau(cfg: TrainConfig, state: dict, monitored: float) -> None:
    """Reduce-on-plateau bookkeeping: after lr_patience epochs without a better loss, multiply the rate by lr_gamma."""
    if monitored < state["best"]:
        state["best"], state["bad"] = monitored, 0
    else:
        state["bad"] += 1
        if state["bad"] >= cfg.lr_patience:
            state["lr"], state["bad"] = state["lr"] * cfg.lr_gamma, 0
