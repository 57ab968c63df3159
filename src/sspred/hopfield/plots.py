"""The experiments' figures: each draws a result of sspred.hopfield.experiments into a file.

They draw as sspred.plots does, on its figure helper (matplotlib is imported only when one is called).
"""

from __future__ import annotations

import numpy as np

from sspred import plots
from sspred.hopfield.classical import ALPHA_C
from sspred.hopfield.experiments import (RETRIEVED, BetaResult, CapacityResult, FixedPointResult,
                                         OneStepResult)


def plot_capacity(result: CapacityResult, path) -> None:
    """Mean final overlap and fraction recalled against load, beside the theoretical capacity; written to ``path``."""
    fig = plots.figure(11, 4.2)
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


def plot_one_step(result: OneStepResult, path) -> None:
    """Fraction retrieved exactly in one update against the number of stored patterns, modern and classical."""
    fig = plots.figure(6.4, 4.2)
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


def plot_beta(result: BetaResult, path) -> None:
    """Retrieval error against beta, and against beta times the separation, per pattern set."""
    fig = plots.figure(10, 4.2)
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


def plot_fixed_points(result: FixedPointResult, path) -> None:
    """The fixed point reached from each pattern at three betas, and how many patterns each averages."""
    names = ("global average", "metastable: cluster averages", "single patterns")
    fig = plots.figure(15, 3.9)
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
