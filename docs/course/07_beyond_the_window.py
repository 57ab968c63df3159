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
# # 7. Beyond the window
#
# Qian & Sejnowski's network sees 13 residues. Chapters 3-6 showed what that buys (about 64 % Q3 on their
# proteins, 67 % with today's data) and why more weights alone do not buy more (chapter 6: a wider window
# memorises). Yet secondary structure depends on more than 13 residues: a strand pairs with another strand
# dozens of residues away, and a helix is decided by its whole length. This chapter follows the four ways
# sspred looks further, in the order they were tried:
#
# 1. **convolution stacks**, which widen the window without widening the weight matrix;
# 2. **cascades**, a second network that reads the first one's predictions (the 1988 paper's own idea);
# 3. **ensembles**, averaging several networks;
# 4. **attention**, retrieval from a learned memory (the Hopfield layer of chapter 8).
#
# Then we trace, with the measured numbers, how the built-in `default` model got to its accuracy, load it, and
# look at one real prediction along a chain.

# %%
import os
import sys

# One BLAS thread, set before NumPy loads: on a busy 2-core machine more
# threads spin against each other and made a 1988-size epoch 25 times
# slower (BENCHMARKS.md, "Training toolkit ablation").
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import re
import tempfile
import time
from pathlib import Path

import numpy as np

import sspred

# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import ch7_chain, ch7_leaderboard, ch7_reach, ch7_sweep
from sspred.alphabet import STATES3

t_start = time.perf_counter()
rng = np.random.default_rng(0)


def repo_root() -> Path:
    """The checkout this notebook lives in (for the recorded numbers)."""
    for p in [
        Path.cwd(),
        *Path.cwd().parents,
        *Path(sspred.__file__).resolve().parents,
    ]:
        if (p / "BENCHMARKS.md").exists():
            return p
    raise FileNotFoundError(
        "run this notebook inside the sspred repository"
    )


def markdown_table(text: str, heading: str) -> list[dict]:
    """The first pipe table after ``heading``, a dict per row."""
    lines = text[text.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(
            [cell.strip() for cell in line.strip().strip("|").split("|")]
        )
    return [
        dict(zip(rows[0], r)) for r in rows[2:]
    ]  # rows[1] is the |---| rule


def clean(cell: str) -> str:
    """A table cell without markdown emphasis or code marks."""
    return cell.replace("**", "").replace("`", "")


def number(cell: str) -> float:
    """A table cell's number: '**70.81**' -> 70.81, '246,278' -> 246278,
    '' (not measured) -> nan."""
    digits = re.sub(r"[^0-9.]", "", cell.split("(")[0])
    return float(digits) if digits else float("nan")


ROOT = repo_root()
BENCH = (ROOT / "BENCHMARKS.md").read_text()

# %% [markdown]
# ## 7.1 A convolution is a window network applied everywhere
#
# Look again at the 1988 network's first layer: 40 hidden units, each a weighted sum over a 13 x 21 one-hot
# window, slid along the chain one residue at a time. That *is* a 1-D convolution with 21 input channels, 40
# output channels and a kernel of 13. Nothing changes but the name, and the bookkeeping: a convolution computes
# every position of a chain in one pass instead of cutting the chain into windows.
#
# The gain comes from **stacking**. A second convolution with kernel $k$ over the first layer's outputs sees
# $k$ neighbouring *hidden vectors*, each of which already summarises 13 residues, so it sees $13 + (k-1)$
# residues. With a **dilation** $d$ (taps $d$ residues apart) it sees $13 + (k-1)d$. Doubling the dilation at
# every layer grows the receptive field exponentially with depth while each layer keeps the same small number
# of weights:
#
# $$\text{receptive field} = k_1 + \sum_{\ell} (k - 1)\, d_\ell .$$
#
# sspred's conv stacks are described by `sspred.ConvConfig`; the one inside `default` has a first conv of
# kernel 15 and 64 channels, then five **residual** convs (each adds its output to its input, so a deep stack
# still trains) of kernel 5 with dilations 1, 2, 4, 8 and 16.

# %%
conv = sspred.ConvConfig(
    channels=64,
    first_kernel=15,
    kernel=5,
    dilations=[1, 2, 4, 8, 16],
    dropout=0.2,
)
layers = conv.layers()
for spec in layers:  # one line per layer, the keys that matter here
    print(
        ", ".join(
            f"{k} {v}"
            for k, v in spec.items()
            if k not in ("init_for", "mask")
        )
    )
print(f"\nreceptive field: {conv.window} residues")


def n_params(specs: list[dict]) -> int:
    """Weights and biases of a layer list: a conv has in x out x kernel
    weights, a linear in x out."""
    return sum(
        s["in"] * s["out"] * s.get("kernel", 1) + s["out"]
        for s in specs
        if s["type"] in ("conv", "linear")
    )


wide_mlp = sspred.ModelConfig(
    window=conv.window, hidden=[64], activation="relu"
)
print(
    f"parameters: conv stack {n_params(layers):,}; a window MLP that "
    f"sees the same {conv.window} residues\nthrough 64 hidden units "
    f"{n_params(wide_mlp.layers()):,}"
)

# %% [markdown]
# The stack sees 139 residues with 123,139 parameters, and almost all of them sit in the convs *above* the first
# layer, where they combine features rather than residues. A plain window network with a 139-residue window
# would spend 186,000 weights on its first layer alone, each tied to one residue at one offset: exactly the
# kind of weights chapter 6 saw memorise.
#
# Which residues reach the centre residue's output? Walk down the stack: every tap of a conv with dilation $d$
# reaches $d$ residues further out.

# %%
convs = [s for s in layers if s["type"] == "conv"]
reach = [
    np.array([0])
]  # offsets that reach the output residue, from the top of the stack down
for spec in reversed(convs):
    taps = (np.arange(spec["kernel"]) - spec["kernel"] // 2) * spec.get(
        "dilation", 1
    )  # (k,) offsets of the taps
    below = (
        reach[-1][:, None] + taps[None, :]
    ).ravel()  # (n, k): every tap of every reached position
    if spec.get("residual"):
        below = np.concatenate(
            [below, reach[-1]]
        )  # the skip connection passes the position itself down
    reach.append(np.unique(below))
reach = reach[
    ::-1
]  # reach[0]: residues (input), reach[i]: outputs of conv i

ch7_reach(reach, convs, conv.window)

# %% [markdown]
# ### Exercise 7.1 — the receptive field of a stack
# Write `receptive_field(first_kernel, kernel, dilations)`, the number of residues one output of a conv
# stack sees, from the formula above. The check compares it with `ConvConfig.window` for the `default`
# stack and for the `accurate` ensemble's deeper one (six residual convs, dilations 1 to 32), and counts the
# deeper one's parameters, as BENCHMARKS.md's conv sweep row "c64k5d6" has them.


# %%
def receptive_field(first_kernel, kernel, dilations): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def receptive_field(first_kernel, kernel, dilations):
    return first_kernel + sum((kernel - 1) * d for d in dilations)


# %%
# Check.
deep = sspred.ConvConfig(
    channels=64, first_kernel=15, kernel=5, dilations=[1, 2, 4, 8, 16, 32]
)
assert receptive_field(15, 5, [1, 2, 4, 8, 16]) == conv.window == 139
assert receptive_field(15, 5, deep.dilations) == deep.window == 267
assert n_params(deep.layers()) == 143_683
print(
    f"one more layer, {n_params(deep.layers()) - n_params(layers):,} "
    "parameters, nearly doubles what the stack sees"
)

# %% [markdown]
# A window network would need $128 \times 21 \times 64 \approx 172{,}000$ more first-layer weights for the
# same widening.

# %% [markdown]
# ## 7.2 Cascades: a network that reads predictions
#
# Qian & Sejnowski already went beyond one window: their second network read a window of the first network's
# *outputs* (three numbers per residue instead of 21) and learned the grammar of secondary structure (helices
# are at least about four residues long, a lone E inside a helix is wrong). PSIPRED's second pass does the
# same. In sspred a cascade is a model whose members carry a `stage2` network over a window of first-stage
# probabilities (`sspred.features.stage2_rows`).
#
# ## 7.3 Ensembles: averaging away the variance
#
# Two networks trained from different random starts make partly independent mistakes. Averaging their
# probabilities keeps what they agree on and dilutes what either got wrong by chance: the **variance** part of
# the error shrinks, the **bias** part (what every such network gets wrong) does not. We can see it live in
# seconds on the paper's proteins: five 1988 networks that differ only in their seed, each scored alone and
# averaged.

# %%
train_chains = sspred.load_data("qs1988", "train") + sspred.load_data(
    "qs1988", "valid"
)
test_chains = sspred.load_data("qs1988", "test")
test_seqs = {c.id: c.sequence for c in test_chains}
true = np.concatenate(
    [c.labels("3") for c in test_chains]
)  # (R,) state index in STATES3 order, -1 masked
scored = true >= 0


def test_probs(model_cfg, seed):
    """Train on the paper's proteins; (R, 3) test probabilities in the
    labels' (STATES3) column order."""
    cfg = sspred.TrainConfig(
        model=model_cfg,
        epochs=8,
        lr=1e-2,
        batch_size=64,
        patience=0,
        seed=seed,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"member{seed}.npz"
        sspred.train(cfg, train_chains).save(path)
        predictor = sspred.load(path)
        preds = predictor.predict(test_seqs)
    probs = np.concatenate([p.probabilities for p in preds])  # (R, 3)
    order = [predictor.state_order.index(s) for s in STATES3]
    return probs[:, order]


members, single_q3 = [], []
for seed in range(5):
    probs = test_probs(sspred.ModelConfig(window=13, hidden=[40]), seed)
    members.append(probs)
    single_q3.append(100 * (probs.argmax(1) == true)[scored].mean())

members = np.stack(members)  # (M, R, 3)
ensemble_q3 = [
    100 * (members[:m].mean(axis=0).argmax(1) == true)[scored].mean()
    for m in range(1, 6)
]
print("each member alone:", np.round(single_q3, 2))
print("average of the first m members:", np.round(ensemble_q3, 2))

# %% [markdown]
# On 3,520 test residues the individual networks spread over about one and a half points, and the average of all
# five is above the best of them, without our having to know which one that is. The full-scale measurements in
# BENCHMARKS.md say the same: averaging two seeds of the 64-channel conv stack gave +0.35 to +0.57 points over
# either alone (validation 71.82), and the greedy choice of four stacks 72.46; each doubling of cost buys about half
# a point.
#
# ## 7.4 Attention: retrieval from a memory
#
# The fourth idea is chapter 8's: a `hopfield` layer lets a window's hidden vector query a memory of learned
# patterns, $\operatorname{softmax}(\beta\, q K^\top) V$, which is one head of attention. sspred measured it in
# the window network (BENCHMARKS.md, "Hopfield layer"):

# %%
hop = markdown_table(BENCH, "## Hopfield layer")
print(f"{'run':14s} seed  valid NEW364  CB513")
for row in hop:
    name = row["model"].split(":")[0]  # BENCHMARKS.md describes each run
    print(
        f"{name:14s} {row['seed']:>4s} {row['valid Q3']:>6s} "
        f"{row['NEW364 Q3']:>6s} {row['CB513 Q3']:>6s}"
    )

# %% [markdown]
# The memory does not measurably help (+0.1 point, inside the seed spread): it sees the same 13 residues as the
# hidden layer. Attention pays off when the queries attend over the *other residues of the chain*, as in a
# transformer; that gives the network the long-range context the window lacks, and it is what the published
# single-sequence predictors that beat sspred use (recurrent networks or attention, and far more data).

# %% [markdown]
# ## 7.5 How `default` got to its accuracy
#
# The model card (`src/sspred/models/README.md`) and BENCHMARKS.md record every step. Validation (the filtered
# netsurfp2 validation split) was the only set used for choices; each test set was scored once per model,
# afterwards. First the leaderboard, then the conv sweep that chose the architecture.

# %%
board = markdown_table(BENCH, "## Accuracy leaderboard")
sweep = markdown_table(BENCH, "### The conv sweep")
# the rows with a validation score: sspred's own models
steps = [r for r in board if not np.isnan(number(r["validation"]))]
short = [
    "fast (w13, 40 sigmoid)",
    "w19, 256+128 ReLU",
    "+ stage-2 cascade",
    "conv c64k5d5",
    "conv c128k5d5",
    "2 x c64k5d5",
    "4 stacks",
    "multi-task c64k5d5",
    "+ attention",
    "default",
    "accurate: 5 stacks",
    "UniRep stack alone",
    "unirep: + a c128 stack",
]
assert len(short) == len(steps), "a row was added to the leaderboard"
# An empty cell is a set the model was not scored on: the UniRep stack
# alone was a candidate, chosen on validation; only the shipped ensemble
# was scored on the test sets.
cell = lambda r, col: "-" if np.isnan(number(r[col])) else r[col]
cols = ("validation", "NEW364", "CB513", "TS115")
print(
    f"{'model':24s} {'params':>9s} {'valid':>6s} {'NEW364':>6s} "
    f"{'CB513':>6s} {'TS115':>6s}"
)
for name, r in zip(short, steps):
    scores = " ".join(f"{clean(cell(r, c)):>6s}" for c in cols)
    print(f"{name:24s} {r['parameters']:>9s} {scores}")
anchors = {
    r["model"]: number(r["CB513"])
    for r in board
    if "published" in r["model"] or "paper" in r["model"]
}

# %%
ch7_leaderboard(steps, short, number, anchors, clean)

# %%
rf = np.array([number(r["receptive field"]) for r in sweep])
val = np.array([number(r["validation Q3"]) for r in sweep])
params = np.array([number(r["parameters"]) for r in sweep])
channels = np.array(
    [int(re.match(r"c(\d+)", r["run"]).group(1)) for r in sweep]
)
ch7_sweep(rf, val, params, channels, rng)

# %% [markdown]
# Read top to bottom (left to right in the plot), the leaderboard is the chapter in numbers:
#
# - **More data, same network.** The 1988 architecture trained on netsurfp2 (`fast`) scores 67.4, three points
#   above the paper's 64.3 on its own proteins.
# - **A wider window and more units** (window 19, 256 + 128 ReLU) add about 1.5 points; **a cascade** on top
#   adds another point (68.97 to 70.01 on validation).
# - **Convolution** beats both: the smallest conv stack of the sweep (45 residues, 70,000 parameters) scored
#   70.18 on validation, and the sweep's plot shows why: the **receptive field** was the largest lever (45, 77,
#   139 residues gave 70.2, 70.9, 71.5 at 64 channels) until it saturated (267 gave no more), while width helped
#   little once the field was wide (256 channels overfitted: its best epoch was the 4th).
# - **Ensembles** add the last half point: two seeds of the 139-residue, 64-channel stack reach 71.82 on
#   validation (71.34 NEW364, 70.81 CB513, 73.52 TS115), four wider stacks 72.46 (five times slower).
# - **More labels and outputs** barely moved Q3. One trunk with four heads (3 and 8 states, disorder,
#   conservation), trained on three label sets and distilled on unlabelled chains, scored 71.45 on validation,
#   level with a plain seed. It adds disorder and conservation outputs, though. **Attention over the whole
#   chain** on top of it gave 71.78. Today's `default` pairs a plain stack with a multi-task one (71.94), and
#   `accurate` greedily picks five stacks (72.61).
# - **A better encoding** moved it most: the states of UniRep, a language model pretrained on UniRef50, beside
#   one-hot lift one stack to 72.76, and `unirep` (that stack and a one-hot c128 stack) to 73.79 on validation
#   (75.14 on TS115). The labels did not grow; what the input carries did. (The stack alone was chosen on
#   validation and never scored on the test sets, hence its empty cells: only the shipped ensemble was.)
# - A second stage over a conv stack gave only +0.10 (it reads training-set probabilities that are more confident
#   than on new chains) and is not shipped: the wide receptive field already captures what the cascade added to
#   the window network.
#
# The dotted lines are published anchors, each from its own paper and mostly on its own test set (the table
# says which), so they are context rather than a comparison. The published single-sequence tools are still 2 to
# 4.5 points ahead on CB513: they use recurrent networks or
# attention over the whole chain, and S4PRED trains on pseudo-labels for millions of UniRef sequences.
#
# ## 7.6 The default model on a real chain
#
# Finally, the model itself. `sspred.load("default")` gives a `Predictor`; its `predict` takes sequences and
# returns one `Prediction` per chain with a `(L, 3)` array of probabilities whose columns follow
# `predictor.state_order`. We predict TS115's second chain (102 residues, with helices and strands) and draw the three
# probabilities along the sequence over the DSSP states.

# %%
predictor = sspred.load("default")
chain = sspred.load_data("ts115", "test")[1]
pred = predictor.predict({chain.id: chain.sequence})[0]
probs = pred.probabilities  # (L, 3), columns in predictor.state_order
true_idx = chain.labels("3")  # (L,) index into STATES3, -1: unobserved
true_letters = "".join(STATES3[y] if y >= 0 else "-" for y in true_idx)
keep = true_idx >= 0
hits = np.array(list(pred.states)) == np.array(list(true_letters))
q3 = 100 * np.mean(hits[keep])
print(
    f"{predictor.model_name}: states {predictor.state_order!r}; "
    f"chain {chain.id}, {len(chain.sequence)} residues, Q3 {q3:.1f}"
)
for start in range(0, len(chain.sequence), 60):
    part = slice(start, start + 60)
    print(
        f"AA   {chain.sequence[part]}\nDSSP {true_letters[part]}\n"
        f"pred {pred.states[part]}\n"
    )

# %%
ch7_chain(
    np.arange(1, len(chain.sequence) + 1),
    probs,
    predictor.state_order,
    true_letters,
    pred.states,
    f"default on {chain.id}: probabilities along the chain (Q3 {q3:.1f}%)",
)

# %% [markdown]
# The probabilities are not on/off: they rise and fall over a few residues at segment ends, where DSSP itself
# is least certain, and a short strand often shows as a bump in P(E) that does not quite win. That is what the
# `.horiz` confidence digit summarises (the gap between the two largest probabilities) and why it tracks
# accuracy so well (BENCHMARKS.md, "The .horiz confidence digit tracks accuracy").
#
# ### Exercise 7.2 — where does the wide receptive field pay?
# Write `chain_q3(predictions, chains)`: an array with each chain's Q3 (in %, scored residues only) from a
# model's predictions (one `Prediction` per chain, whose `states` is a string of letters) and the chains'
# true labels (`chain.labels("3")`, indices into `STATES3`, -1 where unscored). The check uses it to compare
# `default` with `fast` on TS115, chain by chain. (A strand's partner is often far along the chain, out of
# reach of 13 residues but inside 139, so one might expect strand-rich chains to gain most. Do they?)


# %%
def chain_q3(predictions, chains): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def chain_q3(predictions, chains):
    out = []
    for p, c in zip(predictions, chains):
        y = c.labels("3")  # (L,)
        predicted = np.array([STATES3.index(s) for s in p.states])
        out.append(100 * np.mean(predicted[y >= 0] == y[y >= 0]))
    return np.array(out)


# %%
# Check.
ts115 = sspred.load_data("ts115", "test")
ts_seqs = {c.id: c.sequence for c in ts115}
per_chain = {
    name: chain_q3(sspred.load(name).predict(ts_seqs), ts115)
    for name in ("default", "fast")
}
assert abs(per_chain["default"][1] - q3) < 1e-9  # the chain above
gain = per_chain["default"] - per_chain["fast"]  # (115,) points
E = STATES3.index("E")
strand = np.array(
    [np.mean(c.labels("3")[c.labels("3") >= 0] == E) for c in ts115]
)
best = int(gain.argmax())
rich = strand > np.median(strand)
print(
    f"largest gain {gain[best]:+.1f} points on {ts115[best].id} "
    f"({strand[best]:.0%} strand);\ncorrelation of gain and strand "
    f"{np.corrcoef(gain, strand)[0, 1]:.2f}"
)
print(
    f"mean gain: strand-richer half {gain[rich].mean():.1f}, "
    f"strand-poorer half {gain[~rich].mean():.1f}; "
    f"{(gain < 0).sum()} chains get worse"
)
assert gain.mean() > 0

# %% [markdown]
# The largest gain is on a short, all-helical chain, and across the 115 chains the gain does not depend on
# strand content (a correlation near zero; both halves gain about 4 points on average). The expectation was
# wrong, which is why we measure: the wider receptive field helps everywhere, at helix caps and segment ends as
# much as at strand pairs, and a single-sequence network still cannot pair strands reliably. Some chains get
# worse: an average gain is not a gain on every protein.
#
# ### Exercise 7.3 — averaging two architectures
# Averaging helps in proportion to how *differently* the members err. Two seeds of one architecture share its
# bias and differ only in variance (section 6.2); two architectures differ in bias too. Write
# `average_q3(*probs)`: the test Q3 of the average of several $(R, 3)$ probability arrays, scored against
# `true` on the `scored` residues. The check uses it on a softmax perceptron (`hidden=[]`) paired with the
# first member above.


# %%
def average_q3(*probs): ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def average_q3(*probs):
    mean = np.mean(probs, axis=0)  # (R, 3)
    return 100 * (mean.argmax(1) == true)[scored].mean()


# %%
# Check.
assert np.isclose(average_q3(members[0]), single_q3[0])
assert np.isclose(average_q3(*members), ensemble_q3[-1])
perceptron = test_probs(sspred.ModelConfig(window=13, hidden=[]), 0)
print(
    f"perceptron {average_q3(perceptron):.1f}, first member "
    f"{single_q3[0]:.1f}, the pair "
    f"{average_q3(perceptron, members[0]):.1f}, "
    f"two seeds {average_q3(*members[:2]):.1f}"
)

# %% [markdown]
# On the paper's proteins the perceptron is about as good as the 40-unit network (chapter 6), and the pair
# lands level with the better of the two rather than above it: the two architectures' errors are not different
# enough to cancel, while one of them is a little worse. An ensemble of different architectures helps when
# both are good *and* err differently; `accurate` and `unirep` choose their members greedily on validation for
# that reason.
#
# ## Summary
#
# - **A convolution is the window network applied everywhere**; stacking dilated convs grows the receptive
#   field exponentially with depth at a constant cost per layer (139 residues with 123,139 parameters).
# - **Cascades** read a window of first-stage probabilities and learn the grammar of segments; **ensembles**
#   average away the variance part of the error (bias stays), here live on the paper's proteins.
# - **Attention** over a window's own 13 residues (the Hopfield layer) did not help; attention over the whole
#   chain is what gives the long-range context.
# - **The leaderboard**: more data (+3 points), a wider receptive field through convolution (+4), ensembles
#   (+0.5), and a better input encoding (UniRep states, +1 to 2) took sspred from 64.3 to 73.79 on validation; each
#   step chosen on validation and scored on the test sets once.
# - **Measure expectations**: `default`'s gain over `fast` is spread over helix and strand chains alike.

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.0f} s")
