"""A training run as stages that hand each other plain data (PSIPRED's seq2mtx -> psipred -> psipass2).

``sspred.training.prepare_run`` and ``TrainingRun.fit`` run these in order; each is a function of its arguments
alone, so each can be run and tested by itself:

1. ``read_data`` (config, data, valid, data_dir) -> ``DataSets``: the training and validation chains, after the
   leak filter;
2. ``compute_features`` (config, DataSets, device) -> ``Features``: per-chain arrays read beside the sequence:
   a teacher's probabilities, a first stage's probabilities and UniRep states (from the on-disk cache);
3. ``build_examples`` (config, DataSets, Features) -> ``Examples``: the layer list and the example indexes
   (``WindowIndex``, ``DenseWindowIndex`` of a second stage, or ``ChainIndex`` of whole chains);
4. ``build_learner`` (config, layers, Placement) -> a learner of the config's engine (``place_learner`` says
   where it runs, before any data is read, so a device the machine lacks fails at once);
5. ``sspred.training.fit`` (learner, examples) -> ``History``;
6. ``build_model`` (config, parameters, history, ...) -> ``Model``, its header recording the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sspred import checkpoint as ckpt
from sspred import modelfile
from sspred.cascade import cascade, stage2_layers
from sspred.config import ConfigError, ConvConfig, ModelConfig, TrainConfig
from sspred.engines import learner_class
from sspred.engines.settings import LearnerSettings
from sspred.engines.spec import gap
from sspred.errors import InputError
from sspred.features import DenseWindowIndex, WindowIndex
from sspred.io import datasets
from sspred.io.datasets import Chain
from sspred.io.find import Data, data_label, data_names, data_parts
from sspred.layout import ChainIndex
from sspred.model import Model, build_header, feature_entry, load_model
from sspred.splits import LEAK_LISTS, without_leaks

#: Model name when the config gives none (as sspred.model.Model.name).
DEFAULT_NAME = "sspred"


# --- 1. data sets ---------------------------------------------------------------------------------------


@dataclass
class DataSets:
    """The chains a run trains and validates on, after the leak filter.

    Parameters
    ----------
    label : str
        What the data is called in the model header and the checkpoint (``sspred.io.find.data_label``).
    train, valid : list of Chain
        The training chains, and the validation chains (empty: no validation).
    """

    label: str
    train: list[Chain]
    valid: list[Chain] = field(default_factory=list)


def training_chains(data: Data, split: str, data_dir: str | os.PathLike | None = None,
                    exclude_leaks: bool = False) -> list[Chain]:
    """The chains ``data`` stands for, less any with a homolog in a test set.

    Parameters
    ----------
    data : Data
        A set name, a labelled file, several of these, or Chains (``sspred.io.find.data_parts``).
    split : str
        The split of a named set: "train" or "valid".
    data_dir : str or os.PathLike, optional
        Where the sets live.
    exclude_leaks : bool, default False
        Drop the chains with a homolog in a test set: each named set by its own shipped list (netsurfp2 keeps
        8,582 training chains), anything else by every list.

    Returns
    -------
    list of Chain
        The chains of every part, in order.
    """
    parts = data_parts(data, split, data_dir)
    if exclude_leaks:
        parts = [(name, without_leaks(chains, train_set=name if name in LEAK_LISTS else None)) for name, chains in parts]
    return [c for _, chains in parts for c in chains]


def read_data(config: TrainConfig, data: Data, valid: Data | None = None,
              data_dir: str | os.PathLike | None = None) -> DataSets:
    """Stage 1: the training and validation chains of a run.

    Parameters
    ----------
    config : TrainConfig
        Its ``exclude_leaks`` is read.
    data : Data
        What to train on (``sspred.train``'s ``data``).
    valid : Data, optional
        What to validate on; None: the first named set's "valid" split (several sets validate on the first
        one's, whose states head picks the best epoch), or no validation for a file or chains.
    data_dir : str or os.PathLike, optional
        Where the sets live.

    Returns
    -------
    DataSets
        The label and the chains.
    """
    leaks = config.exclude_leaks
    train = training_chains(data, "train", data_dir, leaks)
    names = data_names(data)
    if valid is not None:
        valid_chains = training_chains(valid, "valid", data_dir, leaks)
    elif names is not None and names[0] in datasets.DATASETS:
        valid_chains = training_chains(names[0], "valid", data_dir, leaks)
    else:
        valid_chains = []
    return DataSets(data_label(data), train, valid_chains)


# --- 2. features ----------------------------------------------------------------------------------------


@dataclass
class Features:
    """Per-chain arrays a run reads beside the chains' sequences and labels; None where the config reads none.

    Parameters
    ----------
    teacher : list of ndarray or None
        A distillation teacher's (L_i, K) probabilities of each training chain.
    stage1 : Model or None
        The first stage of a second-stage run, whose probabilities these are (the model file holds it).
    stage1_train, stage1_valid : list of ndarray or None
        The first stage's (L_i, K) probabilities of each training and validation chain.
    states_train, states_valid : list of ndarray or None
        The (L_i, C) UniRep states a conv stack reads beside one-hot, memory-mapped from the cache.
    """

    teacher: list[np.ndarray] | None = None
    stage1: Model | None = None
    stage1_train: list[np.ndarray] | None = None
    stage1_valid: list[np.ndarray] | None = None
    states_train: list[np.ndarray] | None = None
    states_valid: list[np.ndarray] | None = None


def teacher_probabilities(config: TrainConfig, chains: list[Chain], device: str | None) -> list[np.ndarray]:
    """A distillation teacher's probabilities of ``chains``, through the model's prediction path.

    Parameters
    ----------
    config : TrainConfig
        Its ``teacher`` (a model file or a built-in name) and ``engine`` are read.
    chains : list of Chain
        The training chains.
    device : str or None
        The torch device the run trains on (its learner's placement), or None.

    Returns
    -------
    list of ndarray
        One (L_i, K) array per chain.
    """
    teacher = load_model(config.teacher)
    # A teacher that reads UniRep states computes them where this run trains (a GPU, when it has one); on a
    # CPU they are slow, so they are cached on disk, once per set.
    device = device if config.engine == "torch" else None
    cache = None
    if any(m.features is not None for m in teacher.members) and device in (None, "cpu"):
        from sspred.unirep.states import cache_dir

        cache = str(cache_dir())
    return teacher.predict_set([c.codes for c in chains], device, cache)


def unirep_states(config: TrainConfig, sets: DataSets, device: str | None
                  ) -> tuple[list[np.ndarray] | None, list[np.ndarray] | None]:
    """The UniRep states a conv config reads beside one-hot, for the training and validation chains.

    Parameters
    ----------
    config : TrainConfig
        Its model's ``feature_spec`` and its ``engine`` are read.
    sets : DataSets
        The chains; ``sets.label`` names the cache entries.
    device : str or None
        Where the torch engine computes them (None: the CPU).

    Returns
    -------
    tuple of (list of ndarray or None, list of ndarray or None)
        The training and validation chains' (L_i, C) states from the on-disk cache
        (``sspred.unirep.states.cached_features``, computed there once); (None, None) for one-hot alone, and
        None for the validation chains where there are none.
    """
    spec = config.model.feature_spec() if isinstance(config.model, ConvConfig) else None
    if spec is None:
        return None, None
    from sspred.unirep.states import cached_features, extractor

    ext = extractor(spec, engine="torch" if config.engine == "torch" else "numpy", device=device or "cpu")
    train = cached_features(ext, [c.codes for c in sets.train], f"{sets.label}-train")
    valid = cached_features(ext, [c.codes for c in sets.valid], f"{sets.label}-valid") if sets.valid else None
    return train, valid


def compute_features(config: TrainConfig, sets: DataSets, device: str | None = None) -> Features:
    """Stage 2: every per-chain array the config reads, each computed once.

    Parameters
    ----------
    config : TrainConfig
        Its ``stage1``, ``teacher`` and the model's UniRep settings are read.
    sets : DataSets
        The chains (stage 1).
    device : str or None, optional
        The torch device the run trains on (``Placement.device``); None: the CPU.

    Returns
    -------
    Features
        The first stage's probabilities (a second stage), or the teacher's and the UniRep states (a conv
        stack); nothing for a window network.
    """
    if config.stage1:
        first = load_model(config.stage1)
        return Features(stage1=first, stage1_train=first.predict_many([c.codes for c in sets.train]),
                        stage1_valid=first.predict_many([c.codes for c in sets.valid]) if sets.valid else None)
    if not isinstance(config.model, ConvConfig):
        return Features()
    teacher = teacher_probabilities(config, sets.train, device) if config.teacher else None
    train, valid = unirep_states(config, sets, device)
    return Features(teacher=teacher, states_train=train, states_valid=valid)


# --- 3. layout ------------------------------------------------------------------------------------------


@dataclass
class Examples:
    """What a learner trains on: its layer list and the training and validation examples.

    Parameters
    ----------
    layers : list of dict
        The network's layer specs.
    train : WindowIndex, DenseWindowIndex or ChainIndex
        The training examples: windows of one-hot, windows of a first stage's probabilities, or whole chains.
    valid : WindowIndex, DenseWindowIndex, ChainIndex or None
        The validation examples, None without validation chains.
    """

    layers: list[dict]
    train: Any
    valid: Any | None = None


def build_examples(config: TrainConfig, sets: DataSets, features: Features) -> Examples:
    """Stage 3: the chains and their features laid out as the network reads them.

    Parameters
    ----------
    config : TrainConfig
        Its model's shape (window, states, heads, layers) and ``teacher_weight`` are read.
    sets : DataSets
        The chains (stage 1).
    features : Features
        Their per-chain arrays (stage 2).

    Returns
    -------
    Examples
        The layer list and the example indexes.

    Raises
    ------
    ConfigError
        A teacher whose states differ from the model's.
    """
    mcfg, states = config.model, str(config.model.n_states)
    if features.stage1 is not None:
        # TrainConfig refuses a second stage on a conv stack; stage 2 computes both sets' probabilities for one.
        assert isinstance(mcfg, ModelConfig) and features.stage1_train is not None
        layers = stage2_layers(mcfg.window, mcfg.hidden, mcfg.activation, len(features.stage1.state_order))
        return Examples(layers, DenseWindowIndex(features.stage1_train, [c.labels(states) for c in sets.train],
                                                 mcfg.window),
                        DenseWindowIndex(features.stage1_valid, [c.labels(states) for c in sets.valid], mcfg.window)
                        if features.stage1_valid is not None else None)
    layers = mcfg.layers()
    if isinstance(mcfg, ConvConfig):
        try:
            train = ChainIndex(sets.train, gap(layers), states, features.teacher, config.teacher_weight,
                               heads=mcfg.output_heads(), features=features.states_train)
        except ValueError as exc:
            raise ConfigError("teacher", str(exc)) from None
        valid = ChainIndex(sets.valid, gap(layers), states, features=features.states_valid) if sets.valid else None
        return Examples(layers, train, valid)
    return Examples(layers, WindowIndex(sets.train, mcfg.window, states),
                    WindowIndex(sets.valid, mcfg.window, states) if sets.valid else None)


# --- 4. learner -----------------------------------------------------------------------------------------


@dataclass
class Placement:
    """Where a run's learner runs: its engine's learner class and the keywords that place it.

    Parameters
    ----------
    learner_class : type
        ``NumpyLearner`` or ``TorchLearner``.
    options : dict
        What ``learner_class.place`` gave: the torch engine's device and process group; empty for NumPy.
    """

    learner_class: type
    options: dict = field(default_factory=dict)

    @property
    def device(self) -> str | None:
        """The torch device the learner runs on, or None (the NumPy engine)."""
        return self.options.get("device")


def place_learner(config: TrainConfig) -> Placement:
    """Where the config's engine runs: asked before any data is read, so a device this machine lacks fails fast.

    Parameters
    ----------
    config : TrainConfig
        Its ``engine``, ``device``, ``distributed`` and ``threads`` are read.

    Returns
    -------
    Placement
        The learner class and its placement.

    Raises
    ------
    DeviceError
        A device this machine cannot give.
    MissingExtra
        The torch engine without torch.
    """
    cls = learner_class(config.engine)
    return Placement(cls, cls.place(config.device, config.distributed, config.threads))


def learner_settings(cfg: TrainConfig) -> LearnerSettings:
    """What a learner of either engine needs of ``cfg``: the model's heads and the optimisation settings.

    Parameters
    ----------
    cfg : TrainConfig
        The run's config.

    Returns
    -------
    LearnerSettings
        The heads, their weights and the optimiser's settings.

    Examples
    --------
    >>> s = learner_settings(TrainConfig(lr=0.01))
    >>> s.heads.names, s.lr, s.optimizer
    (('ss3',), 0.01, 'adam')
    """
    # A window network (ModelConfig) has one head and so no head weights.
    return LearnerSettings(
        heads=cfg.model.output_heads(), head_weights=dict(getattr(cfg.model, "head_weights", {})),
        optimizer=cfg.optimizer, lr=cfg.lr, momentum=cfg.momentum, seed=cfg.seed, dtype=cfg.dtype, l2=cfg.l2,
        l1=cfg.l1, input_noise=cfg.input_noise, weight_noise=cfg.weight_noise, smoothing=cfg.smoothing)


def build_learner(config: TrainConfig, layers: list[dict], placement: Placement) -> Any:
    """Stage 4: a fresh learner for ``layers``, its weights drawn from the config's seed.

    Parameters
    ----------
    config : TrainConfig
        The optimisation settings and the seed.
    layers : list of dict
        The layer specs (``Examples.layers``).
    placement : Placement
        Where it runs (``place_learner``).

    Returns
    -------
    Learner
        A NumpyLearner or TorchLearner.
    """
    return placement.learner_class(layers, learner_settings(config), np.random.default_rng(config.seed),
                                   **placement.options)


def check_resume(config: TrainConfig, data: Data, path: str | os.PathLike) -> dict:
    """The checkpoint at ``path``, when it continues the run ``config`` and ``data`` describe.

    Parameters
    ----------
    config : TrainConfig
        The run's config: its run fields must equal the checkpoint's.
    data : Data
        The run's data: its label must be the checkpoint's.
    path : str or os.PathLike
        The checkpoint.

    Returns
    -------
    dict
        The loaded checkpoint (``sspred.checkpoint.load``).

    Raises
    ------
    InputError
        A checkpoint made on other data.
    ConfigError
        A config that differs from the checkpoint's, naming the field and both values.
    """
    state = ckpt.load(path)
    meta, label = state["meta"], data_label(data)
    if meta.get("data") != label:
        raise InputError(f"checkpoint was made training on {meta.get('data')!r}, not {label!r}", path=str(path))
    saved = ckpt.run_config(meta).run_fields()
    given = config.run_fields()
    differ = [k for k in saved if saved[k] != given.get(k)]
    if differ:
        both = "; ".join(f"{k}: checkpoint {saved[k]!r}, given {given.get(k)!r}" for k in differ)
        raise ConfigError(differ[0], f"the given TrainConfig differs from {path}'s ({both})")
    return state


# --- 5. fit (sspred.training.fit) ---------------------------------------------------------------------


@dataclass
class History:
    """What a fit did: every epoch's stats, the epoch whose weights were kept, and whether it stopped early.

    Parameters
    ----------
    epochs : list of dict
        Each epoch's stats (``sspred.training.EpochStats``), in order.
    best_epoch : int
        The epoch of the lowest monitored loss (0 before the first).
    stopped_early : bool
        True when patience or ``max_seconds`` ended the fit before ``epochs``.
    """

    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    def to_dict(self) -> dict:
        """The history as plain JSON data.

        Returns
        -------
        dict
            ``epochs``, ``best_epoch`` and ``stopped_early``.
        """
        return {"epochs": self.epochs, "best_epoch": self.best_epoch, "stopped_early": self.stopped_early}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        """The history ``to_dict`` gave (a checkpoint's, a model header's).

        Parameters
        ----------
        d : dict
            ``epochs``, ``best_epoch`` and ``stopped_early``.

        Returns
        -------
        History
            The same history.
        """
        return cls(list(d["epochs"]), int(d["best_epoch"]), bool(d["stopped_early"]))


def release_learner(learner: Any, distributed: bool = False) -> tuple[dict[str, np.ndarray], float | None]:
    """A fitted learner's parameters, the learner then closed (the torch engine leaves its process group).

    Parameters
    ----------
    learner : Learner
        The fitted learner.
    distributed : bool, default False
        Whether it trained under torchrun: then the replicas' largest difference is measured first.

    Returns
    -------
    tuple of (dict of str to ndarray, float or None)
        The parameters by name, and the replicas' largest difference of any parameter (None outside torchrun).
    """
    spread = learner.replica_spread() if distributed else None
    learner.close()
    return learner.get_params(), spread


# --- 6. model -------------------------------------------------------------------------------------------


def build_model(config: TrainConfig, params: dict[str, np.ndarray], history: History, *, data: str, n_train: int,
                n_valid: int, engine: str, layers: list[dict], stage1: Model | None = None) -> Model:
    """Stage 6: the trained network as a Model, whose header records how it was trained.

    Parameters
    ----------
    config : TrainConfig
        The run's config (saved in the header).
    params : dict of str to ndarray
        The learner's final parameters.
    history : History
        The fit's.
    data : str
        The data's label (``DataSets.label``).
    n_train, n_valid : int
        Chains trained and validated on, after the leak filter.
    engine : str
        The engine that trained it ("numpy", "torch").
    layers : list of dict
        The layer specs (``Examples.layers``).
    stage1 : Model, optional
        The first stage of a second-stage run: the model is the cascade of the two.

    Returns
    -------
    Model
        The model, predicting exactly as the file ``Model.save`` writes.
    """
    info = modelfile.train_entry(data, config.to_dict(), engine, history.to_dict(), n_train, n_valid, config.exclude_leaks,
                                 config.teacher, config.teacher_weight)
    # Weights as a model file holds them, so this Model predicts exactly as the file it saves.
    params = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    name = config.name or DEFAULT_NAME
    if stage1 is not None:
        header, params = cascade(stage1, config.model.window, layers, params, name, stage2_train=info)
        return Model(header, params)
    header = build_header(config.model, name, train=info)
    spec = config.model.feature_spec() if isinstance(config.model, ConvConfig) else None
    if spec is not None:
        from sspred.unirep.weights import load as unirep_weights

        header["features"] = feature_entry(config.model, unirep_weights(spec.size).sha256)
    return Model(header, params)
