"""The fit loop: epochs, a validation pass each epoch, early stopping that keeps the best weights.

The loop is engine-agnostic: a learner provides ``step``, ``predict_proba``,
``get_params`` and ``set_params``. Progress is reported through a callback;
nothing here prints.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sspred.config import TrainConfig
from sspred.features import WindowIndex

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


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffle of epoch ``epoch``: a function of (seed, epoch) alone, so a resumed run sees the same order."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def evaluate_split(learner, data: WindowIndex) -> tuple[float, float, np.ndarray]:
    """Mean cross-entropy, Q3 (%) and probabilities over every window of ``data``."""
    probs = np.concatenate([learner.predict_proba(data.batch(np.arange(s, min(s + EVAL_BATCH, len(data)))))
                            for s in range(0, len(data), EVAL_BATCH)]) if len(data) else np.zeros((0, 3))
    p_true = probs[np.arange(len(data)), data.labels]
    loss = float(-np.log(np.maximum(p_true, 1e-12)).mean()) if len(data) else math.nan
    acc = float((probs.argmax(axis=1) == data.labels).mean() * 100) if len(data) else math.nan
    return loss, acc, probs


def fit(learner, train: WindowIndex, valid: WindowIndex | None, cfg: TrainConfig,
        callback: Callable[[dict], None] | None = None,
        batch_callback: Callable[[int, int], None] | None = None) -> History:
    """Train ``learner``; with a validation set and patience > 0, stop early and restore the best weights."""
    history = History()
    best_loss, best_params, bad_epochs = math.inf, None, 0
    n_batches = math.ceil(len(train) / cfg.batch_size)
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        order = epoch_order(len(train), cfg.seed, epoch)
        total_loss, correct = 0.0, 0
        for b in range(n_batches):
            rows = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            y = train.labels[rows]
            loss, pred = learner.step(train.batch(rows), y)
            if not math.isfinite(loss):
                raise TrainingDiverged(f"loss became {loss} at epoch {epoch}, batch {b + 1}")
            total_loss += loss * rows.size
            correct += int((pred == y).sum())
            if batch_callback is not None:
                batch_callback(b + 1, n_batches)
        stats = {"epoch": epoch, "train_loss": total_loss / len(train), "train_q3": 100.0 * correct / len(train)}
        if valid is not None and len(valid):
            stats["valid_loss"], stats["valid_q3"], _ = evaluate_split(learner, valid)
        stats["seconds"] = time.perf_counter() - start
        history.epochs.append(stats)
        if callback is not None:
            callback(stats)
        monitored = stats.get("valid_loss", stats["train_loss"])
        if monitored < best_loss:
            best_loss, best_params, bad_epochs = monitored, learner.get_params(), 0
            history.best_epoch = epoch
        else:
            bad_epochs += 1
            if cfg.patience and valid is not None and bad_epochs >= cfg.patience:
                history.stopped_early = True
                break
    if best_params is not None and cfg.patience and valid is not None:
        learner.set_params(best_params)
    return history
