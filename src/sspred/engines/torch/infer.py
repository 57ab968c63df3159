"""Prediction with a conv network in the torch engine, on any device: the twin of engines/numpy/conv_infer.py's
``predict_conv_chains`` for ``sspred predict --device``. The same layouts (sspred.layout), so the same gaps
between chains and the same outputs, to float32 rounding."""

from __future__ import annotations

import numpy as np
import torch

from sspred.engines.spec import gap, valid_rows
from sspred.engines.torch.network import TorchNetwork
from sspred.layout import group_by_rows, lay_out

#: Rows (residues and gaps) per forward pass: a GPU wants large passes; a whole chain always goes in one.
TORCH_ROWS = 65_536


class TorchChains:
    """A conv network's layers and weights on a torch device, predicting many chains per pass."""

    path = "conv torch"

    def __init__(self, specs: list[dict], params: dict[str, np.ndarray], device: str = "cpu",
                 heads: tuple[slice, ...] | None = None):
        self.device = torch.device(device)
        self.net = TorchNetwork(specs).to(device=self.device, dtype=torch.float32)
        self.net.load_arrays(params)
        self.net.eval()
        self.gap, self.heads = gap(specs), heads

    def _softmax(self, logits: torch.Tensor) -> torch.Tensor:
        if self.heads is None or len(self.heads) == 1:
            return torch.softmax(logits, dim=1)
        return torch.cat([torch.softmax(logits[:, s], dim=1) for s in self.heads], dim=1)  # (N, W)

    @torch.no_grad()
    def predict_many(self, chains: list[np.ndarray], features: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """[(L_i,)] codes (and [(L_i, D)] input features) -> [(L_i, K)] probabilities."""
        out: list[np.ndarray | None] = [None] * len(chains)
        lengths = np.array([c.size + self.gap for c in chains], dtype=np.int64)
        for group in group_by_rows(lengths, TORCH_ROWS):
            layout = lay_out([chains[i] for i in group], self.gap,
                             extra=[features[i] for i in group] if features is not None else None)
            codes = torch.from_numpy(layout.codes[:, None]).to(self.device)
            x = self.net.encode(codes).float()  # (N, 21)
            if layout.extra is not None:
                x = torch.cat([x, torch.from_numpy(layout.extra).to(self.device).float()], dim=1)  # (N, 21 + D)
            valid = torch.from_numpy(layout.valid).to(self.device)
            with valid_rows(self.net, valid):
                probs = self._softmax(self.net(x)).cpu().numpy()  # (N, K)
            for i, p in zip(group, layout.split(probs)):
                out[i] = p
        return [p for p in out if p is not None]  # every chain is in one group
