"""sspred train: map the flags onto a TrainConfig, run ``sspred.train``, save the model file."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from sspred import checkpoint as ckpt
from sspred.cli.common import DATA_DIR, warn
from sspred.cli.root import app
from sspred.config import DEFAULT_ARCH, ConfigError, ConvConfig, ModelConfig, TrainConfig, model_config
from sspred.io import datasets
from sspred.io.textfile import check_output
from sspred.model import Model
from sspred.names import ACTIVATIONS, ENGINES, OPTIMIZERS, SCHEDULES
from sspred.training import TrainingDiverged, epoch_accuracy, prepare_run

#: Flags whose name is not the config field's with '-' for '_'.
FLAG_OF_FIELD = {"model": "--arch", "head_weights": "--head-weight"}


def flag(field: str) -> str:
    return FLAG_OF_FIELD.get(field, "--" + field.replace("_", "-"))


def default(cls, name: str):
    """The default of config field ``name`` (its default factory's value for a list): each flag's default is the
    field's, from its one home."""
    f = cls.__dataclass_fields__[name]
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def comma_list(values: list) -> list[str]:
    """A list field's default as the comma list the flag reads."""
    return [",".join(map(str, values))]


def parse_hidden(values: List[str]) -> list[int]:
    """--hidden is repeatable or a comma list; '0' alone means no hidden layer."""
    sizes = [int(tok) for v in values for tok in v.split(",") if tok.strip()]
    if any(s < 0 for s in sizes):
        raise typer.BadParameter("hidden sizes must be >= 0", param_hint="--hidden")
    return [s for s in sizes if s > 0]


def parse_ints(values: List[str]) -> list[int]:
    return [int(tok) for v in values for tok in v.split(",") if tok.strip()]


def parse_names(values: List[str]) -> list[str]:
    """--heads is repeatable or a comma list."""
    return [tok.strip() for v in values for tok in v.split(",") if tok.strip()]


def parse_head_weights(values: List[str]) -> dict[str, float]:
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


@app.command()
def train(
    data: List[str] = typer.Option(..., "--data", help=f"Data set ({', '.join(datasets.DATASETS)}) or a labelled file; "
                                   "repeatable: several sets train one multi-task model on their union, each head "
                                   "where its labels exist (validation: the first set's valid split)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write; checked before training starts."),
    data_dir: Optional[str] = DATA_DIR,
    valid_data: Optional[str] = typer.Option(None, "--valid-data", help="Validation set or file (default: the set's valid split)."),
    window: int = typer.Option(ModelConfig.window, "--window", help="Residues per window (odd)."),
    hidden: List[str] = typer.Option(comma_list(default(ModelConfig, "hidden")), "--hidden", help="Hidden sizes, repeatable or comma list; 0 for none."),
    activation: str = typer.Option(ModelConfig.activation, "--activation", help=f"One of {', '.join(ACTIVATIONS)}."),
    n_states: int = typer.Option(ModelConfig.n_states, "--n-states", "--states", help="3 or 8 (--states: the old name, deprecated)."),
    bottleneck: int = typer.Option(ModelConfig.bottleneck, "--bottleneck", help="Linear bottleneck width after the window; 0 for none."),
    dropout: float = typer.Option(ModelConfig.dropout, "--dropout", help="Inverted-dropout rate; 0 for none."),
    dropout_at: List[str] = typer.Option([], "--dropout-at", help="Layers dropout acts on: 0 = input, i = hidden layer i (default: every hidden layer)."),
    batchnorm: bool = typer.Option(ModelConfig.batchnorm, "--batchnorm/--no-batchnorm", help="Batch norm before each hidden activation."),
    optimizer: str = typer.Option(TrainConfig.optimizer, "--optimizer", help=f"One of {', '.join(OPTIMIZERS)}."),
    lr: float = typer.Option(TrainConfig.lr, "--lr", help="Learning rate (the schedule's starting rate)."),
    momentum: float = typer.Option(TrainConfig.momentum, "--momentum", help="SGD momentum (ignored by adam); 0 for none."),
    batch_size: int = typer.Option(TrainConfig.batch_size, "--batch-size", help="Windows per gradient step (conv: chains per step)."),
    epochs: int = typer.Option(TrainConfig.epochs, "--epochs", help="Most passes over the training set (early stopping may end sooner)."),
    patience: int = typer.Option(TrainConfig.patience, "--patience", help="0 disables early stopping."),
    seed: int = typer.Option(TrainConfig.seed, "--seed", help="Seed of the initial weights, the shuffling, dropout and noise: "
                             "the same seed and data give the same model."),
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
    engine: str = typer.Option(TrainConfig.engine, "--engine", help=f"One of {', '.join(ENGINES)} "
                               '(torch needs pip install "sspred[torch]").'),
    device: str = typer.Option(TrainConfig.device, "--device", help="torch engine: cpu, cuda or auto."),
    threads: int = typer.Option(TrainConfig.threads, "--threads", help="torch engine: CPU threads (0: torch's default, one per core)."),
    distributed: bool = typer.Option(TrainConfig.distributed, "--distributed", help="torch engine under torchrun: DistributedDataParallel (gloo on CPU, NCCL on GPU)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Write the run state here after every epoch (atomically)."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run saved in this checkpoint (its configuration is used)."),
    name: Optional[str] = typer.Option(None, "--name", help="Model name written into the file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-epoch lines."),
    stage1: Optional[str] = typer.Option(None, "--stage1", help="Train a second stage over this model's probabilities "
                                         "(--window and --hidden then describe the second stage)."),
    arch: str = typer.Option(DEFAULT_ARCH, "--arch", help="window: a window network; conv: a conv stack over whole chains "
                             "(--channels, --first-kernel, --kernel, --dilations; --batch-size is then chains per step)."),
    channels: int = typer.Option(ConvConfig.channels, "--channels", help="conv: channels of every conv layer."),
    first_kernel: int = typer.Option(ConvConfig.first_kernel, "--first-kernel", help="conv: kernel of the one-hot conv (odd)."),
    kernel: int = typer.Option(ConvConfig.kernel, "--kernel", help="conv: kernel of each residual conv (odd)."),
    dilations: List[str] = typer.Option(comma_list(default(ConvConfig, "dilations")), "--dilations", help="conv: one residual conv per dilation, comma list."),
    heads: List[str] = typer.Option([], "--heads", help="conv: extra output heads besides --states, comma list or "
                                    "repeatable: ss8 (ss3 for --states 8), disorder, conservation."),
    head_weight: List[str] = typer.Option([], "--head-weight", help="conv: loss weight of a head, NAME=W, repeatable "
                                          "(1 for a head not named)."),
    attention: int = typer.Option(ConvConfig.attention, "--attention", help="conv: whole-chain attention blocks "
                                  "after the convs (ALiBi positions); 0 for none."),
    attention_heads: int = typer.Option(ConvConfig.attention_heads, "--attention-heads", help="conv: heads per attention block."),
    attention_dim: int = typer.Option(ConvConfig.attention_dim, "--attention-dim", help="conv: dimension of each attention head."),
    unirep: int = typer.Option(ConvConfig.unirep, "--unirep", help="conv: UniRep states beside one-hot, from the 64-, 256- "
                               "or 1900-unit model (the unirep extra); 0 for none."),
    unirep_cells: str = typer.Option(ConvConfig.unirep_cells, "--unirep-cells", help="conv: last (the last mLSTM cell's "
                                     "states) or all (every cell's)."),
    unirep_reverse: bool = typer.Option(ConvConfig.unirep_reverse, "--unirep-reverse/--unirep-forward",
                                        help="conv: add a pass over the reversed chain."),
    unirep_project: int = typer.Option(ConvConfig.unirep_project, "--unirep-project", help="conv: a learned projection "
                                       "of the input channels to this many before the first conv; 0 for none."),
    teacher: Optional[str] = typer.Option(None, "--teacher", help="conv: distil this model (file or built-in name): "
                                          "targets mix its probabilities with the labels."),
    teacher_weight: float = typer.Option(TrainConfig.teacher_weight, "--teacher-weight", help="conv: the teacher's share of each target."),
    exclude_leaks: bool = typer.Option(TrainConfig.exclude_leaks, "--exclude-leaks/--keep-leaks", help="Drop the training chains that have a homolog "
                                       "in a test set: the shipped MMseqs2 leak list of the named set (netsurfp2, conservation, dssp8), "
                                       "or all of them for a file (sspred.splits.known_leaks)."),
) -> None:
    """Train a window network (Qian & Sejnowski 1988 by default), a conv stack or a second stage, and save it.

    Extras: --engine torch needs pip install "sspred[torch]"; --unirep needs pip install "sspred[unirep]".
    """
    # A model that cannot be saved is known now, not after the last epoch.
    check_output(out, inputs=[*data, *([valid_data] if valid_data else []), *([resume] if resume else [])])
    if checkpoint is not None and checkpoint != resume:
        check_output(checkpoint, inputs=data)
    try:
        if resume is not None:
            # The checkpoint's configuration is the run's; only the runtime fields come from the flags.
            config = dataclasses.replace(ckpt.run_config(ckpt.load(resume)["meta"]), device=device,
                                         distributed=distributed, threads=threads, name=name or out.stem)
            checkpoint = checkpoint or resume
        else:
            model = model_config(
                arch, window=window, hidden=parse_hidden(hidden), activation=activation, n_states=n_states,
                bottleneck=bottleneck, dropout=dropout, dropout_at=parse_ints(dropout_at), batchnorm=batchnorm,
                channels=channels, first_kernel=first_kernel, kernel=kernel, dilations=parse_ints(dilations),
                heads=parse_names(heads), head_weights=parse_head_weights(head_weight), attention=attention,
                attention_heads=attention_heads, attention_dim=attention_dim, unirep=unirep, unirep_cells=unirep_cells,
                unirep_reverse=unirep_reverse, unirep_project=unirep_project)
            config = TrainConfig(
                model=model, optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size, epochs=epochs,
                patience=patience, seed=seed, dtype=dtype, l2=l2, l1=l1, input_noise=input_noise,
                weight_noise=weight_noise, smoothing=smoothing, schedule=schedule, lr_step=lr_step, lr_gamma=lr_gamma,
                lr_patience=lr_patience, lr_min=lr_min, engine=engine, stage1=stage1, teacher=teacher,
                teacher_weight=teacher_weight, exclude_leaks=exclude_leaks, device=device, distributed=distributed,
                threads=threads, name=name or out.stem)
        run = prepare_run(config, data_arg(data), valid_data, data_dir=data_dir, resume=resume)
    except ConfigError as exc:
        raise typer.BadParameter(exc.reason, param_hint=flag(exc.field)) from None

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
        from sspred.cli.root import fail

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


def _leave_distributed() -> None:
    """End a torchrun rank whose work is done and whose process group is destroyed, skipping C++ static
    destructors: gloo's left a joinable thread behind now and then, and the rank died at exit with
    "terminate called without an active exception" (SIGABRT) after a run that had succeeded (commit afc6b6b;
    tests/ddp_support.py ends its ranks the same way). Only the command ends the process: the library's
    ``learner.close()`` leaves the group and returns."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
