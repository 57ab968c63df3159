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
# # 2. From the perceptron to Qian & Sejnowski's network
#
# Notebook 1 turned each residue into a vector $x \in \{0,1\}^{273}$: a window of 13 one-hot rows. Now we
# classify it. We go in the order the field did:
#
# 1. the **perceptron** (Rosenblatt 1958): one linear unit and a threshold, for one yes/no question;
# 2. **softmax regression**: one linear unit per class and the softmax, trained by cross-entropy; this is
#    the "network with no hidden layer" of the 1988 paper. We write its trainer ourselves, in twenty lines
#    of NumPy, check it against `sspred.train`, and only then use the library;
# 3. **Qian & Sejnowski's network** (J Mol Biol 202:865, 1988): 40 sigmoid hidden units between the window
#    and the softmax, which reached $Q_3 = 64.3\%$ on its 17 test proteins; and the same network with
#    the ReLU of modern code in place of the sigmoid;
#
# and we score them the way the paper did: $Q_3$ (percent of residues correct), the confusion matrix and
# the per-class Matthews correlation coefficients $C_\alpha, C_\beta, C_{coil}$.

# %%
import os
import sys

# One BLAS thread: small networks on a shared 2-core machine run far
# faster so (BENCHMARKS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

import numpy as np

import sspred
# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import (ch2_confusions, ch2_curves, ch2_entropy,
                          ch2_perceptron, ch2_softmax, ch2_weights)
from sspred.alphabet import AMINO_ACIDS, N_UNITS, STATES3
from sspred.features import WindowIndex, one_hot
from sspred.metrics import accuracy, confusion, per_class

rng = np.random.default_rng(0)
train_chains = sspred.load_data("qs1988", "train")
test_chains = sspred.load_data("qs1988", "test")
print(len(train_chains), "training and", len(test_chains), "test proteins")

# %% [markdown]
# ## 2.1 The perceptron
#
# A perceptron computes a weighted sum of its inputs and answers "yes" when it is positive:
#
# $$ \hat y = \mathrm{step}(w \cdot x + b) \in \{0, 1\}. $$
#
# Rosenblatt's learning rule changes the weights only on mistakes: for an example $(x, y)$ with
# $y \in \{0,1\}$, $w \leftarrow w + \eta\,(y - \hat y)\,x$ and $b \leftarrow b + \eta\,(y - \hat y)$. If the
# two classes can be separated by a hyperplane the rule finds one in finitely many steps (Novikoff 1962);
# if not, as here, it never settles, and the weights keep jumping.
#
# Let us ask one question of every window, "is the centre residue in a helix?", and train a perceptron on
# the 1988 training proteins. The inputs of 16k residues are small enough to hold as a dense matrix here.

# %%
WINDOW = 13
train_idx = WindowIndex(train_chains, WINDOW)
test_idx = WindowIndex(test_chains, WINDOW)
# (N, 13) codes -> (N, 273) floats, rows flattened position-major
X_train = one_hot(train_idx.batch(np.arange(len(train_idx))))
X_test = one_hot(test_idx.batch(np.arange(len(test_idx))))
y_train, y_test = train_idx.labels, test_idx.labels  # indices into "CHE"
H = STATES3.index("H")
t_train = (y_train == H).astype(np.float32)
t_test = (y_test == H).astype(np.float32)

EPOCHS = 10
w, b, eta = np.zeros(X_train.shape[1]), 0.0, 0.1
w_sum, b_sum, steps = np.zeros_like(w), 0.0, 0  # for the averaged one
curve = []
for epoch in range(1, EPOCHS + 1):
    for n in rng.permutation(len(X_train)):
        # (273,) . (273,) -> scalar; error 0 when the answer is right
        error = t_train[n] - float(X_train[n] @ w + b > 0)
        if error:
            w += eta * error * X_train[n]
            b += eta * error
        w_sum += w
        b_sum += b
        steps += 1
    # (N, 273) @ (273,) -> (N,)
    last = 100 * np.mean((X_test @ w + b > 0) == t_test)
    w_avg, b_avg = w_sum / steps, b_sum / steps
    averaged = 100 * np.mean((X_test @ w_avg + b_avg > 0) == t_test)
    curve.append((last, averaged))

baseline = 100 * (1 - t_test.mean())
print(f"helix or not, test accuracy after {EPOCHS} epochs:")
print(f"  last weights {last:.1f}%, averaged weights {averaged:.1f}%,"
      f" always 'not helix' {baseline:.1f}%")
ch2_perceptron(curve, baseline)

# %% [markdown]
# The plain perceptron does not settle: the classes are not linearly separable, so every pass flips the
# weights on the examples it gets wrong, and its test accuracy jumps by ten points from one epoch to the
# next, mostly *below* the constant answer "never helix". Averaging the weights over all steps (the averaged
# perceptron, Freund & Schapire 1999) smooths the jumps and edges past the constant. The cleaner fix is two
# changes: replace the hard step by a smooth probability, and replace "fix mistakes" by "maximise the
# likelihood of the labels". For three classes that is softmax regression.

# %% [markdown]
# ## 2.2 Softmax regression: a network with no hidden layer
#
# One linear score ("logit") per state, $z = x W + b$ with $W \in \mathbb{R}^{273 \times 3}$, turned into
# probabilities by the **softmax**
#
# $$ p_k = \frac{e^{z_k}}{\sum_{j} e^{z_j}}, \qquad k \in \{C, H, E\}. $$
#
# The softmax is positive and sums to one; adding a constant to every logit changes nothing; for two
# classes it is the logistic sigmoid of the difference of the logits. Training minimises the
# **cross-entropy** of the true state $y$, $\;\ell = -\log p_y$, averaged over a minibatch of $B$ windows:
# the negative log-likelihood of the labels. (The lecture sums over the batch instead; see the notation
# table in the [course index](index.md).) Its gradient with respect to the logits is strikingly simple,
# the predicted distribution minus the one-hot target (notebook 1, §1.7), and from there one matrix
# product gives the weights' gradient (notebook 3 derives both):
#
# $$ \frac{\partial L}{\partial Z} = \frac{1}{B}(P - Y) \quad (B \times 3), \qquad
#    \frac{\partial L}{\partial W} = X^\top \frac{\partial L}{\partial Z} \quad
#    (273 \times B)(B \times 3), \qquad
#    \frac{\partial L}{\partial b} = \textstyle\sum_n \frac{\partial L}{\partial Z_{n,:}}. $$

# %%
z = np.linspace(-6, 6, 200)
# (200, 3): z_C varies, z_H = 0 and z_E = 1 stay fixed
logits = np.stack([z, np.zeros_like(z), np.full_like(z, 1.0)], axis=1)
p = np.exp(logits - logits.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
ch2_softmax(z, p)

# %% [markdown]
# ## 2.3 Softmax regression by hand, then the library
#
# Before calling a library, we write the trainer ourselves, as the lecture does: forward pass, softmax,
# cross-entropy, gradient, and a plain SGD step $W \leftarrow W - \eta\, \partial L / \partial W$ on
# minibatches. Two choices make it comparable with sspred: the initial weights are drawn as sspred draws
# them (seed 0, $W_{ij} \sim N(0, 1/273)$, $b = 0$), and epoch $e$ visits the windows in the order of
# `np.random.default_rng([seed, e]).permutation(n)`, which is `sspred.training.epoch_order`. The log of
# the softmax is computed after subtracting each row's maximum, so no exponent overflows (notebook 3, Exercise 3.7).

# %%
def train_softmax(X, y, lr, epochs, batch, seed=0):
    """Softmax regression by minibatch SGD: (W, b, mean loss per epoch)."""
    n, d = X.shape
    W = np.random.default_rng(seed).standard_normal((d, 3)) / np.sqrt(d)
    W, b = W.astype(np.float32), np.zeros(3, np.float32)
    losses = []
    for epoch in range(1, epochs + 1):
        order = np.random.default_rng([seed, epoch]).permutation(n)
        total = 0.0
        for start in range(0, n, batch):
            rows = order[start:start + batch]
            x, t = X[rows], y[rows]
            Z = x @ W + b  # (B, 273) @ (273, 3) -> (B, 3)
            Z = Z - Z.max(axis=1, keepdims=True)
            logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            total -= logp[np.arange(len(t)), t].sum()
            dZ = np.exp(logp)  # P, then (P - Y) / B
            dZ[np.arange(len(t)), t] -= 1
            dZ /= len(t)
            W -= lr * (x.T @ dZ)  # (273, B) @ (B, 3) -> (273, 3)
            b -= lr * dZ.sum(axis=0)
        losses.append(total / n)
    return W, b, losses


SGD = dict(lr=0.5, epochs=5, batch=64)
W_hand, b_hand, loss_hand = train_softmax(X_train, y_train, **SGD)
pred_hand = (X_test @ W_hand + b_hand).argmax(axis=1)
q3_hand = 100 * np.mean(pred_hand == y_test)
print("by hand: loss per epoch", np.round(loss_hand, 4))
print(f"         test Q3 {q3_hand:.2f}%")

# %% [markdown]
# Now the same run through sspred's public API. `ModelConfig(window=13, hidden=[])` is the network with
# no hidden layer; `TrainConfig` holds the optimisation: plain SGD (`momentum=0.0`), the same step size,
# batch size and epochs, seed 0, and `patience=0` (no early stopping, so the last weights are kept, as in
# our loop). If our twenty lines are right, the library must give the same losses and weights.

# %%
cfg_sgd = sspred.TrainConfig(
    model=sspred.ModelConfig(window=13, hidden=[]), optimizer="sgd",
    momentum=0.0, lr=SGD["lr"], batch_size=SGD["batch"],
    epochs=SGD["epochs"], patience=0, seed=0)
lib = sspred.train(cfg_sgd, "qs1988")
history_lib = lib.header["train"]["history"]["epochs"]
loss_lib = [h["train_loss"] for h in history_lib]
q3_lib = sspred.evaluate(lib, "qs1988").q3
print("library: loss per epoch", np.round(loss_lib, 4))
print(f"         test Q3 {q3_lib:.2f}%")
gap = np.abs(lib.params["layers.0.W"] - W_hand).max()
print(f"largest difference between the two W: {gap:.1e}")
assert np.allclose(loss_lib, loss_hand, rtol=1e-5)
assert np.allclose(lib.params["layers.0.W"], W_hand, atol=1e-5)
assert np.allclose(lib.params["layers.0.b"], b_hand, atol=1e-5)
assert abs(q3_lib - q3_hand) < 0.1

# %% [markdown]
# The two runs agree epoch by epoch and weight by weight (here to the last bit of float32): `sspred.train`
# with SGD *is* these twenty lines, plus the bookkeeping of validation, early stopping and model files.
# From here on we use the library.

# %% [markdown]
# ## 2.4 Cross-entropy as information
#
# Why $-\log p_y$? Information theory gives the loss a meaning. For two distributions $q$ (the target) and
# $p$ (the prediction) over $K$ states, the **cross-entropy**, the **entropy** and the
# **Kullback-Leibler divergence** are
#
# $$ H(q, p) = -\sum_k q_k \log p_k, \qquad H(q) = H(q, q) = -\sum_k q_k \log q_k, \qquad
#    \mathrm{KL}(q \,\|\, p) = \sum_k q_k \log \frac{q_k}{p_k}, $$
#
# and they are tied by one line of algebra, $\log p_k = \log q_k - \log (q_k / p_k)$:
#
# $$ H(q, p) = H(q) + \mathrm{KL}(q \,\|\, p). $$
#
# In words: the cross-entropy is the number of nats needed to code outcomes drawn from $q$ with a code
# built for $p$; it is the entropy of $q$ (the least possible) plus the KL divergence, the price of using
# the wrong distribution, which is $\ge 0$ and $= 0$ only when $p = q$ (Gibbs' inequality). Three
# consequences for a classifier:
#
# * The target is one-hot, $q = e_y$, whose entropy is $0$ (one term, $1 \log 1$; and $0 \log 0 = 0$).
#   So **the loss is exactly the KL divergence from the one-hot target**, $-\log p_y = \mathrm{KL}(e_y
#   \,\|\, p)$: minimising cross-entropy pulls the prediction towards the target distribution.
# * The entropy of any distribution over $K$ states is bounded: $0 \le H(p) \le \log K$, with $0$ only
#   for a one-hot $p$ (certainty) and $\log K$ only for the uniform $p_k = 1/K$ (Jensen's inequality on
#   the concave $\log$).
# * A **perfect prediction** ($p = e_y$) has loss $0$; a **uniform** one has loss $\log 3 \approx 1.099$
#   nats whatever the label, the loss of a network that has learnt nothing. Predicting the training
#   set's class frequencies $\pi$ on every residue scores about $H(\pi)$, the loss of "knowing only the
#   class sizes". A trained model's loss must be read between these numbers.
#
# Let us compute them on the real predictions of the softmax regression we just trained, on the 3,520
# test residues.

# %%
def softmax_rows(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


P = softmax_rows(X_test @ W_hand + b_hand)  # (N, 3) predictions
Y = np.eye(3)[y_test]  # (N, 3) one-hot targets
K = 3
ent = -(P * np.log(P)).sum(axis=1)  # (N,) entropy of each prediction
ce = -np.log(P[np.arange(len(y_test)), y_test])  # (N,) loss per residue
print(f"entropy of the predictions: min {ent.min():.3f},"
      f" max {ent.max():.3f}, mean {ent.mean():.3f} nats")
print(f"bounds: 0 and log {K} = {np.log(K):.3f}")
assert ent.min() >= 0 and ent.max() <= np.log(K) + 1e-9

pi = np.bincount(y_train, minlength=K) / len(y_train)  # class frequencies
rows = {
    "perfect, p = one-hot target": -np.log(np.ones(len(y_test))),
    "softmax regression": ce,
    "class frequencies of train": -np.log(pi[y_test]),
    "uniform, p = 1/3": -np.log(np.full(len(y_test), 1 / K)),
}
print(f"\n{'test loss (nats)':30s} {'mean':>6s}")
for name, value in rows.items():
    print(f"{name:30s} {value.mean():6.3f}")
H_pi = -(pi * np.log(pi)).sum()
print(f"{'H(pi), entropy of the sizes':30s} {H_pi:6.3f}")
ch2_entropy(ent, ce, K)

# %% [markdown]
# The trained model's mean loss, about 0.84 nats, sits between the perfect 0 and the uniform
# $\log 3 = 1.099$, and only 0.17 nats below the 1.00 of knowing the class sizes alone: most of the
# uncertainty about a residue's state is left after reading its window. The entropies of its predictions
# stay inside $[0, \log 3]$ as they must; a few are nearly certain, a few nearly uniform, and their mean
# (0.79 nats) is close to the mean loss, as it would be for a perfectly calibrated model, whose expected
# loss equals its expected entropy. The per-residue
# losses have a long tail: a residue whose true state got probability 0.05 costs $-\log 0.05 = 3$ nats,
# as much as three confidently right ones save. That is why cross-entropy punishes overconfidence, and why
# a model can lower its loss without changing a single argmax (a better calibrated $p$), which Q3 does
# not see.

# %% [markdown]
# ### Exercise 2.1 — cross-entropy is entropy plus KL
# Write `entropy(q)` and `kl(q, p)` for rows of distributions (shape $(N, K)$, one value per row), with
# the convention $0 \log 0 = 0$ so that one-hot rows work. The check tests $H(q, p) = H(q) +
# \mathrm{KL}(q \,\|\, p)$ on label-smoothed targets $q = 0.9\, Y + 0.1 / 3$ (notebook 6) and on the
# one-hot ones, against the real predictions `P`.

# %%
def entropy(q):
    ...  # your code here


def kl(q, p):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def entropy(q):
    logq = np.log(np.where(q > 0, q, 1.0))  # log 1 = 0 where q = 0
    return -(q * logq).sum(axis=1)


def kl(q, p):
    ratio = np.where(q > 0, q / p, 1.0)
    return (q * np.log(ratio)).sum(axis=1)


# %%
# Check.
def cross_entropy(q, p):
    return -(q * np.log(p)).sum(axis=1)


assert entropy(Y) is not None and kl(Y, P) is not None, "write them first"
q_smooth = 0.9 * Y + 0.1 / K
for q in (Y, q_smooth):
    assert np.allclose(cross_entropy(q, P), entropy(q) + kl(q, P))
assert np.allclose(entropy(Y), 0) and np.allclose(kl(Y, P), ce)
assert np.allclose(entropy(np.full((1, K), 1 / K)), np.log(K))
assert (kl(q_smooth, P) >= 0).all() and np.allclose(kl(P, P), 0)
print("H(q, p) = H(q) + KL(q || p) on every test residue")

# %% [markdown]
# ## 2.5 The library's defaults: Adam and early stopping
#
# For the rest of the course we train with the library's defaults. `TrainConfig` holds them: Adam
# (notebook 3) with step size $10^{-3}$ on minibatches of 256 windows, at most 30 epochs, and **early
# stopping**: after every epoch the loss is measured on the validation split (11 of the paper's training
# proteins that sspred holds out, seeded), training stops when it has not improved for 5 epochs, and the
# best weights are kept. The test proteins are never looked at during training. `callbacks` receive each
# epoch's statistics; `valid_accuracy` is the Q3 of the validation split (it would be Q8 for an 8-state
# network, `ModelConfig(n_states=8)`).

# %%
def show_epoch(stats):
    print(f"epoch {stats['epoch']:2d}"
          f"  train loss {stats['train_loss']:.4f}"
          f"  valid loss {stats['valid_loss']:.4f}"
          f"  valid Q3 {stats['valid_accuracy']:.1f}")


OPTIMISATION = dict(optimizer="adam", lr=1e-3, batch_size=256, epochs=30,
                    patience=5, seed=0)
cfg_linear = sspred.TrainConfig(
    model=sspred.ModelConfig(window=13, hidden=[]), **OPTIMISATION)
linear = sspred.train(cfg_linear, "qs1988", callbacks=[show_epoch])
scores_linear = sspred.evaluate(linear, "qs1988")
print(f"softmax regression: test Q3 {scores_linear.q3:.2f}%")

# %% [markdown]
# With no hidden layer every weight has a meaning we can read: $W_{21j+a,\,k}$ is how much amino acid $a$ at
# window offset $j$ votes for state $k$. The three panels below are the three columns of $W$, each reshaped
# to $13 \times 21$ (offset × amino acid): the same reshape that undoes the row-by-row flattening of
# notebook 1 (§1.6).

# %%
# (273, 3) -> (13, 21, 3): offset, symbol, state
W = linear.params["layers.0.W"].reshape(WINDOW, N_UNITS, 3)
ch2_weights(W)

centre = W[WINDOW // 2, :20, :]  # (20, 3): the centre residue's votes
for k, s in enumerate(STATES3):
    order = np.argsort(centre[:, k])
    best = " ".join(AMINO_ACIDS[i] for i in order[::-1][:5])
    worst = " ".join(AMINO_ACIDS[i] for i in order[:5])
    print(f"{s}: most for {best}   most against {worst}")

# %% [markdown]
# The linear model rediscovers the Chou-Fasman propensities of the 1970s. Alanine, glutamate, leucine,
# methionine and lysine vote for helix, and proline and glycine against it (proline cannot donate the
# backbone hydrogen bond a helix needs). The β-branched and aromatic residues (I, V, Y, W) vote for
# strand. Proline, glycine, asparagine and aspartate vote for coil. The votes are strongest near the centre
# and fade towards the window's edges: the reason a window of about 13 is enough for this kind of model.

# %% [markdown]
# ## 2.6 Qian & Sejnowski's network
#
# Between the window and the softmax the 1988 network has one **hidden layer** of 40 sigmoid units:
#
# $$ h = \sigma(x W_1 + b_1) \in (0,1)^{40}, \qquad p = \mathrm{softmax}(h W_2 + b_2), \qquad
#    \sigma(a) = \frac{1}{1 + e^{-a}}. $$
#
# $W_1$ is $273 \times 40$ and $W_2$ is $40 \times 3$: 11,083 parameters in all. Each hidden unit is a learned
# feature of the window (a detector of some pattern of residues); the output layer is softmax regression
# on those features. Without the non-linearity $\sigma$ the two layers would collapse into one linear map
# and the hidden layer would add nothing (Exercise 2.4).

# %% [markdown]
# ![The 1988 network: a 13-residue window, one-hot over 21 symbols, 40 hidden units, a softmax over 3](figures/network_1988.svg)
#
# The whole network on one window: 273 inputs, one per (position, symbol), of which 13 are ones, feed 40
# sigmoid units, which feed the softmax over C, H, E for the centre residue.

# %%
cfg_qs = sspred.TrainConfig(
    model=sspred.ModelConfig(window=13, hidden=[40], activation="sigmoid"),
    **OPTIMISATION)
qs = sspred.train(cfg_qs, "qs1988", callbacks=[show_epoch])
scores_qs = sspred.evaluate(qs, "qs1988")
n_params = sum(v.size for v in qs.params.values())
print(f"Qian & Sejnowski network ({n_params:,d} parameters):"
      f" test Q3 {scores_qs.q3:.2f}%")

# %%
ch2_curves({"sigmoid": qs.header["train"]["history"]["epochs"]},
           "Training the 1988 network (window 13, 40 sigmoid units, Adam)")

# %% [markdown]
# The validation loss reaches its minimum after about ten epochs and then stalls while the training
# loss keeps falling: the network has started to fit the particulars of 16k training residues. Early
# stopping keeps the weights of the best validation epoch. (Notebook 6 follows this past the minimum, the
# paper's Figure 8.)

# %% [markdown]
# ## 2.7 Sigmoid or ReLU?
#
# The lecture's PyTorch code puts a **ReLU**, $\mathrm{relu}(a) = \max(0, a)$, where the 1988 network has
# a sigmoid. The two differ in their derivatives, which is what backpropagation multiplies (notebook 3):
#
# $$ \sigma'(a) = \sigma(a)\,(1 - \sigma(a)) \le \tfrac14, \qquad
#    \mathrm{relu}'(a) = [a > 0] \in \{0, 1\}. $$
#
# *Why 1988 used the sigmoid.* Backpropagation (Rumelhart, Hinton & Williams 1986) needs a differentiable
# unit, and the sigmoid is the smooth version of the perceptron's threshold (§2.2): bounded, read as a
# firing rate or a probability, with a derivative computed from its output. Every network of that decade
# used it or tanh.
#
# *Why modern code uses ReLU.* The sigmoid saturates: for $|a|$ of a few units $\sigma'(a)$ is nearly 0,
# and in a deep stack the gradient is multiplied by at most $1/4$ per layer, so it vanishes before it
# reaches the first layers. ReLU passes the gradient unchanged wherever a unit is active, never
# saturates for positive inputs, costs one comparison, and gives sparse activations; with it (and an
# initialisation scaled to it, $\mathrm{Var}\,W = 2/\text{fan-in}$, He et al. 2015, which sspred uses)
# deep networks train from scratch (Nair & Hinton 2010; Glorot, Bordes & Bengio 2011). Its price is
# "dead" units: a unit whose pre-activation is negative on every input gets no gradient and never
# recovers.
#
# On one hidden layer neither argument has much to act on. Let us measure: the same network, seed, data
# and optimiser, only `activation` changed.

# %%
cfg_relu = sspred.TrainConfig(
    model=sspred.ModelConfig(window=13, hidden=[40], activation="relu"),
    **OPTIMISATION)
relu = sspred.train(cfg_relu, "qs1988")
scores_relu = sspred.evaluate(relu, "qs1988")
histories = {name: m.header["train"]["history"]["epochs"]
             for name, m in (("sigmoid", qs), ("relu", relu))}
print(f"{'hidden units':12s} {'epochs':>6s} {'best valid loss':>15s}"
      f" {'test Q3':>8s}")
for (name, hist), sc in zip(histories.items(), (scores_qs, scores_relu)):
    best = min(h["valid_loss"] for h in hist)
    print(f"{name:12s} {len(hist):6d} {best:15.4f} {sc.q3:8.2f}")

# Dead ReLU units: never positive on any test window.
A = X_test @ relu.params["layers.0.W"] + relu.params["layers.0.b"]
print("ReLU units never active on the test set:",
      int((A.max(axis=0) <= 0).sum()), "of", A.shape[1])
ch2_curves(histories, "40 sigmoid or 40 ReLU units, same seed, settings")

# %% [markdown]
# On this network the activation barely matters. The ReLU network reaches a slightly lower validation
# loss and stops two epochs sooner, and its test Q3 is about half a point lower; both differences are
# within the test set's standard error of about 0.8 points (§2.8). None of its 40 units died. That is
# what the arguments above predict: ReLU's advantages are about depth, and a network with one hidden
# layer of 40 units has no vanishing gradient to cure. The course
# keeps the sigmoid to reproduce the paper; the lecture's ReLU is what you would pick for anything deeper
# (notebook 7's convolution stacks use it).

# %% [markdown]
# ## 2.8 Scoring: Q3, the confusion matrix and per-class correlations
#
# $Q_3$ is one number; the **confusion matrix** shows where the errors go: row $i$, column $j$ counts the
# residues of true state $i$ predicted as $j$. From it, each state gets a **Matthews correlation
# coefficient**, the correlation between "is state $k$" and "predicted state $k$" over all residues:
#
# $$ C_k = \frac{TP\cdot TN - FP\cdot FN}{\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}}, $$
#
# which is 0 for a constant or random answer and 1 for a perfect one, whatever the class sizes. Qian &
# Sejnowski reported $C_\alpha = 0.41$, $C_\beta = 0.31$, $C_{coil} = 0.41$.
#
# The model's probabilities for every test chain come from `Model.predict_many`; the predicted state is
# the most probable one.

# %%
def confusion_of(model, chains):
    # a list of (L, 3), columns in "CHE" order
    probs = model.predict_many([c.codes for c in chains])
    y_true = np.concatenate([c.labels("3") for c in chains])
    y_pred = np.concatenate([p.argmax(axis=1) for p in probs])
    # (3, 3): rows true, columns predicted
    return confusion(y_true, y_pred, 3)


cm_linear = confusion_of(linear, test_chains)
cm_qs = confusion_of(qs, test_chains)
ch2_confusions({"softmax regression": cm_linear,
                "1988 network, 40 hidden": cm_qs}, accuracy)

# %%
paper = {"Q3": 64.3, "H": 0.41, "E": 0.31, "C": 0.41}
is_coil = np.concatenate([c.labels("3") for c in test_chains]) == 0
majority = 100 * np.mean(is_coil)
print(f"{'':24s} {'Q3':>5s} {'C_alpha':>8s} {'C_beta':>7s} {'C_coil':>7s}")
print(f"{'always coil':24s} {majority:5.1f} {0:8.2f} {0:7.2f} {0:7.2f}")
for name, sc in (("softmax regression", scores_linear),
                 ("1988 network, sigmoid", scores_qs),
                 ("1988 network, ReLU", scores_relu)):
    print(f"{name:24s} {sc.q3:5.1f} {sc.mcc['H']:8.2f}"
          f" {sc.mcc['E']:7.2f} {sc.mcc['C']:7.2f}")
print(f"{'Qian & Sejnowski 1988':24s} {paper['Q3']:5.1f} {paper['H']:8.2f}"
      f" {paper['E']:7.2f} {paper['C']:7.2f}")

# The MCCs of sspred.evaluate are the confusion matrix's (per_class):
mcc = per_class(cm_qs)["mcc"]
print("per_class(cm) MCC:",
      {s: round(float(m), 3) for s, m in zip(STATES3, mcc)})

# %% [markdown]
# The networks land within a point of each other, about 63% against the paper's 64.3%, with
# $C_\beta$ close to the paper's and $C_\alpha$ below it. BENCHMARKS.md repeats the
# reproduction over five seeds (`python docs/experiments/qs1988.py --seeds 5`): **63.03 ± 0.12** for the
# 40-unit network with Adam, **62.85 ± 0.21** for the perceptron (no hidden layer), against the paper's
# 64.3, and $C_\alpha$ 0.33 against 0.41. Two differences explain most of the gap: the paper trained on
# all its training proteins and used the test set as its stopping reference, while we hold out 11
# proteins and never look at the test set; and 3,520 test residues give a standard error of about 0.8
# points on Q3, so a point either way is within noise.
#
# The lesson of the paper, which we reproduce, is that **the hidden layer barely helps on this data**:
# the perceptron gets nearly all of it. The confusion matrices show what both miss: about half of all helix
# and strand residues are predicted as coil; the network predicts coil whenever the evidence is weak,
# which is the safe bet when coil is 55% of residues. The docs/experiments sweep (`hidden-uci.md`) finds
# 62.3% without a hidden layer, 63.2% with 10 units and 62.2% with 100; on 16 times more data
# (`hidden-netsurfp2.md`) the hidden layer matters: 61.9% without, 66.7% with 40-100 units.

# %% [markdown]
# ### Exercise 2.2 — Matthews correlations by hand
# Write `mcc_by_hand(cm)`: the three Matthews correlations (in the order C, H, E) from a $3 \times 3$
# confusion matrix, counting for each state its true positives, false positives, false negatives and
# true negatives against the rest.

# %%
def mcc_by_hand(cm):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def mcc_by_hand(cm):
    cm = cm.astype(float)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp  # predicted k, truly something else
    fn = cm.sum(axis=1) - tp  # truly k, predicted something else
    tn = cm.sum() - tp - fp - fn
    return (tp * tn - fp * fn) / np.sqrt(
        (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))


# %%
# Check.
assert mcc_by_hand(cm_qs) is not None, "write mcc_by_hand first"
assert np.allclose(mcc_by_hand(cm_qs),
                   [scores_qs.mcc[s] for s in STATES3], atol=1e-9)
print("MCC by hand:", np.round(mcc_by_hand(cm_qs), 3))

# %% [markdown]
# ### Exercise 2.3 — how wide a window?
# Write `window_q3(window)`: train the 1988 network (40 sigmoid units) with that window and the settings
# of `OPTIMISATION`, at most 10 epochs, and return its test Q3. What do you expect for a window of 1 (the
# residue alone) and of 21?

# %%
def window_q3(window):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def window_q3(window):
    cfg = sspred.TrainConfig(
        model=sspred.ModelConfig(window=window, hidden=[40]),
        **{**OPTIMISATION, "epochs": 10})
    return sspred.evaluate(sspred.train(cfg, "qs1988"), "qs1988").q3


# %%
# Check.
q3_by_window = {w: window_q3(w) for w in (1, 21)}
assert None not in q3_by_window.values(), "write window_q3 first"
print({w: round(q, 1) for w, q in q3_by_window.items()})
assert 50 < q3_by_window[1] < 58  # the residue alone: near "always coil"
assert q3_by_window[21] > q3_by_window[1] + 3  # context is what helps

# %% [markdown]
# A single residue carries only its propensity: about 55% (docs/experiments/window-uci.md measured 54.6%,
# barely above "always coil"). Context is what the window adds; the sweep climbs to about 62% by 7-9
# residues and then stays flat, while training Q3 keeps rising: on 16k residues a wider window adds weights
# that memorise rather than generalise. On NetSurfP-2.0 (window-netsurfp2.md) it keeps improving to 17-19.
#
# ### Exercise 2.4 — a hidden layer without a non-linearity
# A hidden layer without an activation, $z = (x W_1 + b_1) W_2 + b_2$, is no more expressive than softmax
# regression. Write `collapse(W1, b1, W2, b2)`, returning the $W$ and $b$ of the single linear layer
# $z = x W + b$ that computes the same logits. How many parameters does it have?

# %%
def collapse(W1, b1, W2, b2):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def collapse(W1, b1, W2, b2):
    return W1 @ W2, b1 @ W2 + b2  # (273, 40) @ (40, 3) -> (273, 3)


# %%
# Check.
W1r, W2r = rng.standard_normal((273, 40)), rng.standard_normal((40, 3))
b1r, b2r = rng.standard_normal(40), rng.standard_normal(3)
out = collapse(W1r, b1r, W2r, b2r)
assert out is not None, "write collapse first"
Wc, bc = out
x5 = X_test[:5]
assert np.allclose((x5 @ W1r + b1r) @ W2r + b2r, x5 @ Wc + bc)
print("one linear layer:", Wc.size + bc.size, "parameters")

# %% [markdown]
# $W = W_1 W_2 \in \mathbb{R}^{273 \times 3}$: a single linear layer, 819 + 3 = 822 parameters, however
# wide the hidden layer. (With fewer hidden units than classes it is even *less* expressive: $W$ then has
# low rank, which is the "bottleneck" of notebook 6.)

# %% [markdown]
# ## Summary
#
# * The perceptron answers one yes/no question with a hard threshold and does not settle on data that is
#   not linearly separable.
# * Softmax regression (one linear layer, softmax, cross-entropy) takes twenty lines of NumPy to train by
#   SGD, and `sspred.train` with the same start, batches and step size gives the same losses and weights.
#   It gets about 63% Q3 on the 1988 data, and its weights are readable propensities.
# * Cross-entropy is the entropy of the target plus the KL divergence from it; with a one-hot target it
#   is the KL divergence alone. Entropy lies between 0 and $\log K$: a perfect prediction costs 0 nats, a
#   uniform one $\log 3 \approx 1.10$, and knowing only the class sizes about 1.00.
# * Qian & Sejnowski's 40 sigmoid hidden units add little on 16k training residues; we reach about 63%
#   against the paper's 64.3% (five-seed mean 63.03, BENCHMARKS.md). ReLU in place of the sigmoid gives
#   about the same Q3 here: its advantages (no saturation, no vanishing gradient) matter in deep networks.
# * Q3 hides the rare class: read the confusion matrix and the per-class MCCs too.
#
# Next: what `sspred.train` does inside a network with a hidden layer, backpropagation written out by hand.
