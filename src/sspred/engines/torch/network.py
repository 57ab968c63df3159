"""A feed-forward torch network built from a model file's layer list."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from sspred.alphabet import ENCODING
from sspred.engines.spec import set_on_layers
from sspred.engines.torch.layers import build

#: numpy dtype name -> torch dtype.
DTYPES = {"float32": torch.float32, "float64": torch.float64}


class TorchNetwork(nn.Module):
    """Layers in a ModuleList named ``layers``, so state_dict keys are ``layers.{i}.{name}`` as in model files."""

    encoding: torch.Tensor  # a buffer (register_buffer)

    def __init__(self, specs: list[dict]):
        super().__init__()
        self.specs = specs
        self.layers = nn.ModuleList(build(s) for s in specs)
        # One-hot rows by table lookup: the same ENCODING rows the NumPy engine uses.
        self.register_buffer("encoding", torch.from_numpy(np.array(ENCODING)), persistent=False)

    def encode(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, W) symbol codes -> (B, W * 21) input rows."""
        batch = codes.shape[0]
        return self.encoding[codes.long()].reshape(batch, -1)  # (B, W, 21) -> (B, W*21)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits for input rows: (B, n_inputs) -> (B, K)."""
        for layer in self.layers:
            x = layer(x)
        return x

    def set_generator(self, generator: torch.Generator | None) -> None:
        set_on_layers(self.layers, "generator", generator)

    def set_valid(self, valid: torch.Tensor | None) -> None:
        """Which rows of the next inputs are residues (conv layers zero the rest); None: all of them."""
        set_on_layers(self.layers, "valid", valid)

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Copy parameters and buffers in from NumPy arrays named as in a model file; all must be present."""
        own = self.state_dict()
        missing = sorted(set(own) - set(arrays))
        if missing:
            raise ValueError(f"missing parameter {missing[0]}")
        with torch.no_grad():
            for name, t in own.items():
                if tuple(arrays[name].shape) != tuple(t.shape):
                    raise ValueError(f"parameter {name} has shape {arrays[name].shape}, expected {tuple(t.shape)}")
                t.copy_(torch.as_tensor(np.asarray(arrays[name])))

    def arrays(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer as NumPy arrays, named as in a model file."""
        return {k: v.detach().cpu().numpy().copy() for k, v in self.state_dict().items()}


def from_model(model, device: str = "cpu", dtype: str = "float32") -> TorchNetwork:
    """The torch twin of a loaded ``sspred.model.Model`` (either engine wrote it), in evaluation mode."""
    net = TorchNetwork(model.layers).to(device=device, dtype=DTYPES[dtype])
    net.load_arrays(model.params)
    return net.eval()
