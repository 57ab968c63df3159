"""The UniRep mLSTM forward pass (Krause et al. 2016's multiplicative LSTM, as Alley et al. 2019 trained it),
in NumPy, for inference only: many chains of any lengths, left to right.

Per step, for a cell with weight-normalised matrices (sspred.unirep.weights.Cell):
    m = (x Wmx) * (h Wmh);  z = x Wx + m Wh + b;  i, f, o, u = split(z, 4)
    c = sigmoid(f) c + sigmoid(i) tanh(u);  h = sigmoid(o) tanh(c)
A chain is read as a start token and its residues; the state after residue i is residue i's feature.

Where the time goes: 36 MFLOP a residue at 1900 units, nearly all in the two recurrent products h Wmh and
m Wh, which are matrix-vector products for one chain and matrix products only when many chains step at once.
So chains run in a *running batch* of slots: every slot steps one chain, and a slot whose chain ends takes the
next chain at once (its state reset to zero), so the products keep their rows however the lengths vary and no
step is spent on padding. The first cell reads tokens, so its input products (x Wmx, x Wx + b) are rows of two
tables made once per call; later cells (the 64- and 256-unit models have four) make theirs in one product per
step. Every step works in buffers made once (``out=`` and in-place gates), because fresh (B, 4H) arrays cost
their page faults again at every step.

Threads: each worker thread runs its own running batch with one BLAS thread, taking chains from a shared
queue. Workers never wait on each other within a step; OpenBLAS's own threads do, spinning, and beside busy
processes that made a 10,000-residue chain 11x slower (one BLAS thread: 2.9x, a fair share being about 3x).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from sspred.engines.numpy.conv_infer import PREDICT_THREADS, _blas

#: Chains stepped at once by one worker. One-thread float32 products of (B, 1900) @ (1900, 7600) gain little
#: past 128 rows, and the buffers stay small (128 x 9500 floats, 5 MB, per buffer).
SLOTS = 128
#: Worker threads: one per CPU this process may use (at most 8), each with one BLAS thread.
WORKERS = PREDICT_THREADS


def sigmoid(x: np.ndarray) -> np.ndarray:
    # The reference clips at -88, where exp(88) still fits float32, so no overflow warning and equal values.
    return 1.0 / (1.0 + np.exp(-np.maximum(x, -88.0)))


def _sigmoid_(x: np.ndarray) -> None:
    """``sigmoid`` in place, the same operations in the same order (so the same rounding)."""
    np.maximum(x, -88.0, out=x)
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)


class _Tables:
    """A cell's matrices arranged for the running batch: the input side as one (in, 5H) matrix [Wmx | Wx],
    or for the first cell, whose input is a token, as a (tokens, 5H) table [x Wmx | x Wx + b] per token."""

    def __init__(self, cell, embedding: np.ndarray | None):
        self.units = int(cell.wmh.shape[0])
        self.wmh, self.wh = cell.wmh, cell.wh  # (H, H), (H, 4H)
        self.b = cell.b  # (4H,)
        if embedding is not None:
            xm = embedding @ cell.wmx  # (V, 10) @ (10, H) -> (V, H)
            xw = embedding @ cell.wx + cell.b  # (V, 10) @ (10, 4H) -> (V, 4H)
            self.table: np.ndarray | None = np.ascontiguousarray(np.concatenate([xm, xw], axis=1), np.float32)
            self.wxm: np.ndarray | None = None
        else:
            self.table = None
            self.wxm = np.ascontiguousarray(np.concatenate([cell.wmx, cell.wx], axis=1))  # (in, 5H)


class _Batch:
    """One worker's running batch: per cell, the state (h, c) of each slot and the step's buffers."""

    def __init__(self, tables: list[_Tables], slots: int):
        self.h = [np.zeros((slots, t.units), np.float32) for t in tables]
        self.c = [np.zeros((slots, t.units), np.float32) for t in tables]
        self.xin = [np.empty((slots, 5 * t.units), np.float32) for t in tables]  # [x Wmx | x Wx + b]
        self.m = [np.empty((slots, t.units), np.float32) for t in tables]
        self.z = [np.empty((slots, 4 * t.units), np.float32) for t in tables]
        self.tok = np.empty(slots, np.int64)
        self.row = np.empty(slots, np.int64)

    def reset(self, slot: int) -> None:
        for h, c in zip(self.h, self.c):
            h[slot] = 0.0
            c[slot] = 0.0

    def move(self, src: int, dst: int) -> None:
        for h, c in zip(self.h, self.c):
            h[dst] = h[src]
            c[dst] = c[src]

    def step(self, tables: list[_Tables], n: int, views: list[np.ndarray | None]) -> None:
        """One step of every cell for slots [0, n), whose tokens are in ``tok``; each wanted cell's new
        states go to rows ``row`` of its view of the output."""
        x: np.ndarray | None = None
        for k, t in enumerate(tables):
            units = t.units
            xin, m, z = self.xin[k][:n], self.m[k][:n], self.z[k][:n]
            h, c = self.h[k][:n], self.c[k][:n]
            if t.table is not None:
                np.take(t.table, self.tok[:n], axis=0, out=xin, mode="clip")  # (n,) -> (n, 5H)
            else:
                assert x is not None and t.wxm is not None  # a later cell reads the one before's new states
                np.matmul(x, t.wxm, out=xin)  # (n, in) @ (in, 5H) -> (n, 5H)
                xin[:, units:] += t.b
            np.matmul(h, t.wmh, out=m)  # (n, H) @ (H, H) -> (n, H)
            m *= xin[:, :units]
            np.matmul(m, t.wh, out=z)  # (n, H) @ (H, 4H) -> (n, 4H)
            z += xin[:, units:]
            _sigmoid_(z[:, :3 * units])  # i, f, o
            u = z[:, 3 * units:]
            np.tanh(u, out=u)
            i, f, o = z[:, :units], z[:, units:2 * units], z[:, 2 * units:3 * units]
            c *= f
            i *= u
            c += i
            np.tanh(c, out=h)
            h *= o
            view = views[k]
            if view is not None:
                view[self.row[:n]] = h
            x = h


def mlstm_rows(embedding: np.ndarray, cells: Sequence, chains: Sequence[np.ndarray], rows: Sequence[np.ndarray],
               out: np.ndarray, all_cells: bool = False, slots: int = SLOTS, workers: int | None = None) -> None:
    """Run chains through the cells and write each step's state into a row of ``out``.

    Parameters
    ----------
    embedding : (V, 10) float32
        The token embedding.
    cells : sequence of sspred.unirep.weights.Cell
        The cells in order; each reads the states of the one before.
    chains : sequence of (T_k,) int arrays
        UniRep tokens of each chain (the start token first), in the order they are taken: longest first
        keeps the last steps' batches full.
    rows : sequence of (T_k,) int arrays
        The row of ``out`` that gets chain k's state after step s; -1 (``out``'s last row, which is then
        scratch) for a step whose state is not wanted.
    out : (N, width) float array
        Written in place: the last cell's states (width H), or with ``all_cells`` every cell's side by side
        (width n_cells * H). float16 rounds them.
    all_cells : bool
        Every cell's states, not only the last's.
    slots : int
        Chains stepped at once by one worker.
    workers : int or None
        Worker threads (None: ``WORKERS``, at most one per chain).
    """
    tables = [_Tables(cell, embedding if k == 0 else None) for k, cell in enumerate(cells)]
    lengths = np.array([len(c) for c in chains], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    flat_tok = np.concatenate([np.asarray(c, np.int64) for c in chains] + [np.zeros(0, np.int64)])
    flat_row = np.concatenate([np.asarray(r, np.int64) for r in rows] + [np.zeros(0, np.int64)])
    if flat_row.size != flat_tok.size:
        raise ValueError("rows must give one row per step of each chain")
    views: list[np.ndarray | None] = []
    offset = 0
    for t in tables:
        if all_cells or t is tables[-1]:
            views.append(out[:, offset:offset + t.units])
            offset += t.units
        else:
            views.append(None)
    queue = iter(k for k in range(len(chains)) if lengths[k] > 0)
    lock = threading.Lock()

    def take() -> int | None:
        with lock:
            return next(queue, None)

    def work() -> None:
        batch = _Batch(tables, slots)
        pos = np.zeros(slots, np.int64)  # the flat index of each slot's next step
        end = np.zeros(slots, np.int64)
        n = 0
        while n < slots:
            k = take()
            if k is None:
                break
            pos[n], end[n] = starts[k], starts[k + 1]
            n += 1
        while n:
            run = int((end[:n] - pos[:n]).min())  # steps until the first slot's chain ends
            for _ in range(run):
                np.take(flat_tok, pos[:n], out=batch.tok[:n])
                np.take(flat_row, pos[:n], out=batch.row[:n])
                batch.step(tables, n, views)
                pos[:n] += 1
            for s in np.flatnonzero(pos[:n] == end[:n])[::-1]:
                k = take()
                if k is not None:
                    pos[s], end[s] = starts[k], starts[k + 1]
                    batch.reset(s)
                else:
                    n -= 1
                    if s != n:
                        pos[s], end[s] = pos[n], end[n]
                        batch.move(n, s)
                    batch.reset(n)

    n_workers = max(1, min(workers or WORKERS, int((lengths > 0).sum())))
    with _blas().limit(limits=1, user_api="blas"):
        if n_workers == 1:
            work()
        else:
            errors: list[BaseException] = []

            def guarded() -> None:
                try:
                    work()
                except BaseException as exc:  # re-raised in the caller's thread
                    errors.append(exc)

            threads = [threading.Thread(target=guarded, name=f"sspred-mlstm-{i}") for i in range(n_workers)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            if errors:
                raise errors[0]


def mlstm_states(embedding: np.ndarray, cells, tokens: np.ndarray, all_cells: bool = False, **kw) -> np.ndarray:
    """States of every step: tokens (B, T) UniRep codes (start token first) -> (B, T, H), or with
    ``all_cells`` every cell's states side by side, (B, T, n_cells * H). ``kw``: ``slots`` and ``workers``
    of ``mlstm_rows``."""
    batch, steps = tokens.shape
    width = sum(int(c.wmh.shape[0]) for c in cells) if all_cells else int(cells[-1].wmh.shape[0])
    out = np.empty((batch * steps + 1, width), np.float32)  # the last row: mlstm_rows's scratch
    mlstm_rows(embedding, cells, list(tokens), [np.arange(b * steps, (b + 1) * steps) for b in range(batch)], out,
               all_cells, **kw)
    return out[:-1].reshape(batch, steps, width)
