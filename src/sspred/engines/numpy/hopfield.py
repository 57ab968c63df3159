"""An associative-memory layer: a window's hidden representation retrieves from M stored patterns.

Spec: {"type": "hopfield", "in": d, "patterns": M, "dim": k, "out": d_out (default d),
"beta": beta (default 1/sqrt(k)), "residual": false}.

    Q = x Wq                 (B, d) @ (d, k) -> (B, k)   the query, a state of the modern Hopfield net
    A = softmax(beta Q K^T)  (B, k) @ (k, M) -> (B, M)   how much each stored pattern matches
    y = A V                  (B, M) @ (M, d_out)          the retrieved combination of pattern values
    (+ x when "residual": the retrieval is added to the input, which then needs d_out == d)

K holds the stored patterns (the keys) and V what each pattern retrieves. This is one update of the
modern Hopfield network of Ramsauer et al. (2020) with learned stored patterns, i.e. their
"HopfieldLayer", and equally single-head attention over M learned key/value slots. The default beta
is the 1/sqrt(k) of scaled dot-product attention (Vaswani et al. 2017).
"""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.activations import softmax
from sspred.engines.numpy.base import Layer
from sspred.engines.spec import hopfield_dims, hopfield_init


class Hopfield(Layer):
    """Parameters: Wq (in, dim) query projection, K (patterns, dim) stored patterns, V (patterns, out) values."""

    def __init__(self, spec: dict):
        super().__init__(spec)
        self.d, self.m, self.k, self.out, self.beta, self.residual = hopfield_dims(spec)

    @staticmethod
    def param_shapes(spec):
        d, m, k, out, _, _ = hopfield_dims(spec)
        return {"Wq": (d, k), "K": (m, k), "V": (m, out)}

    def init(self, rng, dtype):
        self.params, _ = hopfield_init(self.spec, rng, dtype)

    def store(self, x: np.ndarray) -> None:
        """Make the stored patterns M real inputs (M, in): keys are their queries, values the inputs themselves.

        Used to initialise the memory from training windows; values copy the inputs only when out == in.
        """
        if x.shape != (self.m, self.d):
            raise ValueError(f"store needs {self.m} rows of width {self.d}, one per pattern; got shape {x.shape}")
        self.params["K"][...] = x @ self.params["Wq"]  # (M, d) @ (d, k) -> (M, k)
        if self.out == self.d:
            self.params["V"][...] = x

    def forward(self, x, train=False):
        p = self.params
        q = x @ p["Wq"]  # (B, d) @ (d, k) -> (B, k)
        s = self.beta * (q @ p["K"].T)  # (B, k) @ (k, M) -> (B, M)
        a = softmax(s)  # (B, M)
        self.x, self.q, self.a = x, q, a
        y = a @ p["V"]  # (B, M) @ (M, out) -> (B, out)
        return y + x if self.residual else y

    def backward(self, dout):
        p = self.params
        self.grads["V"] = self.a.T @ dout  # (M, B) @ (B, out) -> (M, out)
        da = dout @ p["V"].T  # (B, out) @ (out, M) -> (B, M)
        # Softmax Jacobian applied row by row: ds_j = a_j (da_j - sum_i a_i da_i).
        ds = self.a * (da - (da * self.a).sum(axis=1, keepdims=True))  # (B, M)
        ds *= self.beta
        self.grads["K"] = ds.T @ self.q  # (M, B) @ (B, k) -> (M, k)
        dq = ds @ p["K"]  # (B, M) @ (M, k) -> (B, k)
        self.grads["Wq"] = self.x.T @ dq  # (d, B) @ (B, k) -> (d, k)
        dx = dq @ p["Wq"].T  # (B, k) @ (k, d) -> (B, d)
        return dx + dout if self.residual else dx


def init_from_windows(network, index: int, inputs: np.ndarray) -> None:
    """Store M training windows in the hopfield layer ``index`` of a NumPy ``Network``.

    ``inputs`` are the windows' network input rows (M, n_inputs); they pass through the layers
    below ``index`` and the layer then stores the resulting hidden representations.
    """
    h = inputs
    for layer in network.layers[:index]:
        h = layer.forward(h, train=False)
    network.layers[index].store(h.astype(network.dtype, copy=False))
