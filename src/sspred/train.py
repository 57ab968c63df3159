"""The fit loop: epochs, a validation pass each epoch, early stopping that keeps the best weights.

The loop is engine-agnostic: a learner provides ``step``, ``predict_proba``,
``get_params`` and ``set_params``, and optionally ``set_lr`` (for schedules),
``begin_epoch`` (reseeds its training noise) and ``get_optimizer_state`` /
``set_optimizer_state`` (for checkpoints). Progress is reported through a
callback; nothing here prints.

Crash safety: with a checkpoint path, the whole run state is written
atomically after every epoch. Each epoch's shuffle and training noise are
functions of (seed, epoch) alone, so a run resumed from a checkpoint ends
with exactly the weights of an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sspred import checkpoint as ckpt
from sspred.config import TrainConfig

#: Windows per forward pass when scoring a whole split (memory, not accuracy).
EVAL_BATCH = 8192


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "best_epoch": self.best_epoch, "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(list(d["epochs"]), int(d["best_epoch"]), bool(d["stopped_early"]))


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


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffle of epoch ``epoch``: a function of (seed, epoch) alone, so a resumed run sees the same order."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def evaluate_split(learner, data) -> tuple[float, float, np.ndarray]:
    """Mean cross-entropy, Q3 (%) and probabilities over every scored residue of ``data``
    (a WindowIndex, DenseWindowIndex or chains.ChainIndex)."""
    parts = [(learner.predict_proba(inputs), y) for inputs, y in data.eval_batches(EVAL_BATCH)]
    if not parts:
        return math.nan, math.nan, np.zeros((0, 3))
    probs = np.concatenate([p for p, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    p_true = probs[np.arange(labels.size), labels]
    loss = float(-np.log(np.maximum(p_true, 1e-12)).mean())
    acc = float((probs.argmax(axis=1) == labels).mean() * 100)
    return loss, acc, probs


def fresh_state(cfg: TrainConfig) -> dict:
    """The run state before epoch 1 (what a checkpoint's metadata carries, besides the arrays)."""
    return {"epoch": 0, "best_loss": math.inf, "bad_epochs": 0, "history": History().to_dict(),
            "schedule": {"lr": cfg.lr, "best": math.inf, "bad": 0}}


def fit(learner, train, valid, cfg: TrainConfig,
        callback: Callable[[dict], None] | None = None,
        batch_callback: Callable[[int, int], None] | None = None,
        checkpoint: str | None = None, resume: dict | None = None, meta: dict | None = None) -> History:
    """Train ``learner`` on ``train`` (a WindowIndex, DenseWindowIndex or chains.ChainIndex: examples
    are windows, or whole chains for conv networks); with a validation set and patience > 0, stop early and restore the best weights.

    ``checkpoint``: path written atomically after every epoch (``meta`` is stored in it too).
    ``resume``: a loaded checkpoint (``sspred.checkpoint.load``) to continue from.
    A NaN or infinite loss raises TrainingDiverged naming the epoch and batch; the
    checkpoint then still holds the last completed epoch.
    """
    if cfg.schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {cfg.schedule!r}; known: {', '.join(SCHEDULES)}")
    if resume is not None:
        state = {k: resume["meta"][k] for k in fresh_state(cfg)}
        learner.set_params(resume["params"])
        learner.set_optimizer_state(resume["optimizer"])
        best_params = resume["best"]
    else:
        state, best_params = fresh_state(cfg), None
    history = History.from_dict(state["history"])
    n_batches = math.ceil(len(train) / cfg.batch_size)
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        if history.stopped_early:
            break
        start = time.perf_counter()
        lr = SCHEDULES[cfg.schedule](cfg, epoch, state["schedule"])
        if hasattr(learner, "set_lr"):
            learner.set_lr(lr)
        if hasattr(learner, "begin_epoch"):
            learner.begin_epoch([cfg.seed, epoch])
        order = epoch_order(len(train), cfg.seed, epoch)
        total_loss, correct, seen = 0.0, 0, 0
        for b in range(n_batches):
            rows = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            inputs, y = train.examples(rows)
            loss, pred = learner.step(inputs, y)
            if not math.isfinite(loss):
                kept = f"; {checkpoint} keeps epoch {state['epoch']}" if checkpoint and state["epoch"] else ""
                raise TrainingDiverged(f"loss became {loss} at epoch {epoch}, batch {b + 1}{kept}")
            hard = y if y.ndim == 1 else y.argmax(axis=1)  # soft targets (a teacher's) count by their top class
            total_loss += loss * hard.size
            correct += int((pred == hard).sum())
            seen += hard.size
            if batch_callback is not None:
                batch_callback(b + 1, n_batches)
        stats = {"epoch": epoch, "train_loss": total_loss / max(seen, 1), "train_q3": 100.0 * correct / max(seen, 1),
                 "lr": lr}
        if valid is not None and len(valid):
            stats["valid_loss"], stats["valid_q3"], _ = evaluate_split(learner, valid)
        stats["seconds"] = time.perf_counter() - start
        history.epochs.append(stats)
        if callback is not None:
            callback(stats)
        monitored = stats.get("valid_loss", stats["train_loss"])
        if monitored < state["best_loss"]:
            state["best_loss"], best_params, state["bad_epochs"] = monitored, learner.get_params(), 0
            history.best_epoch = epoch
        else:
            state["bad_epochs"] += 1
            if cfg.patience and valid is not None and state["bad_epochs"] >= cfg.patience:
                history.stopped_early = True
        observe_plateau(cfg, state["schedule"], monitored)
        state["epoch"], state["history"] = epoch, history.to_dict()
        if checkpoint:
            ckpt.save(checkpoint, {**(meta or {}), **state, "train_config": cfg.to_dict()},
                      learner.get_params(), best_params, learner.get_optimizer_state())
    if best_params is not None and cfg.patience and valid is not None:
        learner.set_params(best_params)
    return history
