"""Feedback networks that store and retrieve memories: classical and modern Hopfield networks.

- ``classical``: Hopfield (1982), binary units and Hebbian storage, whose capacity ends near a load
  of 0.138 (Amit, Gutfreund & Sompolinsky 1985).
- ``modern``: the continuous network of Ramsauer et al. (2020), whose update is transformer
  attention with the stored patterns as keys and values.
- ``experiments``: four experiments on them, each returning plain data.
- ``plots``: a figure of each experiment's result (matplotlib is imported only inside them).

Conventions: patterns and states are ROWS, as everywhere else in sspred, so the paper's X (d, N) of
column patterns is our ``patterns`` (N, d) and the paper's X softmax(beta X^T xi) becomes
softmax(beta xi X^T) X for a batch of row queries.

Every public name of the four modules is importable from here: ``from sspred import hopfield as hf``
then ``hf.hebbian``, ``hf.capacity_experiment``, ``hf.plot_capacity``.
"""

from sspred.hopfield.classical import (ALPHA_C, async_sweep, corrupt, energy, hebbian, overlap, random_patterns,
                                       recall_async, recall_sync, sync_step, update_unit)
from sspred.hopfield.experiments import (RETRIEVED, BetaResult, CapacityResult, FixedPointResult, OneStepResult,
                                         beta_experiment, capacity_experiment, clustered_circle, crossing, distinct,
                                         fixed_point_experiment, one_step_experiment)
from sspred.hopfield.modern import lse, modern_energy, modern_iterate, modern_update, separation, sphere_patterns
from sspred.hopfield.plots import plot_beta, plot_capacity, plot_fixed_points, plot_one_step

__all__ = [
    "ALPHA_C", "async_sweep", "corrupt", "energy", "hebbian", "overlap", "random_patterns", "recall_async",
    "recall_sync", "sync_step", "update_unit",
    "lse", "modern_energy", "modern_iterate", "modern_update", "separation", "sphere_patterns",
    "RETRIEVED", "BetaResult", "CapacityResult", "FixedPointResult", "OneStepResult", "beta_experiment",
    "capacity_experiment", "clustered_circle", "crossing", "distinct", "fixed_point_experiment",
    "one_step_experiment",
    "plot_beta", "plot_capacity", "plot_fixed_points", "plot_one_step",
]
