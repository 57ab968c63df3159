"""Prediction with a conv network over whole chains: many chains per pass, on several threads.

``predict_conv_chains`` lays chains out (sspred.layout), cuts long ones into pieces with enough
context, and runs each pass either on ``ConvInference`` (below) or, for layer lists it does not
cover, through the first layer in table form and the training layers after it.

ConvInference runs a conv stack (conv, relu, dropout, linear and chain_attention layers) in reused buffers.

The training layers (conv.py) allocate fresh arrays at every step. At prediction time those
allocations, not the arithmetic, set the pace: a fresh (32k, 64) float32 result costs its page
faults again on every call, and measured here made one (N, 64) @ (64, 64) product 5x slower than
the same product written into an existing array. So this path keeps two activation buffers per
thread, each with zero margins as wide as the widest conv reads, and writes every product into
them with ``out=``. The arithmetic is that of the layers; tests/test_conv.py holds the two equal.
"""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import numpy as np
from threadpoolctl import ThreadpoolController

from sspred.alphabet import ENCODING, N_UNITS
from sspred.engines.numpy.activations import softmax_heads
from sspred.engines.numpy.attention import attend
from sspred.engines.numpy.conv import split_taps
from sspred.engines.spec import (alibi_slopes, attention_dims, context, conv_dims, gap, reads_whole_chain, segments,
                                 valid_rows)
from sspred.features import pad
from sspred.layout import Layout, group_by_rows, lay_out

#: Rows (residues and gaps) per forward pass at prediction. Each layer's (rows, channels) activations then
#: stay in cache: 8,192 gave 297k residues/s on one core against 238k at 32,768 (and a quarter of the memory).
PREDICT_ROWS = 8192
#: Threads that run forward passes at once: the CPUs this process may use, at most 8.
PREDICT_THREADS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1), 8)

#: Layer types this path runs; a layer list with any other falls back to the training layers.
SUPPORTED = {"conv", "relu", "dropout", "linear", "chain_attention"}


class NoBufferedPath(Exception):
    """A conv network this buffered path cannot run: control flow, not an error of a user's. ``inference`` and
    ``paths`` catch it and run the training layers instead, so it never leaves the engine and stays out of
    sspred's error family."""


def one_hot_tables(taps: list[np.ndarray]) -> list[np.ndarray]:
    """The taps of a conv over one-hot residues as (symbols, C_out) tables: row s of table j is what
    symbol s at kernel position j adds, so the layer is ``kernel`` gathers, not products. Taps over
    one-hot and extra features (21 + D, C_out) give the tables of their one-hot rows."""
    return [ENCODING.astype(t.dtype) @ t[:N_UNITS] for t in taps]  # (27, 21) @ (21, C) -> (27, C)


def add_feature_taps(y: np.ndarray, extra: np.ndarray, taps: list[np.ndarray], half: int, d: int,
                     scratch: np.ndarray | None = None) -> None:
    """Add what a first conv's taps over extra features (rows 21: of each tap) make of ``extra`` (n, D) to
    ``y`` (n, C); rows past both ends read zeros, as a lone chain's features do."""
    n = extra.shape[0]
    for j, t in enumerate(taps):
        # Tap j reads row r + j*d - half for output row r: only the rows whose read falls inside get a term.
        # (A zero-padded copy of ``extra`` did the same at the cost of one more (n, D) array: 62 MB a pass of
        # UniRep's 1900 channels.)
        shift = j * d - half
        lo, hi = max(0, -shift), min(n, n - shift)
        if lo >= hi:
            continue
        part = extra[lo + shift:hi + shift]  # (hi - lo, D): the rows tap j reads
        if scratch is None:
            y[lo:hi] += part @ t[N_UNITS:]  # (m, D) @ (D, C) -> (m, C)
        else:
            out = scratch[lo:hi]
            np.matmul(part, t[N_UNITS:], out=out)  # (m, D) @ (D, C) -> (m, C)
            y[lo:hi] += out


class ConvInference:
    """A conv network's forward pass for a chain layout: (N,) codes and (N,) valid -> (N, K) logits."""

    def __init__(self, specs: list[dict], params: dict[str, np.ndarray]):
        kinds = {s["type"] for s in specs}
        if not kinds <= SUPPORTED or specs[0]["type"] != "conv" or specs[0].get("mask", True):
            raise NoBufferedPath("not an unmasked one-hot conv followed by conv, relu, dropout, linear and "
                              "chain_attention layers")
        # (kind, arrays...) in order, dropout left out (the identity at prediction)
        self.steps: list[tuple[Any, ...]] = []
        width = 0
        for i, spec in enumerate(specs):
            w, b = params.get(f"layers.{i}.W"), params.get(f"layers.{i}.b")
            if spec["type"] == "conv":
                assert w is not None and b is not None  # conv and linear layers have W and b
                c_in, c_out, k, d, residual, masked = conv_dims(spec)
                taps = [np.ascontiguousarray(t, np.float32) for t in split_taps(w, c_in, k)]
                self.steps.append(("conv", taps, b.astype(np.float32), (k // 2) * d, d, residual, masked))
                width = max(width, c_out)
            elif spec["type"] == "linear":
                assert w is not None and b is not None
                self.steps.append(("linear", np.ascontiguousarray(w, np.float32), b.astype(np.float32)))
                width = max(width, spec["out"])
            elif spec["type"] == "relu":
                self.steps.append(("relu",))
            elif spec["type"] == "chain_attention":
                c, h, d, residual, alibi = attention_dims(spec)
                # Queries, keys and values in one (n, C) @ (C, 3*H*D) product instead of three.
                wqkv = np.ascontiguousarray(np.concatenate(
                    [params[f"layers.{i}.{k}"] for k in ("Wq", "Wk", "Wv")], axis=1), np.float32)  # (C, 3*H*D)
                wo = np.ascontiguousarray(params[f"layers.{i}.Wo"], np.float32)  # (H*D, C)
                self.steps.append(("attention", wqkv, wo, h, d, 1.0 / np.sqrt(d), alibi_slopes(h) if alibi else None,
                                   residual))
                width = max(width, c)
        self.tables = one_hot_tables(self.steps[0][1])  # the first conv reads one-hot codes
        #: Input channels past one-hot (a language model's states), read by the first conv's other tap rows.
        self.n_extra = int(self.steps[0][1][0].shape[0]) - N_UNITS
        self.margin = max(s[3] for s in self.steps if s[0] == "conv")
        self.width = width
        self.local = threading.local()
        #: Query rows per attention block; None: engines.spec.query_rows (bounded scores per block).
        self.block: int | None = None

    def _buffers(self, n: int) -> list[np.ndarray]:
        """Two (n + 2 margin, width) activation buffers with zero margins, and one (n, width) scratch."""
        have = getattr(self.local, "buffers", None)
        if have is None or have[0].shape[0] < n + 2 * self.margin:
            rows = n + 2 * self.margin
            have = [np.zeros((rows, self.width), np.float32), np.zeros((rows, self.width), np.float32),
                    np.empty((n, self.width), np.float32)]  # the scratch is sliced to each call's n
            self.local.buffers = have
        return have

    def _attention_scratch(self, n: int, hd: int) -> tuple[np.ndarray, np.ndarray]:
        """This thread's (n, 3*H*D) queries-keys-values and (n, H*D) outputs, grown as needed."""
        have = getattr(self.local, "attention", None)
        if have is None or have[0].shape[0] < n or have[1].shape[1] < hd:
            rows = max(n, 0 if have is None else have[0].shape[0])
            cols = max(hd, 0 if have is None else have[1].shape[1])
            have = (np.empty((rows, 3 * cols), np.float32), np.empty((rows, cols), np.float32))
            self.local.attention = have
        return have[0][:n, :3 * hd], have[1][:n, :hd]

    def logits(self, codes: np.ndarray, valid: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        """(N,) codes, (N,) valid and the layout's (N, D) extra features (None without) -> (N, K) logits."""
        if (extra.shape[1] if extra is not None else 0) != self.n_extra:
            raise ValueError(f"the network reads {self.n_extra} feature channels beside one-hot, got "
                             f"{0 if extra is None else extra.shape[1]}")
        n, m = codes.size, self.margin
        a, b, scratch = self._buffers(n)
        scratch = scratch[:n]
        # Rows past n in a reused, larger buffer must read as zeros, as margins do.
        a[m + n:m + n + m] = 0
        b[m + n:m + n + m] = 0
        invalid = np.flatnonzero(~valid)
        chains = segments(valid) if any(s[0] == "attention" for s in self.steps) else []
        _, taps, bias, half, d, _, _ = self.steps[0]
        padded = pad(codes, 2 * half + 1)  # spacers past both ends, as the one-hot input has
        c = bias.size
        x = a[m:m + n, :c]
        x[...] = bias
        for j, table in enumerate(self.tables):
            # (n, C) gather; codes index a 27-row table, so "clip" never clips and spares take() its buffering
            np.take(table, padded[j * d:j * d + n], axis=0, out=scratch[:, :c], mode="clip")
            x += scratch[:, :c]
        if extra is not None:
            add_feature_taps(x, extra, taps, half, d, scratch[:, :c])
        src, dst = a, b
        for step in self.steps[1:]:
            kind = step[0]
            if kind == "relu":
                np.maximum(x, 0, out=x)  # activations.relu's values, in place: this path's point is no new arrays
            elif kind == "linear":
                _, w, bias = step
                out = scratch[:, :w.shape[1]]
                np.matmul(x, w, out=out)  # (n, C) @ (C, K) -> (n, K)
                out += bias
                x = out
            elif kind == "attention":
                # attention.ChainAttention.forward, per chain (run of valid rows), into this thread's buffers.
                _, wqkv, wo, h, d, scale, slopes, residual = step
                hd, c_out = wo.shape
                qkv, o = self._attention_scratch(n, hd)
                np.matmul(x, wqkv, out=qkv)  # (n, C) @ (C, 3*H*D) -> (n, 3*H*D)
                o[...] = 0  # gap rows read nothing
                for a0, a1 in chains:
                    attend(qkv[a0:a1, :hd], qkv[a0:a1, hd:2 * hd], qkv[a0:a1, 2 * hd:], h, d, scale, slopes,
                           o[a0:a1], self.block, pool=_block_pool())  # (L, H*D) each -> o (L, H*D)
                y = dst[m:m + n, :c_out]
                np.matmul(o, wo, out=y)  # (n, H*D) @ (H*D, C) -> (n, C)
                if residual:
                    y += x
                src, dst, x = dst, src, y
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


# ----------------------------------------------------------------------------------------------
# Chains through a conv network
# ----------------------------------------------------------------------------------------------

@functools.cache
def _pool() -> ThreadPoolExecutor:
    """One long-lived pool: its threads keep their inference buffers (ConvInference) from call to call,
    where a pool per call would allocate them again for every batch."""
    return ThreadPoolExecutor(max_workers=PREDICT_THREADS, thread_name_prefix="sspred-conv")


@functools.cache
def _block_pool() -> ThreadPoolExecutor:
    """The threads that share the attention blocks of one long chain (attention.attend). A pool of its own:
    a task of ``_pool`` waiting on blocks queued behind other tasks in the same pool could wait forever."""
    return ThreadPoolExecutor(max_workers=PREDICT_THREADS, thread_name_prefix="sspred-attention")


@functools.cache
def _blas() -> ThreadpoolController:
    """The loaded BLAS libraries, found once (finding them costs 0.3 ms; limiting them then costs 10 us)."""
    return ThreadpoolController()


def first_layer(net, codes: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """The first conv layer over one-hot codes, by table lookup (one_hot_tables), and over any ``extra``
    (N, D) features by products: (N,) codes -> (N, C_out), ``kernel`` gathers and adds instead of a
    (N, kernel*21) product."""
    layer = net.layers[0]
    w, b = layer.params["W"], layer.params["b"]
    n = codes.size
    padded = pad(codes, 2 * layer.half + 1)  # the spacer past both ends, as the one-hot input has
    y = np.broadcast_to(b, (n, b.size)).copy()
    taps = split_taps(w, layer.c_in, layer.k)
    for j, table in enumerate(one_hot_tables(taps)):
        y += table[padded[j * layer.d:j * layer.d + n]]
    if extra is not None:
        add_feature_taps(y, extra, taps, layer.half, layer.d)
    return y


def inference(net) -> ConvInference | None:
    """The buffered inference path of a conv network, or None where its layers have none."""
    try:
        return ConvInference(net.specs, net.params)
    except NoBufferedPath:
        return None


def forward_layout(net, layout: Layout, runner: ConvInference | None = None,
                   heads: tuple[slice, ...] | None = None) -> np.ndarray:
    """Probabilities of every row of a layout: (N, K), a softmax over each of ``heads``' columns (None: all).
    With a ``runner`` (``inference(net)``) the buffered path; else the first layer in table form and the rest
    as the NumPy engine's layers."""
    if runner is not None:
        return softmax_heads(runner.logits(layout.codes, layout.valid, layout.extra), heads)
    with valid_rows(net, layout.valid):
        x = first_layer(net, layout.codes, layout.extra)
        for layer in net.layers[1:]:
            x = layer.forward(x, False)
    return softmax_heads(x, heads)


def predict_conv_chains(net, chains: list[np.ndarray], max_rows: int = PREDICT_ROWS,
                        runner: ConvInference | None = None, heads: tuple[slice, ...] | None = None,
                        features: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """(L_i,) codes -> [(L_i, K)] probabilities from a conv network, many short chains per pass; with several
    ``heads`` (column slices), each head's columns are a distribution of their own. ``features``: each chain's
    (L_i, D) input channels beside one-hot, for a network that reads them (sspred.unirep).

    A chain longer than ``max_rows`` goes in pieces, each with ``context`` residues of its
    neighbours on both sides, so every kept output sees exactly what it would see in one pass; in a
    network that reads whole chains (chain attention) no context suffices, and a long chain goes whole.
    ``runner``: see ``forward_layout``. With a runner, passes run on PREDICT_THREADS threads, each with
    one BLAS thread: the products are small, and BLAS's own threads only contend
    (BENCHMARKS.md: 131k against 228k residues/s on one busy core).
    """
    g, ctx = gap(net.specs), context(net.specs)
    out: list[np.ndarray | None] = [None] * len(chains)
    # Each pass as [(chain index, first row taken, last row taken, first kept row, kept rows)]; its layout is
    # made only when a thread runs it, so at most PREDICT_THREADS layouts are alive. A layout copies its chains'
    # features with gap rows between them: made up front for a whole batch of UniRep input (1900 channels),
    # they were 2.3 times the batch's states again, and grew with the batch (BENCHMARKS.md, resource bounds).
    tasks: list[list[tuple[int, int, int, int, int]]] = []
    split_above = np.inf if reads_whole_chain(net.specs) else max_rows
    short = [i for i, c in enumerate(chains) if c.size <= split_above]
    # Gap rows cost memory and time like residues: on 12-residue records they are three quarters of the rows.
    for group in group_by_rows(np.array([chains[i].size + g for i in short], dtype=np.int64), max_rows):
        tasks.append([(i, 0, chains[i].size, 0, chains[i].size) for i in (short[k] for k in group)])
    pieces: dict[int, list[np.ndarray]] = {}
    for i, c in enumerate(chains):
        if c.size > split_above:
            pieces[i] = []
            for s in range(0, c.size, max_rows):
                e = min(s + max_rows, c.size)
                lo, hi = max(s - ctx, 0), min(e + ctx, c.size)
                tasks.append([(i, lo, hi, s - lo, e - s)])

    def run(task):
        extra = [features[i][lo:hi] for i, lo, hi, _, _ in task] if features is not None else None
        layout = lay_out([chains[i][lo:hi] for i, lo, hi, _, _ in task], g, extra=extra)
        probs = forward_layout(net, layout, runner, heads)
        # Copies, not views: a view of one chain's rows keeps the whole pass alive, gap rows and all (on
        # 12-residue records 44 rows of output per 12 kept), for as long as any head's prediction is held.
        return [p[first:first + n].copy() for p, (_, _, _, first, n) in zip(layout.split(probs), task)]

    # The layer-by-layer path keeps state in the network's layers (masks, caches): one thread only.
    workers = min(PREDICT_THREADS, len(tasks)) if runner is not None else 1
    with _blas().limit(limits=1, user_api="blas"):
        if workers == 1:
            results = [run(t) for t in tasks]
        else:
            results = list(_pool().map(run, tasks))
    for task, probs in zip(tasks, results):
        for (i, _, _, _, _), p in zip(task, probs):
            if i in pieces:
                pieces[i].append(p)
            else:
                out[i] = p
    for i, parts in pieces.items():
        out[i] = np.concatenate(parts)
    return cast("list[np.ndarray]", out)  # every chain's probabilities are in by now
