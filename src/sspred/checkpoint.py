"""Training checkpoints: everything needed to continue a run exactly, in the sspred container.

A checkpoint is the container of model files (container.py: no pickle, uncompressed members, plain
dtypes, a SHA-256 checksum) with format ``sspred-checkpoint``. The header holds the run state
(epoch, early-stopping and schedule state, history, configs); the arrays are ``params/<name>``
(current weights and buffers), ``best/<name>`` (the best weights so far) and ``optim/<path>``
(optimizer state, nested keys joined by '/'). Written with an atomic rename, so a crash leaves the
previous checkpoint intact. A bad checkpoint is an InputError naming the file, as a bad input is.
``run_config`` reads the run's TrainConfig back, from the header of any version.
"""

from __future__ import annotations

import os

import numpy as np

from sspred import container
from sspred.config import TrainConfig
from sspred.errors import InputError

FORMAT = "sspred-checkpoint"
#: 2: the model file's container (header member ``__header__``, checksum); 1 had an unchecked ``__meta__``.
FORMAT_VERSION = 2
KIND = container.Kind(FORMAT, FORMAT_VERSION, noun="checkpoint", short="checkpoint", contents="arrays",
                      error=lambda message, path: InputError(message, path=str(path)))
SEP = "/"
#: Array groups, by the prefix of their member names.
GROUPS = ("params", "best", "optim")


def flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dicts of arrays -> {'a/b/c': array}."""
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}{SEP}"))
        else:
            out[f"{prefix}{k}"] = np.asarray(v)
    return out


def unflatten(flat: dict[str, np.ndarray]) -> dict:
    out: dict = {}
    for key, v in flat.items():
        *parents, leaf = key.split(SEP)
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = v
    return out


def save(path: str | os.PathLike, meta: dict, params: dict[str, np.ndarray], best: dict[str, np.ndarray] | None,
         optimizer: dict) -> None:
    """Write a checkpoint atomically. ``meta`` must be JSON-serialisable."""
    arrays = {f"params{SEP}{k}": v for k, v in params.items()}
    arrays.update({f"best{SEP}{k}": v for k, v in (best or {}).items()})
    arrays.update({f"optim{SEP}{k}": v for k, v in flatten(optimizer).items()})
    container.write(path, KIND, meta, arrays)


def load(path: str | os.PathLike) -> dict:
    """{'meta', 'params', 'best' (or None), 'optimizer'}; a bad file is an InputError naming it."""
    meta, arrays = container.read(path, KIND)
    groups: dict[str, dict] = {g: {} for g in GROUPS}
    for name, arr in arrays.items():
        group, _, key = name.partition(SEP)
        if group not in groups or not key:
            raise InputError(f"not an sspred checkpoint (unknown member {name!r})", path=str(path))
        groups[group][key] = arr
    return {"meta": meta, "params": groups["params"], "best": groups["best"] or None,
            "optimizer": unflatten(groups["optim"])}


def run_config(meta: dict) -> TrainConfig:
    """The TrainConfig a checkpoint's run was made with, from its header (``load(path)["meta"]``)."""
    d = dict(meta["train_config"])
    if "model" not in d:  # checkpoints written before the model and the run's extras travelled inside TrainConfig
        d["model"] = meta["model"]
        d.update({k: meta[k] for k in ("stage1", "teacher", "teacher_weight", "exclude_leaks") if k in meta})
    return TrainConfig.from_dict(d)
