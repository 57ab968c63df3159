"""The model file: weights plus everything needed to rebuild the network, and nothing executable.

A model file is the sspred container (container.py: an uncompressed npz of plain arrays, a JSON
header, a SHA-256 checksum, every member checked before NumPy reads it) with format
``sspred-model``. The header carries the model config and its explicit layer list; every array is
a parameter named ``layers.{i}.{name}``.

Optional header entries: ``train`` (the run's config and history), ``members`` (an ensemble's
networks), and ``thresholds``, the decision cuts chosen on validation, so test sets are scored at a
cut they did not choose: ``{"disorder": t}``, a float P(disordered) in [0, 1] at or above which a
residue is called disordered (``sspred.evaluation.choose_disorder_threshold`` picks it; ``sspred
evaluate`` scores the disorder MCC at it, at 0.5 when the header has none).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sspred import container
from sspred.errors import ModelFileError

FORMAT = "sspred-model"
FORMAT_VERSION = 1
KIND = container.Kind(FORMAT, FORMAT_VERSION, noun="model file", short="model", contents="weights",
                      error=lambda message, path: ModelFileError(f"{path}: {message}"))


def save(path: str | os.PathLike, header: dict, params: dict[str, np.ndarray]) -> None:
    """Write atomically: a crash never leaves a half-written model under ``path``."""
    container.write(path, KIND, header, params)


def load(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file; any problem is a ModelFileError naming the file."""
    return container.read(Path(path), KIND)
