"""Training steps of the NumPy engine: forward, loss, backward, optimizer update."""

from __future__ import annotations

import numpy as np

from sspred.config import TrainConfig
from sspred.engines.numpy.losses import SoftmaxCrossEntropy, softmax
from sspred.engines.numpy.network import Network
from sspred.engines.numpy.optim import OPTIMIZERS
from sspred.features import network_inputs


class NumpyLearner:
    """Holds a network and its optimizer; ``step`` trains on one minibatch of window codes."""

    engine = "numpy"

    def __init__(self, specs: list[dict], cfg: TrainConfig, rng: np.random.Generator):
        self.dtype = np.dtype(cfg.dtype)
        self.net = Network(specs, dtype=self.dtype, rng=rng)
        self.loss = SoftmaxCrossEntropy()
        kwargs = {"lr": cfg.lr}
        if cfg.optimizer == "sgd":
            kwargs["momentum"] = cfg.momentum
        self.optimizer = OPTIMIZERS[cfg.optimizer](self.net.params, **kwargs)
        # The 1988 shape with Adam trains through one compiled step from window codes (index_train).
        from sspred.engines.numpy.index_train import FusedStep

        self.fused = (FusedStep(specs[1]["type"]) if FusedStep.applies(specs, cfg.optimizer, self.dtype, self.loss.smoothing)
                      else None)

    def step(self, codes: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """One update on windows (B, W) with targets (B,); returns the loss and the batch's predicted classes."""
        if self.fused is not None and codes.dtype == np.uint8:  # residue codes, not stage-2 float rows
            return self.fused.step(self.net, self.optimizer, codes, y)
        logits = self.net.forward(network_inputs(codes, self.dtype), train=True)  # (B, K)
        loss = self.loss.forward(logits, y)
        self.net.backward(self.loss.backward())
        self.optimizer.step(self.net.params, self.net.grads)
        return loss, logits.argmax(axis=1)

    def predict_proba(self, codes: np.ndarray) -> np.ndarray:
        return softmax(self.net.forward(network_inputs(codes, self.dtype), train=False))

    def get_params(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.net.params.items()}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for k, v in self.net.params.items():
            v[...] = params[k]
