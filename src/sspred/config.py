"""Typed settings for models and training. CLI flags map one to one onto these fields.

A model is saved as its ``ModelConfig`` plus the explicit layer list it
expands to, so the file alone rebuilds the network in either engine. A run is
one ``TrainConfig``: the model to build, how to optimise it, and what else the
run reads (a first stage, a teacher, the leak filter); checkpoints and model
files store its ``to_dict()``.

Every config checks itself in ``__post_init__``: a bad value raises
``ConfigError`` (a ``ValueError``) naming the field and what it may be. Names
the user types are checked against their one home, sspred.names: the optimizer,
activation, schedule and engine names, which the tables that implement them are
keyed by.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import tomllib
import warnings
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Iterable, Self, TypeVar

from sspred.alphabet import N_UNITS, STATE_SETS
from sspred.engines.spec import conv_dims
from sspred.features import check_window
from sspred.heads import Heads, entry_n_states, model_heads
from sspred.errors import ConfigError as ConfigError  # re-exported: sspred.config.ConfigError
from sspred.errors import InputError
from sspred.names import ACTIVATIONS, ENGINES, OPTIMIZERS, SCHEDULES
from sspred.unirep.states import Spec as FeatureSpec

#: Floating-point types a network can train in (both engines accept exactly these names).
DTYPES = ("float32", "float64")
#: The state sets a network predicts, by their size: 3 (H/E/C) or 8 (the DSSP states), the keys of
#: sspred.alphabet.STATE_SETS as ints.
N_STATES = tuple(int(k) for k in STATE_SETS)
#: Devices that need no torch engine; the torch engine's own table (engines.torch.learner.DEVICES) adds the rest.
PLAIN_DEVICES = ("auto", "cpu")


def _choice(name: str, value: object, choices: Iterable[object]) -> None:
    if value not in choices:
        raise ConfigError(name, f"{value!r} is not one of {', '.join(map(str, choices))}")


def _at_least(name: str, value: float, low: float, kind: str = "") -> None:
    if not value >= low:
        raise ConfigError(name, f"must be {kind}>= {low}, got {value}")


def _rate(name: str, value: float, closed: bool = False) -> None:
    """A rate in [0, 1), or [0, 1] when ``closed``."""
    if not (0 <= value <= 1 if closed else 0 <= value < 1):
        raise ConfigError(name, f"must lie in [0, 1{']' if closed else ')'}, got {value}")


def _odd_kernel(name: str, value: int) -> None:
    if value < 1 or value % 2 == 0:
        raise ConfigError(name, f"a conv layer needs an odd kernel, got {value}")


class Fields:
    """A config dataclass as plain data: ``to_dict`` for model files and checkpoints, ``from_dict`` back."""

    __dataclass_fields__: ClassVar[dict[str, Any]]  # set by @dataclass on each subclass

    def to_dict(self) -> dict:
        """This config as plain data (JSON types), as model files and checkpoints store it.

        Returns
        -------
        dict
            Field name to value, nested configs as dicts.

        Examples
        --------
        >>> ModelConfig(window=7).to_dict()["window"]
        7
        """
        return asdict(self)

    #: Keys a stored dict may hold that are no field: the old name ``states`` of ``n_states``, and values derived
    #: from the fields (a ConvConfig's ``window``), which ``from_dict`` reads and checks rather than refuses.
    READ_ONLY_KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of this config's fields, in order.

        Returns
        -------
        tuple of str
            Field names.

        Examples
        --------
        >>> ModelConfig.field_names()[:2]
        ('window', 'hidden')
        """
        return tuple(f.name for f in fields(cls))

    @classmethod
    def known_keys(cls, d: dict) -> dict:
        """The items of ``d`` that are fields of this config, refusing any other key.

        A key that is neither a field nor one of ``READ_ONLY_KEYS`` is an error, so that a misspelt setting is never
        dropped unseen.

        Parameters
        ----------
        d : dict
            Field name to value.

        Returns
        -------
        dict
            The items of ``d`` whose key is a field.

        Raises
        ------
        sspred.ConfigError
            Naming every unknown key (its ``field`` is the first).
        """
        names = cls.field_names()
        unknown = sorted(k for k in d if k not in names and k not in cls.READ_ONLY_KEYS)
        if unknown:
            raise ConfigError(unknown[0], f"unknown key{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))} "
                                          f"in a {cls.__name__} (its fields: {', '.join(names)})")
        return {k: v for k, v in d.items() if k in names}

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        """Rebuild a config from ``to_dict`` output, refusing keys it does not know.

        A model entry of an older file names the number of states ``states`` ("3" or "8"); it reads as
        ``n_states``, without a warning: a file is data, not code to update.

        Parameters
        ----------
        d : dict
            Field name to value.

        Returns
        -------
        Fields
            A config of this class.

        Raises
        ------
        sspred.ConfigError
            When a value is bad, or a key is no field of this config (the message names every such key).

        Examples
        --------
        >>> ModelConfig.from_dict({"window": 7}).window
        7
        >>> ModelConfig.from_dict({"states": "8"}).n_states
        8
        >>> ModelConfig.from_dict({"window": 7, "chanels": 8})
        Traceback (most recent call last):
        ...
        sspred.errors.ConfigError: chanels: unknown key 'chanels' in a ModelConfig (its fields: window, hidden, ...)
        """
        kwargs = cls.known_keys(d)
        if "n_states" in cls.field_names() and "n_states" not in d and "states" in d:
            kwargs["n_states"] = entry_n_states(d)
        return cls(**kwargs)


def field_default(cls: type[Fields], name: str) -> Any:
    """The default of a config field (a fresh value of its default factory for a list or dict).

    Parameters
    ----------
    cls : type
        A config dataclass.
    name : str
        One of its fields.

    Returns
    -------
    object
        The field's default.

    Examples
    --------
    >>> field_default(ConvConfig, "dilations"), field_default(ModelConfig, "dropout")
    ([1, 2, 4, 8], 0.0)
    """
    f = cls.__dataclass_fields__[name]
    return f.default_factory() if f.default is MISSING else f.default


def field_docs(cls: type) -> dict[str, str]:
    """Each field's description, from the Parameters section of the class docstring: the one home of what a
    setting means (``sspred train -h`` shows it).

    Parameters
    ----------
    cls : type
        A config dataclass with a numpydoc docstring.

    Returns
    -------
    dict of str to str
        Field name to its description, joined into one paragraph.

    Examples
    --------
    >>> field_docs(ModelConfig)["window"]
    "Residues per input window, odd; 13 is Qian & Sejnowski's best."
    """
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    try:
        start = lines.index("Parameters") + 2  # past the underline
    except ValueError:
        return {}
    docs: dict[str, list[str]] = {}
    current: list[str] = []
    for line in lines[start:]:
        if line and not line[0].isspace():
            if " : " not in line:  # the next section's title
                break
            current = docs.setdefault(line.split(" : ")[0].strip(), [])
        elif line.strip():
            current.append(line.strip())
    return {name: " ".join(words) for name, words in docs.items()}


_C = TypeVar("_C")


def _deprecated_states(cls: type[_C]) -> type[_C]:
    """Keep ``states``, the old name of ``n_states`` ("3" or "8", a str), for one release: as a keyword of the
    constructor and as an attribute, each with a DeprecationWarning. Not a dataclass field, so ``to_dict``,
    ``fields`` and ``dataclasses.replace`` see ``n_states`` alone."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, states: str | int | None = None, **kwargs: Any) -> None:
        if states is not None:
            warnings.warn(f"{cls.__name__}(states=...) is deprecated; use n_states={states} (an int)",
                          DeprecationWarning, stacklevel=2)
            try:
                kwargs.setdefault("n_states", int(states))
            except (TypeError, ValueError):
                raise ConfigError("n_states", f"{states!r} is not one of 3, 8") from None
        init(self, *args, **kwargs)

    def states(self: Any) -> str:
        warnings.warn(f"{cls.__name__}.states is deprecated; use n_states (an int)", DeprecationWarning,
                      stacklevel=2)
        return str(self.n_states)

    cls.__init__ = __init__  # type: ignore[method-assign]
    setattr(cls, "states", property(states, doc="Deprecated: ``str(n_states)``."))
    return cls


@_deprecated_states
@dataclass
class ModelConfig(Fields):
    """A window network: Qian & Sejnowski's by default (13 residues, 40 sigmoid units, 3 states).

    Parameters
    ----------
    window : int, default 13
        Residues per input window, odd; 13 is Qian & Sejnowski's best.
    hidden : list of int, default [40]
        Hidden layer sizes; [] is the single-layer softmax perceptron.
    activation : str, default "sigmoid"
        Hidden activation: sigmoid (as in 1988), tanh or relu.
    n_states : int, default 3
        States the network predicts: 3 for H/E/C, 8 for the DSSP states. The keyword ``states`` ("3" or "8"),
        its old name, is deprecated: it warns, and works for one more release.
    bottleneck : int, default 0
        Width of a linear layer (no activation) between the window and the first hidden layer; a low-rank
        factorisation of the first weight matrix. 0: none.
    dropout : float, default 0.0
        Inverted-dropout rate (probability of dropping a unit) in training; 0: no dropout layers.
    dropout_at : list of int, default []
        Where dropout acts: 0 is the input window, i the output of hidden layer i; empty: every hidden layer.
    batchnorm : bool, default False
        Batch normalisation between each hidden layer's linear map and its activation.

    Raises
    ------
    sspred.ConfigError
        When a field has a bad value; its ``field`` names it.

    Examples
    --------
    >>> cfg = ModelConfig(window=13, hidden=[40])
    >>> cfg.n_inputs, [s["type"] for s in cfg.layers()]
    (273, ['linear', 'sigmoid', 'linear'])
    """

    READ_ONLY_KEYS = ("states",)

    window: int = 13
    hidden: list[int] = field(default_factory=lambda: [40])
    activation: str = "sigmoid"
    n_states: int = 3
    bottleneck: int = 0
    dropout: float = 0.0
    dropout_at: list[int] = field(default_factory=list)
    batchnorm: bool = False

    def __post_init__(self) -> None:
        _choice("n_states", self.n_states, N_STATES)
        try:
            check_window(self.window)
        except ValueError as exc:
            raise ConfigError("window", str(exc)) from None
        self.hidden, self.dropout_at = list(self.hidden), list(self.dropout_at)  # tuples too; JSON gives lists
        for size in self.hidden:
            _at_least("hidden", size, 1, "a layer size ")
        _choice("activation", self.activation, ACTIVATIONS)
        _at_least("bottleneck", self.bottleneck, 0)
        _rate("dropout", self.dropout)
        for at in self.dropout_at:
            _choice("dropout_at", at, range(len(self.hidden) + 1))

    @property
    def n_inputs(self) -> int:
        """Input units: ``window`` residues of 21 one-hot units each."""
        return self.window * N_UNITS

    def output_heads(self) -> Heads:
        """The network's heads: one, the states'.

        Returns
        -------
        sspred.heads.Heads
            The heads, with their widths.
        """
        return model_heads({"n_states": self.n_states})

    def layers(self) -> list[dict]:
        """The explicit layer list this config expands to (stored in the model file).

        Returns
        -------
        list of dict
            One spec per layer, first to last: "type" and its sizes ("in", "out", ...), as the model file stores
            them and both engines build them.
        """
        specs, width = [], self.n_inputs
        at = set(self.dropout_at) if self.dropout_at else set(range(1, len(self.hidden) + 1))
        if self.dropout and 0 in at:
            specs.append({"type": "dropout", "rate": self.dropout})
        if self.bottleneck:
            specs.append({"type": "linear", "in": width, "out": self.bottleneck})
            width = self.bottleneck
        for i, size in enumerate(self.hidden, start=1):
            specs.append({"type": "linear", "in": width, "out": size, "init_for": self.activation})
            if self.batchnorm:
                specs.append({"type": "batchnorm", "n": size})
            specs.append({"type": self.activation})
            if self.dropout and i in at:
                specs.append({"type": "dropout", "rate": self.dropout})
            width = size
        specs.append({"type": "linear", "in": width, "out": self.n_states})
        return specs


@_deprecated_states
@dataclass
class ConvConfig(Fields):
    """A stack of 1-D convolutions over whole chains (sspred.layout).

    A one-hot conv as wide as a window network's window comes first, then residual dilated convs that widen
    what each residue sees.

    Parameters
    ----------
    arch : str, default "conv"
        The architecture's name in a model file (``ARCHS``); "conv" only.
    n_states : int, default 3
        States the network predicts: 3 for H/E/C, 8 for the DSSP states. The keyword ``states`` ("3" or "8"),
        its old name, is deprecated: it warns, and works for one more release.
    channels : int, default 128
        Channels of every conv layer.
    first_kernel : int, default 15
        Kernel of the first conv, over one-hot residues (a window network's window).
    kernel : int, default 3
        Kernel of each residual conv.
    dilations : list of int, default [1, 2, 4, 8]
        One residual conv per entry, with that dilation.
    dropout : float, default 0.2
        Inverted-dropout rate after every conv; 0: no dropout layers.
    heads : list of str, default []
        Heads besides the ``states`` head, each trained where its labels exist (sspred.heads): any of ss8 (or ss3
        for an 8-state model), disorder and conservation. Empty: one head, as before multi-task training.
    head_weights : dict of str to float, default {}
        Loss weight of a head, by name; 1.0 for a head not named.
    attention : int, default 0
        Whole-chain attention blocks after the convs (each a residual chain_attention with ALiBi positions, then a
        residual conv and ReLU); 0: none, and the network reads ``window`` residues only.
    attention_heads : int, default 4
        Heads of each attention block.
    attention_dim : int, default 16
        Dimension per head of each attention block.
    unirep : int, default 0
        UniRep states as input channels beside one-hot (sspred.unirep, Alley et al. 2019): the model size (64, 256
        or 1900 units); 0: one-hot alone.
    unirep_cells : str, default "last"
        "last": the last mLSTM cell's states; "all": every cell's, side by side (the 64 and 256 models have four).
    unirep_reverse : bool, default False
        A second pass over the reversed chain adds states that have read the residues to the right.
    unirep_project : int, default 0
        A learned linear projection of the input channels to this many before the first conv; 0: none.

    Raises
    ------
    sspred.ConfigError
        When a field has a bad value; its ``field`` names it.

    Examples
    --------
    >>> cfg = ConvConfig(channels=64, first_kernel=15, kernel=3, dilations=[1, 2, 4, 8])
    >>> cfg.window  # residues that can change one output: 15 + 2 * (1 + 2 + 4 + 8)
    45
    """

    READ_ONLY_KEYS = ("states", "window")

    arch: str = "conv"
    n_states: int = 3
    channels: int = 128
    first_kernel: int = 15
    kernel: int = 3
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    dropout: float = 0.2
    heads: list[str] = field(default_factory=list)
    head_weights: dict[str, float] = field(default_factory=dict)
    attention: int = 0
    attention_heads: int = 4
    attention_dim: int = 16
    unirep: int = 0
    unirep_cells: str = "last"
    unirep_reverse: bool = False
    unirep_project: int = 0

    def __post_init__(self) -> None:
        _choice("arch", self.arch, ("conv",))
        _choice("n_states", self.n_states, N_STATES)
        _at_least("channels", self.channels, 1)
        _odd_kernel("first_kernel", self.first_kernel)
        _odd_kernel("kernel", self.kernel)
        self.dilations = list(self.dilations)
        for d in self.dilations:
            _at_least("dilations", d, 1, "a positive dilation ")
        _rate("dropout", self.dropout)
        self.heads, self.head_weights = list(self.heads), dict(self.head_weights)
        try:
            heads = self.output_heads()
        except ValueError as exc:
            raise ConfigError("heads", str(exc)) from None
        try:
            heads.weights(self.head_weights)
        except ValueError as exc:
            raise ConfigError("head_weights", str(exc)) from None
        _at_least("attention", self.attention, 0)
        _at_least("attention_heads", self.attention_heads, 1)
        _at_least("attention_dim", self.attention_dim, 1)
        if self.unirep:
            try:
                self.feature_spec()
            except ValueError as exc:
                raise ConfigError("unirep", str(exc)) from None
        _at_least("unirep_project", self.unirep_project, 0)
        if self.unirep_project and not self.unirep:
            raise ConfigError("unirep_project", "projects UniRep states: needs unirep")

    def output_heads(self) -> Heads:
        """The network's heads: the states head first, then ``heads`` (their logits side by side).

        Returns
        -------
        sspred.heads.Heads
            The heads, with their widths.

        Examples
        --------
        >>> ConvConfig(heads=["disorder"]).output_heads().names
        ('ss3', 'disorder')
        """
        return model_heads({"n_states": self.n_states, "heads": self.heads})

    @property
    def window(self) -> int:
        """Residues that can change one output through the convs (the receptive field, without attention)."""
        return self.first_kernel + sum((self.kernel - 1) * d for d in self.dilations) + (self.kernel - 1) * self.attention

    def feature_spec(self) -> FeatureSpec | None:
        """The UniRep states the network reads beside one-hot, or None.

        Returns
        -------
        sspred.unirep.states.Spec or None
            The UniRep model size, cells and direction; None without ``unirep``.
        """
        return FeatureSpec(self.unirep, self.unirep_cells, self.unirep_reverse) if self.unirep else None

    @property
    def n_inputs(self) -> int:
        """Input channels per residue: 21 one-hot units and any UniRep states."""
        spec = self.feature_spec()
        return N_UNITS + (spec.width if spec is not None else 0)

    def layers(self) -> list[dict]:
        """The explicit layer list this config expands to (stored in the model file).

        Returns
        -------
        list of dict
            One spec per layer, first to last: "type" and its sizes ("in", "out", ...), as the model file stores
            them and both engines build them.

        Raises
        ------
        ValueError
            When a conv's kernel or dilation cannot be built.
        """
        c = self.channels
        drop = [{"type": "dropout", "rate": self.dropout}] if self.dropout else []
        specs: list[dict] = []
        width, mask = self.n_inputs, False
        if self.unirep_project:
            # A 1-wide conv is a per-residue linear map; its outputs on gap rows are its bias, so the conv after it
            # masks them, as every later conv does.
            specs.append({"type": "conv", "in": width, "out": self.unirep_project, "kernel": 1, "mask": False})
            width, mask = self.unirep_project, True
        specs += [{"type": "conv", "in": width, "out": c, "kernel": self.first_kernel, "mask": mask,
                   "init_for": "relu"}, {"type": "relu"}, *drop]
        for d in self.dilations:
            specs += [{"type": "conv", "in": c, "out": c, "kernel": self.kernel, "dilation": d, "residual": True,
                       "init_for": "relu"}, {"type": "relu"}, *drop]
        for _ in range(self.attention):
            # The attention mixes the whole chain linearly in its values; the conv after it adds the nonlinearity.
            specs += [{"type": "chain_attention", "in": c, "heads": self.attention_heads, "dim": self.attention_dim,
                       "residual": True},
                      {"type": "conv", "in": c, "out": c, "kernel": self.kernel, "residual": True, "init_for": "relu"},
                      {"type": "relu"}, *drop]
        specs.append({"type": "linear", "in": c, "out": self.output_heads().width})
        for spec in specs:
            if spec["type"] == "conv":
                conv_dims(spec)  # an even kernel or a bad dilation fails here, before any layer is built
        return specs

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        """Rebuild from ``to_dict`` output; its ``window``, derived from the kernels, must match them.

        Parameters
        ----------
        d : dict
            Field name to value, and optionally "window".

        Returns
        -------
        ConvConfig
            The config.

        Raises
        ------
        sspred.ConfigError
            When a value is bad, a key unknown, or "window" other than the kernels and dilations give.

        Examples
        --------
        >>> ConvConfig.from_dict({"channels": 8, "window": 45}).window
        45
        """
        cfg = super().from_dict(d)
        if "window" in d and d["window"] != cfg.window:
            raise ConfigError("window", f"a conv stack's window follows from its kernels and dilations ({cfg.window} "
                                        f"here), got {d['window']}; leave it out")
        return cfg

    def to_dict(self) -> dict:
        """This config as plain data, with its receptive field ``window`` added for readers of the model file.

        Returns
        -------
        dict
            Field name to value, and "window".
        """
        return {**asdict(self), "window": self.window}


#: Model configs by the name of --arch; a ConvConfig's dict carries arch="conv", a ModelConfig's no arch.
ARCHS: dict[str, type[ModelConfig] | type[ConvConfig]] = {"window": ModelConfig, "conv": ConvConfig}
#: The arch of a dict without one, and of TrainConfig's default model.
DEFAULT_ARCH = "window"
#: The kind of network each arch builds, as messages name it.
ARCH_NOUNS = {"window": "window network", "conv": "conv stack"}
#: TrainConfig fields that only runs of one arch read: a second stage is a window network, distillation trains a
#: conv stack.
RUN_FIELD_ARCH = {"stage1": "window", "teacher": "conv", "teacher_weight": "conv"}


def model_config_from_dict(d: dict) -> ModelConfig | ConvConfig:
    """The model config a ``to_dict`` (of either kind) came from.

    Parameters
    ----------
    d : dict
        A ``ModelConfig`` or ``ConvConfig`` as plain data; its "arch" (default "window") says which.

    Returns
    -------
    ModelConfig or ConvConfig
        The config.

    Raises
    ------
    sspred.ConfigError
        For an unknown arch, an unknown key or a bad value.
    """
    arch = d.get("arch", DEFAULT_ARCH)
    _choice("arch", arch, tuple(ARCHS))
    # A window network's to_dict carries no "arch"; a hand-written config may name it all the same.
    return ARCHS[arch].from_dict(d if arch != DEFAULT_ARCH else {k: v for k, v in d.items() if k != "arch"})


def arch_settings(arch: str) -> tuple[str, ...]:
    """The settings a run of ``arch`` reads: its model config's fields (less ``arch``) and TrainConfig's (less
    ``model`` and those of the other arch's runs).

    Parameters
    ----------
    arch : str
        A key of ``ARCHS``.

    Returns
    -------
    tuple of str
        Field names.

    Examples
    --------
    >>> "channels" in arch_settings("conv"), "channels" in arch_settings("window"), "lr" in arch_settings("window")
    (True, False, True)
    """
    run = [n for n in TrainConfig.field_names() if n != "model" and RUN_FIELD_ARCH.get(n, arch) == arch]
    return (*[n for n in ARCHS[arch].field_names() if n != "arch"], *run)


def check_arch_settings(arch: str, names: Iterable[str]) -> None:
    """Refuse a setting that a run of ``arch`` would not read, rather than drop it.

    Parameters
    ----------
    arch : str
        A key of ``ARCHS``.
    names : iterable of str
        Settings (model or run fields) the caller set.

    Raises
    ------
    sspred.ConfigError
        On an unknown arch (field "model"); on the first name that the arch does not read, saying which arch does.

    Examples
    --------
    >>> check_arch_settings("window", ["channels"])
    Traceback (most recent call last):
    ...
    sspred.errors.ConfigError: channels: only a conv stack (ConvConfig) has it; this model is a window network
    """
    _choice("model", arch, tuple(ARCHS))
    own = arch_settings(arch)
    for name in names:
        if name in own:
            continue
        owners = [a for a in ARCHS if name in arch_settings(a)]
        if not owners:
            raise ConfigError(name, "is no setting of a training run")
        owner = owners[0]
        raise ConfigError(name, f"only a {ARCH_NOUNS[owner]} ({ARCHS[owner].__name__}) has it; this model is a "
                                f"{ARCH_NOUNS[arch]}")


def model_config(arch: str, **settings: Any) -> ModelConfig | ConvConfig:
    """The model config of ``arch`` from ``settings``, each a field of that arch's config.

    Parameters
    ----------
    arch : str
        A key of ``ARCHS``: "window" or "conv".
    **settings
        Field values; a field the arch has not (``--channels`` for a window network) is refused, not dropped.

    Returns
    -------
    ModelConfig or ConvConfig
        The config.

    Raises
    ------
    sspred.ConfigError
        On ``model`` for an unknown arch; on a setting of the other arch (saying which arch has it); on a field
        with a bad value.

    Examples
    --------
    >>> model_config("window", window=7).window
    7
    >>> model_config("window", heads=["disorder"])
    Traceback (most recent call last):
    ...
    sspred.errors.ConfigError: heads: only a conv stack (ConvConfig) has it; this model is a window network
    """
    model_fields = ARCHS[arch].field_names() if arch in ARCHS else ()
    check_arch_settings(arch, settings)
    for name in settings:
        if name not in model_fields:
            raise ConfigError(name, "is a training setting (TrainConfig), not a model's")
    return ARCHS[arch](**settings)


@dataclass
class TrainConfig(Fields):
    """Everything one training run is made with: the model, the optimisation, and what else it reads.

    Parameters
    ----------
    model : ModelConfig or ConvConfig, default ModelConfig()
        The network to train: a window network (ModelConfig) or a conv stack (ConvConfig).
    optimizer : str, default "adam"
        Optimizer name: "adam" or "sgd".
    lr : float, default 1e-3
        Step size; 1e-3 is Adam's usual default.
    momentum : float, default 0.9
        SGD momentum (ignored by Adam).
    batch_size : int, default 256
        Windows per minibatch (chains per minibatch for a conv stack).
    epochs : int, default 30
        Maximum passes over the training windows.
    patience : int, default 5
        Epochs without a better validation loss before stopping; 0 disables early stopping.
    seed : int, default 0
        Seed of initial weights and of each epoch's shuffle.
    dtype : str, default "float32"
        "float32" for training, "float64" for checks.
    l2 : float, default 0.0
        L2 penalty eta * 1/2 * sum(W^2) over weight matrices (not biases), added to the loss.
    l1 : float, default 0.0
        L1 penalty eta * sum(|W|) over weight matrices, added to the loss.
    input_noise : float, default 0.0
        Std of Gaussian noise added to the one-hot inputs in training (0: none).
    weight_noise : float, default 0.0
        Std of Gaussian noise added to the weight matrices for each training step's forward and backward pass.
    smoothing : float, default 0.0
        Label smoothing rho: the true class gets 1 - rho, every other class rho / (K - 1).
    schedule : str, default "none"
        Learning-rate schedule: none, step, cosine or plateau.
    lr_step : int, default 10
        step: multiply the rate by lr_gamma every lr_step epochs.
    lr_gamma : float, default 0.1
        step and plateau: the factor the rate is multiplied by.
    lr_patience : int, default 2
        plateau: epochs without a better monitored loss before the rate drops.
    lr_min : float, default 0.0
        cosine: the rate reached at the last epoch.
    engine : str, default "numpy"
        Engine: numpy or torch.
    stage1 : str or None, default None
        A first model (built-in name or file) whose probabilities a second-stage window network reads; None: none.
    teacher : str or None, default None
        A model (built-in name or file) a conv stack is distilled from; None: plain labels.
    teacher_weight : float, default 0.5
        The teacher's share of each target; the labels' one-hot has the rest.
    exclude_leaks : bool, default False
        Drop the training chains with a homolog in a test set: the named set's shipped leak list, every list for a
        file (sspred.splits.known_leaks).
    device : str, default "auto"
        torch engine: cpu, cuda or auto (cuda when torch sees a GPU).
    distributed : bool, default False
        torch engine under torchrun: DistributedDataParallel over the process group.
    threads : int, default 0
        torch engine: intra-op CPU threads, set for the whole process; 0: torch's default (one per core). Window
        networks are small: on a busy 2-core machine the default made an epoch 25x slower than 1 (BENCHMARKS.md).
    name : str or None, default None
        Name written into the model file; None: "sspred".
    max_seconds : float, default 0.0
        Stop after the first epoch that ends past this many seconds of training (the best weights are kept, as at
        early stopping); 0: no limit. A time box for sweeps on a lent machine.

    Raises
    ------
    sspred.ConfigError
        When a field has a bad value; its ``field`` names it.

    Examples
    --------
    Every field has a default, so a config names only what differs:

    >>> cfg = TrainConfig(model=ModelConfig(window=13, hidden=[40]), epochs=10, lr=1e-3, seed=0)
    >>> cfg.model.layers()[0]
    {'type': 'linear', 'in': 273, 'out': 40, 'init_for': 'sigmoid'}
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
    >>> TrainConfig(optimizer="lbfgs")
    Traceback (most recent call last):
    ...
    sspred.errors.ConfigError: optimizer: 'lbfgs' is not one of sgd, adam
    """

    model: ModelConfig | ConvConfig = field(default_factory=ModelConfig)
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    batch_size: int = 256
    epochs: int = 30
    patience: int = 5
    seed: int = 0
    dtype: str = "float32"
    l2: float = 0.0
    l1: float = 0.0
    input_noise: float = 0.0
    weight_noise: float = 0.0
    smoothing: float = 0.0
    schedule: str = "none"
    lr_step: int = 10
    lr_gamma: float = 0.1
    lr_patience: int = 2
    lr_min: float = 0.0
    engine: str = "numpy"
    stage1: str | None = None
    teacher: str | None = None
    teacher_weight: float = 0.5
    exclude_leaks: bool = False
    device: str = "auto"
    distributed: bool = False
    threads: int = 0
    name: str | None = None
    max_seconds: float = 0.0

    #: Fields that say where a run executes or what it is called, not what it computes: a resumed run may change them.
    RUNTIME_FIELDS = ("device", "distributed", "threads", "name")

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = model_config_from_dict(self.model)
        if not isinstance(self.model, tuple(ARCHS.values())):
            raise ConfigError("model", f"must be a ModelConfig or a ConvConfig, got {type(self.model).__name__}")
        _choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        if not self.lr > 0:
            raise ConfigError("lr", f"must be > 0, got {self.lr}")
        _rate("momentum", self.momentum)
        _at_least("batch_size", self.batch_size, 1)
        _at_least("epochs", self.epochs, 1)
        _at_least("patience", self.patience, 0)
        _at_least("seed", self.seed, 0)
        _choice("dtype", self.dtype, DTYPES)
        for name in ("l2", "l1", "input_noise", "weight_noise", "lr_min", "max_seconds"):
            _at_least(name, getattr(self, name), 0)
        _rate("smoothing", self.smoothing)
        _choice("schedule", self.schedule, tuple(SCHEDULES))
        _at_least("lr_step", self.lr_step, 1)
        if not self.lr_gamma > 0:
            raise ConfigError("lr_gamma", f"must be > 0, got {self.lr_gamma}")
        _at_least("lr_patience", self.lr_patience, 0)
        _choice("engine", self.engine, tuple(ENGINES))
        _at_least("threads", self.threads, 0)
        _rate("teacher_weight", self.teacher_weight, closed=True)
        conv = isinstance(self.model, ConvConfig)
        # The checks between fields, as (bad?, field, why).
        for bad, name, why in (
                (self.teacher and not conv, "teacher", "distillation trains conv stacks (model=ConvConfig(...))"),
                (self.stage1 and conv, "stage1", "a second stage is a window network, not a conv stack"),
                (self.distributed and self.engine != "torch", "distributed", "needs engine='torch'"),
                (self.device not in PLAIN_DEVICES and self.engine != "torch", "device",
                 f"{self.device!r} needs engine='torch' (the numpy engine runs on {', '.join(PLAIN_DEVICES)})")):
            if bad:
                raise ConfigError(name, why)

    def to_dict(self) -> dict:
        """This run's config as plain data, the model config nested as its own ``to_dict``.

        Returns
        -------
        dict
            Field name to value.
        """
        return {**asdict(self), "model": self.model.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> Self:
        """Rebuild from ``to_dict`` output (the model config by its arch), refusing keys it does not know.

        Parameters
        ----------
        d : dict
            Field name to value, "model" a model config's ``to_dict``.

        Returns
        -------
        TrainConfig
            The config.

        Raises
        ------
        sspred.ConfigError
            When a value is bad, or a key (of the run or its model) is no field.

        Examples
        --------
        >>> TrainConfig.from_dict({"model": {"arch": "conv", "channels": 8}, "epochs": 2}).model.channels
        8
        """
        kwargs = cls.known_keys(d)
        if "model" in kwargs:
            kwargs["model"] = model_config_from_dict(kwargs["model"])
        return cls(**kwargs)

    def run_fields(self) -> dict:
        """``to_dict`` without the runtime fields: two configs with equal run fields train the same weights.

        Returns
        -------
        dict
            Field name to value, less ``RUNTIME_FIELDS``.

        Examples
        --------
        >>> TrainConfig(device="cpu").run_fields() == TrainConfig(device="auto").run_fields()
        True
        """
        return {k: v for k, v in self.to_dict().items() if k not in self.RUNTIME_FIELDS}


#: Readers of a whole TrainConfig by file suffix; any other suffix reads as JSON, the format ``config_text`` writes.
CONFIG_READERS = {".json": json.loads, ".toml": tomllib.loads}


def read_config(path: str | os.PathLike) -> TrainConfig:
    """A whole TrainConfig from a file: JSON (what ``config_text`` and ``sspred train --print-config`` write) or,
    for a ``.toml`` file, TOML (a missing key, as ``stage1`` where TOML has no null, keeps its default).

    Parameters
    ----------
    path : str or os.PathLike
        The file; ``.toml`` reads as TOML, any other suffix as JSON.

    Returns
    -------
    TrainConfig
        The config, every key checked (``TrainConfig.from_dict``).

    Raises
    ------
    sspred.InputError
        When the file cannot be read or parsed, or holds no table at its top.
    sspred.ConfigError
        On an unknown key or a bad value.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "run.toml"
    ...     _ = path.write_text('epochs = 2\\n[model]\\narch = "conv"\\nchannels = 8\\n')
    ...     read_config(path).model.channels
    8
    """
    path = Path(path)
    parse = CONFIG_READERS.get(path.suffix.lower(), json.loads)
    try:
        d = parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the config file: {exc.strerror or exc}", path=str(path)) from None
    except (ValueError, UnicodeDecodeError) as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError are ValueErrors
        raise InputError(f"not a {'TOML' if parse is tomllib.loads else 'JSON'} config file: {exc}",
                         path=str(path)) from None
    if not isinstance(d, dict):
        raise InputError("a config file holds one table (JSON object) of TrainConfig fields", path=str(path))
    return TrainConfig.from_dict(d)


def config_text(config: TrainConfig) -> str:
    """``config`` as the JSON text ``read_config`` reads back to an equal config.

    Parameters
    ----------
    config : TrainConfig
        The run's config.

    Returns
    -------
    str
        Indented JSON, ending in a newline.

    Examples
    --------
    >>> import tempfile
    >>> cfg = TrainConfig(model=ConvConfig(channels=8), epochs=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "run.json"
    ...     _ = path.write_text(config_text(cfg))
    ...     read_config(path) == cfg
    True
    """
    return json.dumps(config.to_dict(), indent=2) + "\n"
