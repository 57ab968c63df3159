"""Training steps of the NumPy engine: forward, loss, backward, optimizer update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sspred.engines.numpy import paths
from sspred.engines.numpy.activations import softmax
from sspred.engines.numpy.losses import MultiHeadCrossEntropy, SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.engines.numpy.optim import OPTIMIZERS
from sspred.engines.settings import LearnerSettings
from sspred.engines.spec import initial_state, is_weight, valid_rows
from sspred.features import network_inputs, row_inputs
from sspred.layout import Layout

if TYPE_CHECKING:
    from sspred.engines.learner import Learner


def penalty(params: dict[str, np.ndarray], l1: float, l2: float) -> tuple[float, dict[str, np.ndarray]]:
    """l2 * 1/2 * sum(W^2) + l1 * sum(|W|) over weight matrices, and its gradient per weight.

    The subgradient of |w| at 0 is taken as 0 (np.sign), as torch does.
    """
    value, grads = 0.0, {}
    for name, w in params.items():
        if is_weight(name) and (l1 or l2):
            value += float(0.5 * l2 * (w * w).sum() + l1 * np.abs(w).sum())
            grads[name] = l2 * w + l1 * np.sign(w)
    return value, grads


class NumpyLearner:
    """Holds a network and its optimizer; ``step`` trains on one minibatch of window codes."""

    engine = "numpy"
    #: One process: this engine has no process group (engines.learner.Learner).
    rank, world = 0, 1

    def __init__(self, specs: list[dict], cfg: LearnerSettings, rng: np.random.Generator):
        self.dtype = np.dtype(cfg.dtype)
        self.cfg = cfg
        self.net = Network(specs, dtype=self.dtype)
        self.net.load_params(initial_state(specs, rng, self.dtype))
        self.loss = SoftmaxCrossEntropy(smoothing=cfg.smoothing)
        heads = cfg.heads
        #: The multi-task loss of a network with several heads (targets come as a dict), and the first head's
        #: columns, which accuracy and ``predict_proba`` read; one head: every column.
        self.multi = (MultiHeadCrossEntropy(heads, cfg.head_weights, cfg.smoothing)
                      if len(heads.names) > 1 else None)
        self.first = heads.slices()[heads.names[0]] if self.multi else slice(None)
        kwargs = {"lr": cfg.lr}
        if cfg.optimizer == "sgd":
            kwargs["momentum"] = cfg.momentum
        self.optimizer = OPTIMIZERS[cfg.optimizer](self.net.params, **kwargs)
        self.begin_epoch([cfg.seed, 0])
        # A compiled step from window codes where paths.training_step has one; else the plain path below.
        plain = not (cfg.l1 or cfg.l2 or cfg.input_noise or cfg.weight_noise)
        self.fused = paths.training_step(specs, cfg.optimizer, self.dtype, self.loss.smoothing, plain)

    @staticmethod
    def place(device: str, distributed: bool = False, threads: int = 0) -> dict:
        """The keyword arguments that place a learner: none, it runs in this process on the CPU (the config allows
        this engine no other device and no process group; ``threads`` is the torch engine's)."""
        return {}

    def close(self) -> None:
        """Nothing to release: the torch engine's learner leaves its process group here."""

    def replica_spread(self) -> float:
        """0.0: one process holds the only replica."""
        return 0.0

    def begin_epoch(self, entropy: list[int]) -> None:
        """Reseed the training noise (dropout, input and weight noise) from ``entropy``, e.g. [seed, epoch]."""
        self.rng = np.random.default_rng(entropy)
        self.net.set_rng(self.rng)

    def set_lr(self, lr: float) -> None:
        self.optimizer.lr = lr

    def forward_backward(self, x: np.ndarray, y: np.ndarray, rows: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """Loss (with penalties) and logits of one-hot rows (B, n_inputs); fills ``self.net.grads``.

        ``rows``: only these rows of the output have targets ``y`` (a chain layout's scored residues).
        """
        cfg = self.cfg
        if cfg.input_noise:
            x = x + (cfg.input_noise * self.rng.standard_normal(x.shape)).astype(self.dtype)
        params = self.net.params
        clean = {}
        if cfg.weight_noise:
            # Perturb for this step's forward and backward pass only; the update applies to the clean weights.
            for name, w in params.items():
                if is_weight(name):
                    clean[name] = w.copy()
                    w += (cfg.weight_noise * self.rng.standard_normal(w.shape)).astype(self.dtype)
        logits = self.net.forward(x, train=True)  # (B, K)
        # The multi-head loss takes a dict of targets, the plain one an array.
        lossfn: Any = self.multi if isinstance(y, Mapping) else self.loss
        if rows is None:
            loss = lossfn.forward(logits, y)
            self.net.backward(lossfn.backward())
        else:
            loss = lossfn.forward(logits[rows], y)
            dlogits = np.zeros_like(logits)
            dlogits[rows] = lossfn.backward()
            self.net.backward(dlogits)
            logits = logits[rows]
        for name, w in clean.items():
            params[name][...] = w
        extra, pgrads = penalty(params, cfg.l1, cfg.l2)
        grads = self.net.grads
        for name, g in pgrads.items():
            grads[name] += g
        return loss + extra, logits

    def step(self, codes, y: np.ndarray) -> tuple[float, np.ndarray]:
        """One update on windows (B, W) (or stage-2 float rows, or a chain Layout) with targets (B,);
        returns the loss and the batch's predicted classes."""
        if isinstance(codes, Layout):
            return self._step_layout(codes, y)
        if self.fused is not None and codes.dtype == np.uint8:  # residue codes, not stage-2 float rows
            return self.fused.step(self.net, self.optimizer, codes, y)
        # A diverging run overflows; the fit loop reports the non-finite loss itself, so no warnings here.
        with np.errstate(over="ignore", invalid="ignore"):
            loss, logits = self.forward_backward(network_inputs(codes, self.dtype), y)
            self.optimizer.step(self.net.params, self.net.grads)
        return loss, logits.argmax(axis=1)

    def _step_layout(self, layout: Layout, y) -> tuple[float, np.ndarray]:
        """A chain layout's step: targets (n,) or (n, K) for its scored rows, or a dict of every head's
        targets for its residue rows (a multi-task network); predicted classes of the first head, on those rows."""
        rows = np.flatnonzero(layout.valid if isinstance(y, Mapping) else layout.labels >= 0)
        with valid_rows(self.net, layout.valid), np.errstate(over="ignore", invalid="ignore"):
            loss, logits = self.forward_backward(row_inputs(layout.codes, layout.extra, self.dtype), y, rows=rows)
            self.optimizer.step(self.net.params, self.net.grads)
        return loss, logits[:, self.first].argmax(axis=1)

    def predict_proba(self, codes) -> np.ndarray:
        """Probabilities of windows (B, K), or of a chain Layout's scored rows."""
        if isinstance(codes, Layout):
            with valid_rows(self.net, codes.valid):
                logits = self.net.forward(row_inputs(codes.codes, codes.extra, self.dtype), train=False)  # (N, K)
            return softmax(logits[codes.labels >= 0][:, self.first])  # the first head's (n, K)
        return softmax(self.net.forward(network_inputs(codes, self.dtype), train=False))

    def get_params(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer (what a model file stores)."""
        return {k: v.copy() for k, v in self.net.state.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for k, v in self.net.state.items():
            v[...] = params[k]

    def get_optimizer_state(self) -> dict:
        """The optimizer's state as nested dicts of arrays (copies)."""
        return _copy(self.optimizer.state)

    def set_optimizer_state(self, state: dict) -> None:
        _assign(self.optimizer.state, state)


def _copy(tree):
    return {k: _copy(v) for k, v in tree.items()} if isinstance(tree, dict) else np.array(tree, copy=True)


def _assign(into: dict, tree: dict) -> None:
    for k, v in into.items():
        if isinstance(v, dict):
            _assign(v, tree[k])
        else:
            v[...] = tree[k]


if TYPE_CHECKING:
    # The type checker confirms that this class has every member the fit loop asks of a learner.
    _CHECKED: type[Learner] = NumpyLearner
