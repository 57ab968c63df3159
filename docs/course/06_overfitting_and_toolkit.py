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
# # 6. Overfitting and the generalisation toolkit
#
# A network with enough weights can learn its training set by heart. Qian & Sejnowski saw it in 1988: their
# Figure 8 plots the accuracy on the training proteins and on the test proteins against the number of training
# passes. The training curve climbs towards 100 %; the test curve peaks early and then *falls*, while the
# network keeps "improving" on the data it has seen. The gap between the two curves is **overfitting**: what
# the network learns about these particular 18,000 residues rather than about proteins.
#
# This chapter
#
# 1. reproduces Figure 8 on the paper's own proteins, and sets it beside the same experiment on 16 times more
#    data;
# 2. measures how the gap grows with the number of weights and shrinks with the amount of data;
# 3. goes through the **toolkit** that fights overfitting (more data, a bottleneck, L1/L2 penalties, early
#    stopping, dropout, noise, batch normalisation, label smoothing): what each does, and what each did in the
#    ablation measured for BENCHMARKS.md;
# 4. reruns two of them live.
#
# Every number that the notebook does not compute itself is read from the files that record it
# (`docs/experiments/results-*.json`, `BENCHMARKS.md`), not typed in.

# %%
import os

# One BLAS thread, set before NumPy loads: on a busy 2-core machine more threads spin against each other and made
# a 1988-size epoch 25 times slower (BENCHMARKS.md, "Training toolkit ablation").
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json
import re
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import sspred

t_start = time.perf_counter()


def repo_root() -> Path:
    """The checkout this notebook lives in (for the measured numbers kept beside the code)."""
    for p in [Path.cwd(), *Path.cwd().parents, *Path(sspred.__file__).resolve().parents]:
        if (p / "BENCHMARKS.md").exists():
            return p
    raise FileNotFoundError("run this notebook inside the sspred repository")


ROOT = repo_root()
train_chains = sspred.load_data("qs1988", "train") + sspred.load_data("qs1988", "valid")  # all 111 of the paper's
test_chains = sspred.load_data("qs1988", "test")  # the paper's 17 test proteins
n_res = lambda chains: int(sum((c.labels("3") >= 0).sum() for c in chains))
print(f"training: {len(train_chains)} chains, {n_res(train_chains)} residues; "
      f"test: {len(test_chains)} chains, {n_res(test_chains)} residues")

# %% [markdown]
# ## 6.1 Figure 8: memorisation
#
# The network is the paper's: a 13-residue window, one-hot inputs, 40 sigmoid hidden units, a softmax over the
# three states (11,083 weights). We train it with Adam at a large step (0.01) on batches of 64, for 40 epochs,
# with **no early stopping**, exactly the `uci` setting of `sspred experiment epochs`
# ([docs/experiments](../experiments/README.md)).
#
# To draw the paper's figure we need the test accuracy after every epoch. `sspred.train` scores its `valid` set
# after each epoch and hands the numbers to every callback, so we pass the test proteins as `valid`. That is
# legitimate here only because nothing is *chosen* by it (`patience=0`: no early stopping). Choosing the epoch
# by the test curve would make the test set part of training (exercise 6.1).
#
# The callback's `train_accuracy` (here Q3) is the running accuracy over the epoch's minibatches, measured while the weights
# move. It lags the end-of-epoch accuracy a little; the curve from `docs/experiments` (scored after each epoch)
# is drawn beside it.

# %%
def run(model_cfg, epochs, **train_kw):
    """Train on the paper's training proteins; the test proteins are scored after every epoch (no choice is made)."""
    history = []
    cfg = sspred.TrainConfig(model=model_cfg, epochs=epochs, lr=1e-2, batch_size=64, patience=0, seed=0,
                             **train_kw)
    t0 = time.perf_counter()
    model = sspred.train(cfg, train_chains, valid=test_chains, callbacks=[history.append])
    return model, history, time.perf_counter() - t0


net_1988 = sspred.ModelConfig(window=13, hidden=[40], activation="sigmoid")
model, hist, secs = run(net_1988, epochs=40)
epochs = [h["epoch"] for h in hist]
train_q3 = np.array([h["train_accuracy"] for h in hist])
test_q3 = np.array([h["valid_accuracy"] for h in hist])
peak = int(test_q3.argmax())
# bootstrap=0: the point estimate only (by default evaluate also draws 1,000-resample confidence intervals)
print(f"{secs:.0f} s for 40 epochs; test Q3 peaks at {test_q3[peak]:.1f} after epoch {epochs[peak]}, "
      f"ends at {test_q3[-1]:.1f}; training Q3 ends at {train_q3[-1]:.1f} "
      f"({sspred.evaluate(model, train_chains, bootstrap=0).q3:.1f} scored after the last epoch)")

# %%
results = {s: json.loads((ROOT / f"docs/experiments/results-{s}.json").read_text()) for s in ("uci", "netsurfp2")}
curve = {s: next(v for k, v in r.items() if k.endswith("curve") and " w13 h40 " in k) for s, r in results.items()}

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
ax = axes[0]
ax.plot(epochs, train_q3, "-", color="C0", label="training proteins (this run, running accuracy)")
ax.plot(epochs, test_q3, "-", color="C1", label="test proteins (this run)")
c = curve["uci"]["curve"]
ax.plot([r["epoch"] for r in c], [r["train_q3"] for r in c], "o", ms=3, color="C0", alpha=0.5,
        label="training, scored after each epoch (docs/experiments)")
ax.plot([r["epoch"] for r in c], [r["test_q3"] for r in c], "s", ms=3, color="C1", alpha=0.5,
        label="test (docs/experiments)")
ax.axvline(epochs[peak], color="grey", ls=":", lw=1)
ax.set_title(f"The paper's proteins: {n_res(train_chains):,} training residues", fontsize=10)
ax.set_xlabel("epoch")
ax.set_ylabel("Q3 (%)")
ax.legend(fontsize=7)
ax = axes[1]
c = curve["netsurfp2"]
ax.plot([r["epoch"] for r in c["curve"]], [r["train_q3"] for r in c["curve"]], "o-", ms=3, label="training chains")
ax.plot([r["epoch"] for r in c["curve"]], [r["test_q3"] for r in c["curve"]], "s-", ms=3,
        label="test chains (cluster-disjoint)")
ax.set_title(f"netsurfp2 subsample: {c['train_residues']:,} training residues (docs/experiments)", fontsize=10)
ax.set_xlabel("epoch")
ax.legend(fontsize=7)
for a in axes:
    a.grid(alpha=0.3)
fig.suptitle("Qian & Sejnowski's Figure 8: accuracy on training and test data against training time")
plt.tight_layout()
plt.show()

# %% [markdown]
# On the paper's 18,105 residues the test accuracy peaks within the first few epochs and then falls by about
# 8 points, while the training accuracy climbs past 95 %: the network has enough weights (11,083, one for every
# 1.6 training residues) to memorise. Our live run and the recorded one agree to within a point or two; the
# difference between them is the running-versus-final scoring of the training curve and run-to-run noise from
# the thread count.
#
# With 16 times more data (right, 290,309 residues, a 15-epoch run recorded by `sspred experiment epochs --data
# netsurfp2`), the same network memorises only gently: the test curve peaks at epoch 7 and drifts down by half a
# point while the training curve rises by about one. Overfitting is not a property of the network alone; it is
# the ratio of **capacity to data**.
#
# **Exercise 6.1** Suppose we had stopped at the test peak above and reported that Q3. Why is that number
# optimistic, and by roughly how much would you expect it to overstate accuracy on new proteins? How does
# `sspred.train` avoid the problem when early stopping is on?

# %% [markdown]
# <details><summary>Solution</summary>
#
# Picking the best of 40 noisy test scores selects for the epochs on which the test set happened to be kind:
# the maximum of many noisy estimates is biased upwards. With 3,520 test residues the standard error of one Q3 is
# about $\sqrt{0.63 \cdot 0.37 / 3520} \approx 0.8$ points (more, since residues of a chain are correlated), and
# the curve near its peak wanders by about that much, so the maximum overstates by the order of a point. It is
# the same leak as tuning any hyper-parameter on the test set. `sspred.train` monitors a **separate validation
# split** (for `qs1988`, 11 of the 111 training proteins held out with a fixed seed; `valid=None` uses it) and
# keeps the weights of its best epoch; the test set is scored once, afterwards:
#
# ```python
# cfg = sspred.TrainConfig(model=net_1988, epochs=40, lr=1e-2, batch_size=64, patience=5, seed=0)
# model = sspred.train(cfg, "qs1988")            # early stopping on qs1988's "valid" split
# history = model.header["train"]["history"]   # {"epochs": [per-epoch stats], "best_epoch": ..., ...}
# print(history["best_epoch"], len(history["epochs"]), sspred.evaluate(model, "qs1988").q3)
# ```
# </details>

# %% [markdown]
# ## 6.2 Capacity against data: the gap in numbers
#
# `sspred experiment params` collects every run of the window and hidden-unit sweeps and plots the final
# train-minus-test gap against the number of weights; `sspred experiment learning-curve` trains the same network
# on growing shares of the data. Both are recorded in `docs/experiments/results-*.json`; here they are side by
# side for the two data sets.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for setting, marker in (("uci", "o"), ("netsurfp2", "s")):
    runs = [r for k, r in results[setting].items() if "curve" not in k and r.get("fraction", 1.0) == 1.0]
    params = np.array([r["params"] for r in runs])
    gap = np.array([r["train_q3"] - r["test_q3"] for r in runs])
    axes[0].plot(params, gap, marker, alpha=0.8,
                 label=f"{setting}: {runs[0]['train_residues']:,} training residues")
    lc = sorted((r for k, r in results[setting].items() if " w13 h40 " in k and "curve" not in k
                 and f" e{r['epochs']} " in k), key=lambda r: r["train_residues"])
    colour = {"uci": "C0", "netsurfp2": "C1"}[setting]
    sizes = [r["train_residues"] for r in lc]
    axes[1].plot(sizes, [r["train_q3"] for r in lc], marker + "--", color=colour, label=f"{setting}: training")
    axes[1].plot(sizes, [r["test_q3"] for r in lc], marker + "-", color=colour, label=f"{setting}: test")
axes[0].set_xscale("log")
axes[0].axhline(0, color="grey", lw=0.8)
axes[0].set_xlabel("weights and biases (window 1-21 at 40 hidden units; 0-100 hidden units at window 13)")
axes[0].set_ylabel("train Q3 - test Q3 (points)")
axes[0].set_title("the gap grows with capacity, much faster on little data", fontsize=10)
axes[1].set_xscale("log")
axes[1].set_xlabel("training residues (window 13, 40 hidden units)")
axes[1].set_ylabel("Q3 (%)")
axes[1].set_title("learning curves: the gap closes as data grows", fontsize=10)
for a in axes:
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown]
# On the paper's data the gap rises from about zero (1,000 weights) to 18 points (20,000-28,000 weights); on
# netsurfp2 it stays under 2.5 points for every network of the sweeps. And the learning curves show the two
# faces of "more data": the training accuracy *falls* (memorising gets harder) while the test accuracy rises,
# still climbing at 290,000 residues. **More data is the first and best regulariser**; everything below is what
# to do when you do not have it.
#
# ## 6.3 The toolkit
#
# Each tool below trades a little fit to the training data for less dependence on its accidents. sspred has
# each as one field of its configuration (`sspred.ModelConfig` for the architecture, `sspred.TrainConfig` for the
# optimisation), so one line switches it on.
#
# - **A bottleneck** (`ModelConfig(bottleneck=k)`): a linear layer of $k$ units between the $13 \times 21 = 273$
#   inputs and the hidden layer. It factors the first weight matrix into $(273 \times k)(k \times 40)$, a
#   low-rank matrix with far fewer weights; the network must summarise each residue window in $k$ numbers.
# - **L2 weight decay** (`TrainConfig(l2=...)`): adds $\frac{\lambda}{2}\sum W^2$ to the loss, so every step
#   also shrinks each weight by $\eta\lambda W$. Small weights make a smooth function that cannot carve out
#   single training windows. Biases are not penalised.
# - **L1** (`l1=...`): adds $\lambda\sum|W|$, whose gradient $\lambda\,\mathrm{sign}(W)$ pushes weights to
#   exactly zero: a sparse network that ignores most inputs.
# - **Early stopping** (`patience=p`): score a held-out validation split after each epoch, stop after $p$
#   epochs without improvement, and keep the best epoch's weights: Figure 8, stopped at its peak, but on data
#   that is not the test set.
# - **Dropout** (`ModelConfig(dropout=0.2)`): in training, zero each hidden unit with probability 0.2 and scale
#   the rest by $1/0.8$ (inverted dropout), a different random sub-network every minibatch; at prediction time
#   all units are used. No unit can rely on a particular partner, which blocks co-adapted, memorising features.
# - **Input noise** (`input_noise=σ`): add Gaussian noise to the one-hot window in training, so the network
#   never sees exactly the same window twice. **Weight noise** (`weight_noise=σ`) does the same to the weights.
# - **Batch normalisation** (`ModelConfig(batchnorm=True)`): standardise each hidden unit's input over the
#   minibatch, then rescale with learned $\gamma, \beta$. Its main effect is easier optimisation; the noise of
#   minibatch statistics regularises a little.
# - **Label smoothing** (`smoothing=ρ`): train towards $(1-\rho)$ on the true state and $\rho/(K-1)$ on the
#   others, instead of a one-hot target. The network is never pushed to infinite confidence on a label that, for
#   secondary structure, is often ambiguous (helix ends, coil-strand boundaries).
#
# **Exercise 6.2** How many weights does the 1988 network have, and how many with a bottleneck of 10? Check your
# count against `ModelConfig.layers()`.

# %% [markdown]
# <details><summary>Solution</summary>
#
# Without a bottleneck: $273 \cdot 40 + 40$ (hidden) $+ 40 \cdot 3 + 3$ (output) $= 11{,}083$. With a bottleneck
# of 10: $273 \cdot 10 + 10 + 10 \cdot 40 + 40 + 40 \cdot 3 + 3 = 3{,}303$, a third.
#
# ```python
# def n_weights(cfg):
#     return sum(s["in"] * s["out"] + s["out"] for s in cfg.layers() if s["type"] == "linear")
# print(n_weights(sspred.ModelConfig(window=13, hidden=[40])),
#       n_weights(sspred.ModelConfig(window=13, hidden=[40], bottleneck=10)))   # 11083 3303
# ```
# </details>

# %% [markdown]
# ![Dropout: one training step's sub-network with dropped hidden units crossed out, and the whole network at prediction](figures/dropout.svg)
#
# Dropout in one picture: each minibatch trains a different thinned network, and prediction uses them all.

# %% [markdown]
# ## 6.4 What each tool did: the measured ablation
#
# `benchmarks/ablation.py` trained one medium window network (window 17, 100 and 50 ReLU units, Adam at 0.001)
# with no regularisation, with each tool alone at a textbook strength (fixed in advance, not tuned), and with
# combinations. To fit the CPU budget it used 1,500 of netsurfp2's 9,712 training chains and 8 epochs; the
# section "Training toolkit ablation" of BENCHMARKS.md has the commands, and we read its table from there.

# %%
def markdown_table(text: str, heading: str) -> list[dict]:
    """The first pipe table after ``heading`` in a markdown file, as one dict per row (cells as strings)."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    header, body = rows[0], [r for r in rows[2:]]  # rows[1] is the |---| rule
    return [dict(zip(header, r)) for r in body]


number = lambda cell: float(re.sub(r"[^0-9.\-]", "", cell))
benchmarks = (ROOT / "BENCHMARKS.md").read_text()
ablation = markdown_table(benchmarks, "### Ablation")
for row in ablation:
    print(f"{row['configuration']:32s} train {number(row['train Q3']):6.2f}  valid {number(row['valid Q3']):6.2f}  "
          f"gap {number(row['gap']):5.2f}")

# %%
names = [r["configuration"].replace("early stopping on (patience 2)", "early stopping (patience 2)")
         .replace("all helpful tricks (all seven)", "all seven together") for r in ablation]
train_v = np.array([number(r["train Q3"]) for r in ablation])
valid_v = np.array([number(r["valid Q3"]) for r in ablation])
y = np.arange(len(ablation))[::-1]

fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True, gridspec_kw={"width_ratios": [1.4, 1]})
ax = axes[0]
ax.hlines(y, valid_v, train_v, color="grey", lw=2)
ax.plot(train_v, y, "o", color="C0", label="training chains")
ax.plot(valid_v, y, "s", color="C1", label="validation chains")
ax.axvline(valid_v[0], color="C1", ls=":", lw=1, label="validation Q3 without regularisation")
ax.set_yticks(y, names)
ax.set_xlabel("Q3 (%)")
ax.set_title("train and validation Q3 (the grey bar is the gap)", fontsize=10)
ax.legend(fontsize=8, loc="lower right")
ax = axes[1]
ax.barh(y, train_v - valid_v, color=["C7"] + ["C2"] * (len(y) - 1))
for yy, g, v in zip(y, train_v - valid_v, valid_v):
    ax.text(g + 0.05, yy, f"gap {g:.1f}, valid {v:.2f}", va="center", fontsize=8)
ax.set_xlabel("train Q3 - validation Q3 (points)")
ax.set_xlim(0, (train_v - valid_v).max() * 1.6)
ax.set_title("the gap", fontsize=10)
fig.suptitle("Training-toolkit ablation (BENCHMARKS.md): window 17, 100+50 ReLU, 1,500 netsurfp2 chains, 8 epochs")
plt.tight_layout()
plt.show()

# %% [markdown]
# What the measurement says:
#
# - **Every tool alone narrowed the gap and raised validation Q3** over no regularisation (5.6 points of gap,
#   66.07 validation). L2 closed the gap most (to 1.7 points); dropout gave the best validation Q3 (66.74).
# - **Stacking them all over-regularised**: with all seven the network fitted neither set well (gap 1.2 but
#   validation 64.87, the worst row), and early stopping cut it to 5 epochs. Regularisers are not free; each one
#   costs fit, and their costs add while their benefits overlap.
# - **The differences are small**, a few tenths of a point, the same order as seed-to-seed variation (not
#   measured there). Read the table as directions, not rankings. On 357,000 training residues this network
#   overfits only mildly, so there is little for any tool to win back.
#
# ## 6.5 Two tools, live, where overfitting is severe
#
# The ablation ran where overfitting is mild. On the paper's 18,105 residues it is severe (section 6.1), so the
# tools have something to do. We rerun the Figure 8 network for 30 epochs with **L2** ($\lambda = 10^{-3}$) and
# with **dropout** (0.2 after the hidden layer), the two that did most in the ablation, and draw their curves
# over the unregularised one. (10-20 s each: regularised steps take the general NumPy path rather than the
# compiled 1988 step.)

# %%
live = {"no regularisation": (hist[:30], None)}
for label, model_cfg, kw in (("L2 1e-3", net_1988, {"l2": 1e-3}),
                             ("dropout 0.2", sspred.ModelConfig(window=13, hidden=[40], dropout=0.2), {})):
    m, h, secs = run(model_cfg, epochs=30, **kw)
    live[label] = (h, m)
    fitted = sspred.evaluate(m, train_chains, bootstrap=0).q3  # all units on, as a trained network predicts
    print(f"{label}: {secs:.0f} s; test Q3 peak {max(x['valid_accuracy'] for x in h):.1f}, last epoch "
          f"{h[-1]['valid_accuracy']:.1f}; training Q3 after the last epoch {fitted:.1f}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharex=True)
for k, (label, (h, _)) in enumerate(live.items()):
    ep = [x["epoch"] for x in h]
    axes[0].plot(ep, [x["train_accuracy"] for x in h], color=f"C{k}", label=label)
    axes[1].plot(ep, [x["valid_accuracy"] for x in h], color=f"C{k}", label=label)
axes[0].set_title("training proteins (running accuracy)", fontsize=10)
axes[1].set_title("test proteins", fontsize=10)
for a in axes:
    a.set_xlabel("epoch")
    a.set_ylabel("Q3 (%)")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# L2 holds the network near the linear regime: its training accuracy stays within a point or two of its test
# accuracy for all 30 epochs, and the test curve no longer falls. Dropout slows memorisation (training Q3
# climbs more slowly than without it) but does not stop it on 18,000 residues; its test curve falls later and
# less. (Its *running* training accuracy, measured with units dropped, understates the trained network: scored
# after the last epoch with all units on, it fits the training proteins far better, as the printout shows.)
# Neither beats the *peak* of the unregularised run by much: on this little data, a window network's best
# test Q3 is about 63 % whatever we do. Regularisation buys a network that is safe to train for as long as you
# like, not a better one. A better one needs more data (chapter 5's netsurfp2) or more context (chapter 7).
#
# **Exercise 6.3** Try the bottleneck live: train `ModelConfig(window=13, hidden=[40], bottleneck=10)` for 30
# epochs as above. Does a 3-times smaller network memorise less? Compare its final train/test gap with the
# unregularised run's.

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# m, h, secs = run(sspred.ModelConfig(window=13, hidden=[40], bottleneck=10), epochs=30)
# print(sspred.evaluate(m, train_chains).q3, h[-1]["valid_accuracy"])
# ```
#
# The gap is smaller than without the bottleneck (3,303 weights against 11,083 memorise less of 18,105
# residues), but the network still overfits after its early peak: a bottleneck limits capacity in one
# direction only (how much of the window it can see), while the hidden layer after it can still memorise
# combinations of those 10 numbers. Compare the `params` plot above: fewer weights, smaller gap.
# </details>

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.0f} s")
