"""What a learner of either engine trains with: the run's optimisation settings as plain values.

A run setting the machine cannot honour is an error of sspred's family (``sspred.errors``): DeviceError for a
device, ConfigError naming the field for anything else.

A learner takes these, not ``sspred.config.TrainConfig``: the config sits above the engines, and an engine
imports nothing above it. ``sspred.training.learner_settings`` builds them from a run's TrainConfig, whose
fields of the same names say what each one means; every field is given there, so no default is repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sspred.heads import Heads


@dataclass(frozen=True)
class LearnerSettings:
    #: The network's output heads, the states head first; several train on a dict of targets.
    heads: Heads
    #: Loss weight of a head, by name; 1.0 for a head not named.
    head_weights: dict[str, float]
    #: A name of sspred.names.OPTIMIZERS, its step size and (sgd) momentum.
    optimizer: str
    lr: float
    momentum: float
    #: Seed of the training noise before the first epoch (the fit loop reseeds each epoch).
    seed: int
    #: "float32" or "float64".
    dtype: str
    #: Penalties on the weight matrices, noise in training, and label smoothing.
    l2: float
    l1: float
    input_noise: float
    weight_noise: float
    smoothing: float
