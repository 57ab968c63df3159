"""The model file: weights plus everything needed to rebuild the network, and nothing executable.

A model file is the sspred container (container.py: an uncompressed npz of plain arrays, a JSON
header, a SHA-256 checksum, every member checked before NumPy reads it) with format
``sspred-model``. The header carries the model config and its explicit layer list; every array is
a parameter named ``layers.{i}.{name}``.

Optional header entries: ``train`` (the run's config and history, ``train_entry``), ``members`` (an ensemble's
networks), ``trained_on`` (the data, in words, where no one ``train`` entry says it: an ensemble's; every
built-in model has it, and ``Predictor.model_info`` reads it first), and ``thresholds``, the decision cuts chosen on validation, so test sets are scored at a
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


def train_entry(data: str, config: dict, engine: str, history: dict, chains: int, valid_chains: int,
                leak_filter: bool, teacher: str | None, teacher_weight: float) -> dict:
    """The header's ``train`` entry: what the network was trained on (``data``, a set name, file or chain count;
    the training and validation chains read), with what (the TrainConfig's ``to_dict``, the engine), how it went
    (the fit's history) and, where used, the leak filter and the teacher it was distilled from."""
    return {"data": data, "config": config, "engine": engine, "history": history, "chains": chains,
            "valid_chains": valid_chains, "leak_filter": "sspred.splits.known_leaks()" if leak_filter else None,
            "teacher": {"model": teacher, "weight": teacher_weight} if teacher else None}
