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
# # 4. PyTorch is all you need
#
# In notebook 3 we wrote every backward pass by hand. That is the way to understand backpropagation, and a
# poor way to do research: every new layer needs a new derivation and a new gradient check. PyTorch's
# **autograd** records the operations of the forward pass and applies the chain rule backwards through
# them by itself; we write only the forward pass.
#
# We rebuild the 1988 network in PyTorch, feed it through a `torch.utils.data.DataLoader`, check that it
# gives **the same loss and the same gradients** as sspred's NumPy engine when given the same weights, train
# it, and finally let `sspred.train` do the same with `engine="torch"`.

# %%
import os
import sys

# Small matrices: one BLAS thread is fastest (BENCHMARKS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

import sspred
# The figures' code sits beside the notebooks, in
# docs/course/course_plots.py; found from wherever the notebook runs.
sys.path.append(str(Path(sspred.__file__).parents[2] / "docs" / "course"))
from course_plots import ch4_curve, ch4_engines
from sspred.alphabet import ENCODING, N_UNITS
from sspred.engines.numpy import losses
from sspred.engines.numpy.network import Network
from sspred.features import WindowIndex, one_hot

# Window networks are small; on a shared 2-core machine one thread was
# 25x faster than one per core (BENCHMARKS.md, "The two engines on the
# 1988 setup").
torch.set_num_threads(1)
torch.manual_seed(0)
rng = np.random.default_rng(0)
print("torch", torch.__version__)

# %% [markdown]
# ## 4.1 Autograd in one cell
#
# A tensor created with `requires_grad=True` remembers every operation applied to it; `backward()` walks
# that graph from the output back, multiplying local derivatives exactly as we did by hand. For
# $h = \sigma(x \cdot w)$ we know $\partial h / \partial w = \sigma'(x\cdot w)\, x = h(1-h)\,x$:

# %%
x = torch.tensor([1.0, 0.5], dtype=torch.float64)
w = torch.tensor([0.1, 0.3], dtype=torch.float64, requires_grad=True)
h = torch.sigmoid(x @ w)
h.backward()
print("autograd:", w.grad.numpy(),
      "  by hand:", (h * (1 - h) * x).detach().numpy())
print("the recorded graph:", h.grad_fn.name(), "<-",
      h.grad_fn.next_functions[0][0].name())

# %% [markdown]
# ## 4.2 The 1988 network as a `torch.nn.Module`
#
# The module takes symbol codes, shape (B, 13), and makes the one-hot rows itself by indexing a fixed
# table: `ENCODING` from `sspred.alphabet`, whose row $c$ is the 21-unit input vector of symbol $c$ (one-hot
# for the 20 amino acids and the spacer, fractional for X, B, Z, ...). It is a *buffer*: saved with the
# module, moved to the GPU with it, but not learned. Then two `nn.Linear` layers with a sigmoid between.
#
# One difference from sspred's NumPy engine matters when we copy weights across: `nn.Linear` stores its
# weight as (out, in) and computes $x W^\top + b$; sspred stores $W$ as (in, out) and computes $x W + b$.

# %%
class QianSejnowski(nn.Module):
    """Window codes (B, W) -> logits (B, K): one-hot rows, one sigmoid
    hidden layer, a linear output."""

    def __init__(self, window: int = 13, hidden: int = 40,
                 states: int = 3):
        super().__init__()
        table = torch.from_numpy(np.array(ENCODING, dtype=np.float32))
        self.register_buffer("encoding", table)  # (28, 21)
        # nn.Linear stores weight (out, in): (40, 273) and (3, 40)
        self.hidden = nn.Linear(window * N_UNITS, hidden)
        self.out = nn.Linear(hidden, states)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        # (B, W) -> (B, W, 21) -> (B, W*21), flattened by rows
        x = self.encoding[codes].flatten(1)
        # (B, 273) -> (B, 40) -> (B, 3)
        return self.out(torch.sigmoid(self.hidden(x)))


print(QianSejnowski())
print("parameters:", sum(p.numel() for p in QianSejnowski().parameters()))

# %% [markdown]
# ## 4.3 A `Dataset` and a `DataLoader` over windows
#
# A `Dataset` says how many examples there are and how to get example $i$; a `DataLoader` shuffles the
# indices each epoch, cuts them into minibatches and stacks the examples into tensors. Our examples are
# windows, so the dataset wraps sspred's `WindowIndex` (notebook 1): it stores the chains' codes once and
# hands out the 13 codes around residue $i$ and its label, never a one-hot matrix of the whole set. The
# shuffle draws from a seeded `torch.Generator`, so a run is repeatable.

# %%
class Windows(Dataset):
    """Labelled residues as (window codes (W,), state index) pairs."""

    def __init__(self, chains, window: int = 13):
        self.index = WindowIndex(chains, window)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        codes, label = self.index.examples(np.array([i]))  # (1, W), (1,)
        window = torch.from_numpy(codes[0].astype(np.int64))
        return window, int(label[0])


train_set = Windows(sspred.load_data("qs1988", "train"))
valid_set = Windows(sspred.load_data("qs1988", "valid"))
test_set = Windows(sspred.load_data("qs1988", "test"))
loader = DataLoader(train_set, batch_size=64, shuffle=True,
                    generator=torch.Generator().manual_seed(0))
codes, labels = next(iter(loader))
print(f"{len(train_set):,d} training windows,",
      f"{len(loader)} minibatches per epoch")
print("one minibatch:", tuple(codes.shape), codes.dtype,
      tuple(labels.shape), labels.dtype)

# %% [markdown]
# ## 4.4 Same weights, same loss, same gradients
#
# Now the test that connects the two notebooks. We build the network in sspred's NumPy engine (float64,
# weights drawn with seed 0), copy its weights into the torch module, transposing each $W$ into
# `nn.Linear`'s (out, in) layout, and compute on the same minibatch:
#
# * the NumPy engine: `forward`, `SoftmaxCrossEntropy`, the hand-written `backward` of notebook 3;
# * torch: `forward`, `F.cross_entropy` (log-softmax and the negative log-likelihood in one op, like
#   sspred's fused layer), `loss.backward()`.
#
# If both are right, the losses and all four gradients agree to float64 rounding.

# %%
# linear 273->40, sigmoid, linear 40->3
specs = sspred.ModelConfig(window=13, hidden=[40]).layers()
np_net = Network(specs, dtype=np.float64, rng=np.random.default_rng(0))
P_np = {k: torch.from_numpy(v) for k, v in np_net.params.items()}
torch_net = QianSejnowski().double()
with torch.no_grad():
    # sspred's (in, out) -> nn.Linear's (out, in): (273, 40) -> (40, 273)
    torch_net.hidden.weight.copy_(P_np["layers.0.W"].T)
    torch_net.hidden.bias.copy_(P_np["layers.0.b"])
    torch_net.out.weight.copy_(P_np["layers.2.W"].T)  # (40, 3) -> (3, 40)
    torch_net.out.bias.copy_(P_np["layers.2.b"])

batch_codes, batch_y = codes.numpy().astype(np.uint8), labels.numpy()
ce = losses.SoftmaxCrossEntropy()
logits_np = np_net.forward(one_hot(batch_codes, np.float64), train=True)
loss_np = ce.forward(logits_np, batch_y)
np_net.backward(ce.backward())

loss_t = F.cross_entropy(torch_net(codes), labels)
loss_t.backward()

print(f"loss: NumPy {loss_np:.15f}  torch {loss_t.item():.15f}")
print(f"      difference {abs(loss_np - loss_t.item()):.1e}")
pairs = {"layers.0.W": torch_net.hidden.weight.grad.T,
         "layers.0.b": torch_net.hidden.bias.grad,
         "layers.2.W": torch_net.out.weight.grad.T,
         "layers.2.b": torch_net.out.bias.grad}
worst = 0.0
for name, g_torch in pairs.items():
    diff = np.abs(np_net.grads[name] - g_torch.numpy()).max()
    worst = max(worst, diff)
    print(f"gradient {name:11s} max |NumPy - torch| = {diff:.1e}")
print(f"largest difference over every gradient: {worst:.1e}")

# %% [markdown]
# The hand-written backward pass of notebook 3 and autograd agree to about $10^{-17}$, the rounding of
# float64: two independent computations of the same derivatives. (sspred's test suite,
# `tests/test_engines_agree.py`, makes the same comparison for every layer type, in float32 and float64,
# with dropout masks and batch norm.)

# %% [markdown]
# ## 4.5 Training in PyTorch
#
# The training loop is the same four lines as in notebook 3, with autograd's `backward()` and a
# `torch.optim` optimizer in place of ours: zero the gradients, forward, backward, step. We train a fresh
# float32 network for 8 epochs with Adam ($\eta = 10^{-3}$) on minibatches of 64, and after each epoch
# measure the validation loss with autograd switched off (`torch.no_grad()`).

# %%
def evaluate_loader(net, dataset):
    """Mean cross-entropy and Q3 (%) over a dataset, recording no graph."""
    net.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for c, y in DataLoader(dataset, batch_size=4096):
            logits = net(c)  # (b, 3)
            loss = F.cross_entropy(logits, y, reduction="sum")
            total += loss.item()
            correct += (logits.argmax(dim=1) == y).sum().item()
            n += y.numel()
    return total / n, 100 * correct / n


torch.manual_seed(0)
net = QianSejnowski()
optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
EPOCHS = 8
curves = {"train": [], "valid": []}
start = time.perf_counter()
for epoch in range(1, EPOCHS + 1):
    net.train()
    running, seen = 0.0, 0
    for c, y in loader:
        optimizer.zero_grad()
        # (B, 3) logits vs (B,) labels -> the mean over the batch
        loss = F.cross_entropy(net(c), y)
        loss.backward()
        optimizer.step()
        running += loss.item() * y.numel()
        seen += y.numel()
    valid_loss, valid_q3 = evaluate_loader(net, valid_set)
    curves["train"].append(running / seen)
    curves["valid"].append(valid_loss)
    print(f"epoch {epoch}  train loss {running / seen:.4f}"
          f"  valid loss {valid_loss:.4f}  valid Q3 {valid_q3:.1f}")
print(f"{time.perf_counter() - start:.1f} s for {EPOCHS} epochs")
_, test_q3 = evaluate_loader(net, test_set)
print(f"torch network, test Q3 after {EPOCHS} epochs: {test_q3:.2f}%")

# %%
ch4_curve(curves)

# %% [markdown]
# Note that this run does not start from the NumPy engine's weights: `nn.Linear` draws its own (uniform,
# scaled by $1/\sqrt{\text{fan-in}}$), and PyTorch's Adam and batches differ from sspred's, so the numbers
# differ slightly from notebook 2's. The next section removes those differences.

# %% [markdown]
# ## 4.6 `sspred.train` with `engine="torch"`
#
# sspred's torch engine (`sspred.engines.torch`) builds the same network from the same layer list as the
# NumPy engine, with parameters under the same names and in the same (in, out) layout, draws the initial
# weights from the same seeded NumPy generator, and implements SGD and Adam with the NumPy engine's exact
# update rules. The fit loop hands both engines the same minibatches. So one `TrainConfig` with only
# `engine` changed should train *the same network*, and a model file from either engine loads in the other.
# We train both, with the settings of notebook 2.

# %%
OPTIMISATION = dict(optimizer="adam", lr=1e-3, batch_size=256, epochs=30,
                    patience=5, seed=0)
model_cfg = sspred.ModelConfig(window=13, hidden=[40])
trained, seconds = {}, {}
for engine in ("numpy", "torch"):
    cfg = sspred.TrainConfig(model=model_cfg, engine=engine,
                             **OPTIMISATION)
    start = time.perf_counter()
    trained[engine] = sspred.train(cfg, "qs1988")
    seconds[engine] = time.perf_counter() - start
histories = {engine: model.header["train"]["history"]["epochs"]
             for engine, model in trained.items()}
for engine, model in trained.items():
    q3 = sspred.evaluate(model, "qs1988").q3
    print(f"{engine:5s} engine: {len(histories[engine])} epochs in"
          f" {seconds[engine]:.1f} s, test Q3 {q3:.2f}%")
weight_gap = max(
    np.abs(trained["numpy"].params[k] - trained["torch"].params[k]).max()
    for k in trained["numpy"].params)
print("largest difference between the two engines' final weights:",
      f"{weight_gap:.1e}")

# %%
ch4_engines(histories)

# %% [markdown]
# The two curves lie on top of each other and the final weights agree to float32 rounding: the same
# network trained twice, once with hand-written gradients and once with autograd. BENCHMARKS.md records
# the same on this setup (62.95% for both engines, weights within 4.2e-7). The NumPy engine is faster
# here: for a network this small, the cost is per-call overhead rather than arithmetic, and for the 1988
# shape sspred's NumPy engine runs one compiled training step.
#
# Finally, a trained model opens in torch as an ordinary module: `sspred.engines.torch.network.from_model`
# builds the torch twin of any model file (whichever engine wrote it), and its probabilities equal the NumPy
# engine's.

# %%
from sspred.engines.torch.network import from_model

# a torch.nn.Module in evaluation mode, weights from the model file
twin = from_model(trained["numpy"])
test_index = test_set.index
test_codes = torch.from_numpy(test_index.batch(np.arange(len(test_index))))
with torch.no_grad():
    p_torch = torch.softmax(twin(twin.encode(test_codes)), dim=1).numpy()
test_chains = sspred.load_data("qs1988", "test")
p_numpy = np.concatenate(
    trained["numpy"].predict_many([c.codes for c in test_chains]))
print("torch twin vs NumPy prediction, every test residue:")
print(f"  largest difference {np.abs(p_torch - p_numpy).max():.1e}")

# %% [markdown]
# A built-in model goes the same way through the public API: `Predictor.to_torch()` returns a module that
# maps whole chains of symbol codes (B, L) to probabilities (B, L, K), ready for a PyTorch pipeline.

# %%
predictor = sspred.load("fast")
module = predictor.to_torch()
first = sspred.load_data("qs1988", "test")[0]
chain_codes = torch.from_numpy(first.codes.astype(np.int64))[None]
with torch.no_grad():
    p_module = module(chain_codes)  # (1, L) -> (1, L, 3)
p_api = predictor.predict(first.sequence)[0].probabilities  # (L, 3)
gap = np.abs(p_module[0].numpy() - p_api).max()
print(tuple(p_module.shape), f"largest gap to predict() {gap:.1e}")

# %% [markdown]
# ### Exercise 4.1 — the first layer as an embedding
# Notebook 1 computed the first layer as 13 table lookups instead of a product with one-hot rows. In
# torch the lookup is `nn.Embedding`. Write `embedding_layer(net)`, which builds, from the float64
# module `torch_net` of 4.4, an `nn.Embedding(13 * 28, 40)` whose row $28j + c$ is
# $\mathrm{ENCODING}[c]\, W_1^{(j)}$ (symbol $c$ at window position $j$; $W_1^{(j)}$ the $21 \times 40$
# block of $W_1$'s rows for position $j$). The check sums the 13 looked-up rows of each window and
# compares them with `torch_net.hidden` on the one-hot rows.

# %%
def embedding_layer(net):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def embedding_layer(net):
    # nn.Linear's (40, 273) -> (273, 40) -> (13, 21, 40): position-major
    W1 = net.hidden.weight.detach().T.reshape(13, N_UNITS, -1)
    enc = torch.tensor(ENCODING, dtype=W1.dtype)  # (28, 21)
    table = torch.einsum("su,juh->jsh", enc, W1)  # (13, 28, 40)
    return nn.Embedding.from_pretrained(table.reshape(-1, W1.shape[2]))


# %%
# Check.
emb = embedding_layer(torch_net)
assert emb is not None, "write embedding_layer first"
n_symbols = len(ENCODING)  # 28 codes
offsets = torch.arange(13) * n_symbols  # the row of (j, c) is 28 j + c
with torch.no_grad():
    # (B, 13) -> (B, 13, 40) -> (B, 40)
    h_lookup = emb(codes + offsets).sum(dim=1) + torch_net.hidden.bias
    x_dense = torch_net.encoding.double()[codes].flatten(1)
    h_dense = torch_net.hidden(x_dense)
gap = (h_lookup - h_dense).abs().max().item()
print(f"embedding lookups vs dense product: largest difference {gap:.1e}")
assert gap < 1e-12

# %% [markdown]
# ### Exercise 4.2 — autograd's own gradient check
# `torch.autograd.gradcheck` compares autograd with finite differences, like the `numeric_grad` of
# notebook 3. Write `hidden_weight_loss(W)`: the mean cross-entropy of the small float64 network `small`
# below on the windows `c3` with labels `y3`, as a function of its hidden weight `W` (shape
# $(4, 63)$, nn.Linear's layout), so that `gradcheck` can differentiate it.

# %%
torch.manual_seed(0)
small = QianSejnowski(window=3, hidden=4).double()
c3 = torch.randint(0, 20, (6, 3))  # 6 windows of 3 amino-acid codes
y3 = torch.randint(0, 3, (6,))


def hidden_weight_loss(W):
    ...  # your code here


# %% tags=["solution"]
# Solution (collapsed on the site; run by the build).
def hidden_weight_loss(W):
    x = small.encoding.double()[c3].flatten(1)  # (6, 3) -> (6, 63)
    h = torch.sigmoid(x @ W.T + small.hidden.bias)  # (6, 63) @ (63, 4)
    return F.cross_entropy(small.out(h), y3)


# %%
# Check.
W = small.hidden.weight.detach().clone().requires_grad_(True)
assert hidden_weight_loss(W) is not None, "write hidden_weight_loss first"
with torch.no_grad():
    assert torch.isclose(hidden_weight_loss(W),
                         F.cross_entropy(small(c3), y3))
assert torch.autograd.gradcheck(hidden_weight_loss, (W,))
print("gradcheck: autograd agrees with finite differences")

# %% [markdown]
# ## Summary
#
# * In PyTorch we write the forward pass; autograd derives the backward pass.
# * A `Dataset` over sspred's index windows and a seeded `DataLoader` feed minibatches of codes; the
#   module turns them into one-hot rows by table lookup.
# * With the same weights, the NumPy engine's hand-written gradients and autograd's agree to float64
#   rounding.
# * `sspred.train(..., engine="torch")` trains the same network as the NumPy engine, epoch for epoch, and
#   every model file opens in torch with `from_model`.
#
# Next (notebook 5): where the test set's residues come from, and how homologous proteins leak across a
# train/test split.
