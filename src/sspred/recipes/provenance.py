"""What a member's header records of how it was made: the recipe, the source, the data, the teacher, the fit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sspred.training import epoch_accuracy
from sspred.version import __version__


def source() -> dict[str, Any]:
    """The package version, and the git commit of the checkout it runs from (None outside a checkout; ``dirty``
    when files differ from it).

    Examples
    --------
    >>> sorted(source())
    ['commit', 'dirty', 'version']
    """
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                                capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"version": __version__, "commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"version": __version__, "commit": None, "dirty": None}
    return {"version": __version__, "commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def fit_record(history: dict) -> dict[str, Any]:
    """Epochs run, the best (kept) epoch and its validation accuracy, from a header's ``train.history``.

    Examples
    --------
    >>> fit_record({"epochs": [{"valid_accuracy": 60.0}, {"valid_accuracy": 61.5}], "best_epoch": 2})
    {'epochs_run': 2, 'best_epoch': 2, 'valid_score': 61.5}
    """
    epochs = history.get("epochs", [])
    best = int(history.get("best_epoch", 0))
    score = epoch_accuracy(epochs[best - 1]) if 0 < best <= len(epochs) else None
    return {"epochs_run": len(epochs), "best_epoch": best, "valid_score": score}
