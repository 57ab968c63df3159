"""The multi-task loss of the torch engine: the NumPy engine's MultiHeadCrossEntropy, with autograd for backward.

tests/test_heads.py holds the two engines to the same values and gradients.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from sspred.engines.torch.learner import smoothed_targets
from sspred.heads import Heads


def multi_head_cross_entropy(logits: torch.Tensor, targets: Mapping[str, torch.Tensor], heads: Heads,
                             weights: Mapping[str, float] | None = None, smoothing: float = 0.0) -> torch.Tensor:
    """Sum over heads of weight_h * mean CE over that head's present rows (targets >= 0); 0 for a head with none.

    ``logits`` (N, W) are every head's logits side by side; ``targets`` name -> (N,) int64, -1 = absent
    (NumPy arrays are moved onto the logits' device).
    """
    targets = {name: torch.as_tensor(y, device=logits.device) for name, y in targets.items()}
    heads.check_targets(targets, logits.shape[0])
    w = heads.weights(weights)
    # The sum of an empty slice: 0 that still belongs to the graph, so backward() works and gives zero
    # gradients even when no head has a label.
    total = logits[:0].sum()
    for name, z in heads.split(logits).items():  # z: (N, K_h)
        rows = torch.nonzero(targets[name] >= 0).squeeze(1)  # (n_h,)
        if rows.numel() == 0:
            continue
        logp = torch.log_softmax(z[rows], dim=1)  # (n_h, K_h)
        t = smoothed_targets(targets[name][rows].long(), z.shape[1], smoothing, logits.dtype)  # (n_h, K_h)
        total = total + w[name] * (-(t * logp).sum() / rows.numel())
    return total


class MultiHeadCrossEntropy(nn.Module):
    """``multi_head_cross_entropy`` with its heads, weights and smoothing fixed: ``loss(logits, targets)``."""

    def __init__(self, heads: Heads, weights: Mapping[str, float] | None = None, smoothing: float = 0.0):
        super().__init__()
        self.heads, self.weights, self.smoothing = heads, heads.weights(weights), smoothing

    def forward(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return multi_head_cross_entropy(logits, targets, self.heads, self.weights, self.smoothing)
