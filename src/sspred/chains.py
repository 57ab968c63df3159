"""Whole chains as network inputs, for the conv layers: chains end to end, with gaps between them.

A window network reads one window per residue (features.WindowIndex). A stack of conv layers
reads whole chains instead: several chains are laid in one array of rows with ``gap`` spacer rows
before, between and after them, and ``valid`` marks the residue rows. With ``gap`` at least the
widest layer's half-width, no residue ever reads a neighbouring chain, so a chain's outputs are the
same alone or in any batch (tests/test_conv.py holds this).
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

from sspred.alphabet import SPACER
from sspred.engines.numpy.conv import split_taps
from sspred.engines.numpy.conv_infer import ConvInference, Unsupported, one_hot_tables
from sspred.engines.numpy.losses import softmax
from sspred.engines.spec import conv_half, valid_rows
from sspred.features import pad

#: Rows (residues and gaps) per forward pass at prediction. Each layer's (rows, channels) activations then
#: stay in cache: 8,192 gave 297k residues/s on one core against 238k at 32,768 (and a quarter of the memory).
PREDICT_ROWS = 8192
#: Threads that run forward passes at once: the CPUs this process may use, at most 8.
PREDICT_THREADS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1), 8)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """One long-lived pool: its threads keep their inference buffers (ConvInference) from call to call,
    where a pool per call would allocate them again for every batch."""
    return ThreadPoolExecutor(max_workers=PREDICT_THREADS, thread_name_prefix="sspred-conv")


@functools.cache
def _blas() -> ThreadpoolController:
    """The loaded BLAS libraries, found once (finding them costs 0.3 ms; limiting them then costs 10 us)."""
    return ThreadpoolController()


def is_conv(specs: list[dict]) -> bool:
    """True for a layer list that reads whole chains (its first layer is a conv)."""
    return bool(specs) and specs[0]["type"] == "conv"


def gap(specs: list[dict]) -> int:
    """Spacer rows between chains: the widest half-width of any conv layer."""
    return max((conv_half(s) for s in specs if s["type"] == "conv"), default=0)


def context(specs: list[dict]) -> int:
    """Residues on each side that can change one output: the sum of the conv half-widths."""
    return sum(conv_half(s) for s in specs if s["type"] == "conv")


@dataclass
class Layout:
    """Chains end to end: ``codes`` (N,) uint8 with spacer gaps, ``valid`` (N,) bool, ``labels`` (N,)
    int64 (-1 on gaps and unscored residues), and each chain's first row in ``starts``."""

    codes: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    def split(self, rows: np.ndarray) -> list[np.ndarray]:
        """Per-chain slices of per-row outputs (N, ...) -> [(L_i, ...)]."""
        return [rows[s:s + n] for s, n in zip(self.starts, self.lengths)]


def lay_out(codes: list[np.ndarray], gap_rows: int, labels: list[np.ndarray] | None = None) -> Layout:
    lengths = np.array([c.size for c in codes], dtype=np.int64)
    starts = gap_rows + np.concatenate([[0], np.cumsum(lengths + gap_rows)[:-1]]).astype(np.int64)
    n = int(lengths.sum() + gap_rows * (len(codes) + 1))
    out = np.full(n, SPACER, dtype=np.uint8)
    valid = np.zeros(n, dtype=bool)
    y = np.full(n, -1, dtype=np.int64)
    for i, (s, c) in enumerate(zip(starts, codes)):
        out[s:s + c.size] = c
        valid[s:s + c.size] = True
        if labels is not None:
            y[s:s + c.size] = labels[i]
    return Layout(out, valid, y, starts, lengths)


def batches(lengths: np.ndarray, max_rows: int, order: np.ndarray | None = None) -> list[np.ndarray]:
    """Chain indices grouped in ``order`` so that each group holds at most ``max_rows`` residues
    (a longer chain goes alone)."""
    order = np.arange(lengths.size) if order is None else order
    groups, current, rows = [], [], 0
    for i in order:
        if current and rows + lengths[i] > max_rows:
            groups.append(np.array(current))
            current, rows = [], 0
        current.append(i)
        rows += int(lengths[i])
    if current:
        groups.append(np.array(current))
    return groups


def _first_layer(net, codes: np.ndarray) -> np.ndarray:
    """The first conv layer over one-hot codes, by table lookup (conv_infer.one_hot_tables):
    (N,) codes -> (N, C_out), ``kernel`` gathers and adds instead of a (N, kernel*21) product."""
    layer = net.layers[0]
    w, b = layer.params["W"], layer.params["b"]
    n = codes.size
    padded = pad(codes, 2 * layer.half + 1)  # the spacer past both ends, as the one-hot input has
    y = np.broadcast_to(b, (n, b.size)).copy()
    for j, table in enumerate(one_hot_tables(split_taps(w, layer.c_in, layer.k))):
        y += table[padded[j * layer.d:j * layer.d + n]]
    return y


def inference(net) -> ConvInference | None:
    """The buffered inference path of a conv network, or None where its layers have none."""
    try:
        return ConvInference(net.specs, net.params)
    except Unsupported:
        return None


def forward_layout(net, layout: Layout, runner: ConvInference | None = None) -> np.ndarray:
    """Probabilities of every row of a layout: (N, K). With a ``runner`` (``inference(net)``) the
    buffered path; else the first layer in table form and the rest as the NumPy engine's layers."""
    if runner is not None:
        return softmax(runner.logits(layout.codes, layout.valid))
    with valid_rows(net, layout.valid):
        x = _first_layer(net, layout.codes)
        for layer in net.layers[1:]:
            x = layer.forward(x, False)
    return softmax(x)


def predict_chains(net, chains: list[np.ndarray], max_rows: int = PREDICT_ROWS,
                   runner: ConvInference | None = None) -> list[np.ndarray]:
    """(L_i,) codes -> [(L_i, K)] probabilities from a conv network, many short chains per pass.

    A chain longer than ``max_rows`` goes in pieces, each with ``context`` residues of its
    neighbours on both sides, so every kept output sees exactly what it would see in one pass.
    ``runner``: see ``forward_layout``. With a runner, passes run on PREDICT_THREADS threads, each with
    one BLAS thread: the products are small, and BLAS's own threads only contend
    (BENCHMARKS.md: 131k against 228k residues/s on one busy core).
    """
    g, ctx = gap(net.specs), context(net.specs)
    out: list[np.ndarray | None] = [None] * len(chains)
    # (layout, [(chain index, first kept row, kept rows)]) for every pass
    tasks: list[tuple[Layout, list[tuple[int, int, int]]]] = []
    short = [i for i, c in enumerate(chains) if c.size <= max_rows]
    # Gap rows cost memory and time like residues: on 12-residue records they are three quarters of the rows.
    for group in batches(np.array([chains[i].size + g for i in short], dtype=np.int64), max_rows):
        idx = [short[k] for k in group]
        tasks.append((lay_out([chains[i] for i in idx], g), [(i, 0, chains[i].size) for i in idx]))
    pieces: dict[int, list[np.ndarray]] = {}
    for i, c in enumerate(chains):
        if c.size > max_rows:
            pieces[i] = []
            for s in range(0, c.size, max_rows):
                e = min(s + max_rows, c.size)
                lo, hi = max(s - ctx, 0), min(e + ctx, c.size)
                tasks.append((lay_out([c[lo:hi]], g), [(i, s - lo, e - s)]))

    def run(task):
        layout, keep = task
        return [p[first:first + n] for p, (_, first, n) in zip(layout.split(forward_layout(net, layout, runner)), keep)]

    # The layer-by-layer path keeps state in the network's layers (masks, caches): one thread only.
    workers = min(PREDICT_THREADS, len(tasks)) if runner is not None else 1
    with _blas().limit(limits=1, user_api="blas"):
        if workers == 1:
            results = [run(t) for t in tasks]
        else:
            results = list(_pool().map(run, tasks))
    for (_, keep), probs in zip(tasks, results):
        for (i, _, _), p in zip(keep, probs):
            if i in pieces:
                pieces[i].append(p)
            else:
                out[i] = p
    for i, parts in pieces.items():
        out[i] = np.concatenate(parts)
    return out


class ChainIndex:
    """Labelled chains as training examples for a conv network: ``examples(rows)`` lays out the
    chains ``rows`` (the fit loop's batch size is then chains per step).

    With ``teacher`` (each chain's (L, K) probabilities from another model) the targets are
    distributions, ``teacher_weight`` of the teacher's and the rest the one-hot label: distillation
    (Hinton et al. 2015) at temperature 1.
    """

    def __init__(self, chains, specs: list[dict], states: str = "3", teacher: list[np.ndarray] | None = None,
                 teacher_weight: float = 0.5):
        self.gap = gap(specs)
        keep = [i for i, c in enumerate(chains) if (c.labels(states) >= 0).any()]
        # A chain with no scored residue would give a batch of its own nothing to learn from (a NaN mean).
        chains = [chains[i] for i in keep]
        self.codes = [c.codes for c in chains]
        self.labels = [c.labels(states) for c in chains]
        self.lengths = np.array([c.size for c in self.codes], dtype=np.int64)
        self.targets = None
        if teacher is not None:
            if not 0 <= teacher_weight <= 1:
                raise ValueError(f"teacher weight must lie in [0, 1], got {teacher_weight}")
            self.targets = []
            for i, y in zip(keep, self.labels):
                probs = np.asarray(teacher[i], dtype=np.float32)
                if probs.shape[0] != y.size:
                    raise ValueError(f"teacher probabilities for chain {i} have {probs.shape[0]} rows, not {y.size}")
                scored = y >= 0
                onehot = np.eye(probs.shape[1], dtype=np.float32)[y[scored]]  # (scored, K)
                self.targets.append(teacher_weight * probs[scored] + (1 - teacher_weight) * onehot)

    def __len__(self) -> int:
        return len(self.codes)

    def labelled(self, rows) -> tuple[Layout, np.ndarray]:
        """The layout of chains ``rows`` and the labels of its scored rows, in row order."""
        layout = lay_out([self.codes[i] for i in rows], self.gap, [self.labels[i] for i in rows])
        return layout, layout.labels[layout.labels >= 0]

    def examples(self, rows: np.ndarray) -> tuple[Layout, np.ndarray]:
        """What a learner steps on: ``labelled(rows)``, or with a teacher the (n, K) distributions."""
        layout, labels = self.labelled(rows)
        if self.targets is not None:
            return layout, np.concatenate([self.targets[i] for i in rows])
        return layout, labels

    def eval_batches(self, size: int):
        """(layout, labels) over every chain in order, about ``size`` residues at a time (labels, not a teacher's)."""
        for group in batches(self.lengths, size):
            yield self.labelled(group)
