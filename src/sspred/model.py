"""A trained model: its header (config, layer list, provenance) and weights, ready to predict.

Built-in models ship as package data and are chosen by name (``-m fast``);
anything else is a path to a model file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from sspred import modelfile
from sspred.alphabet import STATE_SETS, SYMBOLS
from sspred.config import ModelConfig
from sspred.engines.numpy import Network
from sspred.engines.numpy.losses import softmax
from sspred.errors import ModelFileError
from sspred.features import check_window, one_hot, windows

#: Built-in models, by the name given to -m.
BUILTIN = {"default": "default.npz", "fast": "fast.npz"}
DEFAULT_MODEL = "default"
#: Windows turned into one-hot floats at a time by the plain forward pass (bounds memory on long chains).
CHUNK_RESIDUES = 16384


@dataclass
class Model:
    header: dict
    params: dict[str, np.ndarray]
    _net: Network | None = field(default=None, repr=False)
    _fast: object = field(default=None, repr=False)

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
    def network(self) -> Network:
        if self._net is None:
            net = Network(self.layers, dtype=np.float32)
            net.load_params(self.params)
            self._net = net
        return self._net

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        """Plain forward pass for one chain: (L,) symbol codes -> (L, K) probabilities."""
        win = windows(codes, self.window)  # (L, W) view
        out = np.empty((codes.size, len(self.states)), dtype=np.float32)
        for start in range(0, codes.size, CHUNK_RESIDUES):
            x = one_hot(win[start:start + CHUNK_RESIDUES])  # (chunk, W*21)
            out[start:start + CHUNK_RESIDUES] = softmax(self.network.forward(x))
        return out


    @property
    def fast(self):
        """The lookup-table form of the network (engines.numpy.fastpath), or None if its layers have none."""
        if self._fast is None:
            from sspred.engines.numpy.fastpath import FastForward, Unsupported

            try:
                self._fast = FastForward.from_layers(self.layers, self.params, self.window)
            except Unsupported:
                self._fast = False
        return self._fast or None

    def predict_many(self, chains: list[np.ndarray]) -> list[np.ndarray]:
        """Probabilities for several chains in one pass, [(L, K)] in order; the fast path when it applies."""
        fast = self.fast
        if fast is None:
            return [self.predict_proba(c) for c in chains]
        return fast.predict_many(chains)


def build_header(config: ModelConfig, name: str, layers: list[dict] | None = None, **extra) -> dict:
    check_window(config.window)
    return {"name": name, "alphabet": SYMBOLS, "model": config.to_dict(),
            "layers": layers if layers is not None else config.layers(), **extra}


def save_model(path: str | os.PathLike, header: dict, params: dict[str, np.ndarray]) -> None:
    modelfile.save(path, header, {k: np.asarray(v, dtype=np.float32) for k, v in params.items()})


def resolve(name_or_path: str | os.PathLike | None) -> Path:
    """A built-in model's packaged file, or the given path."""
    key = str(name_or_path) if name_or_path is not None else DEFAULT_MODEL
    if key in BUILTIN:
        return Path(str(resources.files("sspred.models") / BUILTIN[key]))
    return Path(key)


def load_model(name_or_path: str | os.PathLike | None = None) -> Model:
    path = resolve(name_or_path)
    header, params = modelfile.load(path)
    if header.get("alphabet") != SYMBOLS:
        raise ModelFileError(f"{path}: model was trained with a different residue alphabet")
    model = Model(header, params)
    try:
        model.network
    except (ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: weights do not fit the layer list ({exc})") from None
    return model
