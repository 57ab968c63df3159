"""Training checkpoints: everything needed to continue a run exactly, in an npz with no pickle.

Members: ``__meta__`` (UTF-8 JSON: format, epoch, early-stopping and schedule
state, history, configs), ``params/<name>`` (current weights and buffers),
``best/<name>`` (the best weights so far) and ``optim/<path>`` (optimizer
state, nested keys joined by '/'). Written with an atomic rename, so a crash
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from sspred.errors import InputError
from sspred.io.textfile import atomic_output

FORMAT = "sspred-checkpoint"
FORMAT_VERSION = 1
META_KEY = "__meta__"
SEP = "/"


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
    full = {"format": FORMAT, "version": FORMAT_VERSION, **meta}
    arrays = {META_KEY: np.frombuffer(json.dumps(full, sort_keys=True).encode(), dtype=np.uint8)}
    arrays.update({f"params{SEP}{k}": np.ascontiguousarray(v) for k, v in params.items()})
    arrays.update({f"best{SEP}{k}": np.ascontiguousarray(v) for k, v in (best or {}).items()})
    arrays.update({f"optim{SEP}{k}": v for k, v in flatten(optimizer).items()})
    with atomic_output(path, "wb") as handle:
        np.savez(handle, **arrays)


def load(path: str | os.PathLike) -> dict:
    """{'meta', 'params', 'best' (or None), 'optimizer'}; a bad file is an InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("checkpoint not found", path=str(path))
    try:
        with np.load(path, allow_pickle=False) as npz:
            if META_KEY not in npz.files:
                raise InputError("not an sspred checkpoint (no metadata)", path=str(path))
            meta = json.loads(bytes(npz[META_KEY]).decode("utf-8"))
            groups: dict[str, dict] = {"params": {}, "best": {}, "optim": {}}
            for name in npz.files:
                if name != META_KEY:
                    group, key = name.split(SEP, 1)
                    groups[group][key] = npz[name]
    except InputError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InputError(f"corrupt or truncated checkpoint ({type(exc).__name__}: {exc})", path=str(path)) from None
    if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
        raise InputError(f"not an sspred checkpoint of version {FORMAT_VERSION}", path=str(path))
    return {"meta": meta, "params": groups["params"], "best": groups["best"] or None,
            "optimizer": unflatten(groups["optim"])}
