"""Run a recipe: every member (teachers first, each from its own recipe), then the choice, then one model.

Each member trains through ``sspred.train`` on its pool, and is kept as a model file in the work folder with its
provenance (``PROVENANCE``) in its header, so an interrupted rebuild picks up where it stopped. The choice reads
each member's validation probabilities; the chosen members are joined (``sspred.cascade.ensemble``) and the
thresholds the recipe names are set on validation. Nothing prints: ``report`` receives one dict per event.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sspred.cascade import ensemble
from sspred.config import TrainConfig
from sspred.errors import ConfigError
from sspred.evaluation import choose_disorder_threshold
from sspred.io.textfile import atomic_output
from sspred.model import BUILTIN, Model, read_model, resolve, save_model
from sspred.recipes import choice as choosing
from sspred.recipes.pools import Pool, read_pool
from sspred.recipes.provenance import fit_record, source
from sspred.recipes.recipe import MemberRecipe, Recipe, TeacherRef, load
from sspred.training import train

#: The header key of a member's provenance (beside its weights), and of a model's recipe.
PROVENANCE = "provenance"
RECIPE = "recipe"
#: The fields a rebuild may change without changing the result's meaning: where it runs.
OVERRIDES = ("engine", "device", "threads")

Report = Callable[[dict], None]


@dataclass
class Settings:
    """How a recipe runs here: at smoke size or in full, where (``OVERRIDES``), on which data folder, and the
    work folder that keeps members and teachers between runs."""

    work: Path
    smoke: bool = False
    engine: str | None = None
    device: str | None = None
    threads: int | None = None
    data_dir: str | os.PathLike | None = None
    report: Report = field(default=lambda event: None)


@dataclass
class Built:
    """A rebuilt model and the record of its rebuild: members with their provenance, the choice's steps."""

    model: Model
    record: dict[str, Any]


def member_config(member: MemberRecipe, settings: Settings, teacher: Path | None) -> TrainConfig:
    """The member's TrainConfig as it runs here: the recipe's, with the overrides, the teacher's file and, at
    smoke size, one epoch."""
    d = member.config.to_dict()
    for key in OVERRIDES:
        value = getattr(settings, key)
        if value is not None:
            d[key] = value
    if d["engine"] == "numpy" and d["device"] not in ("cpu", "auto"):
        d["device"] = "cpu"  # the numpy engine runs on the CPU alone; a recipe's GPU device is the torch engine's
    if settings.smoke:
        d["epochs"], d["patience"] = 1, min(d["patience"], 1)
    d["teacher"] = str(teacher) if teacher is not None else None
    d["name"] = member.name
    return TrainConfig.from_dict(d)


def _work_file(settings: Settings, recipe: str, member: str | None = None) -> Path:
    folder = settings.work / (f"{recipe}-smoke" if settings.smoke else recipe)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{member or recipe}.npz"


def resolve_teacher(ref: TeacherRef, settings: Settings) -> Path:
    """The model file a member is distilled from.

    In full: a built-in model or a file ``WORK/<recipe>.npz`` whose checksum is the one the recipe names (the
    very teacher of the shipped member), else that recipe rebuilt into ``WORK/<recipe>.npz`` (a rebuilt teacher
    has its own checksum, which the member's provenance records). At smoke size: the teacher's recipe at smoke
    size, built once into the work folder.
    """
    if not settings.smoke:
        for path in [*(resolve(n) for n in BUILTIN), settings.work / f"{ref.recipe}.npz"]:
            if path.exists() and read_model(path).header.get("checksum") == ref.checksum:
                return path
    out = settings.work / (f"{ref.recipe}-smoke.npz" if settings.smoke else f"{ref.recipe}.npz")
    recipe = load(ref.recipe)
    if out.exists() and read_model(out).header.get(RECIPE, {}).get("sha256") == recipe.sha256:
        return out
    settings.report({"event": "teacher", "recipe": ref.recipe, "out": str(out)})
    built = build(recipe, settings)
    save_model(out, built.model.header, built.model.params)
    return out


def resolved_config(config: TrainConfig, teacher: TeacherRef | None) -> dict:
    """``config`` as a member's provenance records it: plain data, the teacher named by its recipe."""
    d = config.to_dict()
    # The teacher's path is where it lay on this machine; what identifies it is its recipe and checksum.
    d["teacher"] = f"recipe:{teacher.recipe}" if teacher is not None else None
    return d


def train_member(recipe: Recipe, member: MemberRecipe, settings: Settings) -> Model:
    """One member trained (or read back from the work folder when a run with the same recipe, member, config and
    size left it there), with its provenance in its header."""
    teacher = resolve_teacher(member.teacher, settings) if member.teacher is not None else None
    config = member_config(member, settings, teacher)
    path = _work_file(settings, recipe.name, member.name)
    resolved = resolved_config(config, member.teacher)
    if path.exists():
        kept = read_model(path)
        prov = kept.header.get(PROVENANCE, {})
        # Where it ran (device, threads) does not change what it is: a resumed rebuild may run elsewhere.
        same = {k: v for k, v in (prov.get("config") or {}).items() if k not in TrainConfig.RUNTIME_FIELDS} == {
            k: v for k, v in resolved.items() if k not in TrainConfig.RUNTIME_FIELDS}
        if prov.get("recipe_sha256") == recipe.sha256 and same:
            settings.report({"event": "member kept", "member": member.name, "path": str(path)})
            return kept
    pool = read_pool(member.pool, settings.data_dir, settings.smoke)
    settings.report({"event": "member", "member": member.name, "pool": member.pool_name,
                     "train_chains": len(pool.train), "valid_chains": len(pool.valid),
                     "epochs": config.epochs, "engine": config.engine})
    start = time.perf_counter()
    model = train(config, pool.train, pool.valid,
                  callbacks=[lambda stats: settings.report({"event": "epoch", "member": member.name, **stats})])
    header = dict(model.header)
    teacher_checksum = read_model(teacher).header.get("checksum") if teacher is not None else None
    header[PROVENANCE] = {
        "recipe": recipe.name, "recipe_sha256": recipe.sha256, "member": member.name, "smoke": settings.smoke,
        "config": resolved, "source": source(), "data": pool.record,
        "teacher": None if member.teacher is None else {
            "recipe": member.teacher.recipe, "checksum": teacher_checksum,
            "recipe_checksum": member.teacher.checksum, "same_as_recipe": teacher_checksum == member.teacher.checksum},
        **fit_record(header["train"]["history"]), "time_limit_fired": False,
        "seconds": round(time.perf_counter() - start, 1)}
    model = Model(header, model.params)
    save_model(path, model.header, model.params)
    return model


def _labels(model: Model, chains: list) -> np.ndarray:
    return np.concatenate([c.y3 if len(model.state_order) == 3 else c.y8 for c in chains])


def choose(recipe: Recipe, members: dict[str, Model], valid: Pool | None) -> tuple[list[str], list[dict]]:
    """The members the recipe's choice keeps, in the order chosen, and its steps with their validation scores."""
    names = list(members)
    if recipe.choice.rule == "all" or len(names) == 1:
        return names, [{"members": names, "valid_score": None}]
    assert valid is not None  # build reads it for every greedy choice
    chains = valid.valid
    first = members[names[0]]
    y = _labels(first, chains)
    scored = y >= 0
    probs = {n: np.concatenate(m.predict_many([c.codes for c in chains]))[scored] for n, m in members.items()}
    steps = choosing.greedy(probs, y[scored], recipe.choice.members or len(names), recipe.choice.min_gain)
    singles = {n: choosing.ensemble_accuracy(probs, y[scored], [n]) for n in names}
    record = [{"members": s, "valid_score": q} for s, q in steps]
    record.insert(0, {"candidates": singles})
    return steps[-1][0], record


def build(recipe: Recipe, settings: Settings) -> Built:
    """Run ``recipe``: its members, the choice and the combination, into one Model.

    Parameters
    ----------
    recipe : Recipe
        What to build (``sspred.recipes.load``).
    settings : Settings
        Size, overrides, data and work folders, and where events are reported.

    Returns
    -------
    Built
        The model (its header names the recipe and its sha256; each member carries its provenance) and the
        record of the run.

    Raises
    ------
    sspred.ConfigError
        When a member's config cannot run here or a leak list differs from the recipe's.
    sspred.InputError
        When the data cannot be read.
    """
    start = time.perf_counter()
    members = {m.name: train_member(recipe, m, settings) for m in recipe.members}
    needs_valid = (recipe.choice.rule != "all" and len(members) > 1) or recipe.choice.thresholds
    valid = read_pool(recipe.choice.valid, settings.data_dir, settings.smoke) if needs_valid else None
    chosen, steps = choose(recipe, members, valid)
    settings.report({"event": "choice", "chosen": chosen, "steps": steps})
    name = recipe.model or recipe.name
    models = [members[n] for n in chosen]
    tag = {RECIPE: {"name": recipe.name, "sha256": recipe.sha256, "smoke": settings.smoke}}
    if len(models) == 1:
        header, params = {**models[0].header, "name": name, **tag}, models[0].params
    else:
        header, params = ensemble(models, name, **tag)
    model = Model(header, params)
    thresholds = {}
    for head in recipe.choice.thresholds:
        if head != "disorder":
            raise ConfigError("thresholds", f"no threshold rule for the {head!r} head (only disorder)")
        if "disorder" in model.heads.names and valid is not None:
            thresholds["disorder"] = float(choose_disorder_threshold(model, valid.valid)[0])
    if thresholds:
        model = Model({**model.header, "thresholds": thresholds}, model.params)
    record = {"recipe": recipe.name, "sha256": recipe.sha256, "smoke": settings.smoke, "chosen": chosen,
              "choice": steps, "thresholds": thresholds, "seconds": round(time.perf_counter() - start, 1),
              "members": {n: m.header.get(PROVENANCE) for n, m in members.items()}}
    return Built(model, record)


def write_record(path: str | os.PathLike, record: dict) -> None:
    """The record of a rebuild as JSON (beside the model file)."""
    with atomic_output(Path(path)) as handle:
        json.dump(record, handle, indent=1, default=str)

