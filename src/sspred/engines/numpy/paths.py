"""Which code runs a NumPy network: the one place that picks a prediction path or a training step.

A layer list can run several ways, all giving the same numbers to float32 rounding:

* conv networks over chain layouts (conv_infer): in reused buffers on several threads where the
  layers allow (``ConvInference``), else the first layer as tables and the training layers after it;
* window networks as lookup tables (fastpath.FastForward, numba when installed), or as the plain
  one-hot forward pass, the reference every other path is tested against;
* training: the compiled step from window codes (index_train.FusedStep) for the 1988 shape with Adam,
  else the learner's own forward and backward.

model.py and the learner ask here and never choose themselves. The fast path's module imports
numba and LLVM (~100 MiB), so it is imported only when a window network asks for it.
"""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.conv_infer import ConvInference, NoBufferedPath, predict_conv_chains
from sspred.engines.numpy.activations import softmax
from sspred.engines.spec import is_conv
from sspred.features import one_hot, windows

#: Windows turned into one-hot floats at a time by the plain forward pass (bounds memory on long chains).
CHUNK_RESIDUES = 16384


class ConvChains:
    """A conv network over many chains per pass, with the buffered runner or (``runner`` None) layer by layer."""

    def __init__(self, net, runner: ConvInference | None, path: str):
        self.net, self.runner, self.path = net, runner, path
        #: Column slices of a multi-task network's heads, each given its own softmax; None: one softmax.
        self.heads: tuple[slice, ...] | None = None

    def predict_many(self, chains: list[np.ndarray], features: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """[(L_i,)] codes (and [(L_i, D)] input features, for a network that reads them) -> [(L_i, K)]
        probabilities."""
        return predict_conv_chains(self.net, chains, runner=self.runner, heads=self.heads, features=features)


class PlainWindow:
    """A window network as one-hot rows through its layers, one chain at a time."""

    path = "window one-hot"

    def __init__(self, net, window: int):
        self.net, self.window = net, window

    def predict(self, codes: np.ndarray) -> np.ndarray:
        """(L,) codes -> (L, K) probabilities."""
        win = windows(codes, self.window)  # (L, W) view
        out = np.empty((codes.size, self.net.specs[-1]["out"]), dtype=np.float32)
        for start in range(0, codes.size, CHUNK_RESIDUES):
            x = one_hot(win[start:start + CHUNK_RESIDUES])  # (chunk, W*21)
            out[start:start + CHUNK_RESIDUES] = softmax(self.net.forward(x))  # (chunk, W*21) -> (chunk, K)
        return out

    def predict_many(self, chains: list[np.ndarray]) -> list[np.ndarray]:
        return [self.predict(c) for c in chains]


def _conv_buffered(net, window: int) -> ConvChains | None:
    if not is_conv(net.specs):
        return None
    try:
        return ConvChains(net, ConvInference(net.specs, net.params), "conv buffered")
    except NoBufferedPath:
        return None


def _conv_layers(net, window: int) -> ConvChains | None:
    return ConvChains(net, None, "conv layers") if is_conv(net.specs) else None


def _window_tables(net, window: int):
    if is_conv(net.specs):
        return None  # and no numba import for a conv network
    from sspred.engines.numpy import fastpath

    try:
        return fastpath.FastForward.from_layers(net.specs, net.params, window)
    except fastpath.NoFastPath:
        return None


def _window_plain(net, window: int) -> PlainWindow:
    return PlainWindow(net, window)


#: Prediction paths by name: each builds a runner (``predict_many(chains) -> [(L, K)]``, and ``path``,
#: its name), or returns None for a network it cannot run.
PATHS = {
    "conv buffered": _conv_buffered,
    "conv layers": _conv_layers,
    "window tables": _window_tables,
    "window one-hot": _window_plain,
}
#: For one chain at a time (Model.predict_proba, the load-time probe), fastest first: compiling lookup
#: tables costs more than one chain saves, and a model file is checked without importing numba.
ONE_CHAIN = ("conv buffered", "conv layers", "window one-hot")
#: For many chains per call (Model.predict_many, ``sspred predict``), fastest first.
MANY_CHAINS = ("conv buffered", "conv layers", "window tables", "window one-hot")


def predictor(net, window: int, order: tuple[str, ...] = MANY_CHAINS, heads: tuple[slice, ...] | None = None):
    """The first path in ``order`` that runs ``net`` (a NumPy Network reading windows of ``window``); with
    several ``heads`` (column slices of a multi-task network) a conv path, which gives each its own softmax."""
    for name in order:
        runner = PATHS[name](net, window)
        if runner is not None and heads is not None and len(heads) > 1:
            if not isinstance(runner, ConvChains):
                continue
            runner.heads = heads
        if runner is not None:
            return runner
    raise ValueError(f"no prediction path runs the layer list {[s['type'] for s in net.specs]}")


def batch_predictor(net, window: int, single):
    """The path for many chains, given ``single``, the one-chain runner (``predictor(net, window, ONE_CHAIN)``):
    that runner itself where it already takes many chains per pass (conv), so its buffers are shared."""
    if single.path.startswith("conv"):
        return single
    return predictor(net, window, MANY_CHAINS)


def training_step(specs: list[dict], optimizer: str, dtype, smoothing: float, plain: bool):
    """The compiled step from window codes (index_train.FusedStep) where it applies, else None (the
    learner's own forward and backward). ``plain``: no penalties and no noise, which it does not do."""
    if not plain or is_conv(specs):
        return None
    from sspred.engines.numpy.index_train import FusedStep

    return FusedStep(specs[1]["type"]) if FusedStep.applies(specs, optimizer, dtype, smoothing) else None
