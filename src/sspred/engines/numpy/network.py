"""A feed-forward network of NumPy layers, built from the layer list of a model file."""

from __future__ import annotations

import numpy as np

from sspred.engines.numpy.layers import LAYERS, Layer, build
from sspred.engines.numpy.activations import softmax
from sspred.engines.spec import set_on_layers


class Network:
    """Layers in order. Parameters are exposed flat as ``layers.{i}.{name}``."""

    def __init__(self, specs: list[dict], dtype=np.float32, rng: np.random.Generator | None = None):
        self.specs = specs
        self.dtype = np.dtype(dtype)
        self.layers: list[Layer] = [build(s) for s in specs]
        if rng is not None:
            for layer in self.layers:
                layer.init(rng, self.dtype)

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Logits for input rows: (B, n_inputs) -> (B, K)."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dlogits: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dlogits = layer.backward(dlogits)
        return dlogits

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.forward(x.astype(self.dtype, copy=False), train=False))

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Live views of every parameter (optimizers update them in place)."""
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """Live views of the non-learned state (batch-norm running statistics)."""
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.buffers.items()}

    @property
    def state(self) -> dict[str, np.ndarray]:
        """Parameters and buffers: everything a model file stores."""
        return {**self.params, **self.buffers}

    def set_rng(self, rng: np.random.Generator | None) -> None:
        """The generator dropout masks are drawn from in training."""
        set_on_layers(self.layers, "rng", rng)

    def set_valid(self, valid: np.ndarray | None) -> None:
        """Which rows of the next inputs are residues (conv layers zero the rest); None: all of them."""
        set_on_layers(self.layers, "valid", valid)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy named arrays in; every parameter and buffer must be present with its shape."""
        for i, layer in enumerate(self.layers):
            cls = type(layer)
            for store, expected in ((layer.params, cls.param_shapes(layer.spec)),
                                    (layer.buffers, cls.buffer_shapes(layer.spec))):
                for name, shape in expected.items():
                    key = f"layers.{i}.{name}"
                    if key not in params:
                        raise ValueError(f"missing parameter {key}")
                    if tuple(params[key].shape) != shape:
                        raise ValueError(f"parameter {key} has shape {params[key].shape}, expected {shape}")
                    store[name] = np.array(params[key], dtype=self.dtype)


def n_parameters(specs: list[dict]) -> int:
    """Learned parameters (buffers not counted)."""
    return int(sum(np.prod(s) for spec in specs for s in LAYERS[spec["type"]].param_shapes(spec).values()))
