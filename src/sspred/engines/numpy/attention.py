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

Memory is linear in the chain: the (H, L, L) scores are computed in blocks of query rows (engines.spec
.query_rows keeps each block's (H, rows, L) under ATTENTION_SCORES elements), and ALiBi's bias comes from
one (H, 2L - 1) line of -m_h |t| read as a Toeplitz view. A row's weights depend on its own scores alone,
so the blocks give the unblocked formula's numbers; every ordinary chain is one block.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np

from sspred.engines.numpy.base import Layer
from sspred.engines.spec import alibi_slopes, attention_dims, attention_init, query_rows, segments


def alibi_line(slopes: np.ndarray, n: int, dtype) -> np.ndarray:
    """(H, 2L - 1): -m_h |t| for t = -(L - 1) .. L - 1, from ``slopes`` (H,), for a chain of ``n`` rows: every
    bias of the chain's (H, L, L) in linear memory (alibi_rows reads a block of it)."""
    dist = np.abs(np.arange(-(n - 1), n))  # (2L - 1,)
    return (-slopes[:, None] * dist[None]).astype(dtype)  # (H, 1) * (1, 2L - 1) -> (H, 2L - 1)


def alibi_rows(line: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """(H, r1 - r0, L) read-only view of ``line`` (alibi_line, C-contiguous): -m_h |i - j| for query rows i in
    [r0, r1) and all L key rows j. Entry (h, i, j) is line[h, (L - 1) + j - (r0 + i)], so each row starts one
    element left of the row before: a Toeplitz matrix as a strided view, nothing copied."""
    h, width = line.shape
    n = (width + 1) // 2
    item = line.strides[1]
    return np.lib.stride_tricks.as_strided(line[:, n - 1 - r0:], shape=(h, r1 - r0, n),
                                           strides=(line.strides[0], -item, item), writeable=False)


def blocks(n: int, heads: int, rows: int | None = None) -> list[tuple[int, int]]:
    """[(r0, r1)] query-row blocks of a chain of ``n`` rows: ``rows`` each (None: engines.spec.query_rows)."""
    step = rows or query_rows(n, heads)
    return [(r0, min(r0 + step, n)) for r0 in range(0, n, step)]


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
    """A (H, B, L) from B query rows (H, B, D) and a chain's keys (H, L, D); ``bias`` (H, B, L) is ALiBi's,
    or None."""
    # Scaling q (B*D entries) rather than the scores (B*L) saves a pass over the largest array.
    s = (q * q.dtype.type(scale)) @ k.transpose(0, 2, 1)  # (H, B, D) @ (H, D, L) -> (H, B, L)
    if bias is not None:
        s += bias  # (H, B, L)
    return softmax_(s)  # over j, the row read


def block_weights(q: np.ndarray, k: np.ndarray, scale: float, line: np.ndarray | None, r0: int,
                  r1: int) -> np.ndarray:
    """A (H, r1 - r0, L) of query rows r0:r1 from a chain's queries and keys (H, L, D); ``line`` is the
    chain's alibi_line, or None."""
    return attention_weights(q[:, r0:r1], k, scale, None if line is None else alibi_rows(line, r0, r1))


def attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, heads: int, dim: int, scale: float,
           slopes: np.ndarray | None, out: np.ndarray, rows: int | None = None,
           keep: list[np.ndarray] | None = None, pool: Executor | None = None) -> None:
    """One chain's attention, block by block of query rows.

    The one home of the forward formulas, for the layer below and for the buffered prediction path
    (conv_infer.ConvInference).

    Parameters
    ----------
    q, k, v : ndarray
        (L, H*D) queries, keys and values of one chain.
    heads, dim : int
        H and D.
    scale : float
        Multiplies the dot products (1 / sqrt(D)).
    slopes : ndarray or None
        (H,) ALiBi slopes; None: no position bias.
    out : ndarray
        (L, H*D), filled with [A_1 V_1, ..., A_H V_H].
    rows : int or None
        Query rows per block; None: engines.spec.query_rows, which bounds each block's scores.
    keep : list or None
        When given, each block's weights A (H, rows, L) are appended to it, in row order (for backward).
    pool : Executor or None
        Runs the blocks of a chain of several blocks at once (NumPy's products and ufuncs release the GIL);
        None: one after another. Each block writes its own rows of ``out``.
    """
    n = q.shape[0]
    qh, kh, vh = (split_heads(m, heads, dim) for m in (q, k, v))  # (H, L, D) each
    line = None if slopes is None else alibi_line(slopes, n, q.dtype)  # (H, 2L - 1)

    def run(span: tuple[int, int]) -> np.ndarray:
        r0, r1 = span
        a = block_weights(qh, kh, scale, line, r0, r1)  # (H, B, L)
        o = a @ vh  # (H, B, L) @ (H, L, D) -> (H, B, D)
        out[r0:r1] = o.transpose(1, 0, 2).reshape(r1 - r0, -1)  # (H, B, D) -> (B, H, D) -> (B, H*D)
        return a

    spans = blocks(n, heads, rows)
    weights = map(run, spans) if pool is None or len(spans) == 1 else pool.map(run, spans)
    for a in weights:  # drives the lazy map; a block's weights are dropped here unless kept
        if keep is not None:
            keep.append(a)


class ChainAttention(Layer):
    """Parameters: Wq, Wk, Wv (in, heads*dim), column block h belonging to head h, and Wo (heads*dim, in)."""

    def __init__(self, spec: dict):
        super().__init__(spec)
        self.c, self.h, self.d, self.residual, self.alibi = attention_dims(spec)
        self.scale = 1.0 / np.sqrt(self.d)  # the modern Hopfield beta
        self.slopes = alibi_slopes(self.h) if self.alibi else None  # (H,), or None: no bias
        #: (N,) bool: which rows are residues; None treats every row as one chain.
        self.valid: np.ndarray | None = None
        #: Query rows per attention block; None: engines.spec.query_rows (bounded scores per block).
        self.block: int | None = None

    @staticmethod
    def param_shapes(spec):
        c, h, d, _, _ = attention_dims(spec)
        return {"Wq": (c, h * d), "Wk": (c, h * d), "Wv": (c, h * d), "Wo": (h * d, c)}

    def init(self, rng, dtype):
        self.params, _ = attention_init(self.spec, rng, dtype)

    def _heads(self, m: np.ndarray) -> np.ndarray:
        return split_heads(m, self.h, self.d)  # (L, H*D) -> (H, L, D)

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
        # Each chain's weight blocks, (H, B, L) each, are kept for backward only in training, where chains
        # are short: over a whole data set their sum of L^2 would dwarf every other array, and a long chain's
        # would not fit. Backward recomputes them block by block when absent.
        self.attn: list[list[np.ndarray]] | None = [] if train else None
        for a0, a1 in self.segs:
            keep: list[np.ndarray] | None = [] if self.attn is not None else None
            attend(self.q[a0:a1], self.k[a0:a1], self.v[a0:a1], self.h, self.d, self.scale, self.slopes,
                   self.o[a0:a1], self.block, keep)  # o (L, H*D)
            if self.attn is not None and keep is not None:
                self.attn.append(keep)
        y = self.o @ p["Wo"]  # (N, H*D) @ (H*D, C) -> (N, C); zero on gap rows
        return y + x if self.residual else y

    def backward(self, dout):
        p = self.params
        self.grads["Wo"] = self.o.T @ dout  # (H*D, N) @ (N, C) -> (H*D, C)
        do = dout @ p["Wo"].T  # (N, C) @ (C, H*D) -> (N, H*D)
        dq, dk, dv = np.zeros_like(self.q), np.zeros_like(self.k), np.zeros_like(self.v)  # (N, H*D)
        for i, (a0, a1) in enumerate(self.segs):
            q, k, v = (self._heads(m[a0:a1]) for m in (self.q, self.k, self.v))  # (H, L, D) each
            do_h = self._heads(do[a0:a1])  # (H, L, D)
            line = None if self.slopes is None else alibi_line(self.slopes, a1 - a0, q.dtype)  # (H, 2L - 1)
            dq_h, dk_h, dv_h = np.empty_like(q), np.zeros_like(k), np.zeros_like(v)  # (H, L, D) each
            # Row block by row block: a block's weights, and so its scores' gradient, involve its query rows
            # alone; keys and values gather a sum over the blocks.
            for b, (r0, r1) in enumerate(blocks(a1 - a0, self.h, self.block)):
                a = (self.attn[i][b] if self.attn is not None
                     else block_weights(q, k, self.scale, line, r0, r1))  # (H, B, L)
                do_b = do_h[:, r0:r1]  # (H, B, D)
                dv_h += a.transpose(0, 2, 1) @ do_b  # (H, L, B) @ (H, B, D) -> (H, L, D)
                da = do_b @ v.transpose(0, 2, 1)  # (H, B, D) @ (H, D, L) -> (H, B, L)
                # Softmax Jacobian row by row: ds_ij = a_ij (da_ij - sum_j' a_ij' da_ij'); the bias is constant.
                ds = a * (da - (da * a).sum(axis=-1, keepdims=True))  # (H, B, L)
                ds *= self.scale
                dq_h[:, r0:r1] = ds @ k  # (H, B, L) @ (H, L, D) -> (H, B, D)
                dk_h += ds.transpose(0, 2, 1) @ q[:, r0:r1]  # (H, L, B) @ (H, B, D) -> (H, L, D)
            for full, part in ((dq, dq_h), (dk, dk_h), (dv, dv_h)):
                full[a0:a1] = part.transpose(1, 0, 2).reshape(a1 - a0, -1)  # (H, L, D) -> (L, H*D)
        x = self.x
        self.grads["Wq"] = x.T @ dq  # (C, N) @ (N, H*D) -> (C, H*D)
        self.grads["Wk"] = x.T @ dk  # (C, N) @ (N, H*D) -> (C, H*D)
        self.grads["Wv"] = x.T @ dv  # (C, N) @ (N, H*D) -> (C, H*D)
        dx = dq @ p["Wq"].T + dk @ p["Wk"].T + dv @ p["Wv"].T  # 3 x (N, H*D) @ (H*D, C) -> (N, C)
        return dx + dout if self.residual else dx
