"""NumPy layers. Each ``forward`` caches exactly what its ``backward`` needs.

A layer is built from a spec dict (the same dict the model file stores and the
torch engine reads). Parameters live in ``self.params`` and their gradients in
``self.grads`` under the same names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sspred.engines.numpy.activations import ACTIVATIONS as ACTIVATION_TABLE
from sspred.engines.spec import batchnorm_init, linear_init
from sspred.engines.numpy.attention import ChainAttention
from sspred.engines.numpy.base import Layer
from sspred.engines.numpy.conv import Conv1d
from sspred.engines.numpy.hopfield import Hopfield


class Linear(Layer):
    """y = x W + b, with W of shape (in, out)."""

    @staticmethod
    def param_shapes(spec):
        return {"W": (spec["in"], spec["out"]), "b": (spec["out"],)}

    def init(self, rng, dtype):
        self.params, _ = linear_init(self.spec, rng, dtype)

    def forward(self, x, train=False):
        self.x = x
        return x @ self.params["W"] + self.params["b"]  # (B, in) @ (in, out) -> (B, out)

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout  # (in, B) @ (B, out) -> (in, out)
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T  # (B, out) @ (out, in) -> (B, in)


class ActivationLayer(Layer):
    """An activation from the shared table (activations.ACTIVATIONS), chosen by the spec's type;
    it caches its output, from which every table entry's derivative is taken."""

    def __init__(self, spec):
        super().__init__(spec)
        self.fn = ACTIVATION_TABLE[spec["type"]]

    def forward(self, x, train=False):
        self.y = self.fn.forward(x)
        return self.y

    def backward(self, dout):
        return self.fn.backward(self.y, dout)


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014): in training keep each unit with probability 1 - rate
    and scale the kept ones by 1 / (1 - rate), so evaluation is the identity.

    The mask comes from ``self.rng`` (a Generator the learner passes in), or from ``fixed_mask``
    when a test injects one (True = keep).
    """

    def __init__(self, spec):
        super().__init__(spec)
        self.rng: np.random.Generator | None = None
        self.fixed_mask: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def forward(self, x, train=False):
        rate = self.spec["rate"]
        if not train or rate == 0:
            self.scale = None
            return x
        if self.fixed_mask is not None:
            keep = self.fixed_mask
        else:
            assert self.rng is not None  # the learner gives every dropout layer its Generator before training
            keep = self.rng.random(x.shape) >= rate  # (B, n)
        self.scale = keep.astype(x.dtype) / x.dtype.type(1 - rate)
        return x * self.scale

    def backward(self, dout):
        return dout if self.scale is None else dout * self.scale


class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015) over the batch axis of (B, n) activations.

    Training normalises by the batch mean and (biased) variance and moves the running
    statistics by ``momentum`` towards them, the running variance using the unbiased
    batch variance, as PyTorch does. Evaluation normalises by the running statistics.
    """

    @staticmethod
    def param_shapes(spec):
        return {"gamma": (spec["n"],), "beta": (spec["n"],)}

    @staticmethod
    def buffer_shapes(spec):
        return {"running_mean": (spec["n"],), "running_var": (spec["n"],)}

    def init(self, rng, dtype):
        self.params, self.buffers = batchnorm_init(self.spec, rng, dtype)

    def forward(self, x, train=False):
        eps, momentum = self.spec.get("eps", 1e-5), self.spec.get("momentum", 0.1)
        self.train_mode = train
        if train:
            b = x.shape[0]
            mean, var = x.mean(axis=0), x.var(axis=0)  # (n,), biased
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm[...] = (1 - momentum) * rm + momentum * mean
            rv[...] = (1 - momentum) * rv + momentum * var * (b / max(b - 1, 1))
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.inv_std = 1.0 / np.sqrt(var + eps)  # (n,)
        self.xhat = (x - mean) * self.inv_std  # (B, n)
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        self.grads["gamma"] = (dout * self.xhat).sum(axis=0)
        self.grads["beta"] = dout.sum(axis=0)
        dxhat = dout * self.params["gamma"]  # (B, n)
        if not self.train_mode:
            return dxhat * self.inv_std  # the statistics are constants in evaluation
        # The batch mean and variance depend on every row, hence the two correction terms.
        b = dout.shape[0]
        return (self.inv_std / b) * (b * dxhat - dxhat.sum(axis=0) - self.xhat * (dxhat * self.xhat).sum(axis=0))


#: Layer types keyed by the name stored in model files. Any: Hopfield, Conv1d and ChainAttention follow Layer's
#: protocol without subclassing it.
LAYERS: dict[str, Any] = {
    "linear": Linear,
    **{name: ActivationLayer for name in ACTIVATION_TABLE},
    "dropout": Dropout,
    "batchnorm": BatchNorm,
    "hopfield": Hopfield,
    "conv": Conv1d,
    "chain_attention": ChainAttention,
}
#: The activations a user can name (a subset of LAYERS).
ACTIVATIONS = tuple(ACTIVATION_TABLE)


def build(spec: dict) -> Layer:
    try:
        return LAYERS[spec["type"]](spec)
    except KeyError:
        raise ValueError(f"unknown layer type {spec.get('type')!r}; known: {', '.join(LAYERS)}") from None
