"""Scores of predicted against true states: pure functions of integer label arrays.

Masked residues (label < 0) are dropped before anything is counted.
"""

from __future__ import annotations

import numpy as np


def scored(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = y_true >= 0
    return y_true[keep], y_pred[keep]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Counts, shape (K, K): rows are true states, columns predicted."""
    t, p = scored(y_true, y_pred)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def accuracy(cm: np.ndarray) -> float:
    """Q3 (or Q8): percent of scored residues predicted correctly."""
    total = cm.sum()
    return float(100.0 * np.trace(cm) / total) if total else float("nan")


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and Matthews correlation of each class against the rest (one-vs-rest)."""
    cm = cm.astype(np.float64)
    n = cm.sum()
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = n - tp - fp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        # Matthews (1975); the 1988 paper's C_alpha, C_beta, C_coil are this coefficient.
        mcc = np.where(denom > 0, (tp * tn - fp * fn) / denom, 0.0)
    return {"precision": precision, "recall": recall, "mcc": mcc}
