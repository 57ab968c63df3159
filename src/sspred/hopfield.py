"""Feedback networks that store and retrieve memories: classical and modern Hopfield networks.

Classical (Hopfield 1982): N binary units s in {-1, +1}^N, Hebbian weights
W = (1/N) sum_mu xi_mu xi_mu^T with a zero diagonal, energy E = -1/2 s^T W s.
An asynchronous update (one unit at a time, s_i <- sign(W_i s)) never raises
E, so the state slides into a local minimum; stored patterns are such minima
while the load P/N stays below about 0.138 (Amit, Gutfreund & Sompolinsky 1985).

Modern continuous (Ramsauer et al. 2020, "Hopfield Networks is All You Need"):
states are real vectors, the update is xi_new = X softmax(beta X^T xi) and the
energy is E = -lse(beta, X^T xi) + 1/2 xi^T xi + beta^-1 log N + 1/2 M^2.
It stores exponentially many patterns in the dimension, usually retrieves in
one update, and its update is transformer attention with the stored patterns
as keys and values.

Conventions: patterns and states are ROWS, as everywhere else in sspred, so the
paper's X (d, N) of column patterns is our ``patterns`` (N, d) and the paper's
X softmax(beta X^T xi) becomes softmax(beta xi X^T) X for a batch of row
queries. The ``*_experiment`` functions return plain data; the ``plot_*``
functions draw it into a PNG (matplotlib is imported only inside them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sspred import plots
from sspred.engines.numpy.activations import logsumexp, softmax


def _figure(width: float, height: float):
    """A matplotlib Figure without pyplot (no global state, no display backend), as sspred.plots draws."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise plots.PlotUnavailable("plotting needs matplotlib: pip install 'sspred[plot]'") from None
    return Figure(figsize=(width, height), dpi=plots.DPI, layout="constrained")


# --- classical: binary units, Hebbian storage ----------------------------------------------

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


@dataclass
class CapacityResult:
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

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


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


def plot_capacity(result: CapacityResult, path) -> None:
    fig = _figure(11, 4.2)
    axes = fig.subplots(1, 2)
    cue = f"cue with {result.flip:.0%} of units flipped"
    axes[0].plot(result.loads, result.overlap_clean, "o-", label="cue = stored pattern")
    axes[0].plot(result.loads, result.overlap_cued, "s-", label=cue)
    axes[0].set_ylabel("mean final overlap m with the stored pattern")
    axes[1].plot(result.loads, result.retrieved_clean, "o-", label=f"recalled (m ≥ {RETRIEVED}), cue = stored pattern")
    axes[1].plot(result.loads, result.retrieved_cued, "s-", label=f"recalled (m ≥ {RETRIEVED}), {cue}")
    axes[1].plot(result.loads, result.perfect_clean, "^--", color="grey", label="stored pattern is an exact fixed point")
    axes[1].set_ylabel("fraction of stored patterns")
    for ax in axes:
        ax.axvline(ALPHA_C, color="k", ls=":", label=f"theory, N → ∞: α_c = {ALPHA_C}")
        if np.isfinite(result.breakdown):
            ax.axvline(result.breakdown, color="C3", ls="--", label=f"measured: half recalled at {result.breakdown:.3f}")
        ax.set_xlabel("load α = P / N (patterns per unit)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle(f"Classical Hopfield network, N = {result.n_units} units, Hebbian weights, asynchronous recall")
    plots.save(fig, path)


# --- modern continuous Hopfield network (Ramsauer et al. 2020) -------------------------------

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


@dataclass
class OneStepResult:
    """One-update retrieval against the number of stored patterns, modern vs classical."""

    dim: int
    beta: float
    counts: np.ndarray  # (C,) numbers of stored patterns
    flips: tuple  # fractions of the cue's units flipped
    modern: np.ndarray  # (F, C) fraction of cues retrieved exactly (sign of the update = stored pattern)
    classical: np.ndarray  # (F, C) the same for one synchronous step of the Hebbian network
    capacity: dict = field(default_factory=dict)  # flip -> largest count up to which every count retrieves >= 99%

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


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


def plot_one_step(result: OneStepResult, path) -> None:
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    for f, flip in enumerate(result.flips):
        ax.plot(result.counts, result.modern[f], "o-", color=f"C{f}", label=f"modern, β = {result.beta:g}, {flip:.0%} flipped")
        ax.plot(result.counts, result.classical[f], "x--", color=f"C{f}", alpha=0.7, label=f"classical, {flip:.0%} flipped")
    ax.axvline(result.dim, color="k", ls=":", label=f"d = {result.dim}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("number of stored patterns N")
    ax.set_ylabel("fraction retrieved exactly after one update")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"One-step retrieval of ±1 patterns in d = {result.dim} dimensions")
    ax.legend(fontsize=7, loc="center right")
    plots.save(fig, path)


@dataclass
class BetaResult:
    """One-update retrieval error against beta, for pattern sets of different separation."""

    dim: int
    n_patterns: int
    betas: np.ndarray  # (K,)
    correlations: np.ndarray  # (R,)
    separations: np.ndarray  # (R,) median Delta of each pattern set
    errors: np.ndarray  # (R, K) mean ||xi_new - x_i|| / ||x_i||
    noise: float

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}


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


def plot_beta(result: BetaResult, path) -> None:
    fig = _figure(10, 4.2)
    axes = fig.subplots(1, 2)
    for r, rho in enumerate(result.correlations):
        label = f"pair cosine {rho:.2f}: Δ ≈ {result.separations[r]:.1f}"
        axes[0].plot(result.betas, result.errors[r], "o-", ms=3, label=label)
        axes[1].plot(result.betas * result.separations[r], result.errors[r], "o-", ms=3, label=label)
    axes[0].set_xlabel("inverse temperature β")
    axes[1].set_xlabel("β · Δ (median separation)")
    axes[1].axvline(np.log(result.n_patterns), color="k", ls=":", label=f"β Δ = log N = {np.log(result.n_patterns):.1f}")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(1e-16, 3)  # below 1e-16 the error is float64 round-off
        ax.set_ylabel("retrieval error ‖ξ_new − x‖ / ‖x‖")
        ax.legend(fontsize=7)
    fig.suptitle(f"Modern Hopfield, one update: N = {result.n_patterns} patterns in d = {result.dim}, "
                 f"cue noise {result.noise:.0%}")
    plots.save(fig, path)


@dataclass
class FixedPointResult:
    """Where iteration from each stored pattern ends, against beta, for clustered patterns."""

    patterns: np.ndarray  # (N, d)
    clusters: np.ndarray  # (N,) cluster of each pattern
    betas: np.ndarray  # (K,)
    participation: np.ndarray  # (K,) mean number of patterns the fixed point averages, 1 / sum p_i^2
    n_fixed_points: np.ndarray  # (K,) distinct fixed points reached from the N stored patterns
    shown_betas: tuple  # the betas drawn in the 2-D panels
    shown_points: list  # per shown beta, (N, d) fixed point reached from each pattern

    def to_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()
                if k != "shown_points"}


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


def plot_fixed_points(result: FixedPointResult, path) -> None:
    names = ("global average", "metastable: cluster averages", "single patterns")
    fig = _figure(15, 3.9)
    axes = fig.subplots(1, len(result.shown_betas) + 1)
    r = np.abs(result.patterns).max() * 1.15
    for ax, beta, pts, name in zip(axes, result.shown_betas, result.shown_points, names):
        ax.scatter(*result.patterns.T, c=result.clusters, cmap="tab10", vmax=9, s=18, label="stored patterns")
        ax.scatter(*pts.T, marker="x", c="k", s=60, label="fixed point reached")
        for a, b in zip(result.patterns, pts):
            ax.plot([a[0], b[0]], [a[1], b[1]], color="grey", lw=0.5)
        ax.set_xlim(-r, r)
        ax.set_ylim(-r, r)
        ax.set_aspect("equal")
        ax.set_title(f"β = {beta:g}: {name}", fontsize=9)
    axes[0].legend(fontsize=7, loc="lower left")
    ax = axes[-1]
    ax.plot(result.betas, result.participation, "o-", ms=3, label="patterns averaged, 1 / Σ p²")
    ax.plot(result.betas, result.n_fixed_points, "s-", ms=3, label="distinct fixed points")
    n = result.patterns.shape[0]
    k = int(result.clusters.max()) + 1
    for level in (n, n // k, 1):
        ax.axhline(level, color="grey", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("β")
    ax.set_title(f"{n} patterns in {k} clusters", fontsize=9)
    ax.legend(fontsize=7, loc="center left")
    plots.save(fig, path)
