# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 8. Feedback networks: Hopfield networks, old and modern
#
# Every network in chapters 1-7 is **feed-forward**: a window of residues goes in at the bottom, passes once
# through the layers, and three probabilities come out. Its memory of the training data is *implicit*:
# backpropagation folds the statistics of millions of windows into the weights, and no single window is stored
# anywhere you could point to. Retrieval is one forward pass; nothing iterates.
#
# A **feedback** network (Hopfield 1982) connects its units in both directions, so its state keeps changing
# after the input is applied. Its memory is *explicit*:
#
# - **storage** writes patterns into the weights in one shot, with no labels and no gradient (Hebb's rule);
# - **retrieval** is *dynamics*: a cue (a corrupted or partial pattern) is the initial state, and an update
#   rule runs it downhill on an **energy** function until it stops in a minimum. The stored patterns are those
#   minima. This is *content-addressable* memory: a pattern is looked up by its content, not by its address.
#
# This chapter builds both halves by hand with `sspred.hopfield` (plain NumPy; the module's docstring and
# [docs/hopfield.md](../hopfield.md) have the derivations) and ends with the result that ties it to the rest of
# the course: one update of a **modern** Hopfield network *is* the attention of a transformer. We check that
# numerically against PyTorch.
#
# Conventions: patterns and states are **rows**, as everywhere in sspred, so the paper's $X\,\mathrm{softmax}
# (\beta X^\top \xi)$ is written `softmax(beta * xi @ X.T) @ X` here.

# %%
import json
import sys
import time
from pathlib import Path

import numpy as np

import sspred
from sspred import hopfield as hf

# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import ch8_beta, ch8_capacity, ch8_one_step, ch8_recall

rng = np.random.default_rng(0)  # every random draw below comes from here
t_start = time.perf_counter()

# %% [markdown]
# ## 8.1 Storage: Hebb's rule
#
# The classical network has $N$ binary units $s_i \in \{-1, +1\}$. To store $P$ patterns
# $\xi^1, \dots, \xi^P$ we set every weight by **Hebb's rule**, "units that fire together wire together":
#
# $$W = \frac{1}{N} \sum_{\mu=1}^{P} \xi^\mu {\xi^\mu}^\top, \qquad W_{ii} = 0 .$$
#
# That is the whole of learning: one sum of outer products, no epochs, no loss. The weights are symmetric, and
# the network has an **energy** $E(s) = -\tfrac12 s^\top W s$.
#
# Why does a stored pattern sit in a valley of $E$? The *local field* of unit $i$ in state $\xi^\nu$ is
#
# $$h_i = \sum_j W_{ij}\,\xi^\nu_j = \xi^\nu_i \;+\; \underbrace{\frac1N \sum_{\mu\ne\nu}\sum_{j\ne i}
# \xi^\mu_i \xi^\mu_j \xi^\nu_j}_{\text{crosstalk}} \;(-\, P\xi^\nu_i/N \text{ from the zero diagonal}).$$
#
# The first term (the *signal*) has the sign of the pattern; the crosstalk from the other $P-1$ patterns is a
# sum of about $PN$ random $\pm 1/N$ terms, noise of standard deviation $\sqrt{P/N}$. While the noise is small
# the field agrees with the pattern in every unit, and the pattern is a fixed point.
#
# To *see* the memory, we store four 10 x 10 bitmaps: the letters of the three secondary-structure states and
# one more.

# %%
LETTERS = {
    "H": [
        "#........#",
        "#........#",
        "#........#",
        "#........#",
        "##########",
        "##########",
        "#........#",
        "#........#",
        "#........#",
        "#........#",
    ],
    "E": [
        "##########",
        "##########",
        "##........",
        "##........",
        "########..",
        "########..",
        "##........",
        "##........",
        "##########",
        "##########",
    ],
    "C": [
        "...#######",
        "..##......",
        ".##.......",
        "##........",
        "##........",
        "##........",
        "##........",
        ".##.......",
        "..##......",
        "...#######",
    ],
    "X": [
        "##......##",
        ".##....##.",
        "..##..##..",
        "...####...",
        "....##....",
        "....##....",
        "...####...",
        "..##..##..",
        ".##....##.",
        "##......##",
    ],
}
SIDE = 10
to_pm = lambda rows: np.array(
    [1 if ch == "#" else -1 for row in rows for ch in row], dtype=np.int8
)  # (N,)
patterns = np.array([to_pm(rows) for rows in LETTERS.values()])  # (P, N)
W = hf.hebbian(patterns)  # (N, N), symmetric, zero diagonal
print(
    "patterns",
    patterns.shape,
    "weights",
    W.shape,
    "symmetric:",
    np.array_equal(W, W.T),
)
print("overlaps between the stored letters (1: identical, 0: unrelated):")
print(np.round(hf.overlap(patterns[:, None, :], patterns[None, :, :]), 2))

# %% [markdown]
# The letters are not random: E shares bars with H and curves with C, so some overlaps are far from 0.
# Correlated patterns are harder to keep apart than random ones (exercise 8.2 shows what goes wrong), but at
# this tiny load ($P/N = 0.04$) the network still recalls them.
#
# ## 8.2 Recall: asynchronous updates run downhill
#
# Recall starts from a cue and updates **one unit at a time** (asynchronously), in a random order:
#
# $$s_i \leftarrow \operatorname{sign}\Big(\sum_j W_{ij} s_j\Big).$$
#
# A unit whose field is exactly zero keeps its state. Each such step changes the energy by
# $\Delta E = -|h_i|\,|\Delta s_i| \le 0$: the energy can never go up, and since it is bounded below and the
# state space is finite, the dynamics must stop in a **fixed point**. We corrupt the letter E by flipping 25 %
# of its pixels and follow every single-unit update.

# %%
target = 1  # the letter E
# (1, N): 25 of the 100 pixels flipped
cue = hf.corrupt(patterns[target : target + 1], 0.25, rng)
state = cue.copy()
energies = [float(hf.energy(W, state)[0])]
overlaps = [
    hf.overlap(state, patterns)
]  # (P,): the overlap with each letter
snapshots = [state[0].copy()]
for sweep in range(5):
    flips = 0
    # one sweep: every unit once, in a random order
    for i in rng.permutation(W.shape[0]):
        # in place; returns 1 if the unit flipped
        flips += hf.update_unit(W, state, i)
        energies.append(float(hf.energy(W, state)[0]))
        overlaps.append(hf.overlap(state, patterns))
    snapshots.append(state[0].copy())
    if flips == 0:
        break
energies, overlaps = np.array(energies), np.array(overlaps)  # (T,), (T, P)
print(
    f"stopped after {sweep + 1} sweeps; final overlaps:",
    {k: round(float(v), 2) for k, v in zip(LETTERS, overlaps[-1])},
)
print("energy never increased:", bool(np.all(np.diff(energies) <= 1e-12)))

# %%
ch8_recall(snapshots, energies, overlaps, list(LETTERS), SIDE)

# %% [markdown]
# Recall is finished within a sweep or two. The energy curve is a staircase: flat where a unit already agreed
# with its field, a step down at every flip. This is the property the tests in `tests/test_hopfield.py`
# check after every single update.
#
# ### Exercise 8.1 — synchronous updates can cycle
# The *synchronous* update sets all units at once, $s \leftarrow \operatorname{sign}(W s)$ (`hf.sync_step`).
# Show that it need not settle: set `W2` (a symmetric $2 \times 2$ weight matrix with zero diagonal) and
# `s0` (a start state of shape $(1, 2)$, dtype int8) from which it ends in a **2-cycle**.

# %%
W2 = ...  # your code here
s0 = ...  # your code here

# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
# Two units coupled positively, started opposite: each copies the other,
# so both flip at every step.
W2 = np.array([[0.0, 1.0], [1.0, 0.0]])
s0 = np.array([[1, -1]], dtype=np.int8)

# %%
# Check.
s1 = hf.sync_step(W2, s0)
assert np.array_equal(W2, W2.T) and not np.any(np.diag(W2))
assert not np.array_equal(s1, s0), "the first step must move"
assert np.array_equal(hf.sync_step(W2, s1), s0), "not a 2-cycle"
print(
    "energies along the cycle:",
    [float(hf.energy(W2, s)[0]) for s in (s0, s1, s0)],
)

# %% [markdown]
# The energy stays where it is (+1) and never reaches the minimum (-1). The same happens in big networks:
# `hf.recall_sync` returns `converged=False` for such starts. The asynchronous update cannot do this: changing
# one unit at a time, each change lowers $E$ or leaves it. Synchronous updates minimise a different Lyapunov
# function, whose minima include 2-cycles.
#
# ### Exercise 8.2 — correlated memories
# Replace the round C by a blocky one that shares E's top, bottom and left bars (overlap 0.64 with E). Write
# `final_overlaps(W, patterns, target, n, gen)`: recall `patterns[target]` from `n` cues with 25 % of the
# pixels flipped (`hf.corrupt`, `hf.recall_async`), and return the $(n, P)$ final overlaps with every
# pattern (`hf.overlap`). The check compares the round C with the blocky one.

# %%
BLOCKY_C = [
    "..########",
    ".#########",
    "##........",
    "##........",
    "##........",
    "##........",
    "##........",
    "##........",
    ".#########",
    "..########",
]


def final_overlaps(W, patterns, target, n, gen): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def final_overlaps(W, patterns, target, n, gen):
    out = []
    for _ in range(n):
        cue = hf.corrupt(
            patterns[target : target + 1], 0.25, gen
        )  # (1, N)
        final, _ = hf.recall_async(W, cue, gen)
        out.append(hf.overlap(final[0], patterns))  # (P,)
    return np.array(out)  # (n, P)


# %%
# Check.
blocky = patterns.copy()
blocky[2] = to_pm(BLOCKY_C)
E_ = list(LETTERS).index("E")
gen = np.random.default_rng(0)
round_c = final_overlaps(W, patterns, E_, 50, gen)
block_c = final_overlaps(hf.hebbian(blocky), blocky, E_, 50, gen)
assert block_c.shape == (50, 4)
print(
    f"E recalled exactly: {np.mean(round_c[:, E_] == 1):.0%} with the "
    f"round C, {np.mean(block_c[:, E_] == 1):.0%} with the blocky C"
)
print("final overlaps with H, E, C, X (blocky C, first three cues):")
print(np.round(block_c[:3], 2))
assert np.mean(block_c[:, E_] == 1) < np.mean(round_c[:, E_] == 1)

# %% [markdown]
# With the blocky C, E is never recalled exactly: every recall ends in the same **spurious state**, near E
# (overlap 0.96) but pulled towards the blocky C (0.68), because the Hebbian sum of two similar patterns puts a
# minimum between them that is deeper than E's own. This is one reason the 0.138 N capacity is quoted for *random* patterns, and one reason modern
# Hopfield networks (section 8.4) separate patterns by an exponentially sharp energy instead.

# %% [markdown]
# ## 8.3 Capacity: 0.138 patterns per unit
#
# The crosstalk grows as $\sqrt{P/N}$. Once it is comparable with the signal, some units of a stored pattern
# get the wrong field, they flip, the flips raise the crosstalk further, and recall cascades away. The
# mean-field theory of Amit, Gutfreund & Sompolinsky (1985) puts the sharp transition, for $N \to \infty$, at a
# **load $\alpha_c = P/N \approx 0.138$**. Above it the retrieval states vanish and the network falls into
# "spin-glass" states that overlap every pattern by only 0.3-0.4.
#
# `hf.capacity_experiment` stores $P = \alpha N$ random patterns, starts asynchronous recall from each stored
# pattern (and from a copy with 10 % of units flipped), and counts a recall as successful when the final overlap
# is at least 0.9. We run it at $N = 200$ (about 15 s; the shipped figure used $N = 1000$ and 1.5 minutes) and
# plot the $N = 1000$ curve from `docs/hopfield/capacity.json` beside it.


# %%
def repo_root() -> Path:
    """The checkout this notebook lives in (for the recorded numbers)."""
    here = [Path.cwd(), *Path.cwd().parents]
    for p in [*here, *Path(sspred.__file__).resolve().parents]:
        if (p / "BENCHMARKS.md").exists():
            return p
    raise FileNotFoundError("run this notebook inside sspred's checkout")


ROOT = repo_root()
loads = np.round(np.arange(0.04, 0.27, 0.02), 2)
t0 = time.perf_counter()
cap = hf.capacity_experiment(200, loads, rng, trials=2, max_starts=50)
print(
    f"N = 200: {time.perf_counter() - t0:.1f} s; half the stored "
    f"patterns recalled up to a load of {cap.breakdown:.3f}"
)
full = json.loads((ROOT / "docs/hopfield/capacity.json").read_text())
print(
    f"N = {full['n_units']} (docs/hopfield/capacity.json): half "
    f"recalled up to {full['breakdown']:.3f}"
)

# %%
ch8_capacity(
    [
        (cap.to_dict(), 200, cap.breakdown, "this notebook"),
        (full, full["n_units"], full["breakdown"], "docs/hopfield"),
    ],
    hf.ALPHA_C,
)

# %% [markdown]
# Two things to read off the curves:
#
# - Recall breaks down near the theoretical load, but a finite network's transition is **smeared and shifted
#   upwards**: half the patterns are still recalled at about 0.16-0.20 for these sizes, and the larger network
#   is closer to 0.138. The theory is a statement about $N \to \infty$.
# - Even well below the breakdown, stored patterns are seldom *exact* fixed points (grey): a few bits are
#   wrong. The network recalls a state *near* each pattern. Capacity is about $0.14 N$ patterns of $N$ bits,
#   so the weights (of which there are $N^2/2$) hold only about $0.14 N^2$ bits: a very inefficient memory.
#
# ### Exercise 8.3 — the signal-to-noise argument, measured
# For $N = 500$ units and $P = 50$ random patterns, write `crosstalk(xi)`: the crosstalk term
# $h_i \xi^\nu_i - 1$ for every unit of every stored pattern (a $(P, N)$ array), with $h$ the local fields
# of the Hebbian network (`hf.hebbian`) in each stored pattern. The check compares its standard deviation
# with $\sqrt{P/N}$, and the fraction of units with crosstalk below $-1$ (a unit that flips at once) with the
# normal approximation.


# %%
def crosstalk(xi): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def crosstalk(xi):
    h = xi @ hf.hebbian(xi)  # (P, N) @ (N, N) -> (P, N): local fields
    return h * xi - 1  # the signal is 1 (less P/N: the zero diagonal)


# %%
# Check.
import math

n_units, n_pat = 500, 50
cross = crosstalk(
    hf.random_patterns(n_pat, n_units, np.random.default_rng(1))
)
assert cross.shape == (n_pat, n_units)
assert abs(cross.std() - np.sqrt(n_pat / n_units)) < 0.02
normal = 0.5 * math.erfc(np.sqrt(n_units / n_pat) / math.sqrt(2))
print(
    f"std {cross.std():.3f} against sqrt(P/N) = "
    f"{np.sqrt(n_pat / n_units):.3f}; below -1: "
    f"{(cross < -1).mean():.4f}, normal approximation {normal:.4f}"
)

# %% [markdown]
# At $\alpha = 0.1$ fewer than one unit in a thousand starts wrong. The catastrophe at 0.138 comes from the
# avalanche: each wrong unit adds to every other unit's noise.

# %% [markdown]
# ## 8.4 Modern Hopfield networks: exponential capacity, one-step retrieval
#
# Ramsauer et al. (2020), *Hopfield Networks is All You Need*, keep the idea (stored patterns are minima of an
# energy, retrieval runs downhill) but change the energy. States $\xi$ are continuous vectors in
# $\mathbb{R}^d$, the stored patterns are kept as they are (the rows of $X$, $N \times d$), and
#
# $$E(\xi) = -\operatorname{lse}(\beta, X\xi) + \tfrac12 \xi^\top\xi + \beta^{-1}\log N + \tfrac12 M^2,
# \qquad \operatorname{lse}(\beta, z) = \beta^{-1}\log\sum_i e^{\beta z_i},$$
#
# with $M$ the largest pattern norm. Minimising it by the concave-convex procedure gives the update
#
# $$\xi^{\text{new}} = X^\top \operatorname{softmax}(\beta X \xi),$$
#
# a **softmax-weighted average of the stored patterns**, weighted by how well each matches the state. The
# log-sum-exp makes the valleys exponentially sharp: the number of storable patterns grows *exponentially* in
# $d$, and a well-separated pattern is retrieved in **one** update. "Well separated" means the margin
# $\Delta_i = x_i^\top x_i - \max_{j\ne i} x_i^\top x_j$ is large compared with $\log(N)/\beta$.
#
# First the energy property, then retrieval against $\beta$.

# %%
X = hf.sphere_patterns(200, 16, rng)  # (N, d) = (200, 16), each of norm 4
xi = X[:5] + 0.5 * rng.standard_normal((5, 16))  # (5, d): five noisy cues
for step in range(4):
    energy = hf.modern_energy(X, xi, beta=1.0)
    print(f"update {step}: energy of the five states", np.round(energy, 4))
    # (5, d) @ (d, N) -> softmax -> (5, N) @ (N, d) -> (5, d)
    xi = hf.modern_update(X, xi, beta=1.0)
print(
    "distance to the stored patterns:",
    np.round(np.linalg.norm(xi - X[:5], axis=1), 4),
)

# %% [markdown]
# The energy drops at the first update and hardly moves after it: one update has carried each state to within
# a few hundredths of its stored pattern (whose norm is 4), and the later updates change only the last decimals.
# Now the role of $\beta$, the inverse temperature. We store 1,000 patterns of norm $\sqrt{64}$ and
# make them more and more alike by mixing in a shared direction (pairwise cosine 0 to 0.85, so the median
# separation $\Delta$ falls from about 39 to about 6). Each cue is a stored pattern plus 10 % noise; we apply
# one update and measure the relative error.

# %%
t0 = time.perf_counter()
betas = np.logspace(-2, 1, 19)
bres = hf.beta_experiment(
    64, 1000, betas, [0.0, 0.3, 0.6, 0.85], rng, noise=0.1, n_cues=200
)
print(
    f"{time.perf_counter() - t0:.1f} s; median separations:",
    np.round(bres.separations, 1),
)
ch8_beta(bres, bres.n_patterns)

# %% [markdown]
# At small $\beta$ the softmax is nearly uniform and the update returns the **average** of all patterns (error
# about 1). As $\beta$ grows, the softmax concentrates on the best-matching pattern and the error falls by many
# orders of magnitude within a factor of a few in $\beta$. Closer patterns (smaller $\Delta$) need a
# proportionally larger $\beta$: plotted against $\beta\Delta$ (right) the four curves lie on top of each other,
# and retrieval becomes exact just above $\beta\Delta \approx \log N$, as the theory's $e^{-\beta\Delta}$-shaped
# bound predicts.
#
# How many patterns fit? With $\beta = 1$ and $\pm 1$ patterns in $d = 64$ dimensions, one update retrieves
# every cue (10 % of the bits flipped) exactly up to thousands of patterns, where one synchronous step of the
# classical network already fails at a few dozen:

# %%
t0 = time.perf_counter()
counts = 2 ** np.arange(3, 13)
one = hf.one_step_experiment(
    64, counts, rng, beta=1.0, flips=(0.1, 0.2), n_cues=100
)
print(
    f"{time.perf_counter() - t0:.1f} s; largest count retrieved >= 99 %:",
    one.capacity,
)
ch8_one_step(one, hf.ALPHA_C)

# %% [markdown]
# ### Exercise 8.4 — metastable states
# Between "average of everything" and "one pattern" there is a third regime. Write `iterate(X, xi, beta)`:
# apply the modern update (`hf.modern_update`) until the state moves by less than $10^{-10}$ (at most 1,000
# updates) and return the fixed point. The check starts from every one of 20 patterns stored on a circle in
# 4 tight clusters and counts the distinct fixed points at small, intermediate and large $\beta$.


# %%
def iterate(X, xi, beta): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def iterate(X, xi, beta):
    for _ in range(1000):
        new = hf.modern_update(X, xi, beta)  # (B, d)
        if np.abs(new - xi).max() < 1e-10:
            return new
        xi = new
    return xi


# %%
# Check.
angles = np.repeat(np.arange(4) * np.pi / 2, 5)  # 4 clusters of 5
angles = angles + np.random.default_rng(84).normal(0, 0.15, 20)
ring = 4 * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (20, 2)
distinct = {}
for beta in (0.01, 1.0, 1000.0):
    fixed = iterate(ring, ring.copy(), beta)  # (20, 2)
    distinct[beta] = len(np.unique(np.round(fixed, 4), axis=0))
    print(f"beta {beta:7.2f}: {distinct[beta]:2d} distinct fixed points")
assert (
    distinct[0.01] == 1 and distinct[1.0] == 4 and distinct[1000.0] == 20
)
fp = hf.fixed_point_experiment(
    np.logspace(-2, 3, 6), np.random.default_rng(0)
)
for b, n, part in zip(fp.betas, fp.n_fixed_points, fp.participation):
    print(
        f"hf.fixed_point_experiment, beta {b:7.2f}: {n:2d} fixed "
        f"points, each averaging {part:5.2f} patterns"
    )

# %% [markdown]
# Small $\beta$: one fixed point, the global average (participation 20). Intermediate $\beta$: four
# **metastable states**, one per cluster, each averaging its cluster's five patterns. Large $\beta$: 20 fixed
# points, one per pattern. Ramsauer et al. find the same three regimes in the heads of trained transformers
# ([docs/hopfield.md](../hopfield.md) has the figure).

# %% [markdown]
# ## 8.5 The update is attention
#
# Write a batch of states as the rows of $Q$ ($B \times d$) and the stored patterns as the rows of $K$
# ($N \times d$). The modern update of all the states at once is
#
# $$\operatorname{softmax}(\beta\, Q K^\top)\, K .$$
#
# With separate values $V$ in place of the second $K$ this is exactly **scaled dot-product attention**,
# $\operatorname{softmax}(Q K^\top/\sqrt{d_k})\, V$, with the scale $1/\sqrt{d_k}$ playing the part of $\beta$.
# An attention head is one retrieval step of a modern Hopfield network whose stored patterns are the keys and
# whose retrieved content is the values. We check it against PyTorch's fused kernel,
# `torch.nn.functional.scaled_dot_product_attention`, whose `scale` argument is our $\beta$:
#
# 1. the raw update ($K = V = $ the stored patterns), at attention's usual $\beta = 1/\sqrt{d}$ and at a large
#    $\beta$ where the softmax is nearly one-hot;
# 2. the attention weights themselves, $\operatorname{softmax}(\beta Q K^\top)$;
# 3. the update with learned projections, $\operatorname{softmax}(\beta\, (R W_Q)(Y W_K)^\top)\,(Y W_K) W_V$
#    (Ramsauer et al., eq. 10), which is how the Hopfield layer in sspred's predictor
#    (`{"type": "hopfield", ...}`, chapter 7) uses it.

# %%
import torch
import torch.nn.functional as F

from sspred.engines.numpy.activations import softmax

d, n_stored, n_queries = 32, 500, 64
stored = rng.standard_normal((n_stored, d))  # (N, d): keys = values
queries = rng.standard_normal((n_queries, d))  # (B, d): states to update
# (rows, d) -> (1, rows, d): a batch of one for torch
t = lambda a: torch.from_numpy(a)[None]
attend = lambda q, k, v, scale: F.scaled_dot_product_attention(
    t(q), t(k), t(v), scale=scale
)[0].numpy()

for beta in (1 / np.sqrt(d), 8.0):
    ours = hf.modern_update(stored, queries, beta)  # (B, d)
    theirs = attend(queries, stored, stored, beta)  # (B, d)
    print(
        f"beta = {beta:.4f}: max |Hopfield update - torch attention| = "
        f"{np.abs(ours - theirs).max():.2e}"
    )

beta = 1 / np.sqrt(d)
# (B, d) @ (d, N) -> (B, N)
weights_ours = softmax(beta * queries @ stored.T)
scores = beta * t(queries) @ t(stored).transpose(1, 2)  # (1, B, N)
weights_torch = torch.softmax(scores, dim=-1)[0].numpy()  # (B, N)
print(
    f"attention weights: max difference "
    f"{np.abs(weights_ours - weights_torch).max():.2e}; rows sum to 1: "
    f"{np.allclose(weights_ours.sum(axis=1), 1)}"
)

k_dim, v_dim = 16, 24
Wq = rng.standard_normal((d, k_dim)) / np.sqrt(d)
Wk = rng.standard_normal((d, k_dim)) / np.sqrt(d)
Wv = rng.standard_normal((k_dim, v_dim)) / np.sqrt(k_dim)
beta = 1 / np.sqrt(k_dim)
keys = stored @ Wk  # (N, d) @ (d, k) -> (N, k)
# ((B, k) -> (B, k)) @ (k, v) -> (B, v)
ours = hf.modern_update(keys, queries @ Wq, beta) @ Wv
theirs = attend(queries @ Wq, keys, keys @ Wv, beta)  # (B, v)
print(
    f"with projections (eq. 10): max difference "
    f"{np.abs(ours - theirs).max():.2e}"
)

# %% [markdown]
# The differences are float64 round-off ($10^{-15}$ to $10^{-13}$, larger at large $\beta$ where the exponentials
# are larger): the two computations are the same function. Two readings of that identity:
#
# - **A transformer layer is an associative memory.** Each attention head retrieves, for every query, a
#   softmax-weighted mix of stored values; its temperature $1/\sqrt{d_k}$ decides whether it averages broadly
#   (metastable states) or picks one key (single-pattern retrieval).
# - **A Hopfield network can be a layer.** Its stored patterns can be *learned* by backpropagation, like any
#   other weights. sspred's `hopfield` layer does exactly that: a window's 40 hidden units query 64 learned
#   patterns. Measured on netsurfp2 (BENCHMARKS.md, "Hopfield layer"; two seeds, 2,500 training chains, 6
#   epochs), it learns faster in the first epochs but ends level with a same-size MLP (CB513 Q3 66.21 against
#   66.08, within the seed spread): a memory of 64 prototype windows adds little when it sees the same 13
#   residues as the hidden layer. Attention over the *other residues of the chain*, as in transformers, would
#   bring new information; that is a different layer.
#
# ### Exercise 8.5 — why attention averages at its default scale
# Attention's default scale is $1/\sqrt{d_k}$. By section 8.4, retrieval is exact once
# $\beta\Delta \gtrsim \log N$. Write `beta_delta(keys)`: $\beta\Delta$ at $\beta = 1/\sqrt{d_k}$ for
# keys given as the rows of an $(N, d_k)$ array, with $\Delta$ the median separation (`hf.separation`). The
# check compares it, for 1,000 random keys of dimension 64, with $\log N$ and with the estimate
# $\sqrt{d_k} - \sqrt{2 \log N}$ (for random keys with entries of variance 1, $x_i^\top x_i \approx d_k$,
# and the largest of the $N-1$ cross terms is about $\sqrt{2 d_k \log N}$).


# %%
def beta_delta(keys): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def beta_delta(keys):
    return np.median(hf.separation(keys)) / np.sqrt(keys.shape[1])


# %%
# Check.
dk, n_keys = 64, 1000
random_keys = np.random.default_rng(0).standard_normal((n_keys, dk))
bd = beta_delta(random_keys)
estimate = np.sqrt(dk) - np.sqrt(2 * np.log(n_keys))
print(
    f"beta * Delta = {bd:.1f}; estimate {estimate:.1f}; "
    f"log N = {np.log(n_keys):.1f}"
)
assert abs(bd - estimate) < 1.0 and bd < np.log(n_keys)

# %% [markdown]
# $\beta\Delta$ is about 4.7, under $\log N \approx 6.9$: the softmax of a head with random keys spreads over
# many keys, so it averages. Training can scale up the query and key projections, which multiplies
# $\beta\Delta$; a head then retrieves single patterns (large effective $\beta$) or averages (small),
# whichever lowers the loss.

# %% [markdown]
# ## Summary
#
# | | classical (Hopfield 1982) | modern (Ramsauer et al. 2020) |
# |---|---|---|
# | states | $\pm 1$ units | real vectors |
# | storage | Hebb: $W = \frac1N\sum \xi\xi^\top$ | keep the patterns, $X$ |
# | energy | $-\frac12 s^\top W s$ | $-\operatorname{lse}(\beta, X\xi) + \frac12\xi^\top\xi + \text{const}$ |
# | update | $s_i \leftarrow \operatorname{sign}(W_i s)$, one unit at a time | $\xi \leftarrow X^\top\operatorname{softmax}(\beta X\xi)$ |
# | capacity | $\approx 0.138\,N$ | exponential in $d$ |
# | retrieval | several sweeps | usually one update |
# | in deep learning | | attention: keys = patterns, $\beta = 1/\sqrt{d_k}$ |
#
# References: J. J. Hopfield (1982), PNAS 79:2554. D. J. Amit, H. Gutfreund, H. Sompolinsky (1985), PRL
# 55:1530. H. Ramsauer et al. (2020), *Hopfield Networks is All You Need*, arXiv:2008.02217. A. Vaswani et al.
# (2017), *Attention is all you need*.

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.0f} s")
