"""Typed settings for models and training. CLI flags map one to one onto these fields.

A model is saved as its ``ModelConfig`` plus the explicit layer list it
expands to, so the file alone rebuilds the network in either engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sspred.alphabet import N_UNITS, STATE_SETS


@dataclass
class ModelConfig:
    #: Residues per input window, odd; 13 is Qian & Sejnowski's best.
    window: int = 13
    #: Hidden layer sizes; [] is the single-layer softmax perceptron.
    hidden: list[int] = field(default_factory=lambda: [40])
    #: Hidden activation: sigmoid (as in 1988), tanh or relu.
    activation: str = "sigmoid"
    #: "3" for H/E/C, "8" for the DSSP states.
    states: str = "3"

    @property
    def n_inputs(self) -> int:
        return self.window * N_UNITS

    @property
    def n_states(self) -> int:
        return len(STATE_SETS[self.states])

    def layers(self) -> list[dict]:
        """The explicit layer list this config expands to (stored in the model file)."""
        specs, width = [], self.n_inputs
        for size in self.hidden:
            specs.append({"type": "linear", "in": width, "out": size, "init_for": self.activation})
            specs.append({"type": self.activation})
            width = size
        specs.append({"type": "linear", "in": width, "out": self.n_states})
        return specs

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainConfig:
    #: Optimizer name: "adam" or "sgd".
    optimizer: str = "adam"
    #: Step size; 1e-3 is Adam's usual default.
    lr: float = 1e-3
    #: SGD momentum (ignored by Adam).
    momentum: float = 0.9
    #: Windows per minibatch.
    batch_size: int = 256
    #: Maximum passes over the training windows.
    epochs: int = 30
    #: Epochs without a better validation loss before stopping; 0 disables early stopping.
    patience: int = 5
    #: Seed of initial weights and of each epoch's shuffle.
    seed: int = 0
    #: "float32" for training, "float64" for checks.
    dtype: str = "float32"

    def to_dict(self) -> dict:
        return asdict(self)
