"""The four experiments, each returning plain data (a dataclass with ``to_dict`` for JSON).

- ``capacity_experiment``: classical recall against load P/N, and where it breaks down.
- ``one_step_experiment``: one-update retrieval, modern against classical, against the number of patterns.
- ``beta_experiment``: the modern update's retrieval error against beta, for more and less separated patterns.
- ``fixed_point_experiment``: global-average, metastable and single-pattern fixed points as beta grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sspred.engines.numpy.activations import softmax
from sspred.hopfield.classical import corrupt, hebbian, overlap, random_patterns, recall_async, sync_step
from sspred.hopfield.modern import modern_iterate, modern_update, separation, sphere_patterns


class _Result:
    """``to_dict``: a result's fields as JSON-ready values (arrays as lists), less those in ``NOT_SAVED``."""

    NOT_SAVED: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()
                if k not in self.NOT_SAVED}


@dataclass
class CapacityResult(_Result):
    """Recall against load for the classical network."""

    n_units: int
    loads: np.ndarray  # (L,) P/N
    flip: float  # fraction of units corrupted in the cue
    overlap_clean: np.ndarray  # (L,) mean final overlap starting from the stored pattern
    overlap_cued: np.ndarray  # (L,) mean final overlap starting from a corrupted pattern
    perfect_clean: np.ndarray  # (L,) fraction of stored patterns that are exact fixed points
    retrieved_clean: np.ndarray  # (L,) fraction of recalls from the stored pattern ending at overlap >= RETRIEVED
    retrieved_cued: np.ndarray  # (L,) the same from the corrupted cue
    breakdown: float = field(default=float("nan"))  # load where retrieved_clean first falls below one half


#: Final overlap that counts as retrieval: up to the capacity the retrieval state has m > 0.96
#: (m = 0.967 at alpha_c), above it recall falls to spin-glass states with m around 0.3 and lower.
RETRIEVED = 0.9


def crossing(x: np.ndarray, y: np.ndarray, level: float) -> float:
    """First x where y falls below ``level`` (linear interpolation), NaN if it never does."""
    below = np.flatnonzero(y < level)
    if below.size == 0 or below[0] == 0:
        return float("nan")
    j = below[0]
    x0, x1, y0, y1 = x[j - 1], x[j], y[j - 1], y[j]
    return float(x0 + (y0 - level) * (x1 - x0) / (y0 - y1))


def capacity_experiment(n_units: int, loads, rng: np.random.Generator, trials: int = 2, flip: float = 0.1,
                        max_starts: int = 100) -> CapacityResult:
    """Store P = load * N random patterns, recall asynchronously from each (up to ``max_starts`` per trial)."""
    loads = np.asarray(loads, dtype=np.float64)
    clean, cued, perfect, ok_clean, ok_cued = (np.zeros(loads.size) for _ in range(5))
    for j, load in enumerate(loads):
        p = max(1, int(round(load * n_units)))
        m_clean, m_cued, exact = [], [], []
        for _ in range(trials):
            xi = random_patterns(p, n_units, rng)
            w = hebbian(xi)
            starts = xi[rng.permutation(p)[:max_starts]]  # (S, N)
            exact.append(np.all(sync_step(w, starts) == starts, axis=1))
            s, _ = recall_async(w, starts, rng)
            m_clean.append(overlap(s, starts))
            s, _ = recall_async(w, corrupt(starts, flip, rng), rng)
            m_cued.append(overlap(s, starts))
        all_clean, all_cued = np.concatenate(m_clean), np.concatenate(m_cued)
        clean[j], cued[j], perfect[j] = all_clean.mean(), all_cued.mean(), np.concatenate(exact).mean()
        ok_clean[j], ok_cued[j] = (all_clean >= RETRIEVED).mean(), (all_cued >= RETRIEVED).mean()
    return CapacityResult(n_units, loads, flip, clean, cued, perfect, ok_clean, ok_cued,
                          crossing(loads, ok_clean, 0.5))


@dataclass
class OneStepResult(_Result):
    """One-update retrieval against the number of stored patterns, modern vs classical."""

    dim: int
    beta: float
    counts: np.ndarray  # (C,) numbers of stored patterns
    flips: tuple  # fractions of the cue's units flipped
    modern: np.ndarray  # (F, C) fraction of cues retrieved exactly (sign of the update = stored pattern)
    classical: np.ndarray  # (F, C) the same for one synchronous step of the Hebbian network
    capacity: dict = field(default_factory=dict)  # flip -> largest count up to which every count retrieves >= 99%


def one_step_experiment(dim: int, counts, rng: np.random.Generator, beta: float = 1.0,
                        flips=(0.1, 0.2, 0.3), n_cues: int = 200) -> OneStepResult:
    """Store N random +-1 patterns in d dimensions; cue with corrupted copies; score ONE update of each net."""
    counts = np.asarray(counts, dtype=np.int64)
    modern, classical = np.zeros((len(flips), counts.size)), np.zeros((len(flips), counts.size))
    for c, n in enumerate(counts):
        xi = random_patterns(int(n), dim, rng)
        x = xi.astype(np.float64)
        w = hebbian(xi)
        targets = xi[rng.choice(n, size=min(n_cues, n), replace=False)]  # (S, d)
        for f, flip in enumerate(flips):
            cue = corrupt(targets, flip, rng)
            new = modern_update(x, cue.astype(np.float64), beta)  # (S, d)
            modern[f, c] = np.all(np.sign(new) == targets, axis=1).mean()
            classical[f, c] = np.all(sync_step(w, cue) == targets, axis=1).mean()
    capacity = {}
    for f, flip in enumerate(flips):
        bad = np.flatnonzero(modern[f] < 0.99)
        first_bad = bad[0] if bad.size else counts.size
        capacity[flip] = int(counts[first_bad - 1]) if first_bad else 0
    return OneStepResult(dim, beta, counts, tuple(flips), modern, classical, capacity)


@dataclass
class BetaResult(_Result):
    """One-update retrieval error against beta, for pattern sets of different separation."""

    dim: int
    n_patterns: int
    betas: np.ndarray  # (K,)
    correlations: np.ndarray  # (R,)
    separations: np.ndarray  # (R,) median Delta of each pattern set
    errors: np.ndarray  # (R, K) mean ||xi_new - x_i|| / ||x_i||
    noise: float


def beta_experiment(dim: int, n_patterns: int, betas, correlations, rng: np.random.Generator,
                    noise: float = 0.1, n_cues: int = 200) -> BetaResult:
    """Cue each of ``n_cues`` stored patterns with Gaussian noise (``noise`` relative norm); one update."""
    betas = np.asarray(betas, dtype=np.float64)
    correlations = np.asarray(correlations, dtype=np.float64)
    errors = np.zeros((correlations.size, betas.size))
    seps = np.zeros(correlations.size)
    for r, rho in enumerate(correlations):
        x = sphere_patterns(n_patterns, dim, rng, rho)
        seps[r] = np.median(separation(x))
        targets = x[rng.choice(n_patterns, size=min(n_cues, n_patterns), replace=False)]  # (S, d)
        cue = targets + noise * rng.standard_normal(targets.shape)  # noise * sqrt(d) in norm = noise * ||x||
        for k, beta in enumerate(betas):
            new = modern_update(x, cue, beta)
            errors[r, k] = (np.linalg.norm(new - targets, axis=1) / np.sqrt(dim)).mean()
    return BetaResult(dim, n_patterns, betas, correlations, seps, errors, noise)


@dataclass
class FixedPointResult(_Result):
    """Where iteration from each stored pattern ends, against beta, for clustered patterns."""

    patterns: np.ndarray  # (N, d)
    clusters: np.ndarray  # (N,) cluster of each pattern
    betas: np.ndarray  # (K,)
    participation: np.ndarray  # (K,) mean number of patterns the fixed point averages, 1 / sum p_i^2
    n_fixed_points: np.ndarray  # (K,) distinct fixed points reached from the N stored patterns
    shown_betas: tuple  # the betas drawn in the 2-D panels
    shown_points: list  # per shown beta, (N, d) fixed point reached from each pattern

    NOT_SAVED = ("shown_points",)  # the 2-D points are drawn, not saved


def clustered_circle(n_clusters: int, per_cluster: int, radius: float, spread: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Patterns on a circle (all of one norm, so each can be a fixed point), in tight angular clusters."""
    centres = 2 * np.pi * np.arange(n_clusters) / n_clusters + rng.uniform(0, 2 * np.pi)
    # Evenly spaced within a cluster: the closest pair sets the beta at which single patterns separate.
    angles = (centres[:, None] + spread * np.linspace(-1, 1, per_cluster)).ravel()
    x = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (N, 2)
    return x, np.repeat(np.arange(n_clusters), per_cluster)


def distinct(points: np.ndarray, tol: float = 1e-3) -> int:
    """Number of distinct rows, rows closer than ``tol`` counting as one."""
    reps: list[np.ndarray] = []
    for p in points:
        if not any(np.linalg.norm(p - q) < tol for q in reps):
            reps.append(p)
    return len(reps)


def fixed_point_experiment(betas, rng: np.random.Generator, n_clusters: int = 4, per_cluster: int = 5,
                           radius: float = 4.0, spread: float = 0.15, shown=(0.01, 1.0, 1000.0)) -> FixedPointResult:
    """Iterate the update to convergence from every stored pattern, for each beta.

    Small beta: one fixed point near the mean of all patterns. Intermediate beta: metastable states,
    one per cluster, each averaging that cluster's patterns. Large beta: every pattern is its own
    fixed point (Ramsauer et al. 2020, section 2).
    """
    x, labels = clustered_circle(n_clusters, per_cluster, radius, spread, rng)
    betas = np.asarray(betas, dtype=np.float64)
    part, nfix = np.zeros(betas.size), np.zeros(betas.size, dtype=np.int64)
    for k, beta in enumerate(betas):
        fixed, _ = modern_iterate(x, x.copy(), beta)
        p = softmax(beta * fixed @ x.T)  # (N, d) @ (d, N) -> (N, N): what each fixed point averages
        part[k] = (1.0 / (p * p).sum(axis=1)).mean()
        nfix[k] = distinct(fixed)
    shown_points = [modern_iterate(x, x.copy(), b)[0] for b in shown]
    return FixedPointResult(x, labels, betas, part, nfix, tuple(shown), shown_points)
