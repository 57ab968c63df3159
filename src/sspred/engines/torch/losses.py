"""The torch engine's targets and losses: label smoothing as the NumPy engine does it, and the multi-task
loss, the NumPy engine's MultiHeadCrossEntropy with autograd for backward.

tests/test_heads.py holds the two engines to the same values and gradients.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from sspred.heads import Heads, present


def smoothed_targets(y: torch.Tensor, k: int, smoothing: float, dtype) -> torch.Tensor:
    """(B, K): 1 - rho on the true class and rho / (K - 1) elsewhere, as the NumPy SoftmaxCrossEntropy.

    torch's own ``label_smoothing`` spreads rho over all K classes, true one included, hence this.
    Target distributions (B, K) (a teacher's, for distillation) are used as given.
    """
    if y.ndim == 2:
        return y.to(dtype)
    t = torch.full((y.shape[0], k), smoothing / (k - 1) if k > 1 else 0.0, dtype=dtype, device=y.device)
    return t.scatter_(1, y[:, None], 1.0 - smoothing)


def multi_head_cross_entropy(logits: torch.Tensor, targets: Mapping[str, torch.Tensor], heads: Heads,
                             weights: Mapping[str, float] | None = None, smoothing: float = 0.0,
                             totals: Mapping[str, int] | None = None) -> torch.Tensor:
    """Sum over heads of weight_h * mean CE over that head's present rows (``heads.present``); 0 for a head with none.

    ``logits`` (N, W) are every head's logits side by side; ``targets`` name -> (N,) int64, -1 = absent
    (NumPy arrays are moved onto the logits' device).

    ``totals``: name -> present rows of that head in a larger batch these rows are a share of (a DDP rank's
    share of the global batch). Each head's CE sum is then divided by its total instead of its own count, so the
    shares' losses add up to the whole batch's loss.
    """
    targets = {name: torch.as_tensor(y, device=logits.device) for name, y in targets.items()}
    heads.check_targets(targets, logits.shape[0])
    w = heads.weights(weights)
    # The sum of an empty slice: 0 that still belongs to the graph, so backward() works and gives zero
    # gradients even when no head has a label.
    total = logits[:0].sum()
    for name, z in heads.split(logits).items():  # z: (N, K_h)
        rows = torch.nonzero(present(targets[name])).squeeze(1)  # (n_h,)
        if rows.numel() == 0:
            continue
        logp = torch.log_softmax(z[rows], dim=1)  # (n_h, K_h)
        y = targets[name][rows]  # (n_h,) classes or (n_h, K_h) distributions
        t = smoothed_targets(y if y.ndim == 2 else y.long(), z.shape[1], smoothing, logits.dtype)  # (n_h, K_h)
        count = rows.numel() if totals is None else totals[name]
        total = total + w[name] * (-(t * logp).sum() / count)
    return total


class MultiHeadCrossEntropy(nn.Module):
    """``multi_head_cross_entropy`` with its heads, weights and smoothing fixed: ``loss(logits, targets)``."""

    def __init__(self, heads: Heads, weights: Mapping[str, float] | None = None, smoothing: float = 0.0):
        super().__init__()
        self.heads, self.weights, self.smoothing = heads, heads.weights(weights), smoothing

    def forward(self, logits: torch.Tensor, targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return multi_head_cross_entropy(logits, targets, self.heads, self.weights, self.smoothing)
