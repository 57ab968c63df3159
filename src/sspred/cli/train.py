"""sspred train: fit a network on a named set and save the model file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import numpy as np
import typer

from sspred import checkpoint as ckpt
from sspred.cli.root import app
from sspred.config import ConvConfig, ModelConfig, TrainConfig
from sspred.engines import ENGINES, learner_class
from sspred.engines.numpy.layers import ACTIVATIONS
from sspred.engines.numpy.optim import OPTIMIZERS
from sspred.engines.spec import gap
from sspred.errors import InputError
from sspred.features import WindowIndex, check_window
from sspred.io import datasets
from sspred.layout import ChainIndex
from sspred.cascade import cascade, stage2_data, stage2_layers
from sspred.model import build_header, load_model, save_model
from sspred.splits import without_leaks
from sspred.train import SCHEDULES, TrainingDiverged, fit


def parse_hidden(values: List[str]) -> list[int]:
    """--hidden is repeatable or a comma list; '0' alone means no hidden layer."""
    sizes = [int(tok) for v in values for tok in v.split(",") if tok.strip()]
    if any(s < 0 for s in sizes):
        raise typer.BadParameter("hidden sizes must be >= 0", param_hint="--hidden")
    return [s for s in sizes if s > 0]


def parse_ints(values: List[str]) -> list[int]:
    return [int(tok) for v in values for tok in v.split(",") if tok.strip()]


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
    bottleneck: int = typer.Option(ModelConfig.bottleneck, "--bottleneck", help="Linear bottleneck width after the window; 0 for none."),
    dropout: float = typer.Option(ModelConfig.dropout, "--dropout", help="Inverted-dropout rate; 0 for none."),
    dropout_at: List[str] = typer.Option([], "--dropout-at", help="Layers dropout acts on: 0 = input, i = hidden layer i (default: every hidden layer)."),
    batchnorm: bool = typer.Option(ModelConfig.batchnorm, "--batchnorm/--no-batchnorm", help="Batch norm before each hidden activation."),
    optimizer: str = typer.Option(TrainConfig.optimizer, "--optimizer", help=f"One of {', '.join(OPTIMIZERS)}."),
    lr: float = typer.Option(TrainConfig.lr, "--lr"),
    momentum: float = typer.Option(TrainConfig.momentum, "--momentum"),
    batch_size: int = typer.Option(TrainConfig.batch_size, "--batch-size"),
    epochs: int = typer.Option(TrainConfig.epochs, "--epochs"),
    patience: int = typer.Option(TrainConfig.patience, "--patience", help="0 disables early stopping."),
    seed: int = typer.Option(TrainConfig.seed, "--seed"),
    dtype: str = typer.Option(TrainConfig.dtype, "--dtype", help="float32 or float64."),
    l2: float = typer.Option(TrainConfig.l2, "--l2", help="L2 penalty eta: eta/2 * sum(W^2) added to the loss."),
    l1: float = typer.Option(TrainConfig.l1, "--l1", help="L1 penalty eta: eta * sum(|W|) added to the loss."),
    input_noise: float = typer.Option(TrainConfig.input_noise, "--input-noise", help="Std of Gaussian noise on inputs in training."),
    weight_noise: float = typer.Option(TrainConfig.weight_noise, "--weight-noise", help="Std of Gaussian noise on weights in training."),
    smoothing: float = typer.Option(TrainConfig.smoothing, "--smoothing", help="Label smoothing rho."),
    schedule: str = typer.Option(TrainConfig.schedule, "--schedule", help=f"Learning-rate schedule: {', '.join(SCHEDULES)}."),
    lr_step: int = typer.Option(TrainConfig.lr_step, "--lr-step", help="step: epochs between rate drops."),
    lr_gamma: float = typer.Option(TrainConfig.lr_gamma, "--lr-gamma", help="step/plateau: factor per drop."),
    lr_patience: int = typer.Option(TrainConfig.lr_patience, "--lr-patience", help="plateau: epochs without improvement before a drop."),
    lr_min: float = typer.Option(TrainConfig.lr_min, "--lr-min", help="cosine: rate at the last epoch."),
    engine: str = typer.Option(TrainConfig.engine, "--engine", help=f"One of {', '.join(ENGINES)}."),
    device: str = typer.Option("auto", "--device", help="torch engine: cpu, cuda or auto."),
    threads: int = typer.Option(0, "--threads", help="torch engine: CPU threads (0: torch's default, one per core)."),
    distributed: bool = typer.Option(False, "--distributed", help="torch engine under torchrun: DistributedDataParallel (gloo on CPU, NCCL on GPU)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Write the run state here after every epoch (atomically)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run saved in this checkpoint (its configuration is used)."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name written into the file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-epoch lines."),
    stage1: Optional[str] = typer.Option(None, "--stage1", help="Train a second stage over this model's probabilities "
                                         "(--window and --hidden then describe the second stage)."),
    arch: str = typer.Option("window", "--arch", help="window: a window network; conv: a conv stack over whole chains "
                             "(--channels, --first-kernel, --kernel, --dilations; --batch-size is then chains per step)."),
    channels: int = typer.Option(ConvConfig.channels, "--channels", help="conv: channels of every conv layer."),
    first_kernel: int = typer.Option(ConvConfig.first_kernel, "--first-kernel", help="conv: kernel of the one-hot conv (odd)."),
    kernel: int = typer.Option(ConvConfig.kernel, "--kernel", help="conv: kernel of each residual conv (odd)."),
    dilations: List[str] = typer.Option(["1,2,4,8"], "--dilations", help="conv: one residual conv per dilation, comma list."),
    teacher: Optional[str] = typer.Option(None, "--teacher", help="conv: distil this model (file or built-in name): "
                                          "targets mix its probabilities with the labels."),
    teacher_weight: float = typer.Option(0.5, "--teacher-weight", help="conv: the teacher's share of each target."),
    exclude_leaks: bool = typer.Option(False, "--exclude-leaks/--keep-leaks", help="Drop the netsurfp2 chains that have a "
                                       "homolog in a test set (the shipped MMseqs2 leak list, sspred.splits.known_leaks)."),
) -> None:
    """Train a window network (Qian & Sejnowski 1988 by default), a conv stack or a second stage, and save it."""
    state = None
    if resume is not None:
        state = ckpt.load(resume)
        meta = state["meta"]
        if meta.get("data") != data:
            raise InputError(f"checkpoint was made training on {meta.get('data')!r}, not {data!r}", path=str(resume))
        config_class = ConvConfig if meta["model"].get("arch") == "conv" else ModelConfig
        mcfg, tcfg = config_class.from_dict(meta["model"]), TrainConfig.from_dict(meta["train_config"])
        exclude_leaks = bool(meta.get("exclude_leaks", False))
        teacher, teacher_weight = meta.get("teacher"), float(meta.get("teacher_weight", 0.5))
        checkpoint = checkpoint or resume
    else:
        for value, choices, hint in ((activation, ACTIVATIONS, "--activation"), (optimizer, OPTIMIZERS, "--optimizer"),
                                     (states, ("3", "8"), "--states"), (schedule, SCHEDULES, "--schedule"),
                                     (engine, ENGINES, "--engine"), (dtype, ("float32", "float64"), "--dtype")):
            if value not in choices:
                raise typer.BadParameter(f"choose from {', '.join(choices)}", param_hint=hint)
        if not 0 <= dropout < 1 or not 0 <= smoothing < 1:
            raise typer.BadParameter("rates must lie in [0, 1)", param_hint="--dropout/--smoothing")
        try:
            check_window(window)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--window") from None
        if arch not in ("window", "conv"):
            raise typer.BadParameter("choose from window, conv", param_hint="--arch")
        if teacher and arch != "conv":
            raise typer.BadParameter("distillation trains conv stacks (--arch conv)", param_hint="--teacher")
        if arch == "conv":
            if stage1:
                raise typer.BadParameter("a second stage is a window network", param_hint="--arch")
            if distributed:
                raise typer.BadParameter("conv stacks train on one process", param_hint="--distributed")
            mcfg = ConvConfig(states=states, channels=channels, first_kernel=first_kernel, kernel=kernel,
                              dilations=parse_ints(dilations), dropout=dropout)
            try:
                mcfg.layers()
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--kernel/--first-kernel/--dilations") from None
        else:
            mcfg = ModelConfig(window=window, hidden=parse_hidden(hidden), activation=activation, states=states,
                               bottleneck=bottleneck, dropout=dropout, dropout_at=parse_ints(dropout_at),
                               batchnorm=batchnorm)
        tcfg = TrainConfig(optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs,
                           patience=patience, seed=seed, dtype=dtype, l2=l2, l1=l1, input_noise=input_noise,
                           weight_noise=weight_noise, smoothing=smoothing, schedule=schedule, lr_step=lr_step,
                           lr_gamma=lr_gamma, lr_patience=lr_patience, lr_min=lr_min, engine=engine)
    cls = learner_class(tcfg.engine)
    kwargs, rank = {}, 0
    if tcfg.engine == "torch":
        from sspred.engines.torch.learner import resolve_device, set_cpu_threads

        set_cpu_threads(threads)
        try:
            kwargs["device"] = resolve_device(device)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--device") from None
        if distributed:
            from sspred.engines.torch import distributed as ddp

            rank, world, kwargs["device"] = ddp.init(kwargs["device"])
            kwargs["distributed"] = True
    elif distributed or device not in ("auto", "cpu"):
        raise typer.BadParameter("--device and --distributed need --engine torch", param_hint="--engine")
    main = rank == 0
    quiet = quiet or not main

    train_chains = datasets.load(data, "train", data_dir)
    valid_chains = datasets.load(valid_data or data, "valid", data_dir) if (valid_data or data in datasets.DATASETS) else []
    if exclude_leaks:
        train_chains, valid_chains = without_leaks(train_chains), without_leaks(valid_chains)
    stage1 = state["meta"].get("stage1") if state is not None else stage1
    first = load_model(stage1) if stage1 else None
    if first is not None:
        layers = stage2_layers(mcfg.window, mcfg.hidden, mcfg.activation, len(first.states))
        train_idx = stage2_data(first, train_chains, mcfg.window, mcfg.states)
        valid_idx = stage2_data(first, valid_chains, mcfg.window, mcfg.states) if valid_chains else None
    elif isinstance(mcfg, ConvConfig):
        layers = mcfg.layers()
        teacher_probs = load_model(teacher).predict_many([c.codes for c in train_chains]) if teacher else None
        try:
            train_idx = ChainIndex(train_chains, gap(layers), mcfg.states, teacher_probs, teacher_weight)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--teacher/--teacher-weight") from None
        valid_idx = ChainIndex(valid_chains, gap(layers), mcfg.states) if valid_chains else None
    else:
        layers = mcfg.layers()
        train_idx = WindowIndex(train_chains, mcfg.window, mcfg.states)
        valid_idx = WindowIndex(valid_chains, mcfg.window, mcfg.states) if valid_chains else None
    learner = cls(layers, tcfg, np.random.default_rng(tcfg.seed), **kwargs)

    def report(stats: dict) -> None:
        if not quiet:
            v = f"  valid loss {stats['valid_loss']:.4f}  valid Q {stats['valid_q3']:.2f}" if "valid_loss" in stats else ""
            typer.echo(f"epoch {stats['epoch']:3d}  train loss {stats['train_loss']:.6f}  train Q {stats['train_q3']:.2f}{v}"
                       f"  lr {stats['lr']:.3g}  ({stats['seconds']:.1f}s)", err=True)

    if main:
        unit = "chains" if isinstance(train_idx, ChainIndex) else "residues"
        typer.echo(f"training on {len(train_idx)} {unit} of {len(train_chains)} chains with the {tcfg.engine} engine; "
                   f"validating on {len(valid_idx) if valid_idx else 0}", err=True)
    try:
        history = fit(learner, train_idx, valid_idx, tcfg, callback=report,
                      checkpoint=str(checkpoint) if checkpoint and main else None, resume=state,
                      meta={"data": data, "model": mcfg.to_dict(), "layers": layers, "stage1": stage1,
                            "exclude_leaks": exclude_leaks, "teacher": teacher, "teacher_weight": teacher_weight})
    except TrainingDiverged as exc:
        from sspred.cli.root import fail

        fail(f"{exc}; no model written")
    if distributed:
        spread = ddp.replica_spread(learner.net)
        learner.model = learner.net  # drop the DDP wrapper before its process group goes
        ddp.shutdown()
        if main:
            typer.echo(f"replicas: {world} ranks, largest parameter difference between ranks {spread:.3g}", err=True)
    if not main:
        _leave_distributed()
    info = {"data": data, "config": tcfg.to_dict(), "engine": learner.engine, "history": history.to_dict(),
            "chains": len(train_chains), "valid_chains": len(valid_chains),
            "leak_filter": "sspred.splits.known_leaks()" if exclude_leaks else None,
            "teacher": {"model": teacher, "weight": teacher_weight} if teacher else None}
    if first is not None:
        header, params = cascade(first, mcfg.window, layers, learner.get_params(), name or out.stem,
                                 stage2_train=info)
    else:
        header, params = build_header(mcfg, name or out.stem, train=info), learner.get_params()
    save_model(out, header, params)
    best = history.epochs[history.best_epoch - 1] if history.best_epoch else {}
    score = f": valid Q {best['valid_q3']:.2f}" if "valid_q3" in best else ""
    typer.echo(f"saved {out} (best epoch {history.best_epoch}{score})")
    if distributed:
        _leave_distributed()


def _leave_distributed() -> None:
    """End a torchrun rank whose work is done and whose process group is destroyed, skipping C++ static
    destructors: gloo's left a joinable thread behind now and then, and the rank died at exit with
    "terminate called without an active exception" (SIGABRT) after a run that had succeeded."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
