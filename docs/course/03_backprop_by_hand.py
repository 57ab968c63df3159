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
# Notebook 2 wrote softmax regression's trainer by hand and then called `sspred.train`. Here we open the
# library for a network with a hidden layer. We derive every gradient on paper, write each piece
# ourselves (the layers, the loss, the gradient check, the optimizers) and check each against sspred's
# NumPy engine, work one SGD step through with actual numbers, and compare the three optimizers of the
# lecture (SGD, momentum, Adam) on the same run. Nothing here needs a framework:
# NumPy and the chain rule are enough. (Notebook 4 then lets PyTorch's autograd do the same and checks that
# the two agree.)

# %%
import os
import sys

# Small matrices: one BLAS thread is fastest (BENCHMARKS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

import numpy as np

import sspred
# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import ch3_optimizers
from sspred.engines.numpy import (activations, gradcheck, layers, losses,
                                  optim)
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
# shape as $M$; the lecture writes $dM$, and so does the code below, `dW1`, `dZ`; see the notation table
# in the [course index](index.md)). Because $L$ is the *mean* over the batch, $\bar Z$ carries a factor
# $1/B$; the lecture sums over the batch, drops the $1/B$, and so needs a step size $B$ times smaller for
# the same SGD run. Going backwards, each layer receives $\bar{\text{output}}$ and returns $\bar{\text{input}}$:
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
# ## 3.4 Writing the layers, and checking them against sspred's
#
# Each layer in `sspred.engines.numpy.layers` has `forward` and `backward` side by side; `forward` caches
# exactly what `backward` needs, and `backward` fills `self.grads` under the parameters' names. The
# activations (sigmoid, tanh, ReLU) are one layer class, `ActivationLayer`, over a table in
# `sspred.engines.numpy.activations` that pairs each function with its derivative. Rather than read that
# code, write it from the equations of 3.3, then check yours against it on a real minibatch of the 1988
# data.

# %%
train_chains = sspred.load_data("qs1988", "train")
train_idx = WindowIndex(train_chains, 13)
rows = rng.choice(len(train_idx), 32, replace=False)
codes, y = train_idx.examples(rows)  # (32, 13) codes, (32,) labels
X = one_hot(codes, np.float64)  # (32, 273)

# linear 273->40, sigmoid, linear 40->3
specs = sspred.ModelConfig(window=13, hidden=[40]).layers()
for spec in specs:
    print(spec)
net = Network(specs, dtype=np.float64, rng=np.random.default_rng(0))
W1, b1 = net.params["layers.0.W"], net.params["layers.0.b"]
W2, b2 = net.params["layers.2.W"], net.params["layers.2.b"]
B = X.shape[0]

# %% [markdown]
# ### Exercise 3.1 — a linear layer and a sigmoid, forward and backward
# Write the four functions. `linear_backward` returns $(\bar X, \bar W, \bar b)$ from the layer's input
# $X$, its weights $W$ and the gradient $\bar Y$ of its output; `sigmoid_backward` takes the sigmoid's
# *output* $H$ (what the forward pass saves) and $\bar H$. For the sigmoid's forward pass, avoid
# overflowing `exp` for large negative inputs (`np.exp(-a)` overflows for $a < -710$).

# %%
def linear_forward(X, W, b):
    ...  # your code here


def linear_backward(X, W, dY):
    ...  # your code here


def sigmoid_forward(a):
    ...  # your code here


def sigmoid_backward(H, dH):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def linear_forward(X, W, b):
    return X @ W + b  # (B, in) @ (in, out) -> (B, out)


def linear_backward(X, W, dY):
    # (B, out) @ (out, in) -> (B, in); (in, B) @ (B, out) -> (in, out)
    return dY @ W.T, X.T @ dY, dY.sum(axis=0)


def sigmoid_forward(a):
    # exp of a non-positive number only: 1/(1+e^-a) for a >= 0,
    # e^a/(1+e^a) for a < 0, the same function
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(H, dH):
    return dH * H * (1 - H)


# %%
# Check: against sspred's Linear layer and the sigmoid of its table.
lin = net.layers[0]  # sspred's layers.Linear, holding W1 and b1
sig = activations.ACTIVATIONS["sigmoid"]
A = linear_forward(X, W1, b1)
assert A is not None, "write linear_forward first"
assert np.allclose(A, lin.forward(X))
dA = rng.standard_normal(A.shape)  # any upstream gradient will do
dX, dW, db = linear_backward(X, W1, dA)
assert np.allclose(dX, lin.backward(dA))
assert np.allclose(dW, lin.grads["W"]) and np.allclose(db, lin.grads["b"])
a = np.array([-1000.0, -5.0, 0.0, 5.0, 1000.0])
with np.errstate(over="raise"):  # an overflow fails the check
    assert np.allclose(sigmoid_forward(a), sig.forward(a))
Hs = sigmoid_forward(A)
assert np.allclose(sigmoid_backward(Hs, dA), sig.backward(Hs, dA))
print("linear and sigmoid: equal to sspred's, forward and backward")

# %% [markdown]
# ### Exercise 3.2 — softmax and cross-entropy as one layer
# Write `softmax_ce(Z, y)`, returning the mean loss $L = -\frac1B \sum_n \log P_{n,y_n}$ and its gradient
# $\bar Z = (P - Y)/B$ (3.2). Compute $\log P$ as `Z - max - log(sum(exp(Z - max)))` (Exercise 3.7 shows
# why). The check compares with `losses.SoftmaxCrossEntropy`, whose `forward` returns the loss and whose
# `backward` returns $\bar Z$.

# %%
def softmax_ce(Z, y):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def softmax_ce(Z, y):
    shifted = Z - Z.max(axis=1, keepdims=True)
    logP = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = np.arange(len(y))
    dZ = np.exp(logP)  # P, then (P - Y) / B
    dZ[n, y] -= 1
    return -logP[n, y].mean(), dZ / len(y)


# %%
# Check.
Z = rng.standard_normal((B, 3)) * 3
out = softmax_ce(Z, y)
assert out is not None, "write softmax_ce first"
ce = losses.SoftmaxCrossEntropy()
assert np.isclose(out[0], ce.forward(Z, y))
assert np.allclose(out[1], ce.backward())
print("softmax cross-entropy: equal to sspred's, loss and gradient")

# %% [markdown]
# With the pieces written, the whole backward pass of the 1988 network is the seven equations of 3.3 in
# order. `Network.backward` does the same: it calls each layer's `backward` in reverse order. Compare the
# two on the real minibatch:

# %%
loss = losses.SoftmaxCrossEntropy()
L = loss.forward(net.forward(X, train=True), y)
net.backward(loss.backward())

# The same with our functions, from the equations of 3.3.
A = linear_forward(X, W1, b1)  # (32, 273) @ (273, 40) -> (32, 40)
Hh = sigmoid_forward(A)  # (32, 40)
Z = linear_forward(Hh, W2, b2)  # (32, 40) @ (40, 3) -> (32, 3)
L_hand, dZ = softmax_ce(Z, y)  # dZ = (P - Y) / B, (32, 3)
dH, dW2, db2 = linear_backward(Hh, W2, dZ)  # (32, 40), (40, 3), (3,)
dA = sigmoid_backward(Hh, dH)  # (32, 40)
_, dW1, db1 = linear_backward(X, W1, dA)  # (273, 40), (40,)

print(f"loss: engine {L:.12f}, by hand {L_hand:.12f}")
hand = {"layers.0.W": dW1, "layers.0.b": db1,
        "layers.2.W": dW2, "layers.2.b": db2}
for name, g in net.grads.items():
    diff = np.abs(g - hand[name]).max()
    print(f"{name:11s} {str(g.shape):9s} largest |engine-hand| {diff:.1e}")
    assert np.allclose(g, hand[name])

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
# units (439 parameters), on 8 real windows.
#
# ### Exercise 3.3 — the numeric gradient
# Write `numeric_grad(f, param, h=1e-6)`: the central-difference gradient of the scalar function `f()`
# with respect to every entry of the array `param`, which you perturb *in place*, one entry at a time,
# and restore. The check compares it with sspred's `gradcheck.numeric_grad` on the tiny network.

# %%
def numeric_grad(f, param, h=1e-6):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def numeric_grad(f, param, h=1e-6):
    grad = np.zeros(param.shape)
    # views of the same data: writing flat[i] writes param
    flat, gflat = param.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * h)
    return grad


# %%
# Check.
tiny_specs = sspred.ModelConfig(window=5, hidden=[4]).layers()
tiny = Network(tiny_specs, dtype=np.float64, rng=np.random.default_rng(1))
tiny_idx = WindowIndex(train_chains, 5)
codes5, y5 = tiny_idx.examples(rng.choice(len(tiny_idx), 8, replace=False))
X5 = one_hot(codes5, np.float64)  # (8, 105)


def tiny_loss() -> float:
    return losses.SoftmaxCrossEntropy().forward(tiny.forward(X5), y5)


mine = numeric_grad(tiny_loss, tiny.params["layers.2.W"])
assert mine is not None, "write numeric_grad first"
theirs = gradcheck.numeric_grad(tiny_loss, tiny.params["layers.2.W"])
assert np.allclose(mine, theirs, rtol=1e-6, atol=1e-10)
print("numeric_grad: equal to sspred's gradcheck.numeric_grad")

# %% [markdown]
# Now the check itself: the backward pass against our numeric gradient, for every parameter of the tiny
# network.

# %%
check = losses.SoftmaxCrossEntropy()
check.forward(tiny.forward(X5, train=True), y5)
tiny.backward(check.backward())
worst = 0.0
for name, param in tiny.params.items():
    numeric = numeric_grad(tiny_loss, param)  # perturbs ``param`` in place
    err = gradcheck.relative_error(tiny.grads[name], numeric)
    worst = max(worst, err)
    print(f"{name:11s} {param.size:4d} entries,"
          f" largest relative error {err:.2e}")
n_tiny = sum(p.size for p in tiny.params.values())
print(f"largest relative error over all {n_tiny} parameters: {worst:.2e}")
assert worst < 1e-6

# %% [markdown]
# All below $10^{-7}$: the hand-written backward pass is right. (This is the test sspred's suite runs for
# every layer type; `tests/test_numpy_engine.py`.)
#
# ### Exercise 3.4 — break the backward pass and watch the check catch it
# Write `BadSigmoid`, an `ActivationLayer` whose `backward` forgets the factor $(1 - H)$ (the forward
# output is saved as `self.y`). The check puts it into a copy of the tiny network and gradient-checks
# every parameter. Which parameters' errors change, and why not the others?

# %%
class BadSigmoid(layers.ActivationLayer):
    def backward(self, dout):
        ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
class BadSigmoid(layers.ActivationLayer):
    def backward(self, dout):
        return dout * self.y  # forgot (1 - y)


# %%
# Check.
bad = Network(tiny_specs, dtype=np.float64, rng=np.random.default_rng(1))
bad.layers[1] = BadSigmoid({"type": "sigmoid"})


def bad_loss() -> float:
    return losses.SoftmaxCrossEntropy().forward(bad.forward(X5), y5)


c = losses.SoftmaxCrossEntropy()
c.forward(bad.forward(X5, train=True), y5)
bad.backward(c.backward())
errors = {name: gradcheck.relative_error(bad.grads[name],
                                         numeric_grad(bad_loss, p))
          for name, p in bad.params.items()}
for name, err in errors.items():
    print(f"{name:11s} largest relative error {err:.1e}")
assert errors["layers.2.W"] < 1e-6 and errors["layers.2.b"] < 1e-6
assert errors["layers.0.W"] > 0.1 and errors["layers.0.b"] > 0.1

# %% [markdown]
# `layers.2.W` and `layers.2.b` (after the sigmoid) stay at rounding level: their gradients never pass
# through the sigmoid's backward. `layers.0.W` and `layers.0.b` are off by order 1.

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
toy_specs = [{"type": "linear", "in": 2, "out": 2}, {"type": "sigmoid"},
             {"type": "linear", "in": 2, "out": 2}]
TOY_START = {"layers.0.W": np.array([[0.1, -0.2], [0.3, 0.4]]),
             "layers.0.b": np.zeros(2),
             "layers.2.W": np.array([[0.5, -0.5], [-0.3, 0.2]]),
             "layers.2.b": np.zeros(2)}


def toy_net():
    n = Network(toy_specs, dtype=np.float64)
    n.load_params({k: v.copy() for k, v in TOY_START.items()})
    return n


toy = toy_net()
x_toy, y_toy = np.array([[1.0, 0.5]]), np.array([0])
toy_loss = losses.SoftmaxCrossEntropy()
before = toy_loss.forward(toy.forward(x_toy, train=True), y_toy)
toy.backward(toy_loss.backward())
print("gradients:")
for k, v in toy.grads.items():
    print(f"  {k:11s}", v.round(4).tolist())
optim.SGD(toy.params, lr=0.5, momentum=0.0).step(toy.params, toy.grads)
after = toy_loss.forward(toy.forward(x_toy), y_toy)
print("after one step:")
for k, v in toy.params.items():
    print(f"  {k:11s}", v.round(4).tolist())
print(f"loss {before:.4f} -> {after:.4f}")

by_hand = {"layers.0.W": [[0.1520, -0.2264], [0.3260, 0.3868]],
           "layers.0.b": [0.0520, -0.0264],
           "layers.2.W": [[0.6188, -0.6188], [-0.1944, 0.0944]],
           "layers.2.b": [0.2113, -0.2113]}
for name, value in by_hand.items():
    assert np.allclose(toy.params[name], value, atol=5e-5), name
assert np.isclose(before, 0.5492, atol=5e-5)
assert np.isclose(after, 0.3096, atol=5e-5)
print("the engine's step equals the hand-worked one to 4 decimals")

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
#   at the window's edge) moves as fast as a common one. The lecture puts $\epsilon$ inside the root,
#   $\hat m / \sqrt{\hat v + \epsilon}$; both only keep a never-moving weight from dividing by zero, and
#   Exercise 3.6 measures how little the choice changes.
#
# ### Exercise 3.5 — two steps of momentum by hand
# Write `momentum_steps(params, grad_of, lr, mu, n)`: `n` steps of SGD with momentum on the dict of
# arrays `params` (updated in place), where `grad_of()` returns the current gradients as a dict. The check
# runs it on the toy network of 3.6 against `optim.SGD(..., momentum=0.9)`.

# %%
def momentum_steps(params, grad_of, lr, mu, n):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def momentum_steps(params, grad_of, lr, mu, n):
    velocity = {k: np.zeros_like(p) for k, p in params.items()}
    for _ in range(n):
        g = grad_of()
        for k, p in params.items():
            velocity[k] = mu * velocity[k] - lr * g[k]
            p += velocity[k]


# %%
# Check.
def grads_of(n):
    def grad_of():
        ce = losses.SoftmaxCrossEntropy()
        ce.forward(n.forward(x_toy, train=True), y_toy)
        n.backward(ce.backward())
        return {k: g.copy() for k, g in n.grads.items()}
    return grad_of


engine, hand = toy_net(), toy_net()
sgd = optim.SGD(engine.params, lr=0.5, momentum=0.9)
for _ in range(2):
    sgd.step(engine.params, grads_of(engine)())
momentum_steps(hand.params, grads_of(hand), lr=0.5, mu=0.9, n=2)
for k in hand.params:
    assert np.allclose(engine.params[k], hand.params[k]), k
    assert not np.allclose(hand.params[k], TOY_START[k]), "no step taken"
print("two momentum steps: equal to optim.SGD")

# %% [markdown]
# The second step is the first step's velocity times 0.9 plus the new gradient step.
#
# ### Exercise 3.6 — Adam
# Write `adam_step(p, g, m, v, t, lr, eps_inside=False)`: one Adam update of the array `p` with gradient
# `g` at step `t` (counted from 1), updating `p`, `m` and `v` in place, with $\beta_1 = 0.9$,
# $\beta_2 = 0.999$ and $\epsilon = 10^{-8}$, outside the root as in sspred or, with `eps_inside=True`,
# inside it as in the lecture. The check runs 20 steps against `optim.Adam` on the toy network, then
# compares the two placements of $\epsilon$.

# %%
def adam_step(p, g, m, v, t, lr, eps_inside=False):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def adam_step(p, g, m, v, t, lr, eps_inside=False):
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    p -= lr * m_hat / denom


# %%
# Check.
def run_adam(eps_inside, steps=20):
    n = toy_net()
    m = {k: np.zeros_like(p) for k, p in n.params.items()}
    v = {k: np.zeros_like(p) for k, p in n.params.items()}
    for t in range(1, steps + 1):
        g = grads_of(n)()
        for k, p in n.params.items():
            adam_step(p, g[k], m[k], v[k], t, 0.01, eps_inside)
    return n.params


engine = toy_net()
adam = optim.Adam(engine.params, lr=0.01)
for _ in range(20):
    adam.step(engine.params, grads_of(engine)())
outside, inside = run_adam(False), run_adam(True)
for k in engine.params:
    assert np.allclose(outside[k], engine.params[k]), k
    assert not np.allclose(outside[k], TOY_START[k]), "no step taken"
gap = max(np.abs(outside[k] - inside[k]).max() for k in outside)
move = max(np.abs(outside[k] - TOY_START[k]).max() for k in outside)
print("20 Adam steps equal optim.Adam")
print(f"epsilon inside or outside the root: parameters differ by"
      f" {gap:.1e}\nafter moving up to {move:.2f}")
assert gap < 1e-3 * move

# %% [markdown]
# With gradients of order $10^{-1}$, $\sqrt{\hat v}$ is far above both $\epsilon = 10^{-8}$ and
# $\sqrt{\epsilon} = 10^{-4}$, and after 20 steps that moved the weights by up to 0.19 the two
# placements differ by about $2 \times 10^{-6}$. They part only
# for a weight whose gradient has been below about $10^{-4}$ for a long time, where $\epsilon$ inside the
# root caps its step at $\eta\,\hat m / 10^{-4}$ instead of $\eta\,\hat m / 10^{-8}$.
#
# We now train the 1988 network three times on the 1988 training proteins, from **the same initial
# weights** (seed 0) and with **the same minibatches** (each epoch's shuffle seeded by the epoch),
# changing only the optimizer: SGD with $\eta = 0.05$, the same with momentum $\mu = 0.9$ (the setting
# BENCHMARKS.md uses for its SGD reproduction), and Adam with $\eta = 10^{-3}$. This is the loop
# `sspred.train` runs, written out: forward, loss, backward, step.

# %%
valid_idx = WindowIndex(sspred.load_data("qs1988", "valid"), 13)
# (1608, 13) -> (1608, 273)
X_valid = one_hot(valid_idx.batch(np.arange(len(valid_idx))))
OPTIMIZERS = {
    "SGD, lr 0.05": lambda p: optim.SGD(p, lr=0.05, momentum=0.0),
    "SGD + momentum 0.9, lr 0.05":
        lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "Adam, lr 1e-3": lambda p: optim.Adam(p, lr=1e-3),
}
EPOCHS, BATCH = 10, 64
runs = {}
for label, make in OPTIMIZERS.items():
    # the same initial weights for every optimizer
    model = Network(specs, rng=np.random.default_rng(0))
    opt, ce = make(model.params), losses.SoftmaxCrossEntropy()
    steps, valid = [], []
    for epoch in range(EPOCHS):
        # the same batches for every optimizer
        shuffle = np.random.default_rng([0, epoch])
        order = shuffle.permutation(len(train_idx))
        for start in range(0, len(order), BATCH):
            bc, by = train_idx.examples(order[start:start + BATCH])
            logits = model.forward(one_hot(bc), train=True)
            steps.append(ce.forward(logits, by))
            model.backward(ce.backward())
            opt.step(model.params, model.grads)
        valid.append(ce.forward(model.forward(X_valid), valid_idx.labels))
    runs[label] = (np.array(steps), np.array(valid))
    print(f"{label:28s} final validation loss {valid[-1]:.4f}")

# %%
ch3_optimizers(runs, EPOCHS)

# %% [markdown]
# Plain SGD at this step size crawls: the sigmoid network starts on a plateau where the gradients are
# small, and after 10 epochs its loss is still well above the others. Momentum multiplies the effective step
# by ten and gets there within two or three epochs, but noisily (its validation loss jumps from epoch to
# epoch). Adam gets there as fast and smoothly. None is "best" in general: a larger SGD step would catch
# up, and a well-tuned SGD with momentum often generalises as well as Adam; Adam is the default because it
# needs the least tuning.

# %% [markdown]
# ### Exercise 3.7 — a log-softmax that cannot overflow
# Write `log_softmax(z)` for rows of logits, stable for logits of any size, and see why the naive
# `np.log(np.exp(z) / np.exp(z).sum())` is not: try it on `z = [1000, 0, -1000]`. The check compares
# with sspred's `activations.log_softmax`.

# %%
def log_softmax(z):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# %%
# Check.
z = np.array([[1000.0, 0.0, -1000.0]])
with np.errstate(all="ignore"):
    print("naive:", np.log(np.exp(z) / np.exp(z).sum()))  # exp(1000) = inf
assert log_softmax(z) is not None, "write log_softmax first"
print("stable:", log_softmax(z))
assert np.allclose(log_softmax(z), [[0.0, -1000.0, -2000.0]])
Zr = rng.standard_normal((5, 3)) * 50
assert np.allclose(log_softmax(Zr), activations.log_softmax(Zr))

# %% [markdown]
# Subtracting the row's maximum changes nothing mathematically (the softmax is invariant to a constant
# shift) but makes the largest exponent $e^0 = 1$, so nothing overflows, and the log of the sum is at
# least 0.

# %% [markdown]
# ## Summary
#
# * The gradient of softmax cross-entropy with respect to the logits is $(P - Y)/B$ (the lecture's sum
#   over the batch drops the $1/B$).
# * A linear layer's backward pass is $\bar W = X^\top \bar Y$, $\bar b = \sum_n \bar Y_n$, $\bar X = \bar Y
#   W^\top$; an activation's is an element-wise product with its derivative. The shapes check the algebra.
# * Written by hand, the layers, the loss, the numeric gradient, momentum and Adam each equal sspred's
#   NumPy engine; finite differences confirm the backward pass to about $10^{-8}$, and catch a missing
#   factor at once.
# * One SGD step by hand equals the engine's. With the same start and the same batches, Adam and momentum
#   leave plain SGD's plateau within a few epochs; Adam most smoothly. Where $\epsilon$ sits in Adam
#   hardly matters.
#
# Next: the same network in PyTorch, where autograd writes the backward pass, and a check that the two
# engines agree.
