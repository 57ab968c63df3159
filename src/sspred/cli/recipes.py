"""sspred recipes, and sspred train --recipe: list the recipes, rebuild a model from one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from sspred.cli.root import _click, app
from sspred.errors import ConfigError
from sspred.io.textfile import check_output
from sspred.model import save_model
from sspred.recipes import Settings, build, listing, load, write_record
from sspred.recipes.build import OVERRIDES
from sspred.training import epoch_accuracy

def _event_line(event: dict) -> str | None:
    kind = event["event"]
    if kind == "member":
        return (f"member {event['member']}: {event['train_chains']} training chains ({event['pool']}), "
                f"{event['valid_chains']} validation; {event['epochs']} epochs, {event['engine']} engine")
    if kind == "member kept":
        return f"member {event['member']}: kept from {event['path']}"
    if kind == "teacher":
        return f"teacher: building recipe {event['recipe']} into {event['out']}"
    if kind == "epoch":
        acc = epoch_accuracy(event)
        v = f"  valid {acc:.2f}" if acc is not None else ""
        return f"  {event['member']} epoch {event['epoch']:3d}  train loss {event['train_loss']:.4f}{v}  ({event['seconds']:.0f}s)"
    if kind == "choice":
        scored = [s for s in event["steps"] if "members" in s and s.get("valid_score") is not None]
        tail = f" (valid {scored[-1]['valid_score']:.2f})" if scored else ""
        return f"chosen: {', '.join(event['chosen'])}{tail}"
    return None


def train_recipe(ctx: typer.Context, values: dict[str, Any], given: dict[str, Any], extra: list[str]) -> None:
    """``sspred train --recipe``: refuse what a recipe fixes (``extra``: the other flags given), run it, write the
    model and its record."""
    if values["recipe"] is None:
        raise typer.BadParameter("--smoke runs a recipe: give --recipe NAME too", param_hint="--smoke")
    if extra:
        raise typer.BadParameter(f"a recipe fixes every setting; only {', '.join('--' + o for o in OVERRIDES)} may "
                                 f"be given beside it, not {', '.join(extra)}", param_hint="--recipe")
    out: Path | None = values["out"]
    if out is None:
        raise _click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "out"))
    check_output(out)
    recipe = load(values["recipe"])
    work = values["work"] or out.parent / f"{out.stem}-work"
    quiet = values["quiet"]

    def report(event: dict) -> None:
        line = _event_line(event)
        if line is not None and not (quiet and event["event"] == "epoch"):
            typer.echo(line, err=True)

    settings = Settings(Path(work), bool(values["smoke"]), given.get("engine"), given.get("device"),
                        given.get("threads"), values["data_dir"], report)
    try:
        built = build(recipe, settings)
    except ConfigError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--recipe") from None
    save_model(out, built.model.header, built.model.params)  # atomically, as every model file
    write_record(out.with_suffix(".json"), built.record)
    typer.echo(f"saved {out} (recipe {recipe.name}, sha256 {recipe.sha256[:12]}, {built.record['seconds']:.0f}s); "
               f"record {out.with_suffix('.json')}")


@app.command("recipes")
def recipes(as_json: bool = typer.Option(False, "--json", help="One JSON list: name, model, members, teachers, "
                                         "sha256 and model_matches for each recipe.")) -> None:
    """List the recipes that rebuild the built-in models (sspred train --recipe NAME --out FILE).

    model_matches says whether the shipped model's header names the recipe's current sha256.
    """
    rows = listing()
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    for r in rows:
        match = {True: "matches", False: "DIFFERS", None: "no shipped model"}[r["model_matches"]]
        typer.echo(f"{r['name']:<9} {r['sha256'][:12]}  {match:<16} {len(r['members'])} member(s)"
                   f"{'; teacher: ' + ', '.join(r['teachers']) if r['teachers'] else ''}  {r['description']}")
