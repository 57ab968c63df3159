"""sspred experiment: rerun one of the Qian & Sejnowski (1988) experiments and write a figure and a report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Optional

import typer

from sspred import experiments
from sspred.cli.common import DATA_DIR
from sspred.cli.root import app
from sspred.io.textfile import check_output_folder


@app.command()
def experiment(
    name: str = typer.Argument(..., help=f"One of {', '.join(experiments.EXPERIMENTS)}, or all."),
    data: str = typer.Option("uci", "--data", help=f"Setting: {', '.join(experiments.SETTINGS)}."),
    out_dir: Path = typer.Option(Path("docs/experiments"), "--out-dir", help="Folder for the PNG, report and run cache."),
    seed: int = typer.Option(0, "--seed", help="Seed of the subsample, the split, the weights and the shuffles."),
    chains: int = typer.Option(1500, "--chains", help="netsurfp2: chains drawn from its training set."),
    threads: int = typer.Option(0, "--threads", help="MMseqs2 threads for the netsurfp2 split (0: all cores)."),
    data_dir: Optional[str] = DATA_DIR,
) -> None:
    """Train the sweep's networks (cached in OUT_DIR/results-DATA.json) and write NAME-DATA.png and .md."""
    check_output_folder(out_dir)
    names = list(experiments.EXPERIMENTS) if name == "all" else [name]
    if any(n not in experiments.EXPERIMENTS for n in names):
        raise typer.BadParameter(f"choose from {', '.join(experiments.EXPERIMENTS)} or all", param_hint="NAME")
    if data not in experiments.SETTINGS:
        raise typer.BadParameter(f"choose from {', '.join(experiments.SETTINGS)}", param_hint="--data")
    setting = experiments.SETTINGS[data](data_dir, seed, chains=chains, threads=threads)
    typer.echo(setting.description, err=True)
    command = "sspred " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    for n in names:
        png, md = experiments.run_experiment(n, setting, out_dir, seed, command,
                                             progress=lambda msg: typer.echo(msg, err=True))
        typer.echo(f"{png}\t{md}")
