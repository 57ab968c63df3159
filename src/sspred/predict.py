"""Prediction over a stream of records: one record in, one prediction out, memory bounded by the longest chain."""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from sspred.io.fasta import Record
from sspred.model import Model


def predict_records(model: Model, records: Iterable[Record]) -> Iterator[tuple[Record, np.ndarray]]:
    """Yield (record, probabilities of shape (L, K)) in input order."""
    for record in records:
        yield record, model.predict_proba(record.codes)


def predict_chains(model: Model, chains) -> list[np.ndarray]:
    """Probabilities for labelled chains, in order."""
    return [model.predict_proba(c.codes) for c in chains]
