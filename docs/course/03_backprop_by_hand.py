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
# # 3. Backpropagation by hand
#
# Notebook 2 called `sspred.train` and got a network. Here we open it. For a network with one hidden layer
# we derive every gradient on paper, read sspred's NumPy layers next to the equations, check the
# gradients against finite differences, work one SGD step through with actual numbers, and compare the
# three optimizers of the lecture (SGD, momentum, Adam) on the same run. Nothing here needs a framework:
# NumPy and the chain rule are enough. (Notebook 4 then lets PyTorch's autograd do the same and checks that
# the two agree.)

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: one BLAS thread is fastest (BENCHMARKS.md)

import inspect

import matplotlib.pyplot as plt
import numpy as np

import sspred
from sspred.engines.numpy import activations, gradcheck, layers, losses, optim
from sspred.engines.numpy.network import Network
from sspred.features import WindowIndex, one_hot

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 3.1 The forward pass, with shapes
#
# A minibatch of $B$ windows is a matrix $X \in \mathbb{R}^{B \times 273}$ (one row per residue), with
# labels $y_n \in \{0, 1, 2\}$ (indices into C, H, E). The 1988 network computes
#
# $$
# \begin{aligned}
# A &= X W_1 + \mathbf{1} b_1^\top & (B \times 273)(273 \times 40) &\to B \times 40 \\
# H &= \sigma(A) & & B \times 40 \\
# Z &= H W_2 + \mathbf{1} b_2^\top & (B \times 40)(40 \times 3) &\to B \times 3 \\
# P &= \mathrm{softmax}(Z) \text{ row by row} & & B \times 3 \\
# L &= -\frac{1}{B} \sum_{n=1}^{B} \log P_{n, y_n} & & \text{scalar}
# \end{aligned}
# $$
#
# with $\sigma(a) = 1 / (1 + e^{-a})$ applied element by element. Weight matrices are stored (in, out), so a
# layer is "rows times matrix", the same in sspred's two engines and its model file.
#
# ## 3.2 The gradient of softmax with cross-entropy
#
# Take one row and drop $n$. With $L = -\log p_y$ and $p_k = e^{z_k} / \sum_j e^{z_j}$,
#
# $$ L = -z_y + \log \sum_j e^{z_j}
#    \quad\Rightarrow\quad
#    \frac{\partial L}{\partial z_k} = -[k = y] + \frac{e^{z_k}}{\sum_j e^{z_j}} = p_k - [k = y]. $$
#
# So the gradient of the loss with respect to the logits is **the predicted distribution minus the one-hot
# target**, $p - y$: no division by a probability, no exponent that can overflow, and a clear meaning (push
# up the true class by how much it is missing, push down the others by how much they got). Averaging over
# the minibatch gives
#
# $$ \frac{\partial L}{\partial Z} = \frac{1}{B}\,(P - Y) \qquad (B \times 3), $$
#
# where $Y$ is the one-hot matrix of the labels. That is why softmax and cross-entropy are one layer in
# every framework: apart they would be numerically unsafe and twice the work.
#
# ## 3.3 The chain rule, backwards through the layers
#
# Write $\bar{M} = \partial L / \partial M$ for the gradient of the loss with respect to any matrix $M$ (same
# shape as $M$). Going backwards, each layer receives $\bar{\text{output}}$ and returns $\bar{\text{input}}$:
#
# $$
# \begin{aligned}
# \bar Z &= \tfrac{1}{B}(P - Y) & & B \times 3 \\
# \bar W_2 &= H^\top \bar Z & (40 \times B)(B \times 3) &\to 40 \times 3 \\
# \bar b_2 &= \textstyle\sum_n \bar Z_{n,:} & & 3 \\
# \bar H &= \bar Z\, W_2^\top & (B \times 3)(3 \times 40) &\to B \times 40 \\
# \bar A &= \bar H \odot H \odot (1 - H) & & B \times 40 \\
# \bar W_1 &= X^\top \bar A & (273 \times B)(B \times 40) &\to 273 \times 40 \\
# \bar b_1 &= \textstyle\sum_n \bar A_{n,:} & & 40
# \end{aligned}
# $$
#
# Three rules produce all of it:
# * **a linear layer** $Y = XW + b$: $\bar W = X^\top \bar Y$ (each weight collects input × output-gradient
#   over the batch), $\bar b = $ column sums of $\bar Y$, and $\bar X = \bar Y W^\top$ (the gradient flows
#   back through the transposed weights). A check that needs no calculus: the shapes only fit one way.
# * **an element-wise activation** $H = \sigma(A)$: $\bar A = \bar H \odot \sigma'(A)$, and for the sigmoid
#   $\sigma'(a) = \sigma(a)(1 - \sigma(a))$, so the backward pass needs only the *output* $H$ it saved.
# * **the loss**: $\bar Z = (P - Y)/B$.
#
# Each layer's forward pass saves what its backward pass needs ($X$ for a linear layer, $H$ for the sigmoid,
# $P$ and $Y$ for the loss). That is the whole of backpropagation (Rumelhart, Hinton & Williams 1986); the
# cost of the backward pass is about twice that of the forward pass, whatever the number of parameters.

# %% [markdown]
# ![The computation graph of the forward pass, with the gradient each backward step sends](figures/backprop_graph.svg)
#
# The same equations as a graph: the forward pass runs left to right, and the backward pass returns along
# the red arrows, each carrying $\bar M$ for the value $M$ it points to.

# %% [markdown]
# ## 3.4 The same equations in sspred's NumPy engine
#
# Each layer in `sspred.engines.numpy.layers` has `forward` and `backward` side by side; `forward` caches
# exactly what `backward` needs, and `backward` fills `self.grads` under the parameters' names. The
# activations (sigmoid, tanh, ReLU) are one layer class, `ActivationLayer`, over a table in
# `sspred.engines.numpy.activations` that pairs each function with its derivative. Read them against the
# equations above:

# %%
print(inspect.getsource(layers.Linear))
print(inspect.getsource(layers.ActivationLayer))
print(inspect.getsource(activations.sigmoid))
print(inspect.getsource(activations.ACTIVATIONS["sigmoid"].backward))

# %% [markdown]
# | equation | code |
# |---|---|
# | $Y = XW + b$ | `Linear.forward`: `x @ self.params["W"] + self.params["b"]`, saving `self.x` |
# | $\bar W = X^\top \bar Y$, $\bar b = \sum_n \bar Y_n$ | `Linear.backward`: `self.x.T @ dout`, `dout.sum(axis=0)` |
# | $\bar X = \bar Y W^\top$ | `Linear.backward` returns `dout @ self.params["W"].T` |
# | $H = \sigma(A)$ | `ActivationLayer.forward` with `activations.sigmoid`, saving `self.y` (split by sign so `exp` never overflows) |
# | $\bar A = \bar H \odot H (1 - H)$ | `ActivationLayer.backward`, the table's sigmoid entry: `dout * y * (1.0 - y)` |
#
# And the loss, with its fused gradient $(P - Y)/B$ (and label smoothing, notebook 6, which only changes
# the target $Y$):

# %%
print(inspect.getsource(activations.log_softmax))
print(inspect.getsource(losses.SoftmaxCrossEntropy))

# %% [markdown]
# `Network.backward` just calls each layer's `backward` in reverse order. So let us write the seven
# equations of 3.3 ourselves, as plain NumPy, on a real minibatch of the 1988 data, and compare with the
# engine's gradients.

# %%
train_chains = sspred.load_data("qs1988", "train")
train_idx = WindowIndex(train_chains, 13)
codes, y = train_idx.examples(rng.choice(len(train_idx), 32, replace=False))  # (32, 13) codes, (32,) labels
X = one_hot(codes, np.float64)  # (32, 273)

specs = sspred.ModelConfig(window=13, hidden=[40]).layers()  # linear 273->40, sigmoid, linear 40->3
print(specs)
net = Network(specs, dtype=np.float64, rng=np.random.default_rng(0))
loss = losses.SoftmaxCrossEntropy()
L = loss.forward(net.forward(X, train=True), y)
net.backward(loss.backward())

# The same by hand, from the equations of 3.3.
W1, b1 = net.params["layers.0.W"], net.params["layers.0.b"]
W2, b2 = net.params["layers.2.W"], net.params["layers.2.b"]
B = X.shape[0]
A = X @ W1 + b1  # (32, 273) @ (273, 40) -> (32, 40)
Hh = 1 / (1 + np.exp(-A))  # (32, 40)
Z = Hh @ W2 + b2  # (32, 40) @ (40, 3) -> (32, 3)
P = np.exp(Z - Z.max(axis=1, keepdims=True))
P /= P.sum(axis=1, keepdims=True)  # (32, 3)
Y = np.eye(3)[y]  # (32, 3) one-hot targets
L_hand = -np.log(P[np.arange(B), y]).mean()
dZ = (P - Y) / B  # (32, 3)
dW2, db2 = Hh.T @ dZ, dZ.sum(axis=0)  # (40, 32) @ (32, 3) -> (40, 3)
dH = dZ @ W2.T  # (32, 3) @ (3, 40) -> (32, 40)
dA = dH * Hh * (1 - Hh)  # (32, 40)
dW1, db1 = X.T @ dA, dA.sum(axis=0)  # (273, 32) @ (32, 40) -> (273, 40)

print(f"loss: engine {L:.12f}, by hand {L_hand:.12f}")
hand = {"layers.0.W": dW1, "layers.0.b": db1, "layers.2.W": dW2, "layers.2.b": db2}
for name, g in net.grads.items():
    print(f"{name:11s} {str(g.shape):10s} largest difference engine - hand: {np.abs(g - hand[name]).max():.1e}")

# %% [markdown]
# Equal to the last bits of float64. But both could be wrong in the same way; we need an **oracle** that
# does not share our derivation.

# %% [markdown]
# ## 3.5 Gradient check: finite differences
#
# For any parameter $\theta_i$, the central difference
#
# $$ \frac{\partial L}{\partial \theta_i} \approx \frac{L(\theta_i + h) - L(\theta_i - h)}{2h} $$
#
# has error of order $h^2$ (the $h$ terms of the two Taylor expansions cancel). With float64 and $h = 10^{-6}$
# the truncation error ($\sim h^2$) and the rounding error ($\sim 10^{-16}/h$) are both about $10^{-10}$ to
# $10^{-12}$ relative, so a correct backward pass agrees to about $10^{-7}$ or better, and a wrong one is off
# by order 1. It costs two forward passes per parameter, so we check a *tiny* network: window 5, 4 hidden
# units (439 parameters), on 8 real windows. `sspred.engines.numpy.gradcheck` holds the two helpers.

# %%
print(inspect.getsource(gradcheck.numeric_grad))

tiny_specs = sspred.ModelConfig(window=5, hidden=[4]).layers()
tiny = Network(tiny_specs, dtype=np.float64, rng=np.random.default_rng(1))
tiny_idx = WindowIndex(train_chains, 5)
codes5, y5 = tiny_idx.examples(rng.choice(len(tiny_idx), 8, replace=False))
X5 = one_hot(codes5, np.float64)  # (8, 105)


def tiny_loss() -> float:
    return losses.SoftmaxCrossEntropy().forward(tiny.forward(X5), y5)


check = losses.SoftmaxCrossEntropy()
check.forward(tiny.forward(X5, train=True), y5)
tiny.backward(check.backward())
worst = 0.0
for name, param in tiny.params.items():
    numeric = gradcheck.numeric_grad(tiny_loss, param)  # perturbs ``param`` in place, entry by entry
    err = gradcheck.relative_error(tiny.grads[name], numeric)
    worst = max(worst, err)
    print(f"{name:11s} {param.size:4d} entries  max relative error {err:.2e}")
print(f"largest relative error over all {sum(p.size for p in tiny.params.values())} parameters: {worst:.2e}")

# %% [markdown]
# All below $10^{-7}$: the hand-written backward pass is right. (This is the test sspred's suite runs for
# every layer type; `tests/test_numpy_engine.py`.)

# %% [markdown]
# **Exercise 3.1** Break the sigmoid's backward pass (say, forget the factor $(1 - H)$) in a copy of the
# tiny network and watch the gradient check catch it. Which parameters' errors change, and why not the
# others?

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# class BadSigmoid(layers.ActivationLayer):
#     def backward(self, dout):
#         return dout * self.y            # forgot (1 - y)
#
# bad = Network(tiny_specs, dtype=np.float64, rng=np.random.default_rng(1))
# bad.layers[1] = BadSigmoid({"type": "sigmoid"})
# f = lambda: losses.SoftmaxCrossEntropy().forward(bad.forward(X5), y5)
# c = losses.SoftmaxCrossEntropy(); c.forward(bad.forward(X5, train=True), y5); bad.backward(c.backward())
# for name, p in bad.params.items():
#     print(name, gradcheck.relative_error(bad.grads[name], gradcheck.numeric_grad(f, p)))
# ```
# `layers.2.W` and `layers.2.b` (after the sigmoid) stay at ~1e-10: their gradients never pass through
# the sigmoid's backward. `layers.0.W` and `layers.0.b` are off by order 1.
# </details>

# %% [markdown]
# ## 3.6 One SGD step, worked by hand
#
# Stochastic gradient descent moves every parameter a little against its gradient, $\theta \leftarrow
# \theta - \eta\,\partial L / \partial \theta$. Here is one step of a toy network small enough to follow
# with a pencil: 2 inputs, 2 sigmoid hidden units, 2 classes, one example $x = (1, 0.5)$ of class 0,
# step size $\eta = 0.5$, biases starting at zero, and
#
# $$ W_1 = \begin{pmatrix} 0.1 & -0.2 \\ 0.3 & 0.4 \end{pmatrix}, \qquad
#    W_2 = \begin{pmatrix} 0.5 & -0.5 \\ -0.3 & 0.2 \end{pmatrix}. $$
#
# **Forward.** $a = x W_1 = (1 \cdot 0.1 + 0.5 \cdot 0.3,\; 1 \cdot (-0.2) + 0.5 \cdot 0.4) = (0.25, 0)$;
# $h = \sigma(a) = (0.5622, 0.5)$; $z = h W_2 = (0.5622 \cdot 0.5 - 0.5 \cdot 0.3,\; -0.5622 \cdot 0.5 +
# 0.5 \cdot 0.2) = (0.1311, -0.1811)$; $p = \mathrm{softmax}(z) = (0.5774, 0.4226)$; $L = -\log 0.5774 =
# 0.5492$.
#
# **Backward.** $\bar z = p - y = (-0.4226, 0.4226)$.
# $\bar W_2 = h^\top \bar z = \begin{pmatrix} -0.2376 & 0.2376 \\ -0.2113 & 0.2113 \end{pmatrix}$,
# $\bar b_2 = \bar z$.
# $\bar h = \bar z W_2^\top = (-0.4226 \cdot 0.5 + 0.4226 \cdot (-0.5),\; -0.4226 \cdot (-0.3) + 0.4226 \cdot
# 0.2) = (-0.4226, 0.2113)$.
# $\bar a = \bar h \odot h (1 - h) = (-0.4226 \cdot 0.2461,\; 0.2113 \cdot 0.25) = (-0.1040, 0.0528)$.
# $\bar W_1 = x^\top \bar a = \begin{pmatrix} -0.1040 & 0.0528 \\ -0.0520 & 0.0264 \end{pmatrix}$,
# $\bar b_1 = \bar a$.
#
# **Update** ($\theta - 0.5\,\bar\theta$):
# $W_1 \to \begin{pmatrix} 0.1520 & -0.2264 \\ 0.3260 & 0.3868 \end{pmatrix}$,
# $W_2 \to \begin{pmatrix} 0.6188 & -0.6188 \\ -0.1944 & 0.0944 \end{pmatrix}$,
# $b_1 \to (0.0520, -0.0264)$, $b_2 \to (0.2113, -0.2113)$.
# The loss on this example falls from 0.5492 to 0.3096.
#
# Now the engine does the same step: the network built from a layer list, the loss, the backward pass, and
# `optim.SGD`.

# %%
toy_specs = [{"type": "linear", "in": 2, "out": 2}, {"type": "sigmoid"}, {"type": "linear", "in": 2, "out": 2}]
toy = Network(toy_specs, dtype=np.float64)
toy.load_params({"layers.0.W": np.array([[0.1, -0.2], [0.3, 0.4]]), "layers.0.b": np.zeros(2),
                 "layers.2.W": np.array([[0.5, -0.5], [-0.3, 0.2]]), "layers.2.b": np.zeros(2)})
x_toy, y_toy = np.array([[1.0, 0.5]]), np.array([0])
toy_loss = losses.SoftmaxCrossEntropy()
before = toy_loss.forward(toy.forward(x_toy, train=True), y_toy)
toy.backward(toy_loss.backward())
print("gradients:", {k: v.round(4).tolist() for k, v in toy.grads.items()})
optim.SGD(toy.params, lr=0.5, momentum=0.0).step(toy.params, toy.grads)
after = toy_loss.forward(toy.forward(x_toy), y_toy)
print("after one step:", {k: v.round(4).tolist() for k, v in toy.params.items()})
print(f"loss {before:.4f} -> {after:.4f}")

by_hand = {"layers.0.W": [[0.1520, -0.2264], [0.3260, 0.3868]], "layers.0.b": [0.0520, -0.0264],
           "layers.2.W": [[0.6188, -0.6188], [-0.1944, 0.0944]], "layers.2.b": [0.2113, -0.2113]}
for name, value in by_hand.items():
    assert np.allclose(toy.params[name], value, atol=5e-5), name
assert np.isclose(before, 0.5492, atol=5e-5) and np.isclose(after, 0.3096, atol=5e-5)
print("the engine's step equals the hand-worked one to the 4 decimals written above")

# %% [markdown]
# ## 3.7 SGD, momentum and Adam
#
# A minibatch gradient $g_t$ is a noisy estimate of the full gradient; the optimizers differ in what they do
# with the sequence $g_1, g_2, \ldots$ (sspred's rules, `sspred.engines.numpy.optim`):
#
# * **SGD**: $\theta \leftarrow \theta - \eta\, g_t$.
# * **SGD with momentum** (Polyak 1964; the 1988 paper used it): a velocity accumulates past gradients,
#   $v \leftarrow \mu v - \eta g_t$, $\theta \leftarrow \theta + v$. In a direction where the gradient keeps
#   its sign, steps grow to $\eta/(1-\mu)$ (10 times for $\mu = 0.9$); where it flips, they cancel.
# * **Adam** (Kingma & Ba 2015): running means of the gradient and of its square,
#   $m \leftarrow \beta_1 m + (1-\beta_1) g_t$, $v \leftarrow \beta_2 v + (1-\beta_2) g_t^2$, bias-corrected
#   ($\hat m = m / (1 - \beta_1^t)$, $\hat v = v / (1 - \beta_2^t)$, because both start at 0), and
#   $\theta \leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon)$. Each parameter gets its own step
#   size, about $\eta$ whatever the scale of its gradient: a rarely active input weight (a rare amino acid
#   at the window's edge) moves as fast as a common one.

# %%
print(inspect.getsource(optim.SGD.step))
print(inspect.getsource(optim.Adam.step))

# %% [markdown]
# We train the 1988 network three times on the 1988 training proteins, from **the same initial weights**
# (seed 0) and with **the same minibatches** (each epoch's shuffle seeded by the epoch), changing only the
# optimizer: SGD with $\eta = 0.05$, the same with momentum $\mu = 0.9$ (the setting BENCHMARKS.md uses for
# its SGD reproduction), and Adam with $\eta = 10^{-3}$. This is the loop `sspred.train` runs, written out:
# forward, loss, backward, step.

# %%
valid_idx = WindowIndex(sspred.load_data("qs1988", "valid"), 13)
X_valid = one_hot(valid_idx.batch(np.arange(len(valid_idx))))  # (1608, 273)
OPTIMIZERS = {
    "SGD, lr 0.05": lambda p: optim.SGD(p, lr=0.05, momentum=0.0),
    "SGD + momentum 0.9, lr 0.05": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "Adam, lr 1e-3": lambda p: optim.Adam(p, lr=1e-3),
}
EPOCHS, BATCH = 10, 64
runs = {}
for label, make in OPTIMIZERS.items():
    model = Network(specs, rng=np.random.default_rng(0))  # the same initial weights for every optimizer
    opt, ce = make(model.params), losses.SoftmaxCrossEntropy()
    steps, valid = [], []
    for epoch in range(EPOCHS):
        order = np.random.default_rng([0, epoch]).permutation(len(train_idx))  # the same batches for all
        for start in range(0, len(order), BATCH):
            batch_codes, batch_y = train_idx.examples(order[start:start + BATCH])
            steps.append(ce.forward(model.forward(one_hot(batch_codes), train=True), batch_y))
            model.backward(ce.backward())
            opt.step(model.params, model.grads)
        valid.append(ce.forward(model.forward(X_valid), valid_idx.labels))
    runs[label] = (np.array(steps), np.array(valid))
    print(f"{label:28s} final validation loss {valid[-1]:.4f}")

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
per_epoch = len(next(iter(runs.values()))[0]) // EPOCHS
for label, (steps, valid) in runs.items():
    smooth = np.convolve(steps, np.ones(25) / 25, mode="valid")  # running mean over 25 minibatches
    a1.plot(np.arange(smooth.size) / per_epoch, smooth, label=label)
    a2.plot(range(1, EPOCHS + 1), valid, "o-", label=label)
a1.set_xlabel("epoch")
a1.set_ylabel("training loss (running mean of 25 minibatches)")
a2.set_xlabel("epoch")
a2.set_ylabel("validation loss")
a1.legend()
a2.legend()
plt.suptitle("Same network, same initial weights, same minibatches: three optimizers")
plt.tight_layout()
plt.show()

# %% [markdown]
# Plain SGD at this step size crawls: the sigmoid network starts on a plateau where the gradients are
# small, and after 10 epochs its loss is still well above the others. Momentum multiplies the effective step
# by ten and gets there within two or three epochs, but noisily (its validation loss jumps from epoch to
# epoch). Adam gets there as fast and smoothly. None is "best" in general: a larger SGD step would catch
# up, and a well-tuned SGD with momentum often generalises as well as Adam; Adam is the default because it
# needs the least tuning.

# %% [markdown]
# **Exercise 3.2** Why does sspred compute `log_softmax` as `shifted - log(sum(exp(shifted)))` with
# `shifted = logits - max`? Try the naive `np.log(np.exp(z) / np.exp(z).sum())` on `z = [1000, 0, -1000]`.

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# z = np.array([[1000.0, 0.0, -1000.0]])
# with np.errstate(all="ignore"):
#     print(np.log(np.exp(z) / np.exp(z).sum()))   # [nan -inf -inf]: exp(1000) overflows to inf
# print(activations.log_softmax(z))                # [0, -1000, -2000], exact
# ```
# Subtracting the row's maximum changes nothing mathematically (the softmax is invariant to a constant
# shift) but makes the largest exponent $e^0 = 1$, so nothing overflows, and the log of the sum is at least 0.
# </details>

# %% [markdown]
# **Exercise 3.3** Do two steps of SGD with momentum $\mu = 0.9$ on the toy network of 3.6 by hand (in
# NumPy, from the gradients), and check them against `optim.SGD(..., momentum=0.9)`.

# %% [markdown]
# <details><summary>Solution</summary>
#
# ```python
# def toy_net():
#     n = Network(toy_specs, dtype=np.float64)
#     n.load_params({"layers.0.W": np.array([[0.1, -0.2], [0.3, 0.4]]), "layers.0.b": np.zeros(2),
#                    "layers.2.W": np.array([[0.5, -0.5], [-0.3, 0.2]]), "layers.2.b": np.zeros(2)})
#     return n
#
# def grads(n):
#     ce = losses.SoftmaxCrossEntropy()
#     ce.forward(n.forward(x_toy, train=True), y_toy)
#     n.backward(ce.backward())
#     return {k: g.copy() for k, g in n.grads.items()}
#
# engine, hand = toy_net(), toy_net()
# sgd = optim.SGD(engine.params, lr=0.5, momentum=0.9)
# velocity = {k: np.zeros_like(p) for k, p in hand.params.items()}
# for step in range(2):
#     sgd.step(engine.params, grads(engine))
#     g = grads(hand)
#     for k, p in hand.params.items():
#         velocity[k] = 0.9 * velocity[k] - 0.5 * g[k]
#         p += velocity[k]
# for k in hand.params:
#     assert np.allclose(engine.params[k], hand.params[k])
# ```
# The second step is the first step's velocity times 0.9 plus the new gradient step.
# </details>

# %% [markdown]
# ## Summary
#
# * The gradient of softmax cross-entropy with respect to the logits is $(P - Y)/B$.
# * A linear layer's backward pass is $\bar W = X^\top \bar Y$, $\bar b = \sum_n \bar Y_n$, $\bar X = \bar Y
#   W^\top$; an activation's is an element-wise product with its derivative. The shapes check the algebra.
# * sspred's NumPy layers are these equations, with forward and backward side by side; finite differences
#   confirm them to about $10^{-8}$.
# * One SGD step by hand equals the engine's. With the same start and the same batches, Adam and momentum
#   leave plain SGD's plateau within a few epochs; Adam most smoothly.
#
# Next: the same network in PyTorch, where autograd writes the backward pass, and a check that the two
# engines agree.
