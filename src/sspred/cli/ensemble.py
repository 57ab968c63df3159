"""sspred ensemble: one model file that averages the probabilities of several."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from sspred.cascade import ensemble as build_ensemble
from sspred.cli.root import app
from sspred.errors import InputError
from sspred.io.textfile import check_output
from sspred.model import save_model
from sspred.predict.api import load


@app.command()
def ensemble(
    models: List[str] = typer.Argument(..., help="Model files or built-in names (two or more), all with the same states."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name written into the file."),
) -> None:
    """Average several models: each member keeps its own layers (window, conv or cascade) in one file.

    An ensemble given as input adds its members one by one, so every network counts once in the average.
    """
    if len(models) < 2:
        raise typer.BadParameter("give two or more models", param_hint="MODELS")
    check_output(out, inputs=models)
    loaded = [load(m).model for m in models]
    try:
        header, params = build_ensemble(loaded, name or out.stem, sources=[m.name for m in loaded])
    except ValueError as exc:
        raise InputError(str(exc)) from None
    save_model(out, header, params)
    load(out)  # the written file loads and predicts, or this fails before anyone relies on it
    typer.echo(f"saved {out}: {len(header['members'])} members")
