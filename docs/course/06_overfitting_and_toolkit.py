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
# 2. takes the phenomenon apart on a problem small enough to see whole: polynomials of rising degree, and the
#    **bias-variance decomposition** of their test error, measured;
# 3. measures how the gap grows with the number of weights and shrinks with the amount of data;
# 4. goes through the **toolkit** that fights overfitting (more data, a bottleneck, L1/L2 penalties, early
#    stopping, dropout, noise, batch normalisation, label smoothing), derives L1 and L2 as **priors** on the
#    weights and batch normalisation in equations, and checks both against sspred's code;
# 5. reads the ablation measured for BENCHMARKS.md, and reruns five of the tools live on the paper's proteins.
#
# Every number that the notebook does not compute itself is read from the files that record it
# (`docs/experiments/results-*.json`, `BENCHMARKS.md`), not typed in.

# %%
import os
import sys

# One BLAS thread, set before NumPy loads: on a busy 2-core machine more
# threads spin against each other and made a 1988-size epoch 25 times
# slower (BENCHMARKS.md, "Training toolkit ablation").
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json
import re
import time
from pathlib import Path

import numpy as np

import sspred

# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import (ch6_ablation, ch6_bias_variance, ch6_capacity,
                          ch6_curves, ch6_figure8, ch6_polynomials,
                          ch6_weights)

t_start = time.perf_counter()


def repo_root() -> Path:
    """The checkout this notebook lives in (for the recorded numbers)."""
    here = [Path.cwd(), *Path.cwd().parents]
    for p in [*here, *Path(sspred.__file__).resolve().parents]:
        if (p / "BENCHMARKS.md").exists():
            return p
    raise FileNotFoundError("run this notebook inside sspred's checkout")


ROOT = repo_root()
# all 111 of the paper's training proteins, and its 17 test proteins
train_chains = (sspred.load_data("qs1988", "train")
                + sspred.load_data("qs1988", "valid"))
test_chains = sspred.load_data("qs1988", "test")
n_res = lambda chains: int(sum((c.labels("3") >= 0).sum() for c in chains))
print(f"training: {len(train_chains)} chains, {n_res(train_chains)} "
      f"residues; test: {len(test_chains)} chains, "
      f"{n_res(test_chains)} residues")

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
# The callback's `train_q3` is the running accuracy over the epoch's minibatches, measured while the weights
# move. It lags the end-of-epoch accuracy a little; the curve from `docs/experiments` (scored after each epoch)
# is drawn beside it.

# %%
def run(model_cfg, epochs, **train_kw):
    """Train on the paper's training proteins, scoring the test proteins
    after every epoch (no choice is made by them)."""
    history = []
    cfg = sspred.TrainConfig(model=model_cfg, epochs=epochs, lr=1e-2,
                             batch_size=64, patience=0, seed=0, **train_kw)
    t0 = time.perf_counter()
    model = sspred.train(cfg, train_chains, valid=test_chains,
                         callbacks=[history.append])
    return model, history, time.perf_counter() - t0


def q3(model, chains) -> float:
    """Q3 of a model; bootstrap=0 skips the confidence intervals."""
    return sspred.evaluate(model, chains, bootstrap=0).q3


net_1988 = sspred.ModelConfig(window=13, hidden=[40], activation="sigmoid")
model, hist, secs = run(net_1988, epochs=40)
epochs = [h["epoch"] for h in hist]
train_q3 = np.array([h["train_accuracy"] for h in hist])
test_q3 = np.array([h["valid_accuracy"] for h in hist])
peak = int(test_q3.argmax())
print(f"{secs:.0f} s for 40 epochs")
print(f"test Q3 peaks at {test_q3[peak]:.1f} after epoch {epochs[peak]}, "
      f"ends at {test_q3[-1]:.1f}")
print(f"training Q3 ends at {train_q3[-1]:.1f} (running), "
      f"{q3(model, train_chains):.1f} scored after the last epoch")

# %%
results = {s: json.loads((ROOT / f"docs/experiments/results-{s}.json")
                         .read_text()) for s in ("uci", "netsurfp2")}
curve = {s: next(v for k, v in r.items()
                 if k.endswith("curve") and " w13 h40 " in k)
         for s, r in results.items()}
ch6_figure8(epochs, train_q3, test_q3, peak, curve["uci"]["curve"],
            n_res(train_chains), curve["netsurfp2"])

# %% [markdown]
# On the paper's 18,105 residues (left) the test accuracy peaks within the first few epochs and then falls by
# about 8 points, while the training accuracy climbs past 95 %: the network has enough weights (11,083, one for
# every 1.6 training residues) to memorise. Our live run and the recorded one agree to within a point or two; the
# difference between them is the running-versus-final scoring of the training curve and run-to-run noise from
# the thread count.
#
# With 16 times more data (right, 290,309 residues, a 15-epoch run recorded by `sspred experiment epochs --data
# netsurfp2`), the same network memorises only gently: the test curve peaks at epoch 7 and drifts down by half a
# point while the training curve rises by about one. Overfitting is not a property of the network alone; it is
# the ratio of **capacity to data**.
#
# ### Exercise 6.1 — how optimistic is the best of 40 test scores?
# Suppose we had stopped at the test peak above and reported that Q3. Picking the best of 40 noisy scores
# selects the epochs on which the test set happened to be kind. To size the effect, write
# `q3_standard_error(q3, n)`: the standard error, in points, of an accuracy of `q3` % measured on `n`
# independent residues ($\sqrt{p(1-p)/n}$). Then compare it with how much the test curve wanders near its peak.

# %%
def q3_standard_error(q3, n):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def q3_standard_error(q3, n):
    p = q3 / 100
    return 100 * np.sqrt(p * (1 - p) / n)


# %%
# Check.
se = q3_standard_error(test_q3[peak], n_res(test_chains))
assert abs(q3_standard_error(63.0, 3520) - 0.814) < 0.005
wander = np.std(test_q3[max(peak - 3, 0):peak + 4])
print(f"one test Q3 has a standard error of {se:.2f} points; "
      f"near its peak the curve wanders by {wander:.2f}")

# %% [markdown]
# The standard error is about 0.8 points (more in truth, since the residues of one chain are correlated), and
# the curve near its peak wanders by about as much, so the maximum of 40 such scores overstates accuracy by the
# order of a point. It is the same leak as tuning any hyper-parameter on the test set. `sspred.train` avoids it
# by monitoring a **separate validation split** (for `qs1988`, 11 of the 111 training proteins held out with a
# fixed seed; `valid=None` uses it), keeping the weights of its best epoch, and leaving the test set to be
# scored once, afterwards (section 6.8 does exactly that).
#
# ## 6.2 Under- and overfitting in one dimension: bias and variance
#
# Figure 8 shows overfitting; a problem with one input shows *why*. Take $n = 10$ evenly spaced points
# $x_i \in [0, 1]$ and noisy targets $y_i = f(x_i) + \varepsilon_i$, with $f(x) = \sin(2\pi x)$ and noise
# $\varepsilon \sim \mathcal{N}(0, \sigma^2)$, $\sigma = 0.3$ (Bishop's classic example), and fit polynomials
# of rising degree by least squares. The degree
# is the capacity, as the number of weights is for a network.

# %%
rng = np.random.default_rng(6)
N_POINTS, SIGMA = 10, 0.3
f = lambda x: np.sin(2 * np.pi * x)
grid = np.linspace(0.02, 0.98, 97)  # where fits are compared with f


def sample(rng, n=N_POINTS):
    """One data set: n evenly spaced points, fresh noise on each."""
    x = np.linspace(0, 1, n)
    return x, f(x) + SIGMA * rng.standard_normal(n)


def fit(x, y, degree):
    """Least-squares polynomial, evaluated on the grid."""
    return np.polynomial.Polynomial.fit(x, y, degree)(grid)


x, y = sample(rng)
for degree in (1, 3, 9):
    train_mse = np.mean((np.polynomial.Polynomial.fit(x, y, degree)(x)
                         - y) ** 2)
    test_mse = np.mean((fit(x, y, degree) - f(grid)) ** 2) + SIGMA**2
    print(f"degree {degree}: training error {train_mse:.3f}, "
          f"test error {test_mse:.3f}")

# %% [markdown]
# The training error falls with every degree; the test error (on new points from the same distribution: the
# squared distance to $f$ plus the noise $\sigma^2 = 0.09$ no fit can remove) falls and then rises, Figure 8 in
# miniature. Which part of the test error is which? Imagine drawing the training set again and again (the same
# $x_i$, new noise). A model $\hat f_D$ fitted to data set $D$, tested at $x$ against a fresh
# $y = f(x) + \varepsilon$, makes the expected squared error
#
# $$\mathbb{E}_{D,\varepsilon}\big[(\hat f_D(x) - y)^2\big]
#   = \underbrace{\big(\bar f(x) - f(x)\big)^2}_{\text{bias}^2}
#   + \underbrace{\mathbb{E}_D\big[(\hat f_D(x) - \bar f(x))^2\big]}_{\text{variance}}
#   + \underbrace{\sigma^2}_{\text{noise}},
#   \qquad \bar f(x) = \mathbb{E}_D\big[\hat f_D(x)\big].$$
#
# (Expand $(\hat f_D - \bar f + \bar f - f - \varepsilon)^2$: the cross terms vanish in expectation because
# $\mathbb{E}_D[\hat f_D - \bar f] = 0$ and the test noise is independent of $D$.) **Bias** is what the model
# family gets wrong on average, **variance** how much the fit depends on the accidents of its data. We measure
# all three by refitting on $R = 400$ resampled data sets from the seeded generator, each tested against fresh
# noisy targets on the grid, and check that they add up to the measured test error.

# %%
R = 400
DEGREES = list(range(10))
rows = {}
for degree in DEGREES:
    fits = np.empty((R, grid.size))  # (R, G): one fit per data set
    errors = np.empty(R)  # each fit's test error against fresh targets
    for r in range(R):
        fits[r] = fit(*sample(rng), degree)
        y_new = f(grid) + SIGMA * rng.standard_normal(grid.size)
        errors[r] = np.mean((fits[r] - y_new) ** 2)
    mean_fit = fits.mean(axis=0)  # (G,) the average model f-bar
    bias2 = np.mean((mean_fit - f(grid)) ** 2)
    variance = np.mean(fits.var(axis=0))
    rows[degree] = (bias2, variance, errors.mean(),
                    errors.std(ddof=1) / np.sqrt(R), fits)

print("degree    bias²  variance  noise  sum      test error")
for degree, (b2, var, err, se, _) in rows.items():
    total = b2 + var + SIGMA**2
    print(f"{degree:6d}  {b2:7.3f}  {var:8.3f}  {SIGMA**2:5.2f}  "
          f"{total:7.3f}  {err:7.3f} ± {se:.3f}")
    # The decomposition is exact in expectation; measured, it holds to
    # within the sampling error of R test errors.
    assert abs(total - err) < 4 * se, (degree, total, err, se)

# %%
ch6_polynomials(x, y, grid, f(grid),
                {d: (fit(x, y, d), rows[d][4]) for d in (1, 3, 9)}, SIGMA)
ch6_bias_variance(DEGREES, [rows[d][0] for d in DEGREES],
                  [rows[d][1] for d in DEGREES], SIGMA**2,
                  [rows[d][2] for d in DEGREES])

# %% [markdown]
# The two pictures of the lecture, measured:
#
# - **High bias (underfitting), degree 0-1.** Every resampled fit is nearly the same straight line, and all of
#   them miss the sine in the same way: the variance is small, the bias² is most of the error. More data would
#   not help; more capacity would.
# - **High variance (overfitting), degree 8-9.** The average fit (red) follows the sine closely, so the bias is
#   small, but each individual fit passes through its own noisy points and swings between them: the variance
#   dominates, and it grows seventy-fold from degree 0 to 9. More capacity makes it worse; more data, or a penalty that
#   keeps the coefficients small, would help.
# - **In between (degree 3-5)** the sum is smallest. Bias² and variance trade against each other through the
#   capacity, and the noise $\sigma^2$ is the floor under every model.
#
# **The link to networks.** The window network's weights play the coefficients' part: 11,083 of them against
# 18,105 residues is degree 9 against 10 points, and Figure 8's falling test curve is the variance term growing
# as training lets the weights reach further from their small random start (training time acts as capacity,
# which is why early stopping regularises). Chapter 7's ensembles attack the variance term directly: averaging
# networks trained from different seeds estimates $\bar f$. What the decomposition does not do for a classifier
# is add up so neatly (0-1 loss has no exact analogue), but the two failure modes are the same, and the toolkit
# below is a set of ways to buy less variance for a little bias.
#
# ### Exercise 6.2 — a penalty on the coefficients
# Ridge regression adds $\lambda \lVert w \rVert^2$ to the least-squares loss (section 6.5 shows it is a
# Gaussian prior). Write `ridge_fit(x, y, degree, lam)` that returns the degree-`degree` ridge fit evaluated on
# `grid`, solving $(X^\top X + \lambda I) w = X^\top y$ with $X$ the Vandermonde matrix of $2x - 1$ (columns
# $1, t, t^2, \dots$; the rescaling to $[-1, 1]$ keeps the powers of similar size). The check measures the
# degree-9 bias and variance with and without the penalty.

# %%
def ridge_fit(x, y, degree, lam):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def ridge_fit(x, y, degree, lam):
    X = np.vander(2 * x - 1, degree + 1, increasing=True)  # (n, d+1)
    G = np.vander(2 * grid - 1, degree + 1, increasing=True)  # (G, d+1)
    w = np.linalg.solve(X.T @ X + lam * np.eye(degree + 1), X.T @ y)
    return G @ w  # (G, d+1) @ (d+1,) -> (G,)


# %%
# Check.
check_rng = np.random.default_rng(62)
sets = [sample(check_rng) for _ in range(200)]
assert np.allclose(ridge_fit(x, y, 3, 0.0), fit(x, y, 3), atol=1e-6)
for lam in (0.0, 1e-2):
    fits = np.array([ridge_fit(xs, ys, 9, lam) for xs, ys in sets])
    b2 = np.mean((fits.mean(axis=0) - f(grid)) ** 2)
    var = np.mean(fits.var(axis=0))
    print(f"degree 9, lambda {lam:g}: bias² {b2:.3f}, variance {var:.3f}")
    if lam == 0.0:
        b2_plain, var_plain = b2, var
assert var < var_plain / 2

# %% [markdown]
# ## 6.3 Capacity against data: the gap in numbers
#
# `sspred experiment params` collects every run of the window and hidden-unit sweeps and plots the final
# train-minus-test gap against the number of weights; `sspred experiment learning-curve` trains the same network
# on growing shares of the data. Both are recorded in `docs/experiments/results-*.json`; here they are side by
# side for the two data sets (left: window 1-21 at 40 hidden units and 0-100 hidden units at window 13).

# %%
ch6_capacity(results)

# %% [markdown]
# On the paper's data the gap rises from about zero (1,000 weights) to 18 points (20,000-28,000 weights); on
# netsurfp2 it stays under 2.5 points for every network of the sweeps. This is section 6.2's variance term,
# growing with the degree and shrinking with $n$. And the learning curves show the two faces of "more data":
# the training accuracy *falls* (memorising gets harder) while the test accuracy rises, still climbing at
# 290,000 residues. **More data is the first and best regulariser**; everything below is what to do when you
# do not have it.
#
# ## 6.4 The toolkit
#
# Each tool below trades a little fit to the training data for less dependence on its accidents: a little
# bias for less variance. sspred has each as one field of its configuration (`sspred.ModelConfig` for the
# architecture, `sspred.TrainConfig` for the optimisation), so one line switches it on.
#
# - **A bottleneck** (`ModelConfig(bottleneck=k)`): a linear layer of $k$ units between the $13 \times 21 = 273$
#   inputs and the hidden layer. It factors the first weight matrix into $(273 \times k)(k \times 40)$, a
#   low-rank matrix with far fewer weights; the network must summarise each residue window in $k$ numbers.
# - **L2 weight decay** (`TrainConfig(l2=...)`) and **L1** (`l1=...`): penalties on the weights' size, section
#   6.5.
# - **Early stopping** (`patience=p`): score a held-out validation split after each epoch, stop after $p$
#   epochs without improvement, and keep the best epoch's weights: Figure 8, stopped at its peak, but on data
#   that is not the test set.
# - **Dropout** (`ModelConfig(dropout=0.2)`): in training, zero each hidden unit with probability 0.2 and scale
#   the rest by $1/0.8$ (inverted dropout), a different random sub-network every minibatch; at prediction time
#   all units are used. No unit can rely on a particular partner, which blocks co-adapted, memorising features.
# - **Input noise** (`input_noise=σ`): add Gaussian noise to the one-hot window in training, so the network
#   never sees exactly the same window twice. **Weight noise** (`weight_noise=σ`) does the same to the weights.
# - **Batch normalisation** (`ModelConfig(batchnorm=True)`): standardise each hidden unit's input over the
#   minibatch, then rescale with learned $\gamma, \beta$ (section 6.6). Its main effect is easier optimisation;
#   the noise of minibatch statistics regularises a little.
# - **Label smoothing** (`smoothing=ρ`): train towards $(1-\rho)$ on the true state and $\rho/(K-1)$ on the
#   others, instead of a one-hot target. The network is never pushed to infinite confidence on a label that, for
#   secondary structure, is often ambiguous (helix ends, coil-strand boundaries).

# %% [markdown]
# ![Dropout: one training step's sub-network with dropped hidden units crossed out, and the whole network at prediction](figures/dropout.svg)
#
# Dropout in one picture: each minibatch trains a different thinned network, and prediction uses them all.

# %% [markdown]
# ### Exercise 6.3 — counting weights
# Write `n_weights(cfg)`: the number of weights and biases of a `ModelConfig`, from its `layers()` (a list of
# dicts; a `"linear"` layer has `"in"` and `"out"`). The check compares the 1988 network with and without a
# bottleneck of 10 against the counts by hand: $273 \cdot 40 + 40 + 40 \cdot 3 + 3 = 11{,}083$ and
# $273 \cdot 10 + 10 + 10 \cdot 40 + 40 + 40 \cdot 3 + 3 = 3{,}303$.

# %%
def n_weights(cfg):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def n_weights(cfg):
    return sum(s["in"] * s["out"] + s["out"] for s in cfg.layers()
               if s["type"] == "linear")


# %%
# Check.
narrow = sspred.ModelConfig(window=13, hidden=[40], bottleneck=10)
assert n_weights(net_1988) == 11_083
assert n_weights(narrow) == 3_303

# %% [markdown]
# ## 6.5 L2 and L1 are priors: training finds the most probable weights
#
# Cross-entropy training maximises the likelihood of the labels, $p(D \mid W) = \prod_n p(y_n \mid x_n, W)$.
# Bayes' rule turns a **prior** belief about the weights into a **posterior**,
# $p(W \mid D) \propto p(D \mid W)\, p(W)$, and the single most probable weights (the **MAP** estimate)
# minimise its negative logarithm:
#
# $$-\log p(W \mid D) = \underbrace{-\sum_n \log p(y_n \mid x_n, W)}_{\text{cross-entropy}}
#   \; - \log p(W) + \text{const}.$$
#
# - A **Gaussian prior**, each weight independently $\mathcal{N}(0, s^2)$:
#   $-\log p(W) = \frac{1}{2 s^2} \sum_i w_i^2 + \text{const}$, the **L2** penalty with $\lambda = 1/s^2$.
#   Its gradient is $\lambda w_i$: each step shrinks every weight in proportion to its size ("weight decay").
# - A **Laplace prior**, $p(w_i) = \frac{1}{2b} e^{-|w_i|/b}$:
#   $-\log p(W) = \frac{1}{b} \sum_i |w_i| + \text{const}$, the **L1** penalty with $\lambda = 1/b$. Its
#   (sub)gradient is $\lambda\, \mathrm{sign}(w_i)$: the same pull towards zero whatever the weight's size, so a
#   weight whose data gradient is weaker than $\lambda$ is driven to zero and stays there. The Laplace density
#   has a sharp peak at zero, which the Gaussian has not; that peak is sparsity.
#
# sspred's loss is the *mean* cross-entropy over a minibatch of $B$ windows plus
# $\frac{\lambda_2}{2} \sum W^2 + \lambda_1 \sum |W|$ over the weight matrices (not the biases); dividing the
# negative log posterior over $N$ training windows by $N$ shows that `l2` $= \lambda_2$ is a Gaussian prior of
# variance $s^2 = 1/(N \lambda_2)$: the more data, the weaker the same `l2` makes the prior. The gradients are
# exactly those above, added in `sspred.engines.numpy.learner.penalty`.
#
# We train the 1988 network twice for 20 epochs, with `l2=1e-3` and with `l1=3e-4` (strengths at which both
# fit the training proteins about equally), and compare their first-layer weights ($273 \times 40$).

# %%
priors = {}
for label, kw in (("L2 1e-3", {"l2": 1e-3}), ("L1 3e-4", {"l1": 3e-4})):
    m, h, secs = run(net_1988, epochs=20, **kw)
    priors[label] = (m, h)
    print(f"{label}: {secs:.0f} s")
NEAR = 1e-3  # |w| below this counts as zero (initial weights are ~0.06)
weights = {"none (40 epochs)": model.params["layers.0.W"],
           **{k: m.params["layers.0.W"] for k, (m, _) in priors.items()}}
tested = {"none (40 epochs)": model,
          **{k: m for k, (m, _) in priors.items()}}
print(f"\n{'penalty':16s}  |w|<{NEAR:g}  mean |w|  train Q3  test Q3")
for label, w in weights.items():
    m = tested[label]
    print(f"{label:16s}  {np.mean(np.abs(w) < NEAR):7.1%}  "
          f"{np.abs(w).mean():8.3f}  {q3(m, train_chains):8.1f}  "
          f"{q3(m, test_chains):7.1f}")
ch6_weights(weights, NEAR)

# %% [markdown]
# The two penalties fit the training proteins about equally and score about the same on the test proteins, but
# their weights are different animals. L2 shrinks every weight a little: its histogram is a narrow bell with few
# exact zeros. L1 leaves about half of the first layer's weights at zero (Adam's steps make them hover within
# $10^{-3}$ of it rather than land exactly on it) and lets the rest stay large: it has chosen which residue at
# which window position each hidden unit reads. The unpenalised network after 40 epochs has large weights
# everywhere, the memoriser of Figure 8.
#
# ### Exercise 6.4 — the penalties' gradients
# Write `penalty_grad(W, l1, l2)`: the gradient of $\frac{l_2}{2} \sum W^2 + l_1 \sum |W|$ with respect to `W`,
# taking the subgradient of $|w|$ at 0 as 0. The check compares it with sspred's own `penalty` and, away
# from zero, with central finite differences.

# %%
def penalty_grad(W, l1, l2):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def penalty_grad(W, l1, l2):
    return l2 * W + l1 * np.sign(W)


# %%
# Check.
from sspred.engines.numpy.learner import penalty

W = np.random.default_rng(64).standard_normal((5, 4))
_, theirs = penalty({"layers.0.W": W}, l1=0.3, l2=0.7)
assert np.allclose(penalty_grad(W, 0.3, 0.7), theirs["layers.0.W"])
loss = lambda W: 0.35 * (W**2).sum() + 0.3 * np.abs(W).sum()
h = 1e-6
numeric = np.zeros_like(W)
for idx in np.ndindex(W.shape):
    step = np.zeros_like(W)
    step[idx] = h
    numeric[idx] = (loss(W + step) - loss(W - step)) / (2 * h)
assert np.allclose(penalty_grad(W, 0.3, 0.7), numeric, atol=1e-6)

# %% [markdown]
# ## 6.6 Batch normalisation in equations
#
# For one unit's pre-activations $x_1, \dots, x_B$ over a minibatch, batch normalisation (Ioffe & Szegedy 2015)
# computes
#
# $$\mu = \frac{1}{B}\sum_b x_b, \qquad \sigma^2 = \frac{1}{B}\sum_b (x_b - \mu)^2, \qquad
#   \hat x_b = \frac{x_b - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y_b = \gamma\, \hat x_b + \beta,$$
#
# with learned scale $\gamma$ and shift $\beta$ per unit (so the layer can undo the normalisation if that is
# best) and $\epsilon = 10^{-5}$ against division by zero. At prediction time there is no minibatch: the layer
# uses **running statistics**, updated at every training step with momentum $m = 0.1$,
#
# $$\mu_{\text{run}} \leftarrow (1 - m)\, \mu_{\text{run}} + m\, \mu, \qquad
#   \sigma^2_{\text{run}} \leftarrow (1 - m)\, \sigma^2_{\text{run}} + m\, \tfrac{B}{B-1}\, \sigma^2,$$
#
# (the unbiased variance, as PyTorch keeps it) and normalises by them, a fixed affine map:
#
# $$y = \gamma\, \frac{x - \mu_{\text{run}}}{\sqrt{\sigma^2_{\text{run}} + \epsilon}} + \beta .$$
#
# **The backward's key result.** In training $\mu$ and $\sigma^2$ depend on every row, so the gradient of one
# input collects three terms; they simplify to
#
# $$\frac{\partial L}{\partial x_b} = \frac{\gamma}{B \sqrt{\sigma^2 + \epsilon}}
#   \Big( B\, g_b - \sum_{b'} g_{b'} - \hat x_b \sum_{b'} g_{b'} \hat x_{b'} \Big), \qquad
#   g_b = \frac{\partial L}{\partial y_b},$$
#
# and $\partial L / \partial \gamma = \sum_b g_b \hat x_b$, $\partial L / \partial \beta = \sum_b g_b$. The
# upstream gradient is centred and has its component along $\hat x$ removed: batch norm passes back nothing
# that would shift or rescale the whole batch, since its output cannot change under such a shift. sspred's
# layer, `sspred.engines.numpy.layers.BatchNorm`, implements exactly these lines (its `forward` and
# `backward` sit side by side). A few lines of NumPy reproduce its forward, in both modes:

# %%
from sspred.engines.numpy.layers import BatchNorm

bn_rng = np.random.default_rng(66)
layer = BatchNorm({"type": "batchnorm", "n": 4})
layer.init(bn_rng, np.float64)
layer.params["gamma"][:] = bn_rng.uniform(0.5, 2, 4)
layer.params["beta"][:] = bn_rng.normal(0, 1, 4)
xb = bn_rng.normal(3, 2, (16, 4))  # (B, n): a minibatch of 16 rows

# Training mode, by hand: batch statistics, then scale and shift.
mu, var = xb.mean(axis=0), xb.var(axis=0)  # (n,) each, biased
xhat = (xb - mu) / np.sqrt(var + 1e-5)  # (B, n)
y_hand = layer.params["gamma"] * xhat + layer.params["beta"]
assert np.allclose(layer.forward(xb, train=True), y_hand)

# The running statistics after that one step, and evaluation mode.
run_mu = 0.9 * 0 + 0.1 * mu
run_var = 0.9 * 1 + 0.1 * var * 16 / 15
assert np.allclose(layer.buffers["running_mean"], run_mu)
assert np.allclose(layer.buffers["running_var"], run_var)
x_new = bn_rng.normal(3, 2, (5, 4))
x_norm = (x_new - run_mu) / np.sqrt(run_var + 1e-5)  # (5, n)
y_eval = layer.params["gamma"] * x_norm + layer.params["beta"]
assert np.allclose(layer.forward(x_new, train=False), y_eval)
print("the layer's forward equals the equations, in training and "
      "evaluation mode")

# %% [markdown]
# ### Exercise 6.5 — batch norm's backward
# Write `bn_backward(g, xhat, gamma, var)`: $\partial L / \partial x$ in training mode from the upstream
# gradient `g` $(B, n)$, the normalised inputs, $\gamma$ and the batch variance, by the formula above. The check
# compares it with the layer's `backward` and with finite differences of $L = \sum_b c_b\, y_b$.

# %%
def bn_backward(g, xhat, gamma, var, eps=1e-5):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def bn_backward(g, xhat, gamma, var, eps=1e-5):
    B = g.shape[0]
    inner = B * g - g.sum(axis=0) - xhat * (g * xhat).sum(axis=0)
    return gamma / (B * np.sqrt(var + eps)) * inner  # (B, n)


# %%
# Check.
c = bn_rng.normal(0, 1, xb.shape)  # L = sum(c * y): upstream gradient c
layer.forward(xb, train=True)
ours = bn_backward(c, xhat, layer.params["gamma"], var)
assert np.allclose(ours, layer.backward(c))


def bn_loss(x):
    xh = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    return np.sum(c * (layer.params["gamma"] * xh + layer.params["beta"]))


numeric = np.zeros_like(xb)
for idx in np.ndindex(xb.shape):
    step = np.zeros_like(xb)
    step[idx] = 1e-6
    numeric[idx] = (bn_loss(xb + step) - bn_loss(xb - step)) / 2e-6
assert np.allclose(ours, numeric, atol=1e-5)

# %% [markdown]
# ## 6.7 What each tool did: the measured ablation
#
# `docs/experiments/ablation.py` trained one medium window network (window 17, 100 and 50 ReLU units, Adam at 0.001)
# with no regularisation, with each tool alone at a textbook strength (fixed in advance, not tuned), and with
# combinations. To fit the CPU budget it used 1,500 of netsurfp2's 9,712 training chains and 8 epochs; the
# section "Training toolkit ablation" of BENCHMARKS.md has the commands, and we read its table from there.

# %%
def markdown_table(text: str, heading: str) -> list[dict]:
    """The first pipe table after ``heading``, a dict per row."""
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|")
                     .split("|")])
    return [dict(zip(rows[0], r)) for r in rows[2:]]  # rows[1]: |---|


number = lambda cell: float(re.sub(r"[^0-9.\-]", "", cell))
benchmarks = (ROOT / "BENCHMARKS.md").read_text()
ablation = markdown_table(benchmarks, "### Ablation")
names = [r["configuration"]
         .replace("early stopping on (patience 2)", "early stopping (2)")
         .replace("all helpful tricks (all seven)", "all seven together")
         for r in ablation]
print(f"{'configuration':30s} {'train':>6s} {'valid':>6s} {'gap':>5s}")
for name, row in zip(names, ablation):
    print(f"{name:30s} {number(row['train Q3']):6.2f} "
          f"{number(row['valid Q3']):6.2f} {number(row['gap']):5.2f}")

# %%
ch6_ablation(names, np.array([number(r["train Q3"]) for r in ablation]),
             np.array([number(r["valid Q3"]) for r in ablation]))

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
# ## 6.8 Three tools live, on the paper's proteins
#
# On the paper's 18,105 residues overfitting is severe (section 6.1), so the tools have something to do. We
# rerun three of the ablation's tools at its strengths (early stopping with patience 2, input noise 0.1, label
# smoothing 0.1) on the 1988 network for at most 20 epochs. This time the choice of epoch is made properly:
# training on `qs1988`'s 100 training proteins, monitoring its 11 validation proteins, and scoring the 17 test
# proteins once at the end. A few seconds each.

# %%
qs_train = sspred.load_data("qs1988", "train")
qs_valid = sspred.load_data("qs1988", "valid")
TOOLS = {"no regularisation": {}, "early stopping (2)": {"patience": 2},
         "input noise 0.1": {"input_noise": 0.1},
         "label smoothing 0.1": {"smoothing": 0.1}}
print(f"{'configuration':20s} {'epochs':>6s} {'train':>6s} {'test':>6s} "
      f"{'gap':>5s} {'time':>5s}")
for label, kw in TOOLS.items():
    cfg = sspred.TrainConfig(model=net_1988, epochs=20, lr=1e-2,
                             batch_size=64, seed=0,
                             **{"patience": 0, **kw})
    h = []
    t0 = time.perf_counter()
    m = sspred.train(cfg, qs_train, valid=qs_valid, callbacks=[h.append])
    fitted, tested_q3 = q3(m, qs_train), q3(m, test_chains)
    print(f"{label:20s} {len(h):6d} {fitted:6.1f} {tested_q3:6.1f} "
          f"{fitted - tested_q3:5.1f} {time.perf_counter() - t0:4.0f}s")

# %% [markdown]
# Early stopping is by far the strongest of the three here: it stops after a handful of epochs, keeps the best
# epoch's weights, and lands within about a point of Figure 8's peak without ever looking at the test set. Input noise at
# 0.1 slows memorisation (the training Q3 stays well below the unregularised run's) and gains a point or two;
# label smoothing barely changes anything, since it limits confidence, not memorisation: a network can learn
# every training window by heart with targets of 0.9 as well as with 1. The ablation on 16 times more data
# ranked them differently (all three within half a point): which tool matters depends on how badly the network
# overfits.
#
# ## 6.9 L2 and dropout, epoch by epoch
#
# The two tools that did most in the ablation, **L2** ($\lambda = 10^{-3}$, the run of section 6.5) and
# **dropout** (0.2 after the hidden layer), drawn over the unregularised Figure 8 run for 20 epochs, with the
# test proteins scored after every epoch as in section 6.1.

# %%
live = {"no regularisation": hist[:20], "L2 1e-3": priors["L2 1e-3"][1]}
dropped = sspred.ModelConfig(window=13, hidden=[40], dropout=0.2)
m, h, secs = run(dropped, epochs=20)
live["dropout 0.2"] = h
print(f"dropout: {secs:.0f} s")
for label, h in live.items():
    print(f"{label:18s} test Q3 peak {max(x['valid_accuracy'] for x in h):.1f}, "
          f"last epoch {h[-1]['valid_accuracy']:.1f}")
# all units on, as a trained network predicts
print(f"dropout: training Q3 after the last epoch "
      f"{q3(m, train_chains):.1f}")
ch6_curves(live)

# %% [markdown]
# L2 holds the network near the linear regime: its training accuracy stays within a point or two of its test
# accuracy, and the test curve no longer falls. Dropout slows memorisation (training Q3 climbs more slowly than
# without it) but does not stop it on 18,000 residues; its test curve falls later and less. (Its *running*
# training accuracy, measured with units dropped, understates the trained network: scored after the last epoch
# with all units on, it fits the training proteins far better, as the printout shows.) Neither beats the *peak*
# of the unregularised run by much: on this little data, a window network's best test Q3 is about 63 % whatever
# we do. Regularisation buys a network that is safe to train for as long as you like, not a better one. A
# better one needs more data (chapter 5's netsurfp2) or more context (chapter 7).
#
# ### Exercise 6.6 — the bottleneck, live
# Does a three-times smaller network memorise less? Set `bottleneck_net` to the 1988 network with a
# bottleneck of 10 (a `ModelConfig`). The check trains it for 40 epochs as in section 6.1 and compares its
# final train-test gap with the unregularised run's.

# %%
bottleneck_net = ...  # your code here

# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
bottleneck_net = sspred.ModelConfig(window=13, hidden=[40], bottleneck=10)

# %%
# Check.
assert n_weights(bottleneck_net) == 3_303
m, h, secs = run(bottleneck_net, epochs=40)
gap_small = q3(m, train_chains) - q3(m, test_chains)
gap_plain = q3(model, train_chains) - q3(model, test_chains)
print(f"gap after 40 epochs: bottleneck {gap_small:.1f} points, "
      f"none {gap_plain:.1f} ({secs:.0f} s)")
assert gap_small < gap_plain

# %% [markdown]
# The gap is smaller with the bottleneck (3,303 weights memorise less of 18,105 residues than 11,083 do), but
# the network still overfits after its early peak: a bottleneck limits capacity in one direction only (how much
# of the window it can see), while the hidden layer after it can still memorise combinations of those 10
# numbers. Compare the plot of section 6.3: fewer weights, smaller gap.
#
# ## Summary
#
# - **Overfitting is capacity against data.** The paper's network (11,083 weights, 18,105 residues) memorises
#   its training set within 40 epochs while its test accuracy falls 8 points from an early peak; on 16 times
#   more data the same network barely overfits.
# - **Test error = bias² + variance + noise.** Refitting polynomials on resampled data measures each term: low
#   capacity underfits (bias), high capacity overfits (variance), and the noise is a floor no model goes below.
#   The terms add up to the measured test error within sampling error.
# - **L2 and L1 are priors.** Minimising cross-entropy plus a penalty is MAP estimation: L2 a Gaussian prior
#   (gradient $\lambda w$, small weights everywhere), L1 a Laplace prior (gradient $\lambda\,\mathrm{sign}(w)$,
#   about half the first layer at zero on the paper's data).
# - **Batch norm** normalises by minibatch statistics in training and by running statistics at prediction;
#   its backward centres the upstream gradient and removes its component along $\hat x$.
# - **The toolkit trades bias for variance.** On the paper's data early stopping on a validation split wins
#   most; on netsurfp2 every tool alone helped a little and all of them together over-regularised. No
#   regulariser raised the best test Q3 much: that takes more data or more context (chapter 7).

# %%
print(f"notebook ran in {time.perf_counter() - t_start:.0f} s")
