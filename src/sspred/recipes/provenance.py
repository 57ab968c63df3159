"""What a member's header records of how it was made: the recipe, the source, the data, the teacher, the fit."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sspred.training import epoch_accuracy
from sspred.version import __version__


def git(*args: str, where: str | Path | None = None) -> str | None:
    """``git ARGS``'s output, stripped, run in ``where`` (default: this package's folder); None when empty,
    outside a checkout, without git, or on an error."""
    folder = Path(where) if where is not None else Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def source(where: str | Path | None = None) -> dict[str, Any]:
    """The package version, and the git commit of the checkout at ``where`` (default: the one sspred runs from;
    None outside a checkout; ``dirty`` when tracked files differ from it).

    Examples
    --------
    >>> sorted(source())
    ['commit', 'dirty', 'version']
    """
    commit = git("rev-parse", "HEAD", where=where)
    if commit is None:
        return {"version": __version__, "commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no", where=where)
    return {"version": __version__, "commit": commit, "dirty": bool(status)}


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
