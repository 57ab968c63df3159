"""The protocol every NumPy layer follows, in a module of its own.

layers.py imports the attention, conv and hopfield modules for its ``LAYERS`` table, so the base
class they share sits below all of them.
"""

from __future__ import annotations

import numpy as np


class Layer:
    """Protocol: params/grads dicts, forward(x, train), backward(dout) -> dx.

    ``buffers`` hold state that is saved with the model but not learned by
    gradient (batch norm's running statistics).
    """

    params: dict[str, np.ndarray]
    grads: dict[str, np.ndarray]
    buffers: dict[str, np.ndarray]

    def __init__(self, spec: dict):
        self.spec = spec
        self.params, self.grads, self.buffers = {}, {}, {}

    @staticmethod
    def param_shapes(spec: dict) -> dict[str, tuple]:
        """Name and shape of every parameter this spec has."""
        return {}

    @staticmethod
    def buffer_shapes(spec: dict) -> dict[str, tuple]:
        """Name and shape of every buffer this spec has."""
        return {}

    def init(self, rng: np.random.Generator, dtype) -> None:
        """Draw initial parameters; layers without parameters have nothing to do."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError
