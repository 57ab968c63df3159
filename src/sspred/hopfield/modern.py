"""The modern continuous Hopfield network (Ramsauer et al. 2020, "Hopfield Networks is All You Need").

States are real vectors, the update is xi_new = X softmax(beta X^T xi) and the energy is
E = -lse(beta, X^T xi) + 1/2 xi^T xi + beta^-1 log N + 1/2 M^2. It stores exponentially many patterns
in the dimension, usually retrieves in one update, and its update is transformer attention with the
stored patterns as keys and values. Patterns and states are rows: the paper's X (d, N) of column
patterns is our ``patterns`` (N, d).
"""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.activations import logsumexp, softmax


def lse(beta: float, z: np.ndarray) -> np.ndarray:
    """lse(beta, z) = beta^-1 log sum_i exp(beta z_i) over the last axis, computed stably."""
    return logsumexp(beta * z) / beta


def modern_update(patterns: np.ndarray, xi: np.ndarray, beta: float) -> np.ndarray:
    """One update xi_new = X softmax(beta X^T xi), for row patterns (N, d) and row states (d,) or (B, d)."""
    p = softmax(beta * xi @ patterns.T)  # (B, d) @ (d, N) -> (B, N): attention over the stored patterns
    return p @ patterns  # (B, N) @ (N, d) -> (B, d)


def modern_energy(patterns: np.ndarray, xi: np.ndarray, beta: float) -> np.ndarray:
    """E = -lse(beta, X^T xi) + 1/2 xi^T xi + beta^-1 log N + 1/2 M^2, with M the largest pattern norm.

    The last two terms are constants that make E >= 0 (Ramsauer et al. 2020, eq. 2).
    """
    n = patterns.shape[0]
    big_m = np.sqrt((patterns * patterns).sum(axis=1).max())
    z = xi @ patterns.T  # (B, d) @ (d, N) -> (B, N)
    return -lse(beta, z) + 0.5 * (xi * xi).sum(axis=-1) + np.log(n) / beta + 0.5 * big_m ** 2


def modern_iterate(patterns: np.ndarray, xi: np.ndarray, beta: float, max_steps: int = 1000,
                   tol: float = 1e-10) -> tuple[np.ndarray, int]:
    """Updates until no state moves by more than ``tol``; returns (fixed points, steps used)."""
    for step in range(1, max_steps + 1):
        new = modern_update(patterns, xi, beta)
        if np.abs(new - xi).max() < tol:
            return new, step
        xi = new
    return xi, max_steps


def sphere_patterns(n_patterns: int, dim: int, rng: np.random.Generator, correlation: float = 0.0) -> np.ndarray:
    """Patterns of norm sqrt(dim), shape (N, d); ``correlation`` is the cosine shared by every pair on average.

    x_i = sqrt(rho) c + sqrt(1 - rho) z_i with one common direction c, so larger rho packs the
    patterns closer together (a smaller separation Delta).
    """
    common = rng.standard_normal(dim)
    common /= np.linalg.norm(common)
    z = rng.standard_normal((n_patterns, dim))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    x = np.sqrt(correlation) * common + np.sqrt(1.0 - correlation) * z  # (N, d)
    return x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(dim)


def separation(patterns: np.ndarray) -> np.ndarray:
    """Delta_i = x_i^T x_i - max_{j != i} x_i^T x_j (Ramsauer et al. 2020, eq. 3), shape (N,)."""
    g = patterns @ patterns.T  # (N, d) @ (d, N) -> (N, N) Gram matrix
    own = np.diag(g).copy()
    np.fill_diagonal(g, -np.inf)
    return own - g.max(axis=1)
