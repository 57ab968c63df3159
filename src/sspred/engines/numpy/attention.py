"""Multi-head self-attention over each whole chain: every residue reads every residue of its own chain.

Spec: {"type": "chain_attention", "in": C, "heads": H, "dim": D, "residual": false, "alibi": true}.

A conv stack sees a few residues either side; this block gives each residue the whole chain, in one
step. It is the feed-forward modern Hopfield update of Ramsauer et al. (2020) ("Hopfield networks is
all you need") with the chain's own residues as the stored patterns, i.e. scaled dot-product
self-attention (Vaswani et al. 2017) with beta = 1/sqrt(D). Per chain of L rows x (L, C), per head h:

    Q_h = x Wq_h,  K_h = x Wk_h,  V_h = x Wv_h           (L, C) @ (C, D) -> (L, D)
    S_h = Q_h K_h^T / sqrt(D) - m_h |i - j|              (L, D) @ (D, L) -> (L, L)
    A_h = softmax(S_h) over j                            (L, L)
    O   = [A_1 V_1, ..., A_H V_H]                        (L, H*D)
    y   = O Wo  (+ x when "residual")                    (L, H*D) @ (H*D, C) -> (L, C)

The bias -m_h |i - j| is ALiBi (Press et al. 2022; slopes in engines/spec.py): a relative-position
signal with no learned table, so the block runs at any chain length. "alibi": false drops it.

Rows are a chain layout (sspred.layout): chains end to end with gap rows between them, ``valid``
marking the residue rows. The chains are the maximal runs of valid rows; a row reads only its own
run, so a chain's outputs are the same alone or in any batch. Gap rows output zeros (their input when
"residual"). ``valid`` None treats all rows as one chain.
"""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.base import Layer
from sspred.engines.spec import alibi_slopes, attention_dims, attention_init, segments


def alibi_bias(slopes: np.ndarray, n: int, dtype) -> np.ndarray:
    """(H, L, L): -m_h |i - j| for a chain of ``n`` rows, from ``slopes`` (H,)."""
    pos = np.arange(n)
    dist = np.abs(pos[:, None] - pos[None, :])  # (L, L)
    return (-slopes[:, None, None] * dist[None]).astype(dtype)  # (H, 1, 1) * (1, L, L) -> (H, L, L)


def softmax_(s: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of ``s``, in place (it is scratch here): three passes over the (H, L, L)
    scores instead of the log-softmax route of activations.softmax, which made exp the block's main cost."""
    s -= s.max(axis=-1, keepdims=True)  # so exp() cannot overflow
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return s


def split_heads(m: np.ndarray, heads: int, dim: int) -> np.ndarray:
    """(L, H*D) -> (H, L, D): head h's columns h*D:(h+1)*D as its own matrix (a view)."""
    return m.reshape(m.shape[0], heads, dim).transpose(1, 0, 2)  # (L, H, D) -> (H, L, D)


def attention_weights(q: np.ndarray, k: np.ndarray, scale: float, bias: np.ndarray | None) -> np.ndarray:
    """A (H, L, L) from one chain's queries and keys (H, L, D); ``bias`` (H, L, L) is ALiBi's, or None."""
    # Scaling q (L*D entries) rather than the scores (L*L) saves a pass over the largest array.
    s = (q * q.dtype.type(scale)) @ k.transpose(0, 2, 1)  # (H, L, D) @ (H, D, L) -> (H, L, L)
    if bias is not None:
        s += bias  # (H, L, L)
    return softmax_(s)  # over j, the row read


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, heads: int, dim: int, scale: float,
           bias: np.ndarray | None, out: np.ndarray) -> np.ndarray:
    """One chain's attention: queries, keys and values (L, H*D) -> ``out`` (L, H*D) = [A_1 V_1, ..., A_H V_H];
    returns the weights A (H, L, L). The one home of the forward formulas, for the layer below and for the
    buffered prediction path (conv_infer.ConvInference)."""
    n = q.shape[0]
    a = attention_weights(split_heads(q, heads, dim), split_heads(k, heads, dim), scale, bias)  # (H, L, L)
    o = a @ split_heads(v, heads, dim)  # (H, L, L) @ (H, L, D) -> (H, L, D)
    out[...] = o.transpose(1, 0, 2).reshape(n, -1)  # (H, L, D) -> (L, H, D) -> (L, H*D)
    return a


class AlibiCache:
    """ALiBi bias (H, L_max, L_max) for the longest chain seen so far. |i - j| does not depend on where a
    chain starts, so a shorter chain's bias is its top-left (H, L, L) block; recomputing it for every chain
    cost more than the attention itself. It is the size of the longest chain's own scores.

    Not shared between threads: ``get`` may replace the array; each thread keeps its own cache."""

    def __init__(self, slopes: np.ndarray | None):
        self.slopes = slopes  # (H,), or None: no bias
        self.bias: np.ndarray | None = None

    def get(self, n: int, dtype) -> np.ndarray | None:
        """(H, n, n) bias for a chain of ``n`` rows (a view), or None without ALiBi."""
        if self.slopes is None:
            return None
        if self.bias is None or self.bias.shape[1] < n or self.bias.dtype != dtype:
            self.bias = alibi_bias(self.slopes, n, dtype)  # (H, L, L)
        return self.bias[:, :n, :n]


class ChainAttention(Layer):
    """Parameters: Wq, Wk, Wv (in, heads*dim), column block h belonging to head h, and Wo (heads*dim, in)."""

    def __init__(self, spec: dict):
        super().__init__(spec)
        self.c, self.h, self.d, self.residual, self.alibi = attention_dims(spec)
        self.scale = 1.0 / np.sqrt(self.d)  # the modern Hopfield beta
        self.slopes = alibi_slopes(self.h) if self.alibi else np.zeros(self.h)  # (H,)
        #: (N,) bool: which rows are residues; None treats every row as one chain.
        self.valid: np.ndarray | None = None
        self._bias = AlibiCache(self.slopes if self.alibi else None)

    @staticmethod
    def param_shapes(spec):
        c, h, d, _, _ = attention_dims(spec)
        return {"Wq": (c, h * d), "Wk": (c, h * d), "Wv": (c, h * d), "Wo": (h * d, c)}

    def init(self, rng, dtype):
        self.params, _ = attention_init(self.spec, rng, dtype)

    def _heads(self, m: np.ndarray) -> np.ndarray:
        return split_heads(m, self.h, self.d)  # (L, H*D) -> (H, L, D)

    def _attend(self, q: np.ndarray, k: np.ndarray) -> np.ndarray:
        """A (H, L, L) from one chain's queries and keys (H, L, D)."""
        return attention_weights(q, k, self.scale, self._bias.get(q.shape[1], q.dtype))

    def _segments(self, n: int) -> list[tuple[int, int]]:
        return [(0, n)] if self.valid is None else segments(self.valid)

    def forward(self, x, train=False):
        p = self.params
        n = x.shape[0]
        self.x = x
        self.segs = self._segments(n)
        self.q = x @ p["Wq"]  # (N, C) @ (C, H*D) -> (N, H*D)
        self.k = x @ p["Wk"]  # (N, C) @ (C, H*D) -> (N, H*D)
        self.v = x @ p["Wv"]  # (N, C) @ (C, H*D) -> (N, H*D)
        self.o = np.zeros_like(self.q)  # (N, H*D): gap rows read nothing
        # The (H, L, L) weights are kept for backward only in training: over a whole data set
        # their sum of L^2 would dwarf every other array; backward recomputes them when absent.
        self.attn: list[np.ndarray] | None = [] if train else None
        for a0, a1 in self.segs:
            a = attend(self.q[a0:a1], self.k[a0:a1], self.v[a0:a1], self.h, self.d, self.scale,
                       self._bias.get(a1 - a0, self.q.dtype), self.o[a0:a1])  # (H, L, L); o (L, H*D)
            if self.attn is not None:
                self.attn.append(a)
        y = self.o @ p["Wo"]  # (N, H*D) @ (H*D, C) -> (N, C); zero on gap rows
        return y + x if self.residual else y

    def backward(self, dout):
        p = self.params
        self.grads["Wo"] = self.o.T @ dout  # (H*D, N) @ (N, C) -> (H*D, C)
        do = dout @ p["Wo"].T  # (N, C) @ (C, H*D) -> (N, H*D)
        dq, dk, dv = np.zeros_like(self.q), np.zeros_like(self.k), np.zeros_like(self.v)  # (N, H*D)
        for i, (a0, a1) in enumerate(self.segs):
            q, k, v = (self._heads(m[a0:a1]) for m in (self.q, self.k, self.v))  # (H, L, D) each
            a = self.attn[i] if self.attn is not None else self._attend(q, k)  # (H, L, L)
            do_h = self._heads(do[a0:a1])  # (H, L, D)
            dv_h = a.transpose(0, 2, 1) @ do_h  # (H, L, L) @ (H, L, D) -> (H, L, D)
            da = do_h @ v.transpose(0, 2, 1)  # (H, L, D) @ (H, D, L) -> (H, L, L)
            # Softmax Jacobian row by row: ds_ij = a_ij (da_ij - sum_j' a_ij' da_ij'); the bias is constant.
            ds = a * (da - (da * a).sum(axis=-1, keepdims=True))  # (H, L, L)
            ds *= self.scale
            dq_h = ds @ k  # (H, L, L) @ (H, L, D) -> (H, L, D)
            dk_h = ds.transpose(0, 2, 1) @ q  # (H, L, L) @ (H, L, D) -> (H, L, D)
            for full, part in ((dq, dq_h), (dk, dk_h), (dv, dv_h)):
                full[a0:a1] = part.transpose(1, 0, 2).reshape(a1 - a0, -1)  # (H, L, D) -> (L, H*D)
        x = self.x
        self.grads["Wq"] = x.T @ dq  # (C, N) @ (N, H*D) -> (C, H*D)
        self.grads["Wk"] = x.T @ dk  # (C, N) @ (N, H*D) -> (C, H*D)
        self.grads["Wv"] = x.T @ dv  # (C, N) @ (N, H*D) -> (C, H*D)
        dx = dq @ p["Wq"].T + dk @ p["Wk"].T + dv @ p["Wv"].T  # 3 x (N, H*D) @ (H*D, C) -> (N, C)
        return dx + dout if self.residual else dx
