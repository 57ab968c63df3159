"""sspred train: map the flags onto a TrainConfig, run ``sspred.train``, save the model file.

The flags are generated from the config dataclasses' fields (``SETTINGS``): a field's type, default and
description (its class docstring's Parameters entry) live in sspred.config alone.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import typing
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, get_origin

import typer

from sspred import checkpoint as ckpt
from sspred.cli.common import DATA_DIR, warn
from sspred.cli.root import _click, app, fail
from sspred.config import (ARCHS, DEFAULT_ARCH, ConfigError, ConvConfig, Fields, ModelConfig, TrainConfig,
                           arch_settings, check_arch_settings, config_text, field_default, field_docs, model_config,
                           read_config)
from sspred.io import datasets
from sspred.io.textfile import check_output
from sspred.model import Model
from sspred.training import TrainingDiverged, epoch_accuracy, prepare_run

#: Flags whose name is not the config field's with '-' for '_'.
FLAG_OF_FIELD = {"model": "--arch", "head_weights": "--head-weight"}
#: Older spellings a flag still answers to: --states is n_states's name before it became an int.
ALIASES = {"n_states": ("--states",)}
#: The flag that turns a boolean field off, where it is not --no-<flag>.
OFF_FLAGS = {"unirep_reverse": "--unirep-forward", "exclude_leaks": "--keep-leaks"}
#: What a flag adds to its field's description: how the shell spells a value, and the extra it needs.
CLI_NOTES = {
    "hidden": "--hidden 0: no hidden layer.",
    "n_states": "--states, its old name, is still read.",
    "head_weights": "NAME=W, repeatable.",
    "name": "Default: the stem of --out.",
    "engine": 'torch needs pip install "sspred[torch]".',
    "unirep": 'Needs pip install "sspred[unirep]".',
}
#: The config classes whose fields are flags, in the order -h lists them (a field of two shows once).
FLAG_CLASSES: tuple[type[Fields], ...] = (*ARCHS.values(), TrainConfig)
#: Fields that are no flag of their own: --arch picks the model config, whose "arch" field it also is.
NOT_FLAGS = ("model", "arch")


def flag(field: str) -> str:
    return FLAG_OF_FIELD.get(field, "--" + field.replace("_", "-"))


def parse_hidden(values: Sequence[str]) -> list[int]:
    """--hidden is repeatable or a comma list; '0' alone means no hidden layer."""
    sizes = parse_ints(values)
    if any(s < 0 for s in sizes):
        raise typer.BadParameter("hidden sizes must be >= 0", param_hint="--hidden")
    return [s for s in sizes if s > 0]


def parse_ints(values: Sequence[str], field: str = "") -> list[int]:
    try:
        return [int(tok) for v in values for tok in v.split(",") if tok.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"expected integers (a comma list), {exc}", param_hint=flag(field)) from None


def parse_names(values: Sequence[str]) -> list[str]:
    """--heads is repeatable or a comma list."""
    return [tok.strip() for v in values for tok in v.split(",") if tok.strip()]


def parse_head_weights(values: Sequence[str]) -> dict[str, float]:
    """--head-weight NAME=W, repeatable: {NAME: W}; ConvConfig checks the names and values."""
    weights = {}
    for v in values:
        name, sep, weight = v.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            weights[name.strip()] = float(weight)
        except ValueError:
            raise typer.BadParameter(f"expected NAME=WEIGHT (e.g. disorder=0.5), got {v!r}",
                                     param_hint="--head-weight") from None
    return weights


def data_arg(values: List[str]) -> str | list[str]:
    """One --data as the name itself (what model files and checkpoints recorded before multi-task pools),
    several as the list ``sspred.train`` takes."""
    return values[0] if len(values) == 1 else list(values)


@dataclasses.dataclass(frozen=True)
class Setting:
    """One config field as a flag: its option type for typer and how the flag's text becomes the field's value."""

    field: str
    annotation: Any
    parse: Callable[[Any], Any]
    option: Any  # typer.models.OptionInfo


def _show(value: Any) -> str:
    """A default as -h shows it: a list as the comma list the flag reads."""
    if isinstance(value, (list, dict)):
        return ",".join(map(str, value)) or "none"
    return "none" if value is None else str(value)


def _setting(name: str, owners: list[type[Fields]]) -> Setting:
    hint = typing.get_type_hints(owners[0])[name]
    parse: Callable[[Any], Any] = lambda v: v  # noqa: E731
    annotation: Any = Optional[hint] if hint in (int, float, str, bool) else Optional[str]
    if hint == list[int]:
        parse = parse_hidden if name == "hidden" else functools.partial(parse_ints, field=name)
    elif hint == list[str]:
        parse = parse_names
    elif hint == dict[str, float]:
        parse = parse_head_weights
    if get_origin(hint) in (list, dict):
        annotation = Optional[List[str]]
    names = [flag(name), *ALIASES.get(name, ())]
    if hint is bool:
        names[0] += "/" + OFF_FLAGS.get(name, "--no-" + flag(name)[2:])
    readers = [a for a in ARCHS if name in arch_settings(a)]
    prefix = f"{readers[0]}: " if len(readers) == 1 else ""
    help = " ".join(filter(None, [prefix + field_docs(owners[0])[name], CLI_NOTES.get(name),
                                  "Comma list or repeatable." if get_origin(hint) is list else ""]))
    defaults = {_show(field_default(cls, name)) for cls in owners}
    shown = next(iter(defaults)) if len(defaults) == 1 else ", ".join(
        f"{arch} {_show(field_default(cls, name))}" for arch, cls in ARCHS.items() if cls in owners)
    # The default is None, "not given", so that a flag overrides --config and a window network's defaults
    # differ from a conv stack's where their fields do (dropout): the config classes fill in what is not given.
    option = typer.Option(None, *names, help=help, show_default=shown)
    return Setting(name, annotation, parse, option)


def _settings() -> dict[str, Setting]:
    owners: dict[str, list[type[Fields]]] = {}
    for cls in FLAG_CLASSES:
        for name in cls.field_names():
            if name not in NOT_FLAGS:
                owners.setdefault(name, []).append(cls)
    return {name: _setting(name, classes) for name, classes in owners.items()}


#: Every config field's flag, generated from the field: its type, default and description have one home.
SETTINGS = _settings()


def _arch_of(model: ModelConfig | ConvConfig) -> str:
    return next(arch for arch, cls in ARCHS.items() if isinstance(model, cls))


def resolve_config(given: dict[str, Any], arch: str | None, config_file: Path | None, out: Path | None,
                   resume: Path | None) -> TrainConfig:
    """The run's config: the checkpoint's (--resume), else the file's (--config) or the fields' defaults, with each
    flag the user gave (``given``, field name to value) in place of the value it names.

    Raises
    ------
    sspred.ConfigError
        On a flag the arch does not read, or a bad value; its ``field`` names the flag.
    """
    if resume is not None:
        # The checkpoint's configuration is the run's; only the runtime fields come from the flags.
        fixed = [name for name in [*given, *(["model"] if arch else [])] if name not in TrainConfig.RUNTIME_FIELDS]
        if fixed or config_file is not None:
            field = fixed[0] if fixed else "resume"
            raise ConfigError(field, "a resumed run keeps its checkpoint's settings; only "
                                     f"{', '.join(map(flag, TrainConfig.RUNTIME_FIELDS))} may change")
        runtime = {name: given.get(name, field_default(TrainConfig, name)) for name in TrainConfig.RUNTIME_FIELDS}
        runtime["name"] = runtime["name"] or (out.stem if out is not None else None)
        return dataclasses.replace(ckpt.run_config(ckpt.load(resume)["meta"]), **runtime)
    base = TrainConfig() if config_file is None else read_config(config_file)
    arch = arch or _arch_of(base.model)
    check_arch_settings(arch, given)
    own = ARCHS[arch].field_names()
    kept = ({name: getattr(base.model, name) for name in own if name != "arch"} if arch == _arch_of(base.model)
            else {})  # another arch than the file's starts from that arch's defaults
    model = model_config(arch, **{**kept, **{k: v for k, v in given.items() if k in own}})
    run = {k: v for k, v in given.items() if k not in own}
    if "name" not in run and base.name is None and out is not None:
        run["name"] = out.stem
    return dataclasses.replace(base, model=model, **run)


def train(ctx: typer.Context, **values: Any) -> None:
    """Train a window network (Qian & Sejnowski 1988 by default), a conv stack or a second stage, and save it;
    or rebuild a model from its recipe (--recipe NAME|FILE).

    Every setting is a field of TrainConfig, ModelConfig (--arch window) or ConvConfig (--arch conv), with the
    field's default; --config FILE reads a whole TrainConfig (JSON, or TOML for a .toml file), and the flags given
    override it. --print-config writes the resolved config as JSON and exits. --recipe runs a whole recipe (every
    member, the choice, one model file; `sspred recipes` lists them); only --engine, --device and --threads may be
    given beside it, and --smoke runs it at toy size.

    Extras: --engine torch needs pip install "sspred[torch]"; --unirep needs pip install "sspred[unirep]".
    """
    data, out, resume, checkpoint = values["data"], values["out"], values["resume"], values["checkpoint"]
    given = {name: s.parse(values[name]) for name, s in SETTINGS.items() if values[name] not in (None, [], ())}
    if values["recipe"] is not None or values["smoke"]:
        from sspred.cli.recipes import train_recipe

        train_recipe(ctx, values, given, _beside_recipe(values, given))
        return
    try:
        config = resolve_config(given, values["arch"], values["config"], out, resume)
    except ConfigError as exc:
        if values["config"] is not None and exc.field not in given and exc.field != "model":
            fail(f"{values['config']}: {exc}")  # a key of the file, not a flag
        raise typer.BadParameter(exc.reason, param_hint=flag(exc.field)) from None
    if values["print_config"]:
        typer.echo(config_text(config), nl=False)
        return
    for name, value in (("data", data), ("out", out)):
        if not value:
            raise _click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == name))
    # A model that cannot be saved is known now, not after the last epoch.
    check_output(out, inputs=[*data, *([values["valid_data"]] if values["valid_data"] else []),
                              *([resume] if resume else [])])
    if checkpoint is not None and checkpoint != resume:
        check_output(checkpoint, inputs=data)
    if resume is not None:
        checkpoint = checkpoint or resume
    try:
        run = prepare_run(config, data_arg(data), values["valid_data"], data_dir=values["data_dir"], resume=resume)
    except ConfigError as exc:
        raise typer.BadParameter(exc.reason, param_hint=flag(exc.field)) from None
    quiet = values["quiet"]

    q = f"Q{config.model.n_states}"  # the accuracy is Q3, or Q8 for an 8-state model

    def report(stats: dict) -> None:
        v = f"  valid loss {stats['valid_loss']:.4f}  valid {q} {stats['valid_accuracy']:.2f}" if "valid_loss" in stats else ""
        typer.echo(f"epoch {stats['epoch']:3d}  train loss {stats['train_loss']:.6f}  train {q} {stats['train_accuracy']:.2f}{v}"
                   f"  lr {stats['lr']:.3g}  ({stats['seconds']:.1f}s)", err=True)

    if run.main:
        if not run.n_valid_chains:  # fit then keeps the last epoch: say so, since nothing else would
            warn("no validation data (give --valid-data FILE): nothing is chosen on validation and training does "
                 "not stop early; the last epoch's weights are saved")
        typer.echo(run.describe(), err=True)
    try:
        trained: Model = run.fit(callbacks=[] if quiet else [report], checkpoint=checkpoint)
    except TrainingDiverged as exc:
        fail(f"{exc}; no model written")
    if run.replica_spread is not None and run.main:
        typer.echo(f"replicas: {run.world} ranks, largest parameter difference between ranks {run.replica_spread:.3g}",
                   err=True)
    if not run.main:
        _leave_distributed()
    trained.save(out)
    history = run.history
    assert history is not None  # fit sets it
    best = history.epochs[history.best_epoch - 1] if history.best_epoch else {}
    acc = epoch_accuracy(best)
    score = f": valid {q} {acc:.2f}" if acc is not None else ""
    typer.echo(f"saved {out} (best epoch {history.best_epoch}{score})")
    if config.distributed:
        _leave_distributed()


#: The train flags a recipe run reads besides the overrides (--engine, --device, --threads); any other would change
#: what the recipe fixes.
RECIPE_FLAGS = ("recipe", "smoke", "work", "out", "data_dir", "quiet")


def _beside_recipe(values: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """The flags given beside --recipe that a recipe does not take."""
    from sspred.recipes.build import OVERRIDES

    extra = [flag(name) for name in given if name not in OVERRIDES]
    extra += ["--" + name.replace("_", "-") for name, (_, option) in COMMAND_OPTIONS.items()
              if name not in RECIPE_FLAGS and values[name] not in (option.default, None, [], ())]
    return extra


def _leave_distributed() -> None:
    """End a torchrun rank whose work is done and whose process group is destroyed, skipping C++ static
    destructors: gloo's left a joinable thread behind now and then, and the rank died at exit with
    "terminate called without an active exception" (SIGABRT) after a run that had succeeded (commit afc6b6b;
    tests/ddp_support.py ends its ranks the same way). Only the command ends the process: the library's
    ``learner.close()`` leaves the group and returns."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


#: The flags that are no config field: what the run reads and writes, and how it reports.
COMMAND_OPTIONS: dict[str, tuple[Any, Any]] = {
    "data": (Optional[List[str]], typer.Option(
        None, "--data", help=f"Data set ({', '.join(datasets.DATASETS)}) or a labelled file; repeatable: several sets "
        "train one multi-task model on their union, each head where its labels exist (validation: the first set's "
        "valid split). Required unless --print-config.")),
    "out": (Optional[Path], typer.Option(None, "--out", "-o", help="Model file to write; checked before training "
                                         "starts. Required unless --print-config.")),
    "data_dir": (Optional[str], DATA_DIR),
    "valid_data": (Optional[str], typer.Option(None, "--valid-data", help="Validation set or file (default: the "
                                               "set's valid split).")),
    "config": (Optional[Path], typer.Option(None, "--config", help="Read a whole TrainConfig from this file (JSON, or "
                                            "TOML for a .toml file, as --print-config writes it); the flags given "
                                            "override its values.")),
    "print_config": (bool, typer.Option(False, "--print-config", help="Write the resolved TrainConfig to stdout as "
                                        "JSON (what --config reads) and exit without training.")),
    "arch": (Optional[str], typer.Option(None, "--arch", help="window: a window network (ModelConfig); conv: a conv "
                                         "stack over whole chains (ConvConfig; --batch-size is then chains per step). "
                                         "A flag of the other arch is refused.", show_default=DEFAULT_ARCH)),
    "checkpoint": (Optional[Path], typer.Option(None, "--checkpoint", help="Write the run state here after every "
                                                "epoch (atomically).")),
    "resume": (Optional[Path], typer.Option(None, "--resume", help="Continue the run saved in this checkpoint (its "
                                            "configuration is used; only the runtime flags may change).")),
    "quiet": (bool, typer.Option(False, "--quiet", "-q", help="No per-epoch lines.")),
    "recipe": (Optional[str], typer.Option(None, "--recipe", help="Rebuild a model from a recipe: a built-in name "
                                           "(sspred recipes) or a recipe file (TOML).")),
    "smoke": (bool, typer.Option(False, "--smoke", help="With --recipe: the same steps at toy size (a few hundred "
                                 "chains, one epoch, teachers and choice included), in minutes.")),
    "work": (Optional[Path], typer.Option(None, "--work", help="With --recipe: the folder that keeps members and "
                                          "teachers between runs (default: a folder beside --out).")),
}


def _signature() -> inspect.Signature:
    """train's signature as typer reads it: ctx, the command's own options, then one option per config field."""
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)
               for name, (annotation, option) in COMMAND_OPTIONS.items()]
    params += [inspect.Parameter(s.field, inspect.Parameter.KEYWORD_ONLY, default=s.option, annotation=s.annotation)
               for s in SETTINGS.values()]
    return inspect.Signature(params)


train.__signature__ = _signature()  # type: ignore[attr-defined]
train.__annotations__ = {p.name: p.annotation for p in train.__signature__.parameters.values()}  # type: ignore[attr-defined]
app.command("train")(train)
