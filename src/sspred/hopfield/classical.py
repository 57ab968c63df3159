"""The classical Hopfield network (Hopfield 1982): binary units, Hebbian storage, limited capacity.

N binary units s in {-1, +1}^N, Hebbian weights W = (1/N) sum_mu xi_mu xi_mu^T with a zero diagonal,
energy E = -1/2 s^T W s. An asynchronous update (one unit at a time, s_i <- sign(W_i s)) never raises
E, so the state slides into a local minimum; stored patterns are such minima while the load P/N stays
below about 0.138 (Amit, Gutfreund & Sompolinsky 1985). Patterns and states are rows.
"""

from __future__ import annotations

import numpy as np

#: Capacity of the Hebbian network for N -> infinity (Amit, Gutfreund & Sompolinsky 1985):
#: above this load the retrieval states disappear and recall collapses.
ALPHA_C = 0.138


def random_patterns(n_patterns: int, n_units: int, rng: np.random.Generator) -> np.ndarray:
    """Unbiased random +-1 patterns, shape (P, N), int8."""
    return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n_patterns, n_units))


def hebbian(patterns: np.ndarray) -> np.ndarray:
    """W = (1/N) sum_mu xi_mu xi_mu^T with zero diagonal (no self-coupling), shape (N, N)."""
    xi = patterns.astype(np.float64)
    n = xi.shape[1]
    w = xi.T @ xi / n  # (N, P) @ (P, N) -> (N, N)
    np.fill_diagonal(w, 0.0)
    return w


def energy(w: np.ndarray, s: np.ndarray) -> np.ndarray:
    """E = -1/2 s^T W s for a state (N,) or a batch of states (B, N) -> scalar or (B,)."""
    s = s.astype(np.float64)
    return -0.5 * np.einsum("...i,ij,...j->...", s, w, s)


def _sign(h: np.ndarray, previous: np.ndarray) -> np.ndarray:
    # A unit whose field is exactly 0 keeps its state: any other tie rule can raise the energy.
    return np.where(h > 0, 1, np.where(h < 0, -1, previous)).astype(previous.dtype)


def async_sweep(w: np.ndarray, s: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One asynchronous sweep: every unit once, in a random order, each seeing the others' latest states.

    ``s`` is (N,) or (B, N) (the B states evolve independently, in the same unit order).
    Returns the new states and how many unit flips the sweep made.
    """
    s = np.array(s, dtype=np.int8, copy=True)
    batch = s.reshape(-1, s.shape[-1])  # (B, N) view of the copy
    flips = sum(update_unit(w, batch, i) for i in rng.permutation(batch.shape[1]))
    return s, flips


def update_unit(w: np.ndarray, s: np.ndarray, i: int) -> int:
    """Set unit i of every state in ``s`` (B, N) to sign(W_i s), in place; returns how many flipped."""
    h = s @ w[:, i]  # (B, N) @ (N,) -> (B,): local field of unit i
    new = _sign(h, s[:, i])
    flips = int((new != s[:, i]).sum())
    s[:, i] = new
    return flips


def sync_step(w: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Synchronous (Little 1974) update: all units at once, s <- sign(W s). Can end in a 2-cycle."""
    h = s.astype(np.float64) @ w  # (B, N) @ (N, N) -> (B, N); W is symmetric
    return _sign(h, np.asarray(s, dtype=np.int8))


def recall_async(w: np.ndarray, s: np.ndarray, rng: np.random.Generator,
                 max_sweeps: int = 100) -> tuple[np.ndarray, int]:
    """Asynchronous sweeps until a sweep flips nothing (a fixed point); returns (states, sweeps used)."""
    for sweep in range(1, max_sweeps + 1):
        s, flips = async_sweep(w, s, rng)
        if flips == 0:
            return s, sweep
    return s, max_sweeps


def recall_sync(w: np.ndarray, s: np.ndarray, max_steps: int = 100) -> tuple[np.ndarray, bool]:
    """Synchronous steps until a fixed point; returns (states, converged). False means a cycle or no end."""
    s = np.asarray(s, dtype=np.int8)
    for _ in range(max_steps):
        new = sync_step(w, s)
        if np.array_equal(new, s):
            return new, True
        s = new
    return s, False


def corrupt(patterns: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Copies of +-1 patterns (P, N) with exactly round(fraction * N) units of each row flipped."""
    out = np.array(patterns, copy=True)
    n = out.shape[-1]
    k = int(round(fraction * n))
    for row in out.reshape(-1, n):
        row[rng.choice(n, size=k, replace=False)] *= -1
    return out


def overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """m = (1/N) a . b per row: 1 for identical +-1 states, about 0 for unrelated ones."""
    return (a.astype(np.float64) * b).mean(axis=-1)
