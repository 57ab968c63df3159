"""Training the 1988-shaped network (window -> one hidden layer -> states) straight from window codes.

The NumPy learner's step is a dozen small matrix products and ~60 NumPy calls per
minibatch; at a batch of 200 windows the interpreter, not the arithmetic, sets the
pace (about 400 us a step here, scikit-learn's MLPClassifier about 550 us). This
module does the whole step - forward, softmax cross-entropy, backward and the Adam
update - in one compiled call, and never builds the one-hot matrix:

* forward: the first layer is a gather from T = ENCODING @ W1 per offset,
  shape (window, N_SYMBOLS, hidden), rebuilt from W1 each step (the identity
  rows are a copy; only the 6 ambiguous codes mix units);
* backward: dL/dT[o, code] is a scatter-add of the hidden deltas (a serial loop,
  so no np.add.at), and dL/dW1[o] = ENCODING.T @ dL/dT[o], which is exactly the
  one-hot product x.T @ delta regrouped by symbol.

The gradients equal the one-hot path's to float32 rounding (tests/test_index_train.py),
and the optimizer state lives in the learner's own Adam object, so checkpoints,
``get_params`` and a switch back to the plain path see the same numbers.
"""

from __future__ import annotations

import numpy as np

from sspred.alphabet import ENCODING, N_SYMBOLS, N_UNITS
from sspred.engines.numpy import fastpath
from sspred.engines.numpy.activations import ACTIVATIONS

numba = fastpath.numba
#: Activation codes of the kernels (shared with the fast inference kernels).
ACT_CODES = {name: a.code for name, a in ACTIVATIONS.items()}

if numba is not None:
    _ENC = np.ascontiguousarray(ENCODING, dtype=np.float32)  # (27, 21)
    # The fast path's scalar exp and activations: jit code cannot call activations.py (see fastpath).
    _exp_inplace = fastpath._exp_inplace
    _act_inplace = fastpath._act_inplace

    # The ambiguous codes' mixtures as (code, unit, weight) triples; codes below N_UNITS are unit vectors.
    _AMB = [(c, u, float(ENCODING[c, u])) for c in range(N_UNITS, N_SYMBOLS) for u in range(N_UNITS) if ENCODING[c, u]]
    _AMB_C = np.array([a[0] for a in _AMB], np.int64)
    _AMB_U = np.array([a[1] for a in _AMB], np.int64)
    _AMB_E = np.array([a[2] for a in _AMB], np.float32)

    @numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
    def _grads(codes, y, w1, b1, w2, b2, act, g_w1, g_b1, g_w2, g_b2, pred):
        """Gradients of the mean cross-entropy into g_*; returns the loss. codes (B, W) uint8, y (B,).

        Loops run over the hidden units innermost, so each is one vectorized pass over a row.
        """
        batch, window = codes.shape
        hidden, k = w2.shape
        amb_c, amb_u, amb_e = _AMB_C, _AMB_U, _AMB_E
        # T[o, c] = ENCODING[c] @ W1[o]   (W, 27, H): a copy for the 21 unit codes, mixtures for the rest.
        tables = np.zeros((window, N_SYMBOLS, hidden), np.float32)
        for o in range(window):
            for u in range(N_UNITS):
                tables[o, u] = w1[o * N_UNITS + u]
            for a in range(amb_c.size):
                t, row, e = tables[o, amb_c[a]], w1[o * N_UNITS + amb_u[a]], amb_e[a]
                for j in range(hidden):
                    t[j] += e * row[j]
        h = np.empty((batch, hidden), np.float32)  # (B, H) first-layer outputs
        for i in range(batch):
            r = h[i]
            for j in range(hidden):
                r[j] = b1[j]
            for o in range(window):
                t = tables[o, codes[i, o]]
                for j in range(hidden):
                    r[j] += t[j]
        ibuf = np.empty(batch * max(hidden, k), np.int32)
        _act_inplace(h.reshape(batch * hidden), act, ibuf)
        w2t = np.ascontiguousarray(w2.T)  # (K, H)
        z = np.empty((batch, k), np.float32)  # (B, H) @ (H, K) + b2 -> (B, K)
        for i in range(batch):
            r = h[i]
            for c in range(k):
                w = w2t[c]
                s = b2[c]
                for j in range(hidden):
                    s += r[j] * w[j]
                z[i, c] = s
        # log-softmax, as activations.log_softmax (scalar form for jit code): shift by the max, subtract log of the sum.
        for i in range(batch):
            top = z[i, 0]
            best = 0
            for c in range(1, k):
                if z[i, c] > top:
                    top, best = z[i, c], c
            pred[i] = best
            for c in range(k):
                z[i, c] -= top
        p = z.copy()
        _exp_inplace(p.reshape(batch * k), ibuf)
        inv_b = np.float32(1.0) / np.float32(batch)
        loss = np.float32(0.0)
        g_b2[:] = 0
        for i in range(batch):  # p becomes dL/dz = (softmax - onehot) / B
            total = np.float32(0.0)
            for c in range(k):
                total += p[i, c]
            loss -= z[i, y[i]] - np.log(total)
            for c in range(k):
                p[i, c] = (p[i, c] / total - (np.float32(1.0) if c == y[i] else np.float32(0.0))) * inv_b
                g_b2[c] += p[i, c]
        g_w2t = np.zeros((k, hidden), np.float32)  # dW2.T = dz.T @ h   (K, B) @ (B, H)
        delta = np.zeros((batch, hidden), np.float32)  # dz @ W2.T   (B, K) @ (K, H)
        for i in range(batch):
            r, d = h[i], delta[i]
            for c in range(k):
                g, w, pc = g_w2t[c], w2t[c], p[i, c]
                for j in range(hidden):
                    g[j] += pc * r[j]
                    d[j] += pc * w[j]
        g_w2[:] = g_w2t.T
        flat_h, flat_d = h.reshape(batch * hidden), delta.reshape(batch * hidden)
        one = np.float32(1.0)
        if act == 1:  # the derivative from the output, as activations.ACTIVATIONS (scalar form for jit code)
            for q in range(flat_d.size):
                flat_d[q] *= flat_h[q] * (one - flat_h[q])
        elif act == 2:
            for q in range(flat_d.size):
                flat_d[q] *= one - flat_h[q] * flat_h[q]
        elif act == 3:
            for q in range(flat_d.size):
                flat_d[q] = flat_d[q] if flat_h[q] > 0 else np.float32(0.0)
        g_b1[:] = 0
        d_tables = np.zeros((window, N_SYMBOLS, hidden), np.float32)
        for i in range(batch):  # scatter-add into the symbol table's gradient; serial, so exact
            d = delta[i]
            for j in range(hidden):
                g_b1[j] += d[j]
            for o in range(window):
                t = d_tables[o, codes[i, o]]
                for j in range(hidden):
                    t[j] += d[j]
        for o in range(window):  # dW1[o] = ENCODING.T @ dT[o]   (21, 27) @ (27, H)
            for u in range(N_UNITS):
                g_w1[o * N_UNITS + u] = d_tables[o, u]
            for a in range(amb_c.size):
                g, t, e = g_w1[o * N_UNITS + amb_u[a]], d_tables[o, amb_c[a]], amb_e[a]
                for j in range(hidden):
                    g[j] += e * t[j]
        return loss * inv_b

    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def _adam(ps, gs, ms, vs, lr, beta1, beta2, eps, c1, c2):
        """optim.Adam's update, in place, for a tuple of flat parameters (one call, not one per array)."""
        for q in range(len(ps)):
            p, g, m, v = ps[q], gs[q], ms[q], vs[q]
            for i in range(p.size):
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                p[i] -= lr * (m[i] / c1) / (np.sqrt(v[i] / c2) + eps)


    @numba.njit(cache=True, nogil=True, error_model="numpy")
    def _train_step(codes, y, w1, b1, w2, b2, act, g_w1, g_b1, g_w2, g_b2, pred, flat_p, flat_g, flat_m, flat_v,
                    lr, beta1, beta2, eps, c1, c2):
        """Gradients and the Adam update in one call (one dispatch per minibatch, not two)."""
        loss = _grads(codes, y, w1, b1, w2, b2, act, g_w1, g_b1, g_w2, g_b2, pred)
        _adam(flat_p, flat_g, flat_m, flat_v, lr, beta1, beta2, eps, c1, c2)
        return loss


class FusedStep:
    """A compiled training step for [linear, activation, linear] networks with Adam, float32."""

    def __init__(self, activation: str):
        self.act = ACT_CODES[activation]
        self.pred = np.empty(0, np.int64)

    @staticmethod
    def applies(specs: list[dict], optimizer: str, dtype, smoothing: float = 0.0) -> bool:
        kinds = [s["type"] for s in specs]
        return (numba is not None and optimizer == "adam" and np.dtype(dtype) == np.float32 and smoothing == 0
                and len(kinds) == 3 and kinds[0] == kinds[2] == "linear" and kinds[1] in ACT_CODES
                and specs[0]["in"] % N_UNITS == 0)

    def grads(self, net, codes: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Fill net's gradients from window codes (B, W); returns (loss, predicted classes)."""
        first, last = net.layers[0], net.layers[2]
        for layer in (first, last):
            for name, p in layer.params.items():
                if layer.grads.get(name) is None or layer.grads[name].shape != p.shape:
                    layer.grads[name] = np.empty_like(p)
        if self.pred.size != codes.shape[0]:
            self.pred = np.empty(codes.shape[0], np.int64)
        loss = _grads(np.ascontiguousarray(codes, dtype=np.uint8), np.ascontiguousarray(y, dtype=np.int64),
                      first.params["W"], first.params["b"], last.params["W"], last.params["b"], self.act,
                      first.grads["W"], first.grads["b"], last.grads["W"], last.grads["b"], self.pred)
        return float(loss), self.pred.copy()

    def _arrays(self, net, adam) -> tuple:
        """The step's arrays, gathered once: rebuilt only if a parameter array was replaced."""
        first, last = net.layers[0], net.layers[2]
        key = (first.params["W"], first.params["b"], last.params["W"], last.params["b"])
        state = adam.state
        owners = key + tuple(state["m"].values()) + tuple(state["v"].values())  # e.g. a resumed checkpoint
        cached = getattr(self, "_cache", None)
        if cached is None or any(a is not b for a, b in zip(cached[3], owners)):
            for layer in (first, last):
                for name, p in layer.params.items():
                    if layer.grads.get(name) is None or layer.grads[name].shape != p.shape:
                        layer.grads[name] = np.empty_like(p)
            names = list(net.params)
            params, grads, s = net.params, net.grads, adam.state
            flat = tuple(tuple(d[n].reshape(-1) for n in names) for d in (params, grads, s["m"], s["v"]))
            grad_arrays = (first.grads["W"], first.grads["b"], last.grads["W"], last.grads["b"])
            self._cache = cached = (key, grad_arrays, flat, owners)
        return cached

    def step(self, net, adam, codes: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Gradients, then optim.Adam's update with its own state (so the plain path can take over)."""
        key, grad_arrays, flat, _ = self._arrays(net, adam)
        if self.pred.size != codes.shape[0]:
            self.pred = np.empty(codes.shape[0], np.int64)
        s = adam.state
        s["t"] += 1
        t = int(s["t"])
        c1, c2 = 1 - adam.beta1 ** t, 1 - adam.beta2 ** t
        loss = _train_step(np.ascontiguousarray(codes, dtype=np.uint8), np.ascontiguousarray(y, dtype=np.int64),
                           *key, self.act, *grad_arrays, self.pred, *flat,
                           adam.lr, adam.beta1, adam.beta2, adam.eps, c1, c2)
        return float(loss), self.pred.copy()
