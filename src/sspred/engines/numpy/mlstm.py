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

A batch's products are shared out only when workers would otherwise stand idle: with fewer chains than
workers (one long chain), and once the queue is empty for a worker whose batch outlasts another's. Then the
units of each cell are cut into blocks (``BLOCKS`` a worker) that the workers take as they come free, and the
workers wait for each other twice a cell's step (``_Split``), with threading.Barrier, which sleeps rather
than spins. Beside busy processes a shared step waits for whichever worker the system runs least, so the
batch is stepped in rounds of ``CHECK`` steps, each timed, and shared only while sharing is the faster way.
"""

from __future__ import annotations

import functools
import itertools
import queue
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from sspred.engines.numpy.conv_infer import PREDICT_THREADS, _blas

#: Chains stepped at once by one worker. One-thread float32 products of (B, 1900) @ (1900, 7600) gain little
#: past 128 rows, and the buffers stay small (128 x 9500 floats, 5 MB, per buffer).
SLOTS = 128
#: Worker threads: one per CPU this process may use (at most 8), each with one BLAS thread.
WORKERS = PREDICT_THREADS
#: The fewest units at which workers share one batch's products. A shared step waits twice a cell (about 20 us
#: each here); a 1900-unit step of one chain takes 2-3 ms, but the 256-unit cells' take tens of microseconds.
SPLIT_UNITS = 1024
#: Blocks of a shared batch's units per worker: a worker that the system runs less takes fewer of them.
BLOCKS = 2
#: Steps a worker runs between looks for idle workers to share its batch with, once the queue is empty, and
#: steps in a round of a shared batch, which is timed to choose between sharing and stepping alone.
CHECK = 32
#: Every PROBE-th round of a shared batch is stepped the way measured slower, to see whether it still is.
PROBE = 8


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



def _update_(z: np.ndarray, c: np.ndarray, h: np.ndarray) -> None:
    """The cell update from the gates' pre-activations ``z`` (n, 4w) = [i | f | o | u], in place on ``c`` and ``h``
    (n, w): c = sigmoid(f) c + sigmoid(i) tanh(u); h = sigmoid(o) tanh(c). The whole batch and each shared block
    of units run these same operations, so both round alike."""
    w = c.shape[1]
    _sigmoid_(z[:, :3 * w])  # i, f, o
    u = z[:, 3 * w:]
    np.tanh(u, out=u)
    i, f, o = z[:, :w], z[:, w:2 * w], z[:, 2 * w:3 * w]
    c *= f
    i *= u
    c += i
    np.tanh(c, out=h)
    h *= o

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
            _update_(z, c, h)
            view = views[k]
            if view is not None:
                view[self.row[:n]] = h
            x = h


class _Part:
    """One block of a cell in a shared batch: units [lo, hi) and the matrix columns that make them,
    the input side as [x Wmx | x Wx + b] and the gates in the order i, f, o, u, as for the whole cell."""

    def __init__(self, t: _Tables, lo: int, hi: int):
        units = t.units
        self.lo, self.hi = lo, hi
        gates = np.concatenate([np.arange(g * units + lo, g * units + hi) for g in range(4)])  # its columns of z
        cols = np.concatenate([np.arange(lo, hi), units + gates])  # its columns of [x Wmx | x Wx + b]
        self.wmh = t.wmh[:, lo:hi]  # (H, w): a view, which BLAS reads in place
        self.wh = np.ascontiguousarray(t.wh[:, gates])  # (H, 4w)
        self.table = None if t.table is None else np.ascontiguousarray(t.table[:, cols])  # (V, 5w)
        self.wxm = None if t.wxm is None else np.ascontiguousarray(t.wxm[:, cols])  # (in, 5w)
        self.b = np.ascontiguousarray(t.b[gates])  # (4w,)


class _Split:
    """A running batch whose products several workers share. Each cell's units are cut into blocks; a block
    is a share of m = (x Wmx) * (h Wmh), then a share of z = x Wx + m Wh + b and of the c, h update, and the
    workers take blocks as they come free, so a worker that the system runs less does less of the step.
    A cell's step waits twice: m must be whole before m Wh reads it, and h before the next product reads it.
    Each wait's action, run by one worker while the others wait, starts the next pass over the blocks; the
    last one also moves the batch on a step."""

    def __init__(self, run: _Run, parts: list[list[_Part]], batch: _Batch, n: int, pos: np.ndarray,
                 end: np.ndarray):
        """Take over a worker's batch: its slots [0, n), whose next steps are ``pos`` and last ``end`` (flat
        indices); the rest of its slots are filled from the queue."""
        # parts[k][b]: cell k, block b. The states (h, c), m and the tokens stay the batch's, so a round
        # stepped alone is the batch's own step; a block has its own [x Wmx | x Wx + b] and z.
        self.run, self.parts, self.tables, self.batch = run, parts, run.tables, batch
        self.pos, self.end, self.n, self.slots = pos, end, n, pos.size
        self.xin = [[np.empty((self.slots, 5 * (p.hi - p.lo)), np.float32) for p in ps] for ps in parts]
        self.z = [[np.empty((self.slots, 4 * (p.hi - p.lo)), np.float32) for p in ps] for ps in parts]
        self.lock = threading.Lock()
        self.taken = 0  # blocks taken in this pass
        self.whole = threading.Barrier(1)  # each shared round's, made by ``lead``
        self.stepped = threading.Barrier(1)
        self.orders: queue.SimpleQueue[int | None] = queue.SimpleQueue()  # a helper's next round of steps
        while self.n < self.slots:
            k = run.take()
            if k is None:
                break
            self.pos[self.n], self.end[self.n] = run.starts[k], run.starts[k + 1]
            batch.reset(self.n)
            self.n += 1
        self._gather()

    def _gather(self) -> None:
        n = self.n
        np.take(self.run.flat_tok, self.pos[:n], out=self.batch.tok[:n])
        np.take(self.run.flat_row, self.pos[:n], out=self.batch.row[:n])

    def _next_pass(self) -> None:
        self.taken = 0

    def _advance(self) -> None:
        self.taken = 0
        n = self.n
        self.pos[:n] += 1
        for s in np.flatnonzero(self.pos[:n] == self.end[:n])[::-1]:
            k = self.run.take()
            if k is not None:
                self.pos[s], self.end[s] = self.run.starts[k], self.run.starts[k + 1]
                self.batch.reset(s)
            else:
                n -= 1
                if s != n:
                    self.pos[s], self.end[s] = self.pos[n], self.end[n]
                    self.batch.move(n, s)
                self.batch.reset(n)
        self.n = n
        self._gather()

    def _blocks(self, k: int):
        """The blocks of cell k this worker takes in this pass, one at a time."""
        while True:
            with self.lock:
                b = self.taken
                self.taken += 1
            if b >= len(self.parts[k]):
                return
            yield b

    def lead(self, helpers: int) -> None:
        """Step the batch until it is empty, in rounds of ``CHECK`` steps, each shared with the ``helpers``
        (each running ``serve``) or stepped alone: shared while sharing is measured to be faster. Sharing
        gains only where the helpers' cores are free: beside busy processes a step shared two ways waits for
        whichever worker the system runs least, and can be slower than one worker alone."""
        seconds: dict[bool, float] = {}  # the last round's seconds a step, shared and alone
        rounds = 0
        try:
            while self.n:
                if len(seconds) < 2:
                    share = True not in seconds
                else:
                    share = seconds[True] < seconds[False]
                    if rounds % PROBE == 0:
                        share = not share  # a look at the other way, as the load may have changed
                start = time.perf_counter()
                if share:
                    self.whole = threading.Barrier(1 + helpers, action=self._next_pass)
                    self.stepped = threading.Barrier(1 + helpers, action=self._advance)
                    for _ in range(helpers):
                        self.orders.put(CHECK)
                    done = self.run_steps(CHECK)
                else:
                    done = self.run_alone(CHECK)
                seconds[share] = (time.perf_counter() - start) / done
                rounds += 1
        finally:
            for _ in range(helpers):
                self.orders.put(None)

    def serve(self) -> None:
        """A helper's part: a share of the steps of every round ``lead`` shares, until it says no more."""
        for steps in iter(self.orders.get, None):
            self.run_steps(steps)

    def run_alone(self, steps: int) -> int:
        """At most ``steps`` steps by this worker alone, as an unshared batch steps. Returns the steps run."""
        done = 0
        while done < steps and self.n:
            self.batch.step(self.tables, self.n, self.run.views)
            self._advance()
            done += 1
        return done

    def run_steps(self, steps: int) -> int:
        """This worker's share of at most ``steps`` steps (fewer if the batch empties); every worker of the
        round runs it with the same ``steps``. Returns the steps run."""
        try:
            done = 0
            while done < steps and self.n:  # n changes only in an action, while every worker waits
                self._step()
                done += 1
            return done
        except BaseException:
            self.whole.abort()  # the other workers leave their waits with BrokenBarrierError
            self.stepped.abort()
            raise

    def _step(self) -> None:
        n, batch, views = self.n, self.batch, self.run.views
        tok, row = batch.tok[:n], batch.row[:n]
        last = len(self.tables) - 1
        for k in range(len(self.tables)):
            h, m, c = batch.h[k][:n], batch.m[k][:n], batch.c[k][:n]
            for b in self._blocks(k):
                p, xin = self.parts[k][b], self.xin[k][b][:n]
                w = p.hi - p.lo
                if p.table is not None:
                    np.take(p.table, tok, axis=0, out=xin, mode="clip")  # (n,) -> (n, 5w)
                else:
                    assert p.wxm is not None  # a later cell reads the one before's new states
                    np.matmul(batch.h[k - 1][:n], p.wxm, out=xin)  # (n, in) @ (in, 5w) -> (n, 5w)
                    xin[:, w:] += p.b
                mb = m[:, p.lo:p.hi]
                np.matmul(h, p.wmh, out=mb)  # (n, H) @ (H, w) -> (n, w)
                mb *= xin[:, :w]
            self.whole.wait()  # m is whole, and no worker reads this cell's h again this step
            for b in self._blocks(k):
                p, xin, z = self.parts[k][b], self.xin[k][b][:n], self.z[k][b][:n]
                cb, hb = c[:, p.lo:p.hi], h[:, p.lo:p.hi]
                w = p.hi - p.lo
                np.matmul(m, p.wh, out=z)  # (n, H) @ (H, 4w) -> (n, 4w)
                z += xin[:, w:]
                _update_(z, cb, hb)
                view = views[k]
                if view is not None:
                    view[row, p.lo:p.hi] = hb
            (self.stepped if k == last else self.whole).wait()  # h is whole


class _Run:
    """One call's chains: the shared queue they are taken from, and the hand-over of a worker's batch to a
    batch shared with the workers that have nothing left to step."""

    def __init__(self, tables: list[_Tables], lengths: np.ndarray, flat_tok: np.ndarray, flat_row: np.ndarray,
                 views: list[np.ndarray | None], live: list[int], slots: int, workers: int, split: bool):
        self.tables, self.flat_tok, self.flat_row, self.views = tables, flat_tok, flat_row, views
        self.starts = np.concatenate([[0], np.cumsum(lengths)])
        self.slots, self.split = slots, split
        self.queue = iter(live)
        self.lock = threading.Lock()
        self.drained = False  # the queue has given its last chain
        self.failed = False  # a worker raised: the queue gives no more
        self.idle: list[queue.SimpleQueue] = []  # the inboxes of workers with nothing to step
        self.leading = workers  # workers still stepping a batch of their own
        self.blocks = BLOCKS * workers
        self._parts: list[list[_Part]] | None = None

    def take(self) -> int | None:
        with self.lock:
            k = None if self.failed else next(self.queue, None)
            if k is None:
                self.drained = True
            return k

    def split_batch(self, batch: _Batch, n: int, pos: np.ndarray, end: np.ndarray) -> _Split:
        """``batch`` (its slots [0, n) stepping, see ``_Split``) made ready to share."""
        with self.lock:
            if self._parts is None:  # the matrices' columns regrouped by block, once a call
                self._parts = [[_Part(t, int(lo), int(hi)) for lo, hi in
                                itertools.pairwise(np.linspace(0, t.units, min(self.blocks, t.units) + 1).round())]
                               for t in self.tables]
        return _Split(self, self._parts, batch, n, pos, end)

    def solo(self) -> None:
        """Step a running batch of this worker's own, refilled from the queue. Once the queue is empty, the
        batch goes to a batch shared with the workers then idle, if any (checked every ``CHECK`` steps)."""
        slots = self.slots
        batch = _Batch(self.tables, slots)
        pos = np.zeros(slots, np.int64)  # the flat index of each slot's next step
        end = np.zeros(slots, np.int64)
        n = 0
        while n < slots:
            k = self.take()
            if k is None:
                break
            pos[n], end[n] = self.starts[k], self.starts[k + 1]
            n += 1
        while n:
            run = int((end[:n] - pos[:n]).min())  # steps until the first slot's chain ends
            if self.split:
                run = min(run, CHECK)
            for _ in range(run):
                np.take(self.flat_tok, pos[:n], out=batch.tok[:n])
                np.take(self.flat_row, pos[:n], out=batch.row[:n])
                batch.step(self.tables, n, self.views)
                pos[:n] += 1
            for s in np.flatnonzero(pos[:n] == end[:n])[::-1]:
                k = self.take()
                if k is not None:
                    pos[s], end[s] = self.starts[k], self.starts[k + 1]
                    batch.reset(s)
                else:
                    n -= 1
                    if s != n:
                        pos[s], end[s] = pos[n], end[n]
                        batch.move(n, s)
                    batch.reset(n)
            if n and self.split and self.drained and self.idle:
                with self.lock:
                    helpers, self.idle = self.idle, []
                if helpers:
                    shared = self.split_batch(batch, n, pos, end)
                    for box in helpers:
                        box.put(shared.serve)
                    shared.lead(len(helpers))
                    return

    def work(self, inbox: queue.SimpleQueue) -> None:
        """A worker: its own batch, then a share of other workers' batches until no worker has one."""
        try:
            self.solo()
        finally:
            with self.lock:
                self.leading -= 1
                if not self.leading:
                    self._release()
        while True:
            with self.lock:
                if not self.leading:
                    return
                self.idle.append(inbox)
            job = inbox.get()
            if job is None:
                return
            job()

    def _release(self) -> None:
        """Tell the idle workers that no batch will want them (the lock held)."""
        for box in self.idle:
            box.put(None)
        self.idle = []

    def threads(self, targets: list[Callable[[], None]]) -> None:
        """Run each target on a thread of its own; re-raise the first error a target raised."""
        errors: list[BaseException] = []

        def guarded(target: Callable[[], None]) -> None:
            try:
                target()
            except BaseException as exc:  # re-raised in the caller's thread
                with self.lock:
                    self.failed = True
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(t,), name=f"sspred-mlstm-{i}") for i, t in enumerate(targets)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])


def mlstm_rows(embedding: np.ndarray, cells: Sequence, chains: Sequence[np.ndarray], rows: Sequence[np.ndarray],
               out: np.ndarray, all_cells: bool = False, slots: int = SLOTS, workers: int | None = None,
               split_units: int = SPLIT_UNITS) -> None:
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
        Chains stepped at once by one batch.
    workers : int or None
        Worker threads (None: ``WORKERS``).
    split_units : int
        The fewest units (of the widest cell) at which workers share one batch's products: with fewer chains
        than workers from the start, and when the queue is empty and a worker has nothing left to step.

    Raises
    ------
    ValueError
        When ``rows`` does not give one row per step of each chain.
    """
    tables = [_Tables(cell, embedding if k == 0 else None) for k, cell in enumerate(cells)]
    lengths = np.array([len(c) for c in chains], dtype=np.int64)
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
    live = [k for k in range(len(chains)) if lengths[k] > 0]
    if not live:
        return
    n_workers = max(1, workers or WORKERS)
    split = n_workers > 1 and max(t.units for t in tables) >= split_units
    if not split:
        n_workers = min(n_workers, len(live))
    run = _Run(tables, lengths, flat_tok, flat_row, views, live, slots, n_workers, split)
    with _blas().limit(limits=1, user_api="blas"):
        if n_workers == 1:
            run.solo()
        elif split and len(live) < n_workers:
            # Fewer chains than workers: one batch from the start, its products shared by every worker.
            shared = run.split_batch(_Batch(run.tables, slots), 0, np.zeros(slots, np.int64), np.zeros(slots, np.int64))
            run.threads([functools.partial(shared.lead, n_workers - 1)] + [shared.serve] * (n_workers - 1))
        else:
            run.threads([functools.partial(run.work, queue.SimpleQueue()) for _ in range(n_workers)])


def mlstm_states(embedding: np.ndarray, cells, tokens: np.ndarray, all_cells: bool = False, **kw) -> np.ndarray:
    """States of every step: tokens (B, T) UniRep codes (start token first) -> (B, T, H), or with
    ``all_cells`` every cell's states side by side, (B, T, n_cells * H). ``kw``: ``slots``, ``workers`` and
    ``split_units`` of ``mlstm_rows``."""
    batch, steps = tokens.shape
    width = sum(int(c.wmh.shape[0]) for c in cells) if all_cells else int(cells[-1].wmh.shape[0])
    out = np.empty((batch * steps + 1, width), np.float32)  # the last row: mlstm_rows's scratch
    mlstm_rows(embedding, cells, list(tokens), [np.arange(b * steps, (b + 1) * steps) for b in range(batch)], out,
               all_cells, **kw)
    return out[:-1].reshape(batch, steps, width)
