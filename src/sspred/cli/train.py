"""sspred train: fit a network on a named set and save the model file."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np
import typer

from sspred.cli import app
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.layers import ACTIVATIONS
from sspred.engines.numpy.optim import OPTIMIZERS
from sspred.features import WindowIndex, check_window
from sspred.io import datasets
from sspred.cascade import cascade, stage2_data, stage2_layers
from sspred.model import build_header, load_model, save_model
from sspred.train import TrainingDiverged, fit


def parse_hidden(values: List[str]) -> list[int]:
    """--hidden is repeatable or a comma list; '0' alone means no hidden layer."""
    sizes = [int(tok) for v in values for tok in v.split(",") if tok.strip()]
    if any(s < 0 for s in sizes):
        raise typer.BadParameter("hidden sizes must be >= 0", param_hint="--hidden")
    return [s for s in sizes if s > 0]


@app.command()
def train(
    data: str = typer.Option(..., "--data", help=f"Data set ({', '.join(datasets.DATASETS)}) or a labelled file."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write."),
    data_dir: Optional[str] = typer.Option(None, "--data-dir", help=f"Data directory (default ${datasets.DATA_ENV}, then ../shared/data)."),
    valid_data: Optional[str] = typer.Option(None, "--valid-data", help="Validation set or file (default: the set's valid split)."),
    window: int = typer.Option(ModelConfig.window, "--window", help="Residues per window (odd)."),
    hidden: List[str] = typer.Option(["40"], "--hidden", help="Hidden sizes, repeatable or comma list; 0 for none."),
    activation: str = typer.Option(ModelConfig.activation, "--activation", help=f"One of {', '.join(ACTIVATIONS)}."),
    states: str = typer.Option(ModelConfig.states, "--states", help="3 or 8."),
    optimizer: str = typer.Option(TrainConfig.optimizer, "--optimizer", help=f"One of {', '.join(OPTIMIZERS)}."),
    lr: float = typer.Option(TrainConfig.lr, "--lr"),
    momentum: float = typer.Option(TrainConfig.momentum, "--momentum"),
    batch_size: int = typer.Option(TrainConfig.batch_size, "--batch-size"),
    epochs: int = typer.Option(TrainConfig.epochs, "--epochs"),
    patience: int = typer.Option(TrainConfig.patience, "--patience", help="0 disables early stopping."),
    seed: int = typer.Option(TrainConfig.seed, "--seed"),
    dtype: str = typer.Option(TrainConfig.dtype, "--dtype", help="float32 or float64."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name written into the file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-epoch lines."),
    stage1: Optional[str] = typer.Option(None, "--stage1", help="Train a second stage over this model's probabilities "
                                         "(--window and --hidden then describe the second stage)."),
) -> None:
    """Train a window network (Qian & Sejnowski 1988 by default) and save it."""
    if activation not in ACTIVATIONS:
        raise typer.BadParameter(f"choose from {', '.join(ACTIVATIONS)}", param_hint="--activation")
    if optimizer not in OPTIMIZERS:
        raise typer.BadParameter(f"choose from {', '.join(OPTIMIZERS)}", param_hint="--optimizer")
    if states not in ("3", "8"):
        raise typer.BadParameter("3 or 8", param_hint="--states")
    try:
        check_window(window)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--window") from None
    mcfg = ModelConfig(window=window, hidden=parse_hidden(hidden), activation=activation, states=states)
    tcfg = TrainConfig(optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs,
                       patience=patience, seed=seed, dtype=dtype)
    train_chains = datasets.load(data, "train", data_dir)
    valid_chains = datasets.load(valid_data or data, "valid", data_dir) if (valid_data or data in datasets.DATASETS) else []
    first = load_model(stage1) if stage1 else None
    if first is not None:
        layers = stage2_layers(window, mcfg.hidden, activation, len(first.states))
        train_idx = stage2_data(first, train_chains, window, states)
        valid_idx = stage2_data(first, valid_chains, window, states) if valid_chains else None
    else:
        layers = mcfg.layers()
        train_idx = WindowIndex(train_chains, window, states)
        valid_idx = WindowIndex(valid_chains, window, states) if valid_chains else None
    from sspred.engines.numpy.learner import NumpyLearner

    learner = NumpyLearner(layers, tcfg, np.random.default_rng(seed))

    def report(stats: dict) -> None:
        if not quiet:
            v = f"  valid loss {stats['valid_loss']:.4f}  valid Q {stats['valid_q3']:.2f}" if "valid_loss" in stats else ""
            typer.echo(f"epoch {stats['epoch']:3d}  train loss {stats['train_loss']:.4f}  train Q {stats['train_q3']:.2f}{v}"
                       f"  ({stats['seconds']:.1f}s)", err=True)

    typer.echo(f"training on {len(train_idx)} residues of {len(train_chains)} chains; "
               f"validating on {len(valid_idx) if valid_idx else 0}", err=True)
    try:
        history = fit(learner, train_idx, valid_idx, tcfg, callback=report)
    except TrainingDiverged as exc:
        typer.echo(f"sspred: error: {exc}; no model written", err=True)
        raise typer.Exit(2)
    info = {"data": data, "config": tcfg.to_dict(), "engine": learner.engine, "history": history.to_dict()}
    if first is not None:
        header, params = cascade(first, window, layers, learner.get_params(), name or out.stem,
                                 stage2_train=info)
    else:
        header, params = build_header(mcfg, name or out.stem, train=info), learner.get_params()
    save_model(out, header, params)
    best = history.epochs[history.best_epoch - 1]
    typer.echo(f"saved {out} (best epoch {history.best_epoch}: valid Q {best.get('valid_q3', float('nan')):.2f})")
