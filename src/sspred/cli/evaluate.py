"""sspred evaluate: score a model on a named set's split."""

from __future__ import annotations

from typing import Optional

import typer

from sspred.alphabet import STATES3
from sspred.cli import app
from sspred.evaluation import evaluate_model
from sspred.io import datasets
from sspred.model import load_model


@app.command()
def evaluate(
    data: str = typer.Option(..., "--data", help=f"Data set ({', '.join(datasets.DATASETS)}) or a labelled file."),
    model: Optional[str] = typer.Option(None, "-m", "--model", help="Built-in model name or model file."),
    split: str = typer.Option("test", "--split", help="test, valid or train."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help=f"Data directory (default ${datasets.DATA_ENV}, then ../shared/data)."),
) -> None:
    """Print Q3, per-class Matthews correlation and the confusion matrix. The last line is 'Q3 <percent>'."""
    m = load_model(model)
    chains = datasets.load(data, split, data_dir)
    r = evaluate_model(m, chains)
    typer.echo(f"model {r['model']}  data {data}/{split}  chains {r['chains']}  scored residues {r['residues']}")
    typer.echo("class  precision  recall   MCC")
    for s in STATES3:
        typer.echo(f"  {s}    {r['per_class']['precision'][s]:8.3f}  {r['per_class']['recall'][s]:6.3f}  {r['per_class']['mcc'][s]:6.3f}")
    typer.echo("confusion (rows true, columns predicted): " + "  ".join(STATES3))
    for s, row in zip(STATES3, r["confusion"]):
        typer.echo(f"  {s} " + " ".join(f"{v:8d}" for v in row))
    if "q8" in r:
        typer.echo(f"Q8 {r['q8']:.2f}")
    typer.echo(f"Q3 {r['q3']:.2f}")
