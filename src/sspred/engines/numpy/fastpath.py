"""Fast inference for window networks: the first layer is a table lookup, never a one-hot matrix.

The first Linear layer sees a one-hot (or, for ambiguous letters, fractional)
window, so its pre-activation for a residue is

    b1 + sum over offsets o of  ENCODING[code at o] @ W1[o]

and ``ENCODING[c] @ W1[o]`` takes only ``window x N_SYMBOLS`` values. We
precompute them as a table T of shape (window, N_SYMBOLS, hidden) and go one
step further: two neighbouring offsets share a *pair table* of shape
(N_SYMBOLS**2, hidden), indexed by ``code[o] * N_SYMBOLS + code[o + 1]``, so a
window of 13 costs 7 row gathers and 6 row additions per residue instead of a
(273 x hidden) matrix product. The first bias is folded into pair 0.

Residues of many records are predicted together: their codes are laid out in
one array with ``window // 2`` spacers between chains (a window never reaches
past those into the next chain), every position of that array is predicted,
and each chain's rows are sliced back out.

Two back ends give the same numbers to float32 rounding:

* ``numba`` (the ``fast`` extra): the gather, bias and activation run in one
  parallel loop over blocks of residues (both cores); a network with one
  hidden layer also fuses the output layer and softmax into that loop, so a
  residue's hidden activations never leave the L1 cache.
* ``numpy``: the same pair gathers as whole-chunk fancy indexing, then dense
  matrix products. Always available and exact; slower.

The remaining layers are dense matrix products (BLAS, which uses every core
and releases the GIL).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

import numpy as np

from sspred.alphabet import ENCODING, N_SYMBOLS, N_UNITS, SPACER
from sspred.engines.numpy.activations import ACTIVATIONS, IDENTITY_CODE, softmax

try:  # numba is an optional extra ("fast"); the NumPy back end is always there.
    import numba
except ImportError:  # pragma: no cover - exercised where numba is absent
    numba = None

if numba is not None and "NUMBA_THREADING_LAYER" not in os.environ:
    # OpenMP's idle workers spin, and so do OpenBLAS's: alternating between our kernels and the
    # matrix products, the two pools burned half of the CPU time spinning against each other
    # (3.2 against 1.6 us of CPU per residue for the default model). Numba's own work queue
    # sleeps when idle. It does not allow concurrent launches, hence _KERNEL_LOCK.
    numba.config.THREADING_LAYER = "workqueue"
#: Serialises kernel launches (each already uses every core) for callers on several threads.
_KERNEL_LOCK = threading.Lock()

#: Environment variable forcing a back end ("numpy" or "numba"); unset picks numba when installed.
BACKEND_ENV = "SSPRED_FASTPATH"
#: Positions per chunk of the NumPy back end and of the dense layers: keeps (chunk, hidden)
#: intermediates near the cache and bounds memory for very long chains.
CHUNK = 16384
#: Residues per parallel work item in the numba kernels (small enough to balance two cores).
BLOCK = 256
#: Blocks a worker thread takes from the queue at a time. Numba's default splits a loop into one
#: equal share per thread up front; with another job on one core, the thread there finishes last
#: and the second core bought nothing (measured: 12.5M residues/s with 1 thread or 2). Handing
#: out small chunks lets the thread on the free core take more of them (2x here).
PARALLEL_CHUNK = 8


def _code(activation: str | None) -> int:
    """The kernels' code of an activation (activations.ACTIVATIONS), or of none."""
    return ACTIVATIONS[activation].code if activation else IDENTITY_CODE


def _apply(activation: str | None, x: np.ndarray) -> np.ndarray:
    """The NumPy back end's activation: the layers' own function, so the same numbers."""
    return ACTIVATIONS[activation].forward(x) if activation else x


class NoFastPath(Exception):
    """A layer list the fast path cannot run: control flow, not an error of a user's. ``paths`` catches it and
    runs the plain forward pass instead, so it never leaves the engine and stays out of sspred's error family."""


# ----------------------------------------------------------------------------------------------
# numba kernels
# ----------------------------------------------------------------------------------------------

if numba is not None:
    _jit = numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy")
    # Reassociation lets LLVM vectorize the output layer's 40-term dot products (the sum is
    # taken in another order, a difference of float32 rounding only); no-NaN/Inf flags are
    # left off, since the clamped exp and the softmax shift rely on IEEE behaviour.
    _jit_reassoc = numba.njit(parallel=True, cache=True, nogil=True, error_model="numpy",
                              fastmath={"reassoc", "contract"})
    _jit_inner = numba.njit(cache=True, inline="always", error_model="numpy")

    # The kernels below keep scalar forms of exp, the activations and softmax: jit code cannot call
    # the array functions of activations.py per block, and these fuse into the kernels' loops.
    # Their codes are activations.ACTIVATIONS' ``code``; tests/test_fastpath.py holds them equal.
    # Without Intel's SVML, numba calls libm's scalar expf, which costs more than all of a
    # residue's table gathers; this branch-free version (Cephes expf: Cody-Waite reduction and a
    # degree-6 polynomial, about 1 ulp) vectorizes, 16 lanes at a time under AVX-512.
    _LOG2E, _LN2_HI, _LN2_LO = np.float32(1.44269504), np.float32(0.693359375), np.float32(-2.12194440e-4)
    #: Clamp so 2**k stays a normal float32; exp(-87.3) ~ 1e-38 is 0 for every use below.
    _EXP_LO, _EXP_HI = np.float32(-87.3), np.float32(88.3)

    @_jit_inner
    def _exp_inplace(x, ibuf):
        """x[:] = exp(x) for a contiguous 1-D float32 array; ibuf is int32 scratch of the same size."""
        n = x.size
        for i in range(n):
            v = min(max(x[i], _EXP_LO), _EXP_HI)
            k = np.floor(v * _LOG2E + np.float32(0.5))
            r = v - k * _LN2_HI - k * _LN2_LO
            p = np.float32(1.9875691500e-4)
            p = p * r + np.float32(1.3981999507e-3)
            p = p * r + np.float32(8.3334519073e-3)
            p = p * r + np.float32(4.1665795894e-2)
            p = p * r + np.float32(1.6666665459e-1)
            p = p * r + np.float32(5.0000001201e-1)
            x[i] = p * r * r + r + np.float32(1.0)
            ibuf[i] = (np.int32(k) + np.int32(127)) << np.int32(23)  # the bits of 2**k
        scale = ibuf[:n].view(np.float32)
        for i in range(n):
            x[i] *= scale[i]

    @_jit_inner
    def _act_inplace(x, code, ibuf):
        """Activation ``code`` in place over a contiguous 1-D float32 array (0 identity, 1 sigmoid, 2 tanh, 3 relu)."""
        n = x.size
        one, two = np.float32(1.0), np.float32(2.0)
        if code == 1:  # 1 / (1 + exp(-x)); exp(-x) = inf is clamped, so no inf/inf
            for i in range(n):
                x[i] = -x[i]
            _exp_inplace(x, ibuf)
            for i in range(n):
                x[i] = one / (one + x[i])
        elif code == 2:  # tanh x = 1 - 2 / (exp(2x) + 1)
            for i in range(n):
                x[i] = two * x[i]
            _exp_inplace(x, ibuf)
            for i in range(n):
                x[i] = one - two / (x[i] + one)
        elif code == 3:
            for i in range(n):
                x[i] = x[i] if x[i] > 0 else np.float32(0.0)

    @_jit_inner
    def _softmax_block(z, ibuf):
        """Row softmax in place over a C-contiguous (m, K) block."""
        m, k = z.shape
        for i in range(m):
            top = z[i, 0]
            for j in range(1, k):
                top = max(top, z[i, j])
            for j in range(k):
                z[i, j] -= top
        flat = z.reshape(m * k)
        _exp_inplace(flat, ibuf)
        for i in range(m):
            total = np.float32(0.0)
            for j in range(k):
                total += z[i, j]
            for j in range(k):
                z[i, j] /= total

    @_jit_inner
    def _gather_block(pc, tables, start, stop, hid):
        """hid[r] = sum over pairs p of tables[p, pc[start + r + 2p]]: (m, hidden)."""
        n_pairs, _, hidden = tables.shape
        for r in range(stop - start):
            i = start + r
            acc = hid[r]
            first = tables[0, pc[i]]
            for h in range(hidden):
                acc[h] = first[h]
            for p in range(1, n_pairs):
                row = tables[p, pc[i + 2 * p]]
                for h in range(hidden):
                    acc[h] += row[h]

    @_jit
    def _nb_hidden(pc, tables, act, out):
        """out[i] = act(sum_p tables[p, pc[i + 2p]]) for every row of out (n, hidden)."""
        n, hidden = out.shape
        n_blocks = (n + BLOCK - 1) // BLOCK
        for blk in numba.prange(n_blocks):
            start, stop = blk * BLOCK, min(n, (blk + 1) * BLOCK)
            ibuf = np.empty(BLOCK * hidden, np.int32)
            block = out[start:stop]
            _gather_block(pc, tables, start, stop, block)
            _act_inplace(block.reshape((stop - start) * hidden), act, ibuf)

    @_jit_reassoc
    def _nb_fused(pc, tables, act, w2t, b2, out):
        """One hidden layer end to end: gather, activation, output layer, softmax; out (n, K)."""
        n, k = out.shape
        hidden = tables.shape[2]
        n_blocks = (n + BLOCK - 1) // BLOCK
        for blk in numba.prange(n_blocks):
            start, stop = blk * BLOCK, min(n, (blk + 1) * BLOCK)
            m = stop - start
            hid = np.empty((BLOCK, hidden), np.float32)
            ibuf = np.empty(BLOCK * hidden, np.int32)
            _gather_block(pc, tables, start, stop, hid)
            _act_inplace(hid[:m].reshape(m * hidden), act, ibuf)
            for r in range(m):  # (hidden,) @ (hidden, K) -> (K,), one dot product per state
                for j in range(k):
                    s = b2[j]
                    w = w2t[j]
                    a = hid[r]
                    for h in range(hidden):
                        s += a[h] * w[h]
                    out[start + r, j] = s
            _softmax_block(out[start:stop], ibuf)

    @_jit_reassoc
    def _nb_head(x, w2t, b2, out):
        """The output layer and softmax, rows in parallel: out = softmax(x @ w2t.T + b2); x (n, in), out (n, K).

        BLAS is poor at a (n, 128) @ (128, 3) product (a 3-wide output is all edge case), and this
        way the logits never make a round trip through memory before the softmax.
        """
        n, k = out.shape
        width = x.shape[1]
        n_blocks = (n + BLOCK - 1) // BLOCK
        for blk in numba.prange(n_blocks):
            start, stop = blk * BLOCK, min(n, (blk + 1) * BLOCK)
            ibuf = np.empty(BLOCK * k, np.int32)
            for i in range(start, stop):
                a = x[i]
                for j in range(k):  # (in,) . (in,) -> scalar, one per state
                    s = b2[j]
                    w = w2t[j]
                    for h in range(width):
                        s += a[h] * w[h]
                    out[i, j] = s
            _softmax_block(out[start:stop], ibuf)

    @_jit
    def _nb_bias_act(x, b, act):
        """In place: x = act(x + b), blocks of rows in parallel; x (n, width) C-contiguous."""
        n, width = x.shape
        n_blocks = (n + BLOCK - 1) // BLOCK
        for blk in numba.prange(n_blocks):
            start, stop = blk * BLOCK, min(n, (blk + 1) * BLOCK)
            ibuf = np.empty(BLOCK * width, np.int32)
            for i in range(start, stop):
                for h in range(width):
                    x[i, h] += b[h]
            _act_inplace(x[start:stop].reshape((stop - start) * width), act, ibuf)

    @_jit
    def _nb_softmax(z):
        n, k = z.shape
        n_blocks = (n + BLOCK - 1) // BLOCK
        for blk in numba.prange(n_blocks):
            start, stop = blk * BLOCK, min(n, (blk + 1) * BLOCK)
            ibuf = np.empty(BLOCK * k, np.int32)
            _softmax_block(z[start:stop], ibuf)


def available_backends() -> tuple[str, ...]:
    return ("numba", "numpy") if numba is not None else ("numpy",)


def default_backend() -> str:
    forced = os.environ.get(BACKEND_ENV, "").strip().lower()
    if forced:
        if forced not in available_backends():
            raise ValueError(f"{BACKEND_ENV}={forced!r}: available back ends are {', '.join(available_backends())}")
        return forced
    return available_backends()[0]


# ----------------------------------------------------------------------------------------------
# Tables and layout
# ----------------------------------------------------------------------------------------------

def pair_tables(w1: np.ndarray, b1: np.ndarray, window: int) -> np.ndarray:
    """First-layer lookup tables, shape (ceil(window / 2), N_SYMBOLS**2, hidden), float32.

    ``tables[p, a * N_SYMBOLS + b]`` is the pre-activation contribution of symbol a at
    offset 2p and symbol b at offset 2p + 1; an odd window gets a zero-weight last offset.
    Built in float64 so the only float32 rounding is the final cast.
    """
    hidden = w1.shape[1]
    assert w1.shape[0] == window * N_UNITS
    per_unit = np.asarray(w1, np.float64).reshape(window, N_UNITS, hidden)  # (W, 21, H)
    single = np.einsum("cu,wuh->wch", ENCODING, per_unit)  # (27, 21) x (W, 21, H) -> (W, 27, H)
    if window % 2:
        single = np.concatenate([single, np.zeros((1, N_SYMBOLS, hidden))])  # (W + 1, 27, H)
    left, right = single[0::2], single[1::2]  # (P, 27, H) each
    pairs = left[:, :, None, :] + right[:, None, :, :]  # (P, 27, 27, H)
    pairs[0] += np.asarray(b1, np.float64)
    return np.ascontiguousarray(pairs.reshape(len(left), N_SYMBOLS * N_SYMBOLS, hidden), dtype=np.float32)


def layout(chains: list[np.ndarray], window: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of several chains laid out for one pass, as pair codes.

    Returns (pair codes (n + window - 1,) uint16, start of each chain's rows (C,), n):
    position i of the output is the window starting at padded position i; chain c's
    residues are rows starts[c] : starts[c] + len(chain c).
    """
    half = window // 2
    spacer = np.full(half, SPACER, np.uint8)
    parts, starts, pos = [spacer], [], 0
    for codes in chains:
        starts.append(pos)
        parts += [codes, spacer]
        pos += codes.size + half
    # The last window (position n - 1) reads up to padded[n + window - 2], and the zero-weight
    # offset that completes an odd window's last pair reads one more.
    parts.append(np.full(half + 1, SPACER, np.uint8))
    padded = np.concatenate(parts).astype(np.uint16)  # (n + window,)
    n = pos
    pc = padded[:-1] * N_SYMBOLS + padded[1:]  # (n + window - 1,) pair code of positions (j, j + 1)
    return pc, np.asarray(starts, np.int64), n


# ----------------------------------------------------------------------------------------------
# The fast network
# ----------------------------------------------------------------------------------------------

@dataclass
class FastForward:
    """A window network compiled to lookup tables and dense layers.

    ``dense`` holds every layer after the first as (W (in, out), b (out,), activation name or None).
    """

    window: int
    tables: np.ndarray
    first_act: str | None
    dense: list[tuple[np.ndarray, np.ndarray, str | None]]
    backend: str
    #: Its name among the prediction paths (engines.numpy.paths).
    path = "window tables"

    @property
    def n_states(self) -> int:
        return self.dense[-1][0].shape[1] if self.dense else self.tables.shape[2]

    @classmethod
    def from_layers(cls, specs: list[dict], params: dict[str, np.ndarray], window: int,
                    backend: str | None = None) -> "FastForward":
        """Compile a layer list (linear, [activation], linear, ..., linear) and its parameters."""
        backend = backend or default_backend()
        if backend not in available_backends():
            raise ValueError(f"back end {backend!r} is not available; have {', '.join(available_backends())}")
        linears: list[list] = []  # [W, b, activation]
        for i, spec in enumerate(specs):
            kind = spec["type"]
            if kind == "linear":
                linears.append([np.asarray(params[f"layers.{i}.W"], np.float32),
                                np.asarray(params[f"layers.{i}.b"], np.float32), None])
            elif kind in ACTIVATIONS and linears and linears[-1][2] is None:
                linears[-1][2] = kind
            else:
                raise NoFastPath(f"layer {i} ({kind!r}) has no fast-path form")
        if not linears or linears[-1][2] is not None:
            raise NoFastPath("the network must end in a linear layer (its logits)")
        w1, b1, act1 = linears[0]
        if w1.shape[0] != window * N_UNITS:
            raise NoFastPath(f"first layer takes {w1.shape[0]} inputs, not window x {N_UNITS}")
        dense = [(np.ascontiguousarray(w), b, a) for w, b, a in linears[1:]]
        return cls(window, pair_tables(w1, b1, window), act1, dense, backend)

    # -- per-chunk evaluation ------------------------------------------------------------------

    def _hidden_numpy(self, pc: np.ndarray, start: int, stop: int) -> np.ndarray:
        n = stop - start
        z = self.tables[0][pc[start:stop]]  # (n, H) gather of pair 0
        for p in range(1, self.tables.shape[0]):
            z += self.tables[p][pc[start + 2 * p:stop + 2 * p]]  # (n, H)
        return _apply(self.first_act, z) if n else z

    def _proba_chunk(self, pc: np.ndarray, start: int, stop: int, out: np.ndarray) -> None:
        """Probabilities of positions start..stop into out (stop - start, K)."""
        if self.backend == "numba":
            act = _code(self.first_act)
            view = pc[start:]
            if len(self.dense) == 1:
                w2, b2, _ = self.dense[0]
                _nb_fused(view, self.tables, act, np.ascontiguousarray(w2.T), b2, out)
                return
            h = np.empty((stop - start, self.tables.shape[2]), np.float32)  # (n, H1)
            _nb_hidden(view, self.tables, act, h)
            if not self.dense:  # no hidden layer: the table sums are the logits
                _nb_softmax(h)
                out[...] = h
                return
            for w, b, a in self.dense[:-1]:
                h = h @ w  # (n, in) @ (in, out) -> (n, out)
                _nb_bias_act(h, b, _code(a))
            w, b, _ = self.dense[-1]
            _nb_head(h, np.ascontiguousarray(w.T), b, out)  # (n, in) -> (n, K)
            return
        h = self._hidden_numpy(pc, start, stop)
        for w, b, a in self.dense:
            h = h @ w  # (n, in) @ (in, out) -> (n, out)
            h += b
            h = _apply(a, h)
        out[...] = softmax(h)

    def proba_positions(self, pc: np.ndarray, n: int) -> np.ndarray:
        """Probabilities of the n window positions of a laid-out pair-code array: (n, K) float32."""
        assert pc.size >= n + self.window - 1
        out = np.empty((n, self.n_states), np.float32)  # (n, K)
        # The fused numba kernel keeps nothing per position but its output, so it takes the whole
        # range at once; the others go in chunks so (chunk, hidden) intermediates stay small.
        step = n if (self.backend == "numba" and len(self.dense) == 1) else CHUNK
        with _KERNEL_LOCK:
            if self.backend == "numba":
                numba.set_parallel_chunksize(PARALLEL_CHUNK)  # per calling thread; see PARALLEL_CHUNK
            for start in range(0, n, max(step, 1)):
                stop = min(n, start + step)
                self._proba_chunk(pc, start, stop, out[start:stop])
        return out

    def predict_many(self, chains: list[np.ndarray]) -> list[np.ndarray]:
        """Probabilities for several chains of symbol codes in one pass: [(L_c, K)] in order."""
        if not chains:
            return []
        pc, starts, n = layout(chains, self.window)
        out = self.proba_positions(pc, n)
        return [out[s:s + c.size] for s, c in zip(starts, chains)]

    def predict(self, codes: np.ndarray) -> np.ndarray:
        """One chain: (L,) codes -> (L, K) probabilities."""
        return self.predict_many([codes])[0]
