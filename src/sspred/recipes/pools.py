"""Pools of training data a recipe's members read: each a named function of the recipe's options that returns
the training and validation chains, after the filters the pool applies, and a record of what it read.

- ``netsurfp2``: the NetSurfP-2.0 training and validation splits, less the chains in its leak list when
  ``exclude_leaks`` (``lists = "all"``: in every shipped list; each list by sha256 in ``leak_lists``).
- ``multitask``: netsurfp2 train (3 states, disorder), the dssp8 train split (8 and 3 states) and a seeded
  sample of ``conservation_chains`` conservation chains, each set less its own leak list; validation on
  netsurfp2's filtered validation split, whose 3-state head picks the best epoch.
- ``dssp8-clustered``: the four dssp8 PDB sets audited with MMseqs2 against every test set (CB513, TS115,
  NEW364), less leaking, unsearchable, unlabelled and repeated chains, clustered at the same identity and
  coverage, whole clusters dealt to validation (``valid_fraction``, seeded): no validation chain has a training
  homolog. Needs ``mmseqs``.

At smoke size each pool reads the first chains of each set (``SMOKE_CHAINS``), so a recipe's smoke run walks
every step in minutes.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sspred import splits
from sspred.errors import ConfigError
from sspred.io import datasets
from sspred.io.datasets import Chain
from sspred.recipes.leaks import label_test_sets

#: Chains of each set a smoke run reads (training; validation gets a quarter): enough for every head's labels.
SMOKE_CHAINS = 160
#: The sets of the multitask pool, in the order their chains are trained on.
MULTITASK_SETS = ("netsurfp2", "dssp8", "conservation")


@dataclass
class Pool:
    """Training and validation chains, and what was read: sets, filters and counts (``record``)."""

    train: list[Chain]
    valid: list[Chain]
    record: dict[str, Any] = field(default_factory=dict)


def leak_list_sha256(train_set: str) -> str:
    """The sha256 of the shipped leak list of ``train_set`` (``sspred.splits.LEAK_LISTS``)."""
    data = (resources.files("sspred.data") / splits.LEAK_LISTS[train_set]).read_bytes()
    return hashlib.sha256(data).hexdigest()


def check_leak_lists(options: dict, sets: tuple[str, ...]) -> dict[str, str]:
    """The leak lists' digests, checked against those the recipe names: a list that changed since the recipe was
    written would change what the members train on."""
    named = options.get("leak_lists", {})
    found = {s: leak_list_sha256(s) for s in sets}
    for s, digest in found.items():
        if s not in named:
            raise ConfigError("leak_lists", f"the recipe names no sha256 for the {s} leak list (it is {digest})")
        if named[s] != digest:
            raise ConfigError("leak_lists", f"the {s} leak list has sha256 {digest}, the recipe names {named[s]}")
    return found


def _smoke(chains: list[Chain], n: int) -> list[Chain]:
    return chains[:n]


def netsurfp2(options: dict, data_dir: Path, smoke: bool) -> Pool:
    leaks = bool(options.get("exclude_leaks", False))
    # "own": netsurfp2's list (8,582 training chains); "all": every shipped list joined, one id dropping a chain
    # wherever it appears (8,578), as the conv sweep that trained the one-hot conv members filtered.
    lists = str(options.get("lists", "own"))
    if lists not in ("own", "all"):
        raise ConfigError("lists", f"netsurfp2 pool: lists = {lists!r} is not 'own' or 'all'")
    train_set = "netsurfp2" if lists == "own" else None
    digests = check_leak_lists(options, ("netsurfp2",) if lists == "own" else tuple(splits.LEAK_LISTS)) if leaks else {}
    part = {}
    for split in ("train", "valid"):
        chains = datasets.load("netsurfp2", split, data_dir)
        part[split] = splits.without_leaks(chains, train_set=train_set) if leaks else chains
    if smoke:
        part = {"train": _smoke(part["train"], SMOKE_CHAINS), "valid": _smoke(part["valid"], SMOKE_CHAINS // 4)}
    return Pool(part["train"], part["valid"], {"sets": ["netsurfp2"], "lists": lists, "leak_lists": digests})


def multitask(options: dict, data_dir: Path, smoke: bool) -> Pool:
    digests = check_leak_lists(options, MULTITASK_SETS)
    sets = {name: splits.without_leaks(datasets.load(name, "train", data_dir), train_set=name)
            for name in MULTITASK_SETS}
    n = int(options.get("conservation_chains", 0))
    if n and n < len(sets["conservation"]):
        pick = np.sort(np.random.default_rng(int(options.get("seed", 0))).choice(len(sets["conservation"]), n,
                                                                                  replace=False))
        sets["conservation"] = [sets["conservation"][i] for i in pick]
    valid = splits.without_leaks(datasets.load("netsurfp2", "valid", data_dir), train_set="netsurfp2")
    if smoke:
        sets = {k: _smoke(v, SMOKE_CHAINS // len(MULTITASK_SETS)) for k, v in sets.items()}
        valid = _smoke(valid, SMOKE_CHAINS // 4)
    return Pool([c for name in MULTITASK_SETS for c in sets[name]], valid,
                {"sets": list(MULTITASK_SETS), "chains": {k: len(v) for k, v in sets.items()}, "leak_lists": digests})


def dssp8_clustered(options: dict, data_dir: Path, smoke: bool) -> Pool:
    identity = float(options.get("identity", splits.IDENTITY))
    coverage = float(options.get("coverage", splits.COVERAGE))
    fraction = float(options.get("valid_fraction", 0.1))
    settings = splits.SearchSettings(threads=int(options.get("threads", 1)))
    chains = [c for name in datasets.DSSP8_FILES
              for c in datasets.read_three_line(Path(data_dir) / "dssp8-pdb-sets" / name)]
    if smoke:
        chains = chains[::max(1, len(chains) // (SMOKE_CHAINS + SMOKE_CHAINS // 4))]
    # Keyed by position: the same PDB chain id can sit in two of the files.
    keyed = [(str(i), c.sequence) for i, c in enumerate(chains)]
    leaking: set[int] = set()
    for test in label_test_sets(Path(data_dir)).values():  # the test sets the label sets' leak lists audit against
        audit = splits.audit(keyed, [(c.id, c.sequence) for c in test], identity, coverage, settings)
        leaking |= {int(k) for k in audit.leaking_train}
    seen: set[str] = set()
    keep = []
    for i, c in enumerate(chains):
        unlabelled = c.y8 is None or not np.any(c.y8 >= 0)
        if i in leaking or len(c.sequence) < splits.MIN_SEARCHABLE or unlabelled or c.sequence in seen:
            continue
        seen.add(c.sequence)
        keep.append(i)
    labels = splits.cluster([(str(i), chains[i].sequence) for i in keep], identity, coverage, settings)
    assign = splits.assign_splits(labels, (1 - fraction, fraction, 0.0),
                                  np.random.default_rng(int(options.get("seed", 0))))
    part = {s: [chains[keep[j]] for j in np.flatnonzero(assign == s)] for s in ("train", "valid")}
    return Pool(part["train"], part["valid"], {"sets": ["dssp8"], "chains_read": len(chains),
                                               "leaking": len(leaking), "kept": len(keep)})


#: Pool name (as a recipe writes it) -> the function that reads it: (options, data folder, smoke) -> Pool.
POOLS: dict[str, Callable[[dict, Path, bool], Pool]] = {
    "netsurfp2": netsurfp2,
    "multitask": multitask,
    "dssp8-clustered": dssp8_clustered,
}


def read_pool(options: dict, data_dir: str | os.PathLike | None = None, smoke: bool = False) -> Pool:
    """The pool a recipe's ``pool = {name = ..., ...}`` names, read from the data folder.

    Parameters
    ----------
    options : dict
        ``name`` (a key of ``POOLS``) and that pool's options.
    data_dir : str or os.PathLike, optional
        Where the sets live (``sspred.io.datasets.data_dir``).
    smoke : bool, default False
        Read only the first chains of each set.

    Returns
    -------
    Pool
        Training and validation chains and the record of what was read (with the data's sha256).

    Raises
    ------
    sspred.ConfigError
        For an unknown pool, or a leak list whose sha256 is not the recipe's.
    sspred.InputError
        When the data cannot be found.
    """
    name = options.get("name")
    if name not in POOLS:
        raise ConfigError("pool", f"unknown pool {name!r} (known: {', '.join(POOLS)})")
    pool = POOLS[name](options, datasets.data_dir(data_dir), smoke)
    pool.record.update(pool=name, train_chains=len(pool.train), valid_chains=len(pool.valid),
                       train_sha256=chains_sha256(pool.train), valid_sha256=chains_sha256(pool.valid))
    return pool


#: The label arrays a chain's digest covers (every one a training run reads).
DIGEST_FIELDS = ("codes", "y3", "y8", "disorder", "conservation")


def chains_sha256(chains: list[Chain]) -> str:
    """A digest of chains as read: ids, sequences and every label array, in order.

    Examples
    --------
    >>> from sspred.io.chain import make_chain
    >>> a = [make_chain("a", "MKVL", "CHHE", eight=False)]
    >>> b = [make_chain("a", "MKVL", "CHHC", eight=False)]
    >>> chains_sha256(a) == chains_sha256(a), chains_sha256(a) == chains_sha256(b)
    (True, False)
    """
    h = hashlib.sha256()
    for c in chains:
        h.update(f"{c.id}\n{c.sequence}\n".encode())
        for name in DIGEST_FIELDS:
            value = getattr(c, name, None)
            if value is not None:
                h.update(name.encode() + np.ascontiguousarray(value).tobytes())
    return h.hexdigest()
