"""Stamp the shipped models with their recipes: the recipe's name and sha256 in each header, and each member's
provenance, every array kept byte for byte.

    python -m sspred.recipes.stamp [NAME ...]      # default: every recipe of a shipped model

The shipped members were trained before the recipes existed. What their provenance says comes from their own
headers where those record it (``train``: config, history), and otherwise from the runs that made them
(``SHIPPED_RUNS``, the conv sweep's table in BENCHMARKS.md). The data digest is that of the pool the recipe
reads today, with the chain counts the member's header recorded beside it, so a reader can check they agree.
``recipe_match`` says whether the member is what its recipe trains, and where not, why.
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from sspred import modelfile
from sspred.container import HEADER_KEY
from sspred.io.textfile import atomic_output
from sspred.model import resolve
from sspred.recipes.build import PROVENANCE, RECIPE, resolved_config
from sspred.recipes.pools import read_pool
from sspred.recipes.provenance import fit_record, git
from sspred.recipes.recipe import MemberRecipe, Recipe, builtin_names, load

#: The conv sweep's runs (BENCHMARKS.md, "The conv sweep"): the torch engine on one shared H100, 8 jobs at once,
#: all 14 planned epochs run (its 4.2-minute cap did not fire), the best validation epoch kept. Their members'
#: headers keep the layers alone, so this is the record of their fits.
SWEEP = {"engine": "torch", "device": "cuda (one H100, shared by 8 jobs)", "time_limit_fired": False}
SHIPPED_RUNS: dict[str, dict[str, Any]] = {
    "conv-c128k5d5-s1": {"epochs_run": 14, "best_epoch": 13, "valid_score": 71.69, **SWEEP},
    "conv-c128k5d5-s0": {"epochs_run": 14, "best_epoch": 12, "valid_score": 71.64, **SWEEP},
    "conv-c64k5d5-s0": {"epochs_run": 14, "best_epoch": 12, "valid_score": 71.48, **SWEEP},
    "conv-c64k5d6-s0": {"epochs_run": 14, "best_epoch": 9, "valid_score": 71.42, **SWEEP},
    "conv-c128k5d4-s1": {"epochs_run": 14, "best_epoch": 13, "valid_score": 71.37, **SWEEP},
}
#: Where a shipped member is not what its recipe would train, why (members absent here match).
MISMATCHES: dict[tuple[str, str], str] = {}


def member_provenance(recipe: Recipe, member: MemberRecipe, desc: dict, shipped_in: str | None) -> dict:
    """The provenance of a shipped member (``desc``, its header entry) under ``recipe``."""
    train = desc.get("train") or {}
    fit = fit_record(train["history"]) if "history" in train else {
        k: v for k, v in SHIPPED_RUNS.get(member.name, {}).items() if k in ("epochs_run", "best_epoch", "valid_score")}
    run = SHIPPED_RUNS.get(member.name, {})
    pool = read_pool(member.pool)
    pool.record["chains_recorded_at_training"] = train.get("chains")
    why = MISMATCHES.get((recipe.name, member.name))
    config = resolved_config(member.config, member.teacher)
    config["name"] = member.name
    return {
        "recipe": recipe.name, "recipe_sha256": recipe.sha256, "member": member.name, "smoke": False,
        "config": config,
        "source": {"version": None, "commit": None, "shipped_in": shipped_in,
                   "note": "trained before the recipes; the commit named is the one that shipped its weights"},
        "data": pool.record,
        "teacher": None if member.teacher is None else {
            "recipe": member.teacher.recipe, "checksum": member.teacher.checksum,
            "recipe_checksum": member.teacher.checksum, "same_as_recipe": True},
        **fit, "engine": run.get("engine", train.get("engine")), "device": run.get("device", train.get("config", {}).get("device")),
        "time_limit_fired": run.get("time_limit_fired", False),
        "recipe_match": {"matches": why is None, "why": why or "trained with the recipe's config, data and teacher"},
    }


def stamped_header(recipe: Recipe, header: dict, shipped_in: str | None) -> dict:
    """``header`` with the recipe named and every member's provenance set."""
    header = json.loads(json.dumps(header))
    members = {m.name: m for m in recipe.members}
    descs = header["members"] if "members" in header else [header]
    for desc in descs:
        name = desc.get("name") if "members" in header else recipe.members[0].name
        if name not in members:
            raise ValueError(f"{recipe.name}: the shipped member {name!r} is not in the recipe")
        desc[PROVENANCE] = member_provenance(recipe, members[name], desc, shipped_in)
    header[RECIPE] = {"name": recipe.name, "sha256": recipe.sha256, "smoke": False}
    return header


def rewrite_header(path: Path, header: dict) -> None:
    """Replace ``path``'s header; every other zip member keeps its bytes and metadata. The container's checksum
    covers the arrays alone (``sspred.container.checksum``), so it stays valid; both are checked after."""
    old_header, arrays = modelfile.load(path)
    npy = io.BytesIO()
    # the container's own encoding of the header (container.write): sorted-key JSON as a uint8 array
    np.lib.format.write_array(npy, np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8))
    member = HEADER_KEY + ".npy"
    with zipfile.ZipFile(path) as old, atomic_output(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w") as new:
            for info in old.infolist():
                new.writestr(info, npy.getvalue() if info.filename == member else old.read(info.filename))
    again, arrays_again = modelfile.load(path)  # the checksum is verified on read
    if again["checksum"] != old_header["checksum"] or arrays_again.keys() != arrays.keys() or not all(
            np.array_equal(arrays[k], arrays_again[k]) and arrays[k].dtype == arrays_again[k].dtype for k in arrays):
        raise RuntimeError(f"{path}: the arrays changed while its header was rewritten")


def stamp(name: str) -> dict:
    """Stamp the shipped model of recipe ``name``; return its new ``recipe`` entry."""
    recipe = load(name)
    path = resolve(recipe.model)
    shipped_in = git("log", "-1", "--format=%h", "--", str(path))
    header, _ = modelfile.load(path)
    header = stamped_header(recipe, header, shipped_in)
    rewrite_header(path, header)
    return header[RECIPE]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="Recipes to stamp (default: every one of a shipped model).")
    args = p.parse_args()
    for name in args.names or [n for n in builtin_names() if load(n).model]:
        print(name, stamp(name))


if __name__ == "__main__":
    main()
