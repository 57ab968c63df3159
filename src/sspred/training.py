"""Training: ``train`` (a whole run from a TrainConfig and data to a Model) and the fit loop under it
(epochs, a validation pass each epoch, early stopping that keeps the best weights).

The loop is engine-agnostic: it trains any ``sspred.engines.learner.Learner``
(``step``, ``predict_proba``, parameters and optimizer state for checkpoints,
``set_lr`` for schedules, ``begin_epoch`` to reseed its training noise). A
whole run (``train``) also asks the learner class where it runs (``place``:
the torch engine's device and process group) and closes the learner at the
end (``close``). Progress is reported through a callback; nothing here prints.

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
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import numpy as np

from sspred import checkpoint as ckpt
from sspred import modelfile
from sspred.cascade import cascade, stage2_data, stage2_layers
from sspred.config import ConfigError, ConvConfig, ModelConfig, TrainConfig
from sspred.engines import learner_class
from sspred.engines.learner import Learner
from sspred.engines.settings import LearnerSettings
from sspred.engines.spec import gap
from sspred.errors import InputError, TrainingDiverged as TrainingDiverged  # re-exported: sspred.training
from sspred.features import DenseWindowIndex, WindowIndex
from sspred.heads import hard
from sspred.io import datasets
from sspred.io.datasets import Chain
from sspred.io.find import Data, data_label, data_names, data_parts
from sspred.layout import ChainIndex
from sspred.model import Model, Session, build_header, feature_entry, load_model
from sspred.schedules import SCHEDULES, observe_plateau
from sspred.splits import LEAK_LISTS, without_leaks

#: Windows per forward pass when scoring a whole split (memory, not accuracy).
EVAL_BATCH = 8192
#: Chains a teacher predicts at a time for distillation (memory, not accuracy).
TEACHER_CHAINS = 512

#: Training or validation examples: a WindowIndex, DenseWindowIndex or ChainIndex. Any, because DenseWindowIndex
#: borrows WindowIndex's methods, which a type checker cannot match against it. A learner (NumpyLearner,
#: TorchLearner) is Any for now too: the engines share no declared protocol yet.
ExampleIndex = Any


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "best_epoch": self.best_epoch, "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(list(d["epochs"]), int(d["best_epoch"]), bool(d["stopped_early"]))


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


def learner_settings(cfg: TrainConfig) -> LearnerSettings:
    """What a learner of either engine needs of ``cfg``: the model's heads and the optimisation settings.

    >>> s = learner_settings(TrainConfig(lr=0.01))
    >>> s.heads.names, s.lr, s.optimizer
    (('ss3',), 0.01, 'adam')
    """
    # A window network (ModelConfig) has one head and so no head weights.
    return LearnerSettings(
        heads=cfg.model.output_heads(), head_weights=dict(getattr(cfg.model, "head_weights", {})),
        optimizer=cfg.optimizer, lr=cfg.lr, momentum=cfg.momentum, seed=cfg.seed, dtype=cfg.dtype, l2=cfg.l2,
        l1=cfg.l1, input_noise=cfg.input_noise, weight_noise=cfg.weight_noise, smoothing=cfg.smoothing)


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

#: Model name when the config gives none (as sspred.model.Model.name).
DEFAULT_NAME = "sspred"
#: The torchrun rank that reports progress and writes checkpoints (the CLI: and the model file).
MAIN_RANK = 0


def training_chains(data: Data, split: str, data_dir: str | os.PathLike | None = None,
                    exclude_leaks: bool = False) -> list[Chain]:
    """The chains ``data`` stands for (sspred.io.find.data_parts). ``exclude_leaks``: less the chains with a homolog
    in a test set, each named set by its own shipped list (netsurfp2 keeps 8,582 training chains), anything else
    by every list."""
    parts = data_parts(data, split, data_dir)
    if exclude_leaks:
        parts = [(name, without_leaks(chains, train_set=name if name in LEAK_LISTS else None)) for name, chains in parts]
    return [c for _, chains in parts for c in chains]


def _check_resume(config: TrainConfig, meta: dict, label: str, path: str) -> None:
    """A checkpoint continues only the run it was written by: the same data and the same run fields."""
    if meta.get("data") != label:
        raise InputError(f"checkpoint was made training on {meta.get('data')!r}, not {label!r}", path=path)
    saved = ckpt.run_config(meta).run_fields()
    given = config.run_fields()
    differ = [k for k in saved if saved[k] != given.get(k)]
    if differ:
        both = "; ".join(f"{k}: checkpoint {saved[k]!r}, given {given.get(k)!r}" for k in differ)
        raise ConfigError(differ[0], f"the given TrainConfig differs from {path}'s ({both})")


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
        if cfg.distributed:
            self.replica_spread = self.learner.replica_spread()
        self.learner.close()
        info = modelfile.train_entry(self.data, cfg.to_dict(), self.learner.engine, history.to_dict(),
                                     self.n_train_chains, self.n_valid_chains, cfg.exclude_leaks, cfg.teacher,
                                     cfg.teacher_weight)
        # Weights as a model file holds them, so this Model predicts exactly as the file it saves.
        params = {k: np.asarray(v, dtype=np.float32) for k, v in self.learner.get_params().items()}
        name = cfg.name or DEFAULT_NAME
        if self.first is not None:
            header, params = cascade(self.first, cfg.model.window, self.layers, params, name, stage2_train=info)
        else:
            header = build_header(cfg.model, name, train=info)
            spec = cfg.model.feature_spec() if isinstance(cfg.model, ConvConfig) else None
            if spec is not None:
                from sspred.unirep.weights import load as unirep_weights

                header["features"] = feature_entry(cfg.model, unirep_weights(spec.size).sha256)
        return Model(header, params)


def teacher_probabilities(teacher: Session, codes: list[np.ndarray]) -> list[np.ndarray]:
    """The teacher's probabilities for every chain, predicted in slices, so a language model's states (4 bytes x
    1,900 or more a residue) never exist for the whole set in memory. A teacher with a feature cache reads the
    whole set's states from it as memory-mapped views, once: the chains are the cache key, so per-slice
    lookups would compute and cache every slice again."""
    whole = teacher.member_features(codes) if teacher.feature_cache is not None else None
    out: list[np.ndarray] = []
    for k in range(0, len(codes), TEACHER_CHAINS):
        part = slice(k, k + TEACHER_CHAINS)
        feats = None if whole is None else [f[part] if f is not None else None for f in whole]
        out += teacher.predict_many(codes[part], feats)
    return out


def input_features(config: TrainConfig, label: str, train_chains: list[Chain], valid_chains: list[Chain],
                   device: str | None) -> tuple[list[np.ndarray] | None, list[np.ndarray] | None]:
    """The UniRep states a conv config reads beside one-hot, for the training and validation chains, from the
    on-disk cache (sspred.unirep.states.cached_features; computed there once, by the torch engine on the run's
    device when it trains with torch); (None, None) for one-hot alone."""
    spec = config.model.feature_spec() if isinstance(config.model, ConvConfig) else None
    if spec is None:
        return None, None
    from sspred.unirep.states import cached_features, extractor

    ext = extractor(spec, engine="torch" if config.engine == "torch" else "numpy", device=device or "cpu")
    train = cached_features(ext, [c.codes for c in train_chains], f"{label}-train")
    valid = cached_features(ext, [c.codes for c in valid_chains], f"{label}-valid") if valid_chains else None
    return train, valid


def prepare_run(config: TrainConfig, data: Data, valid: Data | None = None, *,
                data_dir: str | os.PathLike | None = None, resume: str | os.PathLike | None = None) -> TrainingRun:
    """Everything ``train`` does before the first epoch: read the data, filter leaks, build the examples
    (windows, a first stage's probabilities, or whole chains with a teacher's targets) and the learner."""
    state, label = None, data_label(data)
    if resume is not None:
        state = ckpt.load(resume)
        _check_resume(config, state["meta"], label, str(resume))
    cls = learner_class(config.engine)
    options = cls.place(config.device, config.distributed, config.threads)  # before the data: fail fast
    leaks = config.exclude_leaks
    train_chains = training_chains(data, "train", data_dir, leaks)
    names = data_names(data)
    if valid is not None:
        valid_chains = training_chains(valid, "valid", data_dir, leaks)
    elif names is not None and names[0] in datasets.DATASETS:
        # Several sets validate on the first one's split: the one whose states head picks the best epoch.
        valid_chains = training_chains(names[0], "valid", data_dir, leaks)
    else:
        valid_chains = []
    mcfg = config.model
    first = load_model(config.stage1) if config.stage1 else None
    train_idx: DenseWindowIndex | ChainIndex | WindowIndex
    valid_idx: DenseWindowIndex | ChainIndex | WindowIndex | None
    if first is not None:
        assert isinstance(mcfg, ModelConfig)  # TrainConfig refuses a second stage on a conv stack
        layers = stage2_layers(mcfg.window, mcfg.hidden, mcfg.activation, len(first.state_order))
        train_idx = stage2_data(first, train_chains, mcfg.window, str(mcfg.n_states))
        valid_idx = stage2_data(first, valid_chains, mcfg.window, str(mcfg.n_states)) if valid_chains else None
    elif isinstance(mcfg, ConvConfig):
        layers = mcfg.layers()
        teacher = None
        if config.teacher:
            teacher_model = load_model(config.teacher)
            # A teacher that reads UniRep states computes them where this run trains (a GPU, when it has one);
            # on a CPU they are slow, so they are cached on disk, once per set. The teacher's Session holds both
            # settings: nothing is written into the teacher's Model.
            device = options.get("device") if config.engine == "torch" else None
            cache = None
            if any(m.features is not None for m in teacher_model.members) and device in (None, "cpu"):
                from sspred.unirep.states import cache_dir

                cache = str(cache_dir())
            session = Session(teacher_model, device, cache)
            teacher = teacher_probabilities(session, [c.codes for c in train_chains])
        train_feats, valid_feats = input_features(config, label, train_chains, valid_chains, options.get("device"))
        try:
            train_idx = ChainIndex(train_chains, gap(layers), str(mcfg.n_states), teacher, config.teacher_weight,
                                   heads=mcfg.output_heads(), features=train_feats)
        except ValueError as exc:
            raise ConfigError("teacher", str(exc)) from None
        valid_idx = ChainIndex(valid_chains, gap(layers), str(mcfg.n_states), features=valid_feats) if valid_chains else None
    else:
        layers = mcfg.layers()
        train_idx = WindowIndex(train_chains, mcfg.window, str(mcfg.n_states))
        valid_idx = WindowIndex(valid_chains, mcfg.window, str(mcfg.n_states)) if valid_chains else None
    learner = cls(layers, learner_settings(config), np.random.default_rng(config.seed), **options)
    rank, world = learner.rank, learner.world  # torchrun's, under DDP
    return TrainingRun(config, learner, train_idx, valid_idx, len(train_chains), len(valid_chains), label, layers,
                       first, state, str(resume) if resume is not None else None, rank, world)


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
