"""Training: ``train`` (a whole run from a TrainConfig and data to a Model) and the fit loop under it
(epochs, a validation pass each epoch, early stopping that keeps the best weights).

The loop is engine-agnostic: it trains any ``sspred.engines.learner.Learner``
(``step``, ``predict_proba``, parameters and optimizer state for checkpoints,
``set_lr`` for schedules, ``begin_epoch`` to reseed its training noise). A
whole run (``train``) also asks the learner class where it runs (``place``:
the torch engine's device and process group) and closes the learner at the
end (``close``). Progress is reported through a callback; nothing here prints.

A whole run is the stages of ``sspred.stages`` in a row (the data sets, the chains' features, the examples'
layout, the learner, this module's ``fit``, the model), each handing the next plain data.

Crash safety: with a checkpoint path, the whole run state is written
atomically after every epoch. Each epoch's shuffle and training noise are
functions of (seed, epoch) alone, so a run resumed from a checkpoint ends
with exactly the weights of an uninterrupted one.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import numpy as np

from sspred import checkpoint as ckpt
from sspred.config import TrainConfig
from sspred.engines.learner import Learner
from sspred.errors import TrainingDiverged as TrainingDiverged  # re-exported: sspred.training
from sspred.heads import hard
from sspred.io.find import Data
from sspred.layout import ChainIndex
from sspred.model import Model
from sspred.schedules import SCHEDULES, observe_plateau
from sspred.stages import (
    DEFAULT_NAME as DEFAULT_NAME,  # re-exported, as are the names below: sspred.training's before the stages
    History as History,
    build_examples,
    build_learner,
    build_model,
    check_resume,
    compute_features,
    learner_settings as learner_settings,
    place_learner,
    read_data,
    release_learner,
    training_chains as training_chains,
)

#: Windows per forward pass when scoring a whole split (memory, not accuracy).
EVAL_BATCH = 8192

#: Training or validation examples: a WindowIndex, DenseWindowIndex or ChainIndex. Any, because DenseWindowIndex
#: borrows WindowIndex's methods, which a type checker cannot match against it. A learner (NumpyLearner,
#: TorchLearner) is Any for now too: the engines share no declared protocol yet.
ExampleIndex = Any


#: Names of an epoch's accuracies before 0.2, when they were Q3 even where a model has 8 states: old name -> new.
OLD_STATS = {"train_q3": "train_accuracy", "valid_q3": "valid_accuracy"}


class EpochStats(dict):
    """One epoch's stats, as a plain dict (it is saved as JSON): epoch, train_loss, train_accuracy (the states
    head's Q3, or Q8 for an 8-state model, in %), valid_loss, valid_accuracy, lr, seconds. The old keys
    ``train_q3`` and ``valid_q3`` still read, with a DeprecationWarning, for one release.

    >>> import warnings
    >>> stats = EpochStats(epoch=1, train_accuracy=70.0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     old = stats["train_q3"]
    >>> old, caught[0].category.__name__, sorted(stats)
    (70.0, 'DeprecationWarning', ['epoch', 'train_accuracy'])
    """

    @staticmethod
    def _key(key: str) -> str:
        if key in OLD_STATS:
            warnings.warn(f"epoch stats {key!r} is deprecated; use {OLD_STATS[key]!r} (Q3, or Q8 for an 8-state "
                          f"model)", DeprecationWarning, stacklevel=3)
            return OLD_STATS[key]
        return key

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return super().__contains__(self._key(key))

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(self._key(key), default)


def epoch_accuracy(stats: Mapping, split: str = "valid") -> float | None:
    """An epoch's ``split`` ("train" or "valid") accuracy in %, from stats of any version: a model file's
    history written before 0.2 names it ``{split}_q3``. None where the epoch has none (no validation set).

    >>> epoch_accuracy({"valid_accuracy": 71.5}), epoch_accuracy({"valid_q3": 70.0}), epoch_accuracy({})
    (71.5, 70.0, None)
    """
    plain = dict(stats)  # an EpochStats would warn on looking up the old key
    value = plain.get(f"{split}_accuracy", plain.get(f"{split}_q3"))
    return None if value is None else float(value)


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffle of epoch ``epoch``: a function of (seed, epoch) alone, so a resumed run sees the same order."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def evaluate_split(learner: Learner, data: ExampleIndex) -> tuple[float, float, np.ndarray]:
    """Mean cross-entropy, accuracy (%: Q3, or Q8 for 8 states) and probabilities over every scored residue of ``data``
    (a WindowIndex, DenseWindowIndex or chains.ChainIndex)."""
    parts = [(learner.predict_proba(inputs), y) for inputs, y in data.eval_batches(EVAL_BATCH)]
    if not parts:
        return math.nan, math.nan, np.zeros((0, 3))
    probs = np.concatenate([p for p, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    p_true = probs[np.arange(labels.size), labels]
    loss = float(-np.log(np.maximum(p_true, 1e-12)).mean())
    acc = float((probs.argmax(axis=1) == labels).mean() * 100)
    return loss, acc, probs


def first_head_classes(y: np.ndarray | Mapping[str, np.ndarray]) -> np.ndarray:
    """(n,) classes a batch's training accuracy counts against, -1 where none: the targets as they are, a
    teacher's distributions by their top class, and of a multi-task batch (a dict) its first head's."""
    if isinstance(y, Mapping):
        y = next(iter(y.values()))
    return hard(y)


def fresh_state(cfg: TrainConfig) -> dict:
    """The run state before epoch 1 (what a checkpoint's metadata carries, besides the arrays)."""
    return {"epoch": 0, "best_loss": math.inf, "bad_epochs": 0, "history": History().to_dict(),
            "schedule": {"lr": cfg.lr, "best": math.inf, "bad": 0}}


def fit(learner: Learner, train: ExampleIndex, valid: ExampleIndex | None, cfg: TrainConfig,
        callback: Callable[[dict], None] | None = None,
        batch_callback: Callable[[int, int], None] | None = None,
        checkpoint: str | None = None, resume: dict | None = None, meta: dict | None = None) -> History:
    """Train ``learner`` on ``train`` (a WindowIndex, DenseWindowIndex or chains.ChainIndex: examples
    are windows, or whole chains for conv networks); with a validation set and patience > 0, stop early and restore the best weights.

    ``checkpoint``: path written atomically after every epoch (``meta`` is stored in it too).
    ``resume``: a loaded checkpoint (``sspred.checkpoint.load``) to continue from.
    A NaN or infinite loss raises TrainingDiverged naming the epoch and batch; the
    checkpoint then still holds the last completed epoch.
    """
    if resume is not None:
        state = {k: resume["meta"][k] for k in fresh_state(cfg)}
        learner.set_params(resume["params"])
        learner.set_optimizer_state(resume["optimizer"])
        best_params = resume["best"]
    else:
        state, best_params = fresh_state(cfg), None
    history = History.from_dict(state["history"])
    n_batches = math.ceil(len(train) / cfg.batch_size)
    began = time.perf_counter()
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        if history.stopped_early:
            break
        start = time.perf_counter()
        lr = SCHEDULES[cfg.schedule](cfg, epoch, state["schedule"])
        learner.set_lr(lr)
        learner.begin_epoch([cfg.seed, epoch])
        order = epoch_order(len(train), cfg.seed, epoch)
        total_loss, correct, seen = 0.0, 0, 0
        for b in range(n_batches):
            rows = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            inputs, y = train.examples(rows)
            loss, pred = learner.step(inputs, y)
            if not math.isfinite(loss):
                kept = f"; {checkpoint} keeps epoch {state['epoch']}" if checkpoint and state["epoch"] else ""
                raise TrainingDiverged(f"loss became {loss} at epoch {epoch}, batch {b + 1}{kept}")
            truth = first_head_classes(y)
            total_loss += loss * truth.size
            scored = truth >= 0
            correct += int((pred[scored] == truth[scored]).sum())
            seen += int(scored.sum())
            if batch_callback is not None:
                batch_callback(b + 1, n_batches)
        stats = EpochStats(epoch=epoch, train_loss=total_loss / max(seen, 1),
                           train_accuracy=100.0 * correct / max(seen, 1), lr=lr)
        if valid is not None and len(valid):
            stats["valid_loss"], stats["valid_accuracy"], _ = evaluate_split(learner, valid)
        stats["seconds"] = time.perf_counter() - start
        history.epochs.append(stats)
        if callback is not None:
            callback(stats)
        monitored = stats.get("valid_loss", stats["train_loss"])
        if monitored < state["best_loss"]:
            state["best_loss"], best_params, state["bad_epochs"] = monitored, learner.get_params(), 0
            history.best_epoch = epoch
        else:
            state["bad_epochs"] += 1
            if cfg.patience and valid is not None and state["bad_epochs"] >= cfg.patience:
                history.stopped_early = True
        if cfg.max_seconds and time.perf_counter() - began > cfg.max_seconds:
            history.stopped_early = True
        observe_plateau(cfg, state["schedule"], monitored)
        state["epoch"], state["history"] = epoch, history.to_dict()
        if checkpoint:
            ckpt.save(checkpoint, {**(meta or {}), **state, "train_config": cfg.to_dict()},
                      learner.get_params(), best_params, learner.get_optimizer_state())
    if best_params is not None and (cfg.patience or cfg.max_seconds) and valid is not None:
        learner.set_params(best_params)
    return history


# --- a whole run: config and data in, a Model out ------------------------------------------------------

#: The torchrun rank that reports progress and writes checkpoints (the CLI: and the model file).
MAIN_RANK = 0


@dataclass
class TrainingRun:
    """A run ready to fit: its learner, training and validation examples, and where it stands.

    ``prepare_run`` builds one and ``TrainingRun.fit`` trains it; ``train`` is the two in a row. The
    command line takes them one at a time to report what it is about to do before the first epoch.
    """

    config: TrainConfig
    learner: Learner
    train_index: Any  # WindowIndex, DenseWindowIndex (a second stage) or ChainIndex
    valid_index: Any | None
    #: Chains read for training and validation, after the leak filter.
    n_train_chains: int
    n_valid_chains: int
    data: str
    layers: list[dict]
    first: Model | None = None
    resume: dict | None = None
    resume_path: str | None = None
    rank: int = MAIN_RANK
    world: int = 1
    #: After ``fit``: the epochs' stats and the best epoch.
    history: History | None = None
    #: After a distributed fit: the largest difference of any parameter between ranks.
    replica_spread: float | None = None

    @property
    def main(self) -> bool:
        """True on the process that reports and writes (always, outside torchrun)."""
        return self.rank == MAIN_RANK

    def describe(self) -> str:
        """One line on what is about to train."""
        unit = "chains" if isinstance(self.train_index, ChainIndex) else "residues"
        return (f"training on {len(self.train_index)} {unit} of {self.n_train_chains} chains with the "
                f"{self.config.engine} engine; validating on {len(self.valid_index) if self.valid_index else 0}")

    def fit(self, callbacks: Iterable[Callable[[dict], None]] = (), checkpoint: str | os.PathLike | None = None
            ) -> Model:
        """Train to the end (or to early stopping) and return the model; see ``train``."""
        cfg, callbacks = self.config, list(callbacks)

        def report(stats: dict) -> None:
            if self.main:
                for callback in callbacks:
                    callback(stats)

        checkpoint = checkpoint or self.resume_path
        self.history = history = fit(
            self.learner, self.train_index, self.valid_index, cfg, callback=report,
            checkpoint=str(checkpoint) if checkpoint and self.main else None, resume=self.resume,
            meta={"data": self.data, "layers": self.layers})
        params, self.replica_spread = release_learner(self.learner, cfg.distributed)
        return build_model(cfg, params, history, data=self.data, n_train=self.n_train_chains,
                           n_valid=self.n_valid_chains, engine=self.learner.engine, layers=self.layers,
                           stage1=self.first)


def prepare_run(config: TrainConfig, data: Data, valid: Data | None = None, *,
                data_dir: str | os.PathLike | None = None, resume: str | os.PathLike | None = None) -> TrainingRun:
    """Everything ``train`` does before the first epoch, as the stages of ``sspred.stages``: read the data and
    filter leaks, compute the chains' features (a first stage's or a teacher's probabilities, UniRep states),
    lay out the examples (windows or whole chains) and build the learner."""
    state = check_resume(config, data, resume) if resume is not None else None
    placement = place_learner(config)  # before the data: fail fast
    sets = read_data(config, data, valid, data_dir)
    features = compute_features(config, sets, placement.device)
    examples = build_examples(config, sets, features)
    learner = build_learner(config, examples.layers, placement)
    return TrainingRun(config, learner, examples.train, examples.valid, len(sets.train), len(sets.valid),
                       sets.label, examples.layers, features.stage1, state,
                       str(resume) if resume is not None else None, learner.rank, learner.world)  # torchrun's


def train(config: TrainConfig, data: Data, valid: Data | None = None, *, data_dir: str | os.PathLike | None = None,
          callbacks: Iterable[Callable[[dict], None]] = (), checkpoint: str | os.PathLike | None = None,
          resume: str | os.PathLike | None = None) -> Model:
    """Train the network ``config`` describes and return it as a Model (``Model.save`` writes the file).

    Nothing prints: progress reaches the caller through ``callbacks``.

    Parameters
    ----------
    config : TrainConfig
        The model to build and how to train it.
    data : Data
        A set name (qs1988, netsurfp2, cb513, ts115, dssp8; its "train" split), a labelled file, several of
        these (a multi-task pool), or a list of Chains.
    valid : Data, optional
        The same kinds (a set's "valid" split); None: the named set's "valid" split, or no validation for a
        file or chains.
    data_dir : str or os.PathLike, optional
        Where the sets live; defaults to $SSPRED_DATA, then a ``shared/data`` folder above.
    callbacks : iterable of callable, default ()
        Each is called with every epoch's stats (``EpochStats``: epoch, train_loss, train_accuracy, valid_loss,
        valid_accuracy, lr, seconds; an accuracy is Q3, or Q8 for an 8-state model), on rank 0 only under
        torchrun.
    checkpoint : str or os.PathLike, optional
        Where the run state is written, atomically, after every epoch.
    resume : str or os.PathLike, optional
        Continue the run saved in that checkpoint (and keep writing it unless ``checkpoint`` names another).
        ``config`` must be the checkpoint's; ``TrainConfig.RUNTIME_FIELDS`` (where and under what name it runs)
        may differ.

    Returns
    -------
    Model
        The trained model; its header records the config, the data and the history of every epoch.

    Raises
    ------
    sspred.InputError
        For data that cannot be found or read, or a checkpoint made on other data.
    sspred.ConfigError
        For settings the chosen engine or data cannot take, or a ``config`` that differs from the checkpoint's
        being resumed (naming the field and both values).
    sspred.DeviceError
        For a device this machine cannot give (``cuda`` without a GPU).
    sspred.MissingExtra
        For the torch engine without torch installed.
    sspred.TrainingDiverged
        When the loss becomes NaN or infinite.

    Examples
    --------
    >>> from sspred.config import ModelConfig
    >>> from sspred.io.datasets import make_chain
    >>> chains = [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQ", "CCHHHHHHHHHCCEEEEECCCC", eight=False)
    ...           for i in range(4)]
    >>> seen = []
    >>> model = train(TrainConfig(model=ModelConfig(window=5, hidden=[4]), epochs=2), chains, callbacks=[seen.append])
    >>> [stats["epoch"] for stats in seen], len(model.header["train"]["history"]["epochs"])
    ([1, 2], 2)
    >>> [p.shape for p in model.predict_proba([chains[0].sequence])]
    [(22, 3)]
    """
    return prepare_run(config, data, valid, data_dir=data_dir, resume=resume).fit(callbacks, checkpoint)
