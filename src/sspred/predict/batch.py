"""Prediction over a stream of records, in input order, with memory bounded by the longest chain.

Records are gathered into batches of about ``BATCH_RESIDUES`` residues and each
batch is predicted in one pass of the fast path, so thousands of short records
cost one kernel call, not thousands; a record is never split, so a batch holds
at most ``BATCH_RESIDUES`` plus one chain, and at most ``BATCH_RECORDS`` records.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator

import numpy as np

from sspred.io.fasta import Record
from sspred.model import Model, Session

#: Residues per pass: enough to keep both cores busy and amortise per-call costs over many
#: short records, small enough that a batch (codes, probabilities, lookup scratch) stays a few MB.
BATCH_RESIDUES = 1 << 18
#: Records per batch, however short: each record's prediction is a handful of small objects (its Record, a
#: Prediction, one array per head and track, about 4 kB in all), and a batch of 262,144 residues of 12-residue
#: records is 21,846 of them, two or three batches alive at once. At 4,096 records the default model's peak on
#: 100,000 such records fell from 252 to 118 MiB at the same speed (BENCHMARKS.md, resource bounds).
BATCH_RECORDS = 4096
#: Labelled chains per call in ``predict_labelled``: all of CB513 (511 chains, 282 residues on average) in
#: one call, so per-call costs are paid once per test set, while one call's probabilities stay a few MB.
LABELLED_CHAINS = 512


def record_batches(records: Iterable[Record], max_residues: int = BATCH_RESIDUES,
                   max_records: int | None = None) -> Iterator[list[Record]]:
    """Consecutive records, grouped until a group holds at least ``max_residues`` residues or ``max_records``
    records (default ``BATCH_RECORDS``)."""
    max_records = max_records or BATCH_RECORDS
    batch, size = [], 0
    for record in records:
        batch.append(record)
        size += len(record.codes)
        if size >= max_residues or len(batch) >= max_records:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def predict_batch(model: Model | Session, records: list[Record], heads: bool = False) -> list:
    """Probabilities of one batch, [(L, K)] in order; with ``heads``, every head's, [{head: (L, K_h)}]
    (``Model.predict_heads``: one pass of the network gives them all)."""
    codes = [r.codes for r in records]
    return model.predict_heads(codes) if heads else model.predict_many(codes)


def predict_batches(model: Model | Session, records: Iterable[Record], max_residues: int = BATCH_RESIDUES,
                    heads: bool = False) -> Iterator[list[tuple[Record, Any]]]:
    """Yield each batch as [(record, probabilities (L, K))], in input order; with ``heads``, as
    [(record, {head name: (L, K_h)})], the states head first (``predict_batch``).

    Batch k + 1 is predicted on a worker thread while the caller formats batch k and the
    parser reads on: the kernels release the GIL, so reading and writing (Python) overlap
    with the arithmetic. Two batches are alive at a time, so memory stays bounded.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sspred-predict")
    try:
        pending = None
        for batch in record_batches(records, max_residues):
            future = pool.submit(predict_batch, model, batch, heads)
            if pending is not None:
                yield list(zip(pending[0], pending[1].result()))
            pending = (batch, future)
        if pending is not None:
            yield list(zip(pending[0], pending[1].result()))
    finally:
        # Not ``with``: its exit waits for the batch in flight, so an error, Ctrl-C or SIGTERM met while a long
        # batch is predicted (minutes for one long chain) would wait for it before the output is cleaned up.
        # After a normal end nothing is in flight.
        pool.shutdown(wait=False, cancel_futures=True)


def predict_records(model: Model, records: Iterable[Record],
                    max_residues: int = BATCH_RESIDUES) -> Iterator[tuple[Record, np.ndarray]]:
    """Yield (record, probabilities of shape (L, K)) in input order."""
    for batch in predict_batches(model, records, max_residues):
        yield from batch


def predict_labelled(model: Model | Session, chains) -> list[np.ndarray]:
    """Probabilities for labelled chains, in order."""
    out: list[np.ndarray] = []
    for start in range(0, len(chains), LABELLED_CHAINS):
        out += model.predict_many([c.codes for c in chains[start:start + LABELLED_CHAINS]])
    return out
