"""NumPy layers. Each ``forward`` caches exactly what its ``backward`` needs.

A layer is built from a spec dict (the same dict the model file stores and the
torch engine reads). Parameters live in ``self.params`` and their gradients in
``self.grads`` under the same names.
"""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.hopfield import Hopfield

#: Init gain per following activation: variance of W is gain / fan_in
#: (He et al. 2015 for ReLU; LeCun 1998 for the saturating ones).
INIT_GAIN = {"relu": 2.0, "tanh": 1.0, "sigmoid": 1.0, None: 1.0}


class Layer:
    """Protocol: params/grads dicts, forward(x, train), backward(dout) -> dx."""

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]

    def __init__(self, spec: dict):
        self.spec = spec
        self.params, self.grads = {}, {}

    @staticmethod
    def param_shapes(spec: dict) -> dict[str, tuple]:
        """Name and shape of every parameter this spec has."""
        return {}

    def init(self, rng: np.random.Generator, dtype) -> None:
        """Draw initial parameters; layers without parameters have nothing to do."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Linear(Layer):
    """y = x W + b, with W of shape (in, out)."""

    @staticmethod
    def param_shapes(spec):
        return {"W": (spec["in"], spec["out"]), "b": (spec["out"],)}

    def init(self, rng, dtype):
        fan_in, fan_out = self.spec["in"], self.spec["out"]
        std = np.sqrt(INIT_GAIN[self.spec.get("init_for")] / fan_in)
        self.params = {"W": (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype),
                       "b": np.zeros(fan_out, dtype=dtype)}

    def forward(self, x, train=False):
        self.x = x
        return x @ self.params["W"] + self.params["b"]  # (B, in) @ (in, out) -> (B, out)

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout  # (in, B) @ (B, out) -> (in, out)
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T  # (B, out) @ (out, in) -> (B, in)


class Sigmoid(Layer):
    def forward(self, x, train=False):
        # Split by sign so exp never overflows for large |x|.
        e = np.exp(-np.abs(x))
        self.y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self.y

    def backward(self, dout):
        return dout * self.y * (1.0 - self.y)


class Tanh(Layer):
    def forward(self, x, train=False):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1.0 - self.y * self.y)


class ReLU(Layer):
    def forward(self, x, train=False):
        self.positive = x > 0
        return np.where(self.positive, x, 0).astype(x.dtype, copy=False)

    def backward(self, dout):
        return np.where(self.positive, dout, 0).astype(dout.dtype, copy=False)


#: Layer types keyed by the name stored in model files.
LAYERS: dict[str, type[Layer]] = {
    "linear": Linear,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "hopfield": Hopfield,
}
#: The activations a user can name (a subset of LAYERS).
ACTIVATIONS = ("sigmoid", "tanh", "relu")


def build(spec: dict) -> Layer:
    try:
        return LAYERS[spec["type"]](spec)
    except KeyError:
        raise ValueError(f"unknown layer type {spec.get('type')!r}; known: {', '.join(LAYERS)}") from None
