"""Prediction sharded over a Dask distributed cluster (``sspred predict --dask-scheduler``).

The client reads the FASTA and cuts it into the same batches the single-process
run uses (``predict.record_batches``), so every worker computes exactly what the local
run would, and the output is identical byte for byte. The model's header and
weights are scattered to every worker once; each worker keeps its compiled fast
path per model checksum. At most ``in_flight`` batches are out at a time and
results come back in input order, so the client's memory stays bounded like
the local stream's.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Iterator

import numpy as np

from sspred.io.fasta import Record
from sspred.model import Model
from sspred.predict.batch import BATCH_RESIDUES, record_batches

#: Models already compiled in this worker process, keyed by their weights' checksum.
_WORKER_MODELS: dict[str, Model] = {}


def _predict_shard(spec: tuple[dict, dict], chains: list[np.ndarray], heads: bool = False) -> list:
    """Runs on a worker: probabilities for one batch of chains ([{head: (L, K_h)}] with ``heads``)."""
    header, params = spec
    key = header.get("checksum") or str(id(params))
    model = _WORKER_MODELS.get(key)
    if model is None:
        model = _WORKER_MODELS[key] = Model(header, params)
    return model.predict_heads(chains) if heads else model.predict_many(chains)


def connect(scheduler: str | None = None, local_workers: int | None = None):
    """A dask.distributed Client: to ``scheduler`` (an address such as tcp://host:8786 or a
    scheduler JSON file), or to a new LocalCluster of ``local_workers`` single-threaded processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        if scheduler.endswith(".json"):
            return Client(scheduler_file=scheduler)
        return Client(scheduler)
    cluster = LocalCluster(n_workers=local_workers or 1, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def predict_records_dask(model: Model, records: Iterable[Record], client,
                         max_residues: int = BATCH_RESIDUES,
                         in_flight: int | None = None,
                         heads: bool = False) -> Iterator[list[tuple[Record, Any]]]:
    """Yield each batch as [(record, probabilities)] in input order, computed on the cluster; with ``heads``,
    as [(record, {head name: (L, K_h)})], as ``predict.predict_batches`` does."""
    if in_flight is None:
        in_flight = 2 * max(1, sum(client.nthreads().values()))
    [spec] = client.scatter([(model.header, model.params)], broadcast=True)
    pending: deque = deque()
    for batch in record_batches(records, max_residues):
        pending.append((batch, client.submit(_predict_shard, spec, [r.codes for r in batch], heads, pure=False)))
        if len(pending) >= in_flight:
            batch, future = pending.popleft()
            yield list(zip(batch, future.result()))
    while pending:
        batch, future = pending.popleft()
        yield list(zip(batch, future.result()))
