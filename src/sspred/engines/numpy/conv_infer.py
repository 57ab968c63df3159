"""Inference for a conv stack (conv, relu, dropout, linear layers) in reused buffers.

The training layers (conv.py) allocate fresh arrays at every step. At prediction time those
allocations, not the arithmetic, set the pace: a fresh (32k, 64) float32 result costs its page
faults again on every call, and measured here made one (N, 64) @ (64, 64) product 5x slower than
the same product written into an existing array. So this path keeps two activation buffers per
thread, each with zero margins as wide as the widest conv reads, and writes every product into
them with ``out=``. The arithmetic is that of the layers; tests/test_conv.py holds the two equal.
"""

from __future__ import annotations

import threading

import numpy as np

from sspred.alphabet import ENCODING
from sspred.engines.numpy.conv import split_taps
from sspred.engines.spec import conv_dims
from sspred.features import pad

#: Layer types this path runs; a layer list with any other falls back to the training layers.
SUPPORTED = {"conv", "relu", "dropout", "linear"}


class Unsupported(ValueError):
    pass


def one_hot_tables(taps: list[np.ndarray]) -> list[np.ndarray]:
    """The taps of a conv over one-hot residues as (symbols, C_out) tables: row s of table j is what
    symbol s at kernel position j adds, so the layer is ``kernel`` gathers, not products."""
    return [ENCODING.astype(t.dtype) @ t for t in taps]  # (27, 21) @ (21, C) -> (27, C)


class ConvInference:
    """A conv network's forward pass for a chain layout: (N,) codes and (N,) valid -> (N, K) logits."""

    def __init__(self, specs: list[dict], params: dict[str, np.ndarray]):
        kinds = {s["type"] for s in specs}
        if not kinds <= SUPPORTED or specs[0]["type"] != "conv" or specs[0].get("mask", True):
            raise Unsupported("not an unmasked one-hot conv followed by conv, relu, dropout and linear layers")
        self.steps = []  # (kind, arrays...) in order, dropout left out (the identity at prediction)
        width = 0
        for i, spec in enumerate(specs):
            w, b = params.get(f"layers.{i}.W"), params.get(f"layers.{i}.b")
            if spec["type"] == "conv":
                c_in, c_out, k, d, residual, masked = conv_dims(spec)
                taps = [np.ascontiguousarray(t, np.float32) for t in split_taps(w, c_in, k)]
                self.steps.append(("conv", taps, b.astype(np.float32), (k // 2) * d, d, residual, masked))
                width = max(width, c_out)
            elif spec["type"] == "linear":
                self.steps.append(("linear", np.ascontiguousarray(w, np.float32), b.astype(np.float32)))
                width = max(width, spec["out"])
            elif spec["type"] == "relu":
                self.steps.append(("relu",))
        self.tables = one_hot_tables(self.steps[0][1])  # the first conv reads one-hot codes
        self.margin = max(s[3] for s in self.steps if s[0] == "conv")
        self.width = width
        self.local = threading.local()

    def _buffers(self, n: int) -> list[np.ndarray]:
        """Two (n + 2 margin, width) activation buffers with zero margins, and one (n, width) scratch."""
        have = getattr(self.local, "buffers", None)
        if have is None or have[0].shape[0] < n + 2 * self.margin:
            rows = n + 2 * self.margin
            have = [np.zeros((rows, self.width), np.float32), np.zeros((rows, self.width), np.float32),
                    np.empty((n, self.width), np.float32)]  # the scratch is sliced to each call's n
            self.local.buffers = have
        return have

    def logits(self, codes: np.ndarray, valid: np.ndarray) -> np.ndarray:
        n, m = codes.size, self.margin
        a, b, scratch = self._buffers(n)
        scratch = scratch[:n]
        # Rows past n in a reused, larger buffer must read as zeros, as margins do.
        a[m + n:m + n + m] = 0
        b[m + n:m + n + m] = 0
        invalid = np.flatnonzero(~valid)
        _, taps, bias, half, d, _, _ = self.steps[0]
        padded = pad(codes, 2 * half + 1)  # spacers past both ends, as the one-hot input has
        c = bias.size
        x = a[m:m + n, :c]
        x[...] = bias
        for j, table in enumerate(self.tables):
            # (n, C) gather; codes index a 27-row table, so "clip" never clips and spares take() its buffering
            np.take(table, padded[j * d:j * d + n], axis=0, out=scratch[:, :c], mode="clip")
            x += scratch[:, :c]
        src, dst = a, b
        for step in self.steps[1:]:
            kind = step[0]
            if kind == "relu":
                np.maximum(x, 0, out=x)
            elif kind == "linear":
                _, w, bias = step
                out = scratch[:, :w.shape[1]]
                np.matmul(x, w, out=out)  # (n, C) @ (C, K) -> (n, K)
                out += bias
                x = out
            else:
                _, taps, bias, half, d, residual, masked = step
                if masked:
                    x[invalid] = 0  # gap rows read as zeros, as past a lone chain's ends
                c_in, c_out = taps[0].shape
                y = dst[m:m + n, :c_out]
                y[...] = bias
                for j, w in enumerate(taps):
                    lo = m - half + j * d
                    np.matmul(src[lo:lo + n, :c_in], w, out=scratch[:, :c_out])  # (n, C_in) @ (C_in, C_out)
                    y += scratch[:, :c_out]
                if residual:
                    y += x
                src, dst, x = dst, src, y
        return x.copy()
