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
# # 1. The data: proteins, states and windows
#
# A protein is a chain of amino acids, written as a string over a 20-letter alphabet
# (`MKTAYIAKQRQISFVKSHFSRQ...`). In the folded protein, stretches of the chain take regular shapes:
# the **α-helix** (H), the **β-strand** (E, "extended") and everything else, the **coil** (C).
# Given the atomic coordinates, the program DSSP (Kabsch & Sander 1983) assigns one of eight states to
# every residue from its hydrogen-bond pattern; secondary-structure *prediction* asks for those states
# from the sequence alone.
#
# This is the running example of the course because it is a clean supervised learning problem:
# one input symbol and one label per residue, hundreds of thousands of labelled residues, and a 1988 paper
# (Qian & Sejnowski) that solved it with exactly the feed-forward networks we are about to build.
#
# In this notebook we
# 1. meet the data sets and measure them (sizes, state composition, chain lengths);
# 2. see the 8-to-3 state reduction every paper uses;
# 3. turn a residue into a network input: a **window** of 13 one-hot rows of 21 symbols, flattened to
#    273 numbers;
# 4. measure why sspred never stores those 273 numbers per residue for a whole data set.

# %% [markdown]
# ![CB513 chain cb513-260, each residue coloured by its DSSP state](figures/chain_dssp.svg)
#
# A real chain from CB513 with the states DSSP gave its residues, and the three states they reduce to
# (section 1.4); drawn by `figures/make_diagrams.py`.

# %%
import os

# One BLAS thread: these networks are small, and on a shared 2-core machine OpenBLAS's default of one
# thread per core made a 1988-size epoch 25x slower (BENCHMARKS.md). Must be set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
import tracemalloc

import matplotlib.pyplot as plt
import numpy as np

import sspred
from sspred.alphabet import AMINO_ACIDS, DSSP8_TO_3, EIGHT_TO_THREE, ENCODING, N_UNITS, STATES3, STATES8, SYMBOLS
from sspred.features import WindowIndex, one_hot, windows

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1.1 The data sets
#
# All sets live in the folder named by `$SSPRED_DATA` and are read, in their original formats, by
# `sspred.load_data(name, split)`, which returns a list of `Chain`s: an `id`, the `sequence`, its symbol
# `codes` (one small integer per residue) and `labels("3")` / `labels("8")`, the state of each residue as an
# index into `"CHE"` or `"HGIEBTSC"`, or -1 where the residue is not scored (unresolved in the crystal, or
# outside the segment a benchmark scores).
#
# | name | what it is | splits |
# |---|---|---|
# | `qs1988` | the 128 proteins of Qian & Sejnowski (1988), UCI Machine Learning Repository copy; 3 states only | train (minus a seeded 10% hold-out, `valid`), test (the paper's 17 proteins) |
# | `netsurfp2` | NetSurfP-2.0's training set (Klausen et al. 2019) with its validation subset, and NEW364: PDB chains newer than the training data, culled at 25% identity | train, valid, test (NEW364) |
# | `cb513` | CB513 (Cuff & Barton 1999), the classic benchmark, in NetSurfP-2.0's version: full chains plus a mask marking the CB513 segment | test |
# | `ts115` | TS115 (Yang et al. 2018), 115 recent PDB chains | test |
# | `dssp8` | four PDB chain sets with DSSP labels (SPOT-1D validation and Test2016, PISCES 25%, CB634), pooled and split at random by chain | train, valid, test |
#
# The last three carry the eight DSSP states; `qs1988` and `netsurfp2` carry three.

# %%
SPLITS = {
    "qs1988": ["train", "valid", "test"],
    "netsurfp2": ["train", "valid", "test"],
    "cb513": ["test"],
    "ts115": ["test"],
    "dssp8": ["train", "valid", "test"],
}
data = {(name, split): sspred.load_data(name, split) for name, splits in SPLITS.items() for split in splits}


def n_scored(chains):
    return int(sum((c.labels("3") >= 0).sum() for c in chains))


print(f"{'set':10s} {'split':6s} {'chains':>7s} {'residues':>10s} {'scored':>10s}")
for (name, split), chains in data.items():
    print(f"{name:10s} {split:6s} {len(chains):7,d} {sum(len(c.sequence) for c in chains):10,d} {n_scored(chains):10,d}")

# %% [markdown]
# Three things to notice.
#
# * **Scale.** The 1988 paper trained on 18,105 residues (our `train` + `valid`); NetSurfP-2.0 gives 130
#   times as many. Much of this course is about what a small data set does to a network (overfitting,
#   notebook 6) and what more data buys.
# * **Not every residue is scored.** NetSurfP-2.0 masks residues that were not resolved in the crystal
#   structure (about 7%); CB513 scores only its benchmark segment of each chain (83k of 144k residues).
#   A masked residue still sits in the chain and still appears in its neighbours' input windows; it is
#   just never a training target and never counted in an accuracy.
# * **The test sets overlap.** The data README lists known overlaps: 41 of the 111 Qian & Sejnowski
#   training chains are essentially CB513 chains, and 74 of the 115 TS115 chains appear in Test2016
#   (inside `dssp8`). Notebook 5 measures what such leakage does to a test score.

# %% [markdown]
# ## 1.2 State composition
#
# The fraction of each state is the first number to know about a classification problem: it is the
# accuracy of the dumbest classifier. On the 1988 test set "always predict coil" scores about 55%, so the
# paper's 64.3% is 10 points above a constant, not 64 points above zero.

# %%
def composition(chains, states):
    """Fraction of scored residues in each state, over the state letters ``states``."""
    y = np.concatenate([c.labels("3" if len(states) == 3 else "8") for c in chains])
    counts = np.bincount(y[y >= 0], minlength=len(states))
    return counts / counts.sum()


comp3 = {f"{n}\n{s}": composition(c, STATES3) for (n, s), c in data.items()}
eight_sets = {"cb513": data["cb513", "test"], "ts115": data["ts115", "test"],
              "dssp8": data["dssp8", "train"] + data["dssp8", "valid"] + data["dssp8", "test"]}
comp8 = {n: composition(c, STATES8) for n, c in eight_sets.items()}

fig, (ax3, ax8) = plt.subplots(1, 2, figsize=(13, 4), gridspec_kw={"width_ratios": [3, 2]})
colours = {"H": "tab:red", "E": "tab:blue", "C": "tab:gray"}
x = np.arange(len(comp3))
for k, s in enumerate("HEC"):
    ax3.bar(x + (k - 1) * 0.27, [v[STATES3.index(s)] for v in comp3.values()], 0.27, label=s, color=colours[s])
ax3.set_xticks(x, list(comp3), fontsize=8)
ax3.set_ylabel("fraction of scored residues")
ax3.set_title("3 states: helix, strand, coil")
ax3.legend()
x8 = np.arange(len(STATES8))
for k, (n, v) in enumerate(comp8.items()):
    ax8.bar(x8 + (k - 1) * 0.27, v, 0.27, label=n)
ax8.set_xticks(x8, list(STATES8))
ax8.set_title("8 DSSP states")
ax8.legend()
plt.tight_layout()
plt.show()

for name, v in comp3.items():
    print(name.replace("\n", " "), " ".join(f"{s} {100 * v[STATES3.index(s)]:.1f}%" for s in "HEC"))

# %% [markdown]
# In the 1988 data coil is more than half of all residues; in the modern PDB-derived sets helix and coil are
# about equal (38-42% each), and strand is the smallest class everywhere (20-23%). Among the eight states,
# α-helix (H), strand (E) and coil (C) dominate, turns (T) and bends (S) are about 10% each, and the
# 3₁₀-helix (G), π-helix (I) and isolated β-bridge (B) are a few percent or less. That imbalance is why the
# rare states are hard to predict (a network gains little loss by getting them right) and why accuracy
# alone hides it: per-state scores such as the Matthews
# correlation (notebook 2) show it.

# %% [markdown]
# ## 1.3 Chain lengths
#
# A network that reads a fixed window does not care how long a chain is, but the length distribution
# still matters: it decides how many windows touch a chain end (and so see the "spacer" symbol, below) and
# how much memory whole-chain methods need.

# %%
families = {
    "qs1988": [c for s in SPLITS["qs1988"] for c in data["qs1988", s]],
    "netsurfp2": [c for s in SPLITS["netsurfp2"] for c in data["netsurfp2", s]],
    "cb513": data["cb513", "test"],
    "ts115": data["ts115", "test"],
    "dssp8": eight_sets["dssp8"],
}
bins = np.logspace(1, np.log10(2000), 30)  # equal widths on a log scale
fig, ax = plt.subplots(figsize=(8, 4))
for name, chains in families.items():
    lengths = np.array([len(c.sequence) for c in chains])
    ax.hist(lengths, bins=bins, weights=np.full(lengths.size, 1 / lengths.size), histtype="step", lw=2,
            label=f"{name} ({lengths.size:,d} chains, median {np.median(lengths):.0f})")
ax.set_xscale("log")
ax.set_xlabel("chain length (residues, log scale)")
ax.set_ylabel("fraction of the set's chains")
ax.set_title("Chain-length distributions")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown]
# Most chains are 50 to 500 residues long. The 1988 proteins are shorter (median 143) and so few that their
# histogram is ragged; the modern sets have medians of 200-240 and a tail past 1,000 residues. CB513's
# lengths are those of whole chains, of which it scores a segment.

# %% [markdown]
# ## 1.4 From 8 states to 3
#
# Papers that report "Q3" (the percentage of residues whose 3-state label is predicted correctly) almost
# always reduce DSSP's eight states the same way (NetSurfP-2.0, ProtTrans, the data README):
#
# $$ \{H, G, I\} \to H \qquad \{E, B\} \to E \qquad \{T, S, C, \ldots\} \to C $$
#
# (3₁₀- and π-helices count as helix; an isolated bridge counts as strand; turns, bends and the rest are
# coil). Other reductions exist (some map G and B to coil) and give numbers that are not comparable; always
# say which one you use. sspred keeps the table in one place, `sspred.alphabet`:

# %%
print({s: DSSP8_TO_3[s] for s in STATES8})
# The same table as an index map: 8-state index -> 3-state index (columns of "CHE").
print("EIGHT_TO_THREE =", EIGHT_TO_THREE, "over", STATES8, "->", STATES3)

chain = data["ts115", "test"][0]
y8, y3 = chain.labels("8"), chain.labels("3")
show = slice(0, 70)
letters8 = "".join("-" if v < 0 else STATES8[v] for v in y8[show])
letters3 = "".join("-" if v < 0 else STATES3[v] for v in y3[show])
print(f"{chain.id} (- marks a residue that is not scored)\nsequence {chain.sequence[show]}\n8 states {letters8}\n3 states {letters3}")

# The reduction holds for every scored residue of every 8-state set.
for name, chains in eight_sets.items():
    y8 = np.concatenate([c.labels("8") for c in chains])
    y3 = np.concatenate([c.labels("3") for c in chains])
    keep = y8 >= 0
    print(f"{name}: 3-state labels equal the reduced 8-state ones on all {keep.sum():,d} scored residues:",
          bool((EIGHT_TO_THREE[y8[keep]] == y3[keep]).all()))

# %% [markdown]
# ## 1.5 A window of one-hot rows
#
# A feed-forward network needs a fixed-length vector of numbers. Qian & Sejnowski's input for residue $i$
# is the **window** of residues $i-6, \ldots, i+6$ (13 residues, the residue to classify in the middle).
# Each position becomes a **one-hot** row of 21 numbers: one unit for each of the 20 amino acids, and a
# 21st "spacer" unit that is on where the window hangs over either end of the chain. Stacked, the window is
# a $13 \times 21$ matrix with exactly one 1 per row; **flattened** row by row (position-major) it is the
# 273-vector the first layer reads:
#
# $$ x = \big[\underbrace{e_{a_{i-6}}}_{21} \,\big|\, \underbrace{e_{a_{i-5}}}_{21} \,\big|\, \cdots
#    \,\big|\, \underbrace{e_{a_{i+6}}}_{21}\big] \in \{0,1\}^{273}. $$
#
# One-hot coding says nothing about which amino acids are alike; the network has to learn that from data
# (its first-layer weights, notebook 2, show what it learns). Non-standard letters keep the chain length:
# `X` becomes 1/20 on each amino acid, `B` half D and half N, and so on (`sspred.alphabet.ENCODING`).
#
# In sspred, `sspred.features.windows(codes, 13)` gives the (L, 13) windows of symbol codes of a chain, as
# a view with no copy, and `one_hot` turns a batch of them into rows:

# %%
WINDOW = 13
chain = data["qs1988", "test"][0]
w = windows(chain.codes, WINDOW)  # (L, 13) symbol codes, a strided view of the padded chain
print("chain", chain.id, "length", len(chain.sequence), "-> windows", w.shape, w.dtype)
i = 3  # the 4th residue: three of its left neighbours fall off the chain end
print("window of residue", i + 1, ":", "".join(SYMBOLS[c] for c in w[i]), " (- is the spacer)")
x = one_hot(w[i:i + 1])  # (1, 13) -> (1, 273)
grid = x.reshape(WINDOW, N_UNITS)  # (273,) -> (13, 21): one row per window position
print("one-hot matrix", grid.shape, "-> flattened", x.shape, "; ones:", int(x.sum()))

fig = plt.figure(figsize=(12, 6.5))
ax = fig.add_axes([0.07, 0.32, 0.55, 0.62])
ax.imshow(grid, cmap="Greys", vmin=0, vmax=1)
ax.set_xticks(range(N_UNITS), list(AMINO_ACIDS) + ["spacer"], rotation=90)
labels = [f"{o:+d}  {SYMBOLS[c]}" for o, c in zip(range(-6, 7), w[i])]
ax.set_yticks(range(WINDOW), labels)
ax.axhline(5.5, color="tab:red", lw=0.8)
ax.axhline(6.5, color="tab:red", lw=0.8)
ax.set_ylabel("offset from the centre residue")
ax.set_title(f"Window of residue {i + 1} of {chain.id}: 13 positions x 21 symbols")
ax2 = fig.add_axes([0.66, 0.32, 0.32, 0.62])
ax2.text(0.0, 0.5, "flatten row by row:\nposition j, symbol s\n-> input 21 j + s", fontsize=12, va="center")
ax2.axis("off")
ax3 = fig.add_axes([0.07, 0.08, 0.9, 0.1])
ax3.imshow(x, cmap="Greys", aspect="auto", vmin=0, vmax=1, interpolation="nearest")
for j in range(1, WINDOW):
    ax3.axvline(j * N_UNITS - 0.5, color="tab:blue", lw=0.5)
ax3.set_yticks([])
ax3.set_xticks(np.arange(WINDOW) * N_UNITS + 10, [f"{o:+d}" for o in range(-6, 7)])
ax3.set_xlabel("the 273 inputs (blue lines separate the 13 positions of 21 units)")
plt.show()

# %% [markdown]
# The matrix has a single 1 per row; three rows have it in the spacer column, because residue 4 has only
# three residues to its left. The strip below is the same 273 numbers as the network sees them.

# %% [markdown]
# **Exercise 1.1** How many of the 273 inputs are non-zero for a window of standard residues, and what
# does that say about the cost of the first layer's product $x W_1$ ($W_1$ of shape $273 \times 40$) if it
# is computed as a dense matrix product?

# %% [markdown]
# <details><summary>Solution</summary>
#
# Exactly 13: one per position. A dense product spends $273 \times 40$ multiply-adds per residue, of
# which only $13 \times 40$ touch a non-zero input; the product is a sum of 13 rows of $W_1$:
#
# ```python
# W1 = rng.standard_normal((273, 40))
# rows = np.arange(13) * 21 + w[i]            # the index of the 1 in each position's block
# assert np.allclose(x[0] @ W1, W1[rows].sum(axis=0))
# ```
# That is the whole idea of the next section.
# </details>

# %% [markdown]
# ## 1.6 Why sspred stores indices, not one-hot matrices
#
# The obvious way to prepare training data is to build the $N \times 273$ input matrix once. For the
# NetSurfP-2.0 training set ($N \approx 2.3$ million scored residues) that is 2.3M × 273 × 4 bytes ≈ 2.5 GB
# of float32, 95% of which are zeros, and every residue's codes are copied 13 times. sspred instead keeps
#
# * the chains' symbol codes, concatenated once with spacers between chains (1 byte per residue),
# * for each labelled residue the position of its centre in that array (8 bytes),
#
# and builds one-hot rows only for the minibatch in hand (`sspred.features.WindowIndex`). At prediction the
# first layer is never a matrix product at all: since $x$ has one 1 per position, $x W_1 = \sum_j T_j[a_{i+j}]$
# with a table $T_j = \mathrm{ENCODING}\,W_1^{(j)}$ of 13 × 28 symbols × 40 hidden values, precomputed once.
# sspred's `fast` path gathers from such tables in compiled kernels.
#
# Let us measure both on 200,000 residues of NetSurfP-2.0: memory (with `tracemalloc`, which sees NumPy's
# allocations), the time to build the inputs, and the time to predict them all with the 1988-size `fast`
# model.

# %%
train = data["netsurfp2", "train"]
chosen, total = [], 0
for c in train:  # whole chains, in file order, until 200k scored residues
    chosen.append(c)
    total += int((c.labels("3") >= 0).sum())
    if total >= 200_000:
        break


def measure(build):
    """(result, peak bytes allocated, seconds) of build()."""
    tracemalloc.start()
    start = time.perf_counter()
    out = build()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, peak, seconds


index, mem_index, t_index = measure(lambda: WindowIndex(chosen, WINDOW))
dense, mem_dense, t_dense = measure(lambda: one_hot(index.batch(np.arange(len(index)))))  # (N, 13) -> (N, 273)
print(f"{len(index):,d} windows from {len(chosen)} chains")
print(f"index windows : {mem_index / 1e6:8.1f} MB, built in {t_index:.2f} s")
print(f"dense one-hot : {mem_dense / 1e6:8.1f} MB, built in {t_dense:.2f} s  (matrix {dense.shape}, {dense.dtype})")
print(f"non-zeros in the dense matrix: {100 * np.count_nonzero(dense) / dense.size:.1f}%")

# %% [markdown]
# Now the first layer. The `fast` built-in model is the 1988 network (window 13, 40 sigmoid units) trained
# on NetSurfP-2.0. We predict every residue of the 200k twice: through its NumPy network on the dense
# one-hot rows (a $273 \times 40$ matrix product per residue), and through `Model.predict_many`, which
# reads the chains' codes and does the first layer by table lookups. The first call of the lookup path
# compiles its kernels, so we warm it up on one chain first. The probabilities must agree.

# %%
fast = sspred.load("fast").model
net = fast.network  # the NumPy engine's Network of the same weights

_ = fast.predict_many([chosen[0].codes])  # compile the lookup kernels once
start = time.perf_counter()
p_dense = net.predict_proba(dense)  # (N, 273) @ (273, 40) ... -> (N, 3)
t_pred_dense = time.perf_counter() - start
start = time.perf_counter()
p_lookup = fast.predict_many([c.codes for c in chosen])  # list of (L, 3), every residue of every chain
t_pred_lookup = time.perf_counter() - start
p_lookup = np.concatenate([p[c.labels("3") >= 0] for p, c in zip(p_lookup, chosen)])  # the scored rows, in order
print(f"predict, dense one-hot : {t_pred_dense:.2f} s")
print(f"predict, index lookups : {t_pred_lookup:.2f} s")
print(f"largest difference in any probability: {np.abs(p_dense - p_lookup).max():.1e}")

# The same idea in three lines of plain NumPy, for one hidden layer's pre-activations:
W1, b1 = net.params["layers.0.W"], net.params["layers.0.b"]
T = np.einsum("su,juh->jsh", ENCODING.astype(np.float32), W1.reshape(WINDOW, N_UNITS, -1))  # (13, 28, 40)
codes = index.batch(np.arange(1000))  # (1000, 13)
h_lookup = b1 + sum(T[j][codes[:, j]] for j in range(WINDOW))  # 13 gathers of (1000, 40)
print("lookup == dense product:", np.allclose(h_lookup, dense[:1000] @ W1 + b1, atol=1e-5))

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
kinds = ["index windows\n+ lookups", "dense one-hot\nmatrix"]
for ax, values, title in zip(axes, [(mem_index / 1e6, mem_dense / 1e6), (t_index, t_dense),
                                    (t_pred_lookup, t_pred_dense)],
                             ["memory of the inputs (MB)", "time to build the inputs (s)",
                              "time to predict 200k residues (s)"]):
    bars = ax.bar(kinds, values, color=["tab:green", "tab:orange"])
    ax.bar_label(bars, fmt="%.2f")
    ax.set_title(title, fontsize=10)
plt.suptitle(f"{len(index):,d} residues of NetSurfP-2.0, window 13", y=1.02)
plt.tight_layout()
plt.show()
print(f"memory: {mem_dense / mem_index:.0f}x smaller; prediction: {t_pred_dense / t_pred_lookup:.1f}x faster")

# %% [markdown]
# The index costs a few megabytes where the dense matrix costs over 200 MB, and it is built several times
# faster; the lookup path predicts the same probabilities many times faster than the dense product.
# (Times depend on the machine and its load; rerun the cell and compare ratios, as BENCHMARKS.md does. There
# the compiled lookup kernel of the `fast` model predicts about 12 million residues per CPU-second.)
# In *training*, the minibatch's one-hot rows are cheap to build, so sspred builds them per batch
# (`one_hot(index.batch(rows))`), and for the 1988 shape a compiled training step skips them altogether
# (BENCHMARKS.md, "4.8x faster per epoch at equal accuracy").
#
# Note one line in the plain-NumPy version above: `T[j][codes[:, j]]` is where a one-hot matrix product
# became a table lookup. Embedding layers in modern networks (`torch.nn.Embedding`) are exactly this
# trick: a one-hot input times a weight matrix, computed as a row lookup.

# %% [markdown]
# **Exercise 1.2** Extrapolate: how much memory would the dense one-hot matrix of the whole NetSurfP-2.0
# training set take, and how much does the index take? Check your estimate of the index against a
# `WindowIndex` of the whole training set.

# %% [markdown]
# <details><summary>Solution</summary>
#
# Dense: $N \times 273 \times 4$ bytes, about 2.5 GB for $N \approx 2.32$ million scored residues. Index:
# one byte per residue plus spacers for the codes, and 8 bytes per scored residue for the centres (plus
# 8 for the labels), about 40 MB:
#
# ```python
# full = WindowIndex(train, 13)
# n = len(full)
# print(f"dense {n * 273 * 4 / 1e9:.2f} GB")
# print(f"index {(full.codes.nbytes + full.centres.nbytes + full.labels.nbytes) / 1e6:.1f} MB")
# ```
# </details>

# %% [markdown]
# **Exercise 1.3** Which fraction of the NetSurfP-2.0 training windows has at least one spacer in it, that
# is, lies within 6 residues of a chain end? Why does that matter for a network that reads windows?

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# full = WindowIndex(train, 13)
# from sspred.alphabet import SPACER
# near_end = (full.batch(np.arange(len(full))) == SPACER).any(axis=1)
# print(f"{100 * near_end.mean():.1f}% of windows touch a chain end")
# ```
# About 3%. Twelve of every ~255 residues (the mean chain length) lie within 6 of an end, about 5% of all
# residues, but chain ends are often unresolved in the crystal and so masked: of the scored residues,
# fewer are near an end. Those windows carry less sequence information, and chain ends are mostly coil; the
# spacer unit lets the
# network learn that "near an end" is itself informative.
# </details>

# %% [markdown]
# ## Summary
#
# * Five named sets, 3 or 8 states; the classes are unbalanced, so accuracy must be read against the
#   majority-class baseline (coil, about 55% on the 1988 test set).
# * The standard 8-to-3 reduction maps H, G, I to helix, E, B to strand and the rest to coil.
# * A residue's input is a window of 13 one-hot rows of 21 units, 273 numbers with 13 ones.
# * sspred keeps codes and window indices (tens of times less memory) and computes the first layer as table
#   lookups at prediction, with the same probabilities.
#
# Next: the network that reads these 273 numbers, from softmax regression to Qian & Sejnowski's network.
