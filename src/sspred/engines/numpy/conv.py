"""A 1-D convolution over a chain: every position reads a dilated window of the previous layer.

Spec: {"type": "conv", "in": C_in, "out": C_out, "kernel": k (odd), "dilation": d (default 1),
"residual": false, "mask": true}.

Qian & Sejnowski's window network is one such layer over one-hot residues; stacking them widens
what each residue sees (the receptive field grows by (k - 1) * d per layer) at the cost of a
(k * C_in, C_out) matrix per layer rather than one over the whole window.

Rows are positions. A batch is several chains laid end to end with gaps between them (see
``sspred.layout``); ``valid`` marks the residue rows. A masked layer zeroes every other row of its
input first, so a position past a chain end reads zeros whether that chain is alone or in a
batch. The first layer reads one-hot codes, whose gap rows are spacers, and is left unmasked.

    y[i] = b + sum_j x[i + (j - k//2) d] W_j      W_j = W[j*C_in:(j+1)*C_in], (C_in, C_out)
    (+ x[i] when "residual")
"""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.base import Layer
from sspred.engines.spec import conv_dims, conv_init


def split_taps(w: np.ndarray, c_in: int, k: int) -> list[np.ndarray]:
    """W (k*C_in, C_out) as its k taps W_j (C_in, C_out), one per kernel position (views)."""
    return [w[j * c_in:(j + 1) * c_in] for j in range(k)]


class Conv1d(Layer):
    """Parameters: W (kernel*in, out), position-major like a window's one-hot row, and b (out,)."""

    def __init__(self, spec: dict):
        super().__init__(spec)
        self.c_in, self.c_out, self.k, self.d, self.residual, self.masked = conv_dims(spec)
        self.half = (self.k // 2) * self.d
        #: (N,) bool: which rows are residues; None treats every row as one (a single chain).
        self.valid: np.ndarray | None = None

    @staticmethod
    def param_shapes(spec):
        c_in, c_out, k, _, _, _ = conv_dims(spec)
        return {"W": (k * c_in, c_out), "b": (c_out,)}

    def init(self, rng, dtype):
        self.params, _ = conv_init(self.spec, rng, dtype)

    def _taps(self, w: np.ndarray):
        """(offset into the padded rows, W_j) for each kernel position j."""
        return [(j * self.d, w_j) for j, w_j in enumerate(split_taps(w, self.c_in, self.k))]

    def forward(self, x, train=False):
        if self.masked and self.valid is not None:
            x = x * self.valid[:, None].astype(x.dtype)  # (N, C_in)
        n = x.shape[0]
        self.xp = np.zeros((n + 2 * self.half, self.c_in), dtype=x.dtype)  # zeros past both ends
        self.xp[self.half:self.half + n] = x
        y = np.broadcast_to(self.params["b"], (n, self.c_out)).copy()
        for off, w in self._taps(self.params["W"]):
            y += self.xp[off:off + n] @ w  # (N, C_in) @ (C_in, C_out) -> (N, C_out)
        return y + x if self.residual else y

    def backward(self, dout):
        n = dout.shape[0]
        dw = np.empty_like(self.params["W"])
        dxp = np.zeros_like(self.xp)
        for j, (off, w) in enumerate(self._taps(self.params["W"])):
            dw[j * self.c_in:(j + 1) * self.c_in] = self.xp[off:off + n].T @ dout  # (C_in, N) @ (N, C_out)
            dxp[off:off + n] += dout @ w.T  # (N, C_out) @ (C_out, C_in) -> (N, C_in)
        self.grads["W"], self.grads["b"] = dw, dout.sum(axis=0)
        dx = dxp[self.half:self.half + n]
        if self.residual:
            dx = dx + dout
        if self.masked and self.valid is not None:
            dx = dx * self.valid[:, None].astype(dx.dtype)
        return dx
