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
import sys

# One BLAS thread: these networks are small, and on a shared 2-core
# machine OpenBLAS's default of one thread per core made a 1988-size epoch
# 25x slower (BENCHMARKS.md). Must be set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
import tracemalloc
from pathlib import Path

import numpy as np

import sspred
# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import (ch1_composition, ch1_flatten_orders, ch1_lengths,
                          ch1_memory, ch1_window)
from sspred.alphabet import (DSSP8_TO_3, EIGHT_TO_THREE, ENCODING, N_UNITS,
                             SPACER, STATES3, STATES8, SYMBOLS)
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
data = {(name, split): sspred.load_data(name, split)
        for name, splits in SPLITS.items() for split in splits}


def n_scored(chains):
    return int(sum((c.labels("3") >= 0).sum() for c in chains))


print(f"{'set':10s} {'split':6s} {'chains':>7s} {'residues':>10s}"
      f" {'scored':>10s}")
for (name, split), chains in data.items():
    n_res = sum(len(c.sequence) for c in chains)
    print(f"{name:10s} {split:6s} {len(chains):7,d} {n_res:10,d}"
          f" {n_scored(chains):10,d}")

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
    """Fraction of scored residues in each state of ``states``."""
    kind = "3" if len(states) == 3 else "8"
    y = np.concatenate([c.labels(kind) for c in chains])
    counts = np.bincount(y[y >= 0], minlength=len(states))
    return counts / counts.sum()


comp3 = {f"{n}\n{s}": composition(c, STATES3)
         for (n, s), c in data.items()}
all_dssp8 = [c for s in SPLITS["dssp8"] for c in data["dssp8", s]]
eight_sets = {"cb513": data["cb513", "test"],
              "ts115": data["ts115", "test"], "dssp8": all_dssp8}
comp8 = {n: composition(c, STATES8) for n, c in eight_sets.items()}
ch1_composition(comp3, comp8)

for name, v in comp3.items():
    shares = " ".join(f"{s} {100 * v[STATES3.index(s)]:.1f}%"
                      for s in "HEC")
    print(f"{name.replace(chr(10), ' '):16s} {shares}")

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
    "netsurfp2": [c for s in SPLITS["netsurfp2"]
                  for c in data["netsurfp2", s]],
    "cb513": data["cb513", "test"],
    "ts115": data["ts115", "test"],
    "dssp8": eight_sets["dssp8"],
}
ch1_lengths(families)

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
print(" ".join(f"{s}->{DSSP8_TO_3[s]}" for s in STATES8))
# The same table as an index map: 8-state index -> 3-state index
# (columns of "CHE").
print("EIGHT_TO_THREE =", EIGHT_TO_THREE, "over", STATES8, "->", STATES3)

chain = data["ts115", "test"][0]
y8, y3 = chain.labels("8"), chain.labels("3")
show = slice(0, 60)
letters8 = "".join("-" if v < 0 else STATES8[v] for v in y8[show])
letters3 = "".join("-" if v < 0 else STATES3[v] for v in y3[show])
print(f"{chain.id} (- marks a residue that is not scored)")
print(f"sequence {chain.sequence[show]}")
print(f"8 states {letters8}")
print(f"3 states {letters3}")

# The reduction holds for every scored residue of every 8-state set.
for name, chains in eight_sets.items():
    y8 = np.concatenate([c.labels("8") for c in chains])
    y3 = np.concatenate([c.labels("3") for c in chains])
    keep = y8 >= 0
    same = bool((EIGHT_TO_THREE[y8[keep]] == y3[keep]).all())
    print(f"{name}: 3-state labels = reduced 8-state ones on all"
          f" {keep.sum():,d} scored: {same}")

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
w = windows(chain.codes, WINDOW)  # (L, 13) codes, a strided view, no copy
print("chain", chain.id, "length", len(chain.sequence), "-> windows",
      w.shape, w.dtype)
i = 3  # the 4th residue: three of its left neighbours are off the chain
print("window of residue", i + 1, ":", "".join(SYMBOLS[c] for c in w[i]),
      " (- is the spacer)")
x = one_hot(w[i:i + 1])  # (1, 13) -> (1, 273)
grid = x.reshape(WINDOW, N_UNITS)  # (273,) -> (13, 21): one row a position
print("one-hot matrix", grid.shape, "-> flattened", x.shape,
      "; ones:", int(x.sum()))
ch1_window(w[i], x[0], i + 1, chain.id)

# %% [markdown]
# The matrix has a single 1 per row; three rows have it in the spacer column, because residue 4 has only
# three residues to its left. The strip below is the same 273 numbers as the network sees them.
#
# ## 1.6 Two ways to flatten, and why the weights must agree
#
# The lecture writes a one-hot sequence window as a matrix `x[L, 4]` (L positions of a DNA sequence, 4
# nucleotides); ours is `x[13, 21]`. There are two ways to lay such a matrix out as one vector, and the
# lecture shows both:
#
# * **by rows** (position-major), `x.reshape(-1)` (NumPy's default C order): the 21 symbols of position
#   0, then the 21 of position 1, ... Input $k$ is position $j = \lfloor k / 21 \rfloor$, symbol
#   $s = k \bmod 21$; in reverse, position $j$ and symbol $s$ sit at $k = 21j + s$.
# * **by columns** (symbol-major), `x.T.reshape(-1)` (or `x.reshape(-1, order="F")`): position 0..12 of
#   symbol A, then of symbol C (the alphabet is `ACDEF...Y` and the spacer), ... Input $k$ is symbol $s = \lfloor k / 13 \rfloor$ at position
#   $j = k \bmod 13$; position $j$ and symbol $s$ sit at $k = 13s + j$.
#
# Both vectors hold the same 13 ones; only their places differ. sspred, its model files and this course use
# the first. A first layer computes $\sum_k x_k W_{k,:}$, so row $k$ of $W_1$ *is* the weight of "input
# $k$"; a network trained on one order reads the other as a different window. Let us feed the `fast`
# built-in model (the 1988 network trained on NetSurfP-2.0, 273 inputs by rows) the 1988 test proteins in
# both orders.

# %%
print(f"{'k':>4s}  by rows: (position, symbol)"
      "   by columns: (position, symbol)")
for k in (0, 1, 20, 21, 22, 272):
    j_r, s_r = divmod(k, N_UNITS)
    s_c, j_c = divmod(k, WINDOW)
    print(f"{k:4d}  ({j_r:2d}, {SYMBOLS[s_r]})"
          f"{'':19s} ({j_c:2d}, {SYMBOLS[s_c]})")

qs_test = data["qs1988", "test"]
qs_idx = WindowIndex(qs_test, WINDOW)
X_rows = one_hot(qs_idx.batch(np.arange(len(qs_idx))))  # (N, 273) by rows
# (N, 273) -> (N, 13, 21) -> (N, 21, 13) -> (N, 273): windows by columns
X_cols = X_rows.reshape(-1, WINDOW, N_UNITS).transpose(0, 2, 1)
X_cols = X_cols.reshape(len(X_rows), -1)
assert np.array_equal(X_cols[0],
                      X_rows[0].reshape(WINDOW, N_UNITS).T.ravel())
ch1_flatten_orders(X_rows[i], X_cols[i], WINDOW)

fast_net = sspred.load("fast").model.network
q3 = {name: 100 * np.mean(fast_net.predict_proba(X).argmax(axis=1)
                          == qs_idx.labels)
      for name, X in (("by rows", X_rows), ("by columns", X_cols))}
print("the fast model on the 1988 test set, inputs flattened")
for name, value in q3.items():
    print(f"  {name:10s}: Q3 {value:.1f}%")

# %% [markdown]
# Fed by rows, the order it was trained in, the model scores about 65%; fed the same windows by
# columns, it falls about twelve points below "always coil" (54.6% on this set), because each weight
# now multiplies some other (position, symbol) unit. Nothing raises an error: both inputs are 273 zeros
# and ones. Which order you use does not matter; that the data and the weights use the *same* one does. The same holds when a model moves between
# frameworks (notebook 4) or when you read a layer's weights as a picture (notebook 2, which reshapes
# $W_1$'s rows back to $13 \times 21$ exactly as the input was flattened).
#
# ### Exercise 1.1 — the same network for inputs by columns
# Write `to_column_order(W1)`, which reorders the 273 rows of a first-layer weight matrix (shape
# $273 \times H$, rows by position-major input) so that `X_cols @ to_column_order(W1)` equals
# `X_rows @ W1`. (Row $21j + s$ must move to row $13s + j$.)

# %%
def to_column_order(W1):
    ...  # your code here (the stub returns None; the check below fails)


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def to_column_order(W1):
    # (273, H) -> (13, 21, H): position, symbol -> (21, 13, H) -> (273, H)
    blocks = W1.reshape(WINDOW, N_UNITS, -1)
    return blocks.transpose(1, 0, 2).reshape(WINDOW * N_UNITS, -1)


# %%
# Check.
W1_fast = fast_net.params["layers.0.W"]  # (273, 40)
assert to_column_order(W1_fast) is not None, "write to_column_order first"
assert np.allclose(X_cols[:500] @ to_column_order(W1_fast),
                   X_rows[:500] @ W1_fast, atol=1e-5)
print("column-ordered inputs through column-ordered weights: same layer")

# %% [markdown]
# ## 1.7 One-hot outputs
#
# The *targets* are one-hot too. A residue's state is stored as an index $y \in \{0, 1, 2\}$ into "CHE",
# but the same label written as a vector is the one-hot row $Y = e_y \in \{0,1\}^3$: the probability
# distribution that puts all its mass on the true state. A batch of labels is then a matrix
# $Y \in \{0,1\}^{B \times 3}$ with one 1 per row, the same shape as the network's output, which is
# also a distribution over the three states per row (the softmax, notebook 2).
#
# That is why softmax and cross-entropy go together: the loss compares two distributions over the same
# states, the target $Y$ and the prediction $p$, as $-\sum_k Y_k \log p_k$. With a one-hot $Y$ only one
# term survives, $-\log p_y$: the index $y$ is just a compressed one-hot row, and libraries take either
# (PyTorch's `F.cross_entropy` accepts class indices or rows of probabilities). Rows that are *not* one-hot
# are allowed too: label smoothing (notebook 6) and a teacher's probabilities (notebook 7) are targets of
# this form. An unscored residue ($y = -1$) has no target row at all and is left out of the loss.

# %%
y_chain = chain.labels("3")[:8]  # (8,) indices into "CHE"
Y = np.eye(len(STATES3), dtype=np.float32)[y_chain]  # (8,) -> (8, 3)
print("states ", " ".join(STATES3[v] for v in y_chain))
print("indices", y_chain)
print("one-hot rows (columns C H E):")
print(Y.astype(int))
p_fast = fast_net.predict_proba(X_rows[:8])  # (8, 3), rows sum to 1
print("prediction p, rows sum to", p_fast.sum(axis=1)[:3].round(6))
print("-sum_k Y_k log p_k equals -log p_y:",
      np.allclose(-(Y * np.log(p_fast)).sum(axis=1),
                  -np.log(p_fast[np.arange(8), y_chain])))

# %% [markdown]
# ### Exercise 1.2 — the first layer as a sum of rows
# A window of standard residues has exactly 13 non-zero inputs among 273, one per position. So the dense
# product $x W_1$ ($W_1$ of shape $273 \times 40$) spends $273 \times 40$ multiply-adds per residue, of
# which only $13 \times 40$ touch a non-zero input. Write `first_layer_rows(codes, W1)`: given one window
# of 13 symbol codes (all standard amino acids or the spacer), return $x W_1$ as the sum of the 13 rows of
# $W_1$ where the ones are, without building $x$.

# %%
def first_layer_rows(codes, W1):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def first_layer_rows(codes, W1):
    rows = np.arange(len(codes)) * N_UNITS + codes  # the 1 of each block
    return W1[rows].sum(axis=0)


# %%
# Check.
W1_check = rng.standard_normal((WINDOW * N_UNITS, 40))
assert first_layer_rows(w[i], W1_check) is not None, "write it first"
assert int(np.count_nonzero(x)) == WINDOW
assert np.allclose(first_layer_rows(w[i], W1_check), x[0] @ W1_check)
print("x W1 = the sum of 13 rows of W1")

# %% [markdown]
# That is the whole idea of the next section.

# %% [markdown]
# ## 1.8 Why sspred stores indices, not one-hot matrices
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
# (N, 13) codes -> (N, 273) one-hot rows
dense, mem_dense, t_dense = measure(
    lambda: one_hot(index.batch(np.arange(len(index)))))
print(f"{len(index):,d} windows from {len(chosen)} chains")
print(f"index windows: {mem_index / 1e6:7.1f} MB,",
      f"built in {t_index:.2f} s")
print(f"dense one-hot: {mem_dense / 1e6:7.1f} MB,",
      f"built in {t_dense:.2f} s")
print(f"  (matrix {dense.shape}, {dense.dtype}; "
      f"{100 * np.count_nonzero(dense) / dense.size:.1f}% non-zero)")

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
# a list of (L, 3): every residue of every chain
p_lookup = fast.predict_many([c.codes for c in chosen])
t_pred_lookup = time.perf_counter() - start
p_lookup = np.concatenate([p[c.labels("3") >= 0]  # scored rows, in order
                           for p, c in zip(p_lookup, chosen)])
print(f"predict, dense one-hot : {t_pred_dense:.2f} s")
print(f"predict, index lookups : {t_pred_lookup:.2f} s")
print("largest difference in any probability:",
      f"{np.abs(p_dense - p_lookup).max():.1e}")

# The same idea in plain NumPy, for the hidden layer's pre-activations:
W1, b1 = net.params["layers.0.W"], net.params["layers.0.b"]
blocks = W1.reshape(WINDOW, N_UNITS, -1)  # (273, 40) -> (13, 21, 40)
T = np.einsum("su,juh->jsh", ENCODING.astype(np.float32), blocks)
codes = index.batch(np.arange(1000))  # (1000, 13); T is (13, 28, 40)
# 13 gathers of (1000, 40) rows, one per window position
h_lookup = b1 + sum(T[j][codes[:, j]] for j in range(WINDOW))
print("lookup == dense product:",
      np.allclose(h_lookup, dense[:1000] @ W1 + b1, atol=1e-5))

# %%
ch1_memory(["index windows\n+ lookups", "dense one-hot\nmatrix"],
           (mem_index / 1e6, mem_dense / 1e6), (t_index, t_dense),
           (t_pred_lookup, t_pred_dense), len(index))
print(f"memory: {mem_dense / mem_index:.0f}x smaller; "
      f"prediction: {t_pred_dense / t_pred_lookup:.1f}x faster")

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
# ### Exercise 1.3 — memory of the whole training set
# Extrapolate to the whole NetSurfP-2.0 training set. Write `dense_bytes(n)`, the bytes of a float32
# one-hot matrix of `n` windows of 13, and `index_bytes(idx)`, the bytes a `WindowIndex` keeps: its
# `codes`, `centres` and `labels` arrays.

# %%
def dense_bytes(n):
    ...  # your code here


def index_bytes(idx):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def dense_bytes(n):
    return n * WINDOW * N_UNITS * np.dtype(np.float32).itemsize


def index_bytes(idx):
    return idx.codes.nbytes + idx.centres.nbytes + idx.labels.nbytes


# %%
# Check.
full = WindowIndex(train, WINDOW)
assert dense_bytes(len(full)) is not None, "write dense_bytes first"
assert dense_bytes(len(index)) == dense.nbytes  # the 200k matrix above
assert 2e9 < dense_bytes(len(full)) < 3e9  # about 2.5 GB
assert index_bytes(full) < 60e6  # tens of MB
print(f"{len(full):,d} windows:",
      f"dense {dense_bytes(len(full)) / 1e9:.2f} GB,"
      f" index {index_bytes(full) / 1e6:.1f} MB")

# %% [markdown]
# Dense: $N \times 273 \times 4$ bytes, about 2.5 GB. The index: one byte per residue (plus spacers) for
# the codes and 8 bytes per scored residue for the centres and for the labels, about 40 MB: sixty times
# less.
#
# ### Exercise 1.4 — windows that touch a chain end
# Write `spacer_fraction(idx)`, the fraction of an index's windows that contain at least one spacer
# (`sspred.alphabet.SPACER`), that is, whose centre lies within 6 residues of a chain end. The check
# counts the same thing from the chains' lengths.

# %%
def spacer_fraction(idx):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def spacer_fraction(idx):
    codes = idx.batch(np.arange(len(idx)))  # (N, 13)
    return float((codes == SPACER).any(axis=1).mean())


# %%
# Check.
near, scored = 0, 0
for c in train:
    pos, keep = np.arange(len(c.sequence)), c.labels("3") >= 0
    half = WINDOW // 2  # a window reaches half residues to each side
    end = (pos < half) | (pos >= len(c.sequence) - half)
    near, scored = near + int((end & keep).sum()), scored + int(keep.sum())
frac = spacer_fraction(full)
assert frac is not None, "write spacer_fraction first"
assert np.isclose(frac, near / scored)
print(f"{100 * frac:.1f}% of training windows touch a chain end")

# %% [markdown]
# About 3%. Twelve of every ~255 residues (the mean chain length) lie within 6 of an end, about 5% of
# all residues, but chain ends are often unresolved in the crystal and so masked: of the scored residues,
# fewer are near an end. Those windows carry less sequence information, and chain ends are mostly coil;
# the spacer unit lets the network learn that "near an end" is itself informative.

# %% [markdown]
# ## Summary
#
# * Five named sets, 3 or 8 states; the classes are unbalanced, so accuracy must be read against the
#   majority-class baseline (coil, about 55% on the 1988 test set).
# * The standard 8-to-3 reduction maps H, G, I to helix, E, B to strand and the rest to coil.
# * A residue's input is a window of 13 one-hot rows of 21 units, 273 numbers with 13 ones.
# * Flattened by rows, input $21j + s$ is symbol $s$ at position $j$; by columns it is input $13s + j$.
#   Either works, but the weights must be trained in the order the inputs arrive: the `fast` model fed
#   the other order falls below the constant "always coil".
# * Targets are one-hot rows too, distributions with all mass on the true state; the softmax gives a
#   distribution of the same shape, and cross-entropy compares the two.
# * sspred keeps codes and window indices (tens of times less memory) and computes the first layer as table
#   lookups at prediction, with the same probabilities.
#
# Next: the network that reads these 273 numbers, from softmax regression to Qian & Sejnowski's network.
