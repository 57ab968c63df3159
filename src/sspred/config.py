"""Typed settings for models and training. CLI flags map one to one onto these fields.

A model is saved as its ``ModelConfig`` plus the explicit layer list it
expands to, so the file alone rebuilds the network in either engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sspred.alphabet import N_UNITS, STATE_SETS
from sspred.engines.spec import conv_dims


class Fields:
    """A config dataclass as plain data: ``to_dict`` for model files and checkpoints, ``from_dict`` back."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        """Rebuild from ``to_dict`` output, ignoring keys this version does not know."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class ModelConfig(Fields):
    #: Residues per input window, odd; 13 is Qian & Sejnowski's best.
    window: int = 13
    #: Hidden layer sizes; [] is the single-layer softmax perceptron.
    hidden: list[int] = field(default_factory=lambda: [40])
    #: Hidden activation: sigmoid (as in 1988), tanh or relu.
    activation: str = "sigmoid"
    #: "3" for H/E/C, "8" for the DSSP states.
    states: str = "3"
    #: Width of a linear layer (no activation) between the window and the first hidden layer;
    #: a low-rank factorisation of the first weight matrix. 0: none.
    bottleneck: int = 0
    #: Inverted-dropout rate (probability of dropping a unit) in training; 0: no dropout layers.
    dropout: float = 0.0
    #: Where dropout acts: 0 is the input window, i the output of hidden layer i; empty: every hidden layer.
    dropout_at: list[int] = field(default_factory=list)
    #: Batch normalisation between each hidden layer's linear map and its activation.
    batchnorm: bool = False

    @property
    def n_inputs(self) -> int:
        return self.window * N_UNITS

    @property
    def n_states(self) -> int:
        return len(STATE_SETS[self.states])

    def layers(self) -> list[dict]:
        """The explicit layer list this config expands to (stored in the model file)."""
        specs, width = [], self.n_inputs
        at = set(self.dropout_at) if self.dropout_at else set(range(1, len(self.hidden) + 1))
        if self.dropout and 0 in at:
            specs.append({"type": "dropout", "rate": self.dropout})
        if self.bottleneck:
            specs.append({"type": "linear", "in": width, "out": self.bottleneck})
            width = self.bottleneck
        for i, size in enumerate(self.hidden, start=1):
            specs.append({"type": "linear", "in": width, "out": size, "init_for": self.activation})
            if self.batchnorm:
                specs.append({"type": "batchnorm", "n": size})
            specs.append({"type": self.activation})
            if self.dropout and i in at:
                specs.append({"type": "dropout", "rate": self.dropout})
            width = size
        specs.append({"type": "linear", "in": width, "out": self.n_states})
        return specs


@dataclass
class ConvConfig(Fields):
    """A stack of 1-D convolutions over whole chains (sspred.layout): a one-hot conv as wide as a
    window network's window, then residual dilated convs that widen what each residue sees."""

    arch: str = "conv"
    #: "3" for H/E/C, "8" for the DSSP states.
    states: str = "3"
    #: Channels of every conv layer.
    channels: int = 128
    #: Kernel of the first conv, over one-hot residues (a window network's window).
    first_kernel: int = 15
    #: Kernel of each residual conv.
    kernel: int = 3
    #: One residual conv per entry, with that dilation.
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    #: Inverted-dropout rate after every conv; 0: no dropout layers.
    dropout: float = 0.2

    @property
    def n_states(self) -> int:
        return len(STATE_SETS[self.states])

    @property
    def window(self) -> int:
        """Residues that can change one output (the receptive field)."""
        return self.first_kernel + sum((self.kernel - 1) * d for d in self.dilations)

    def layers(self) -> list[dict]:
        c = self.channels
        drop = [{"type": "dropout", "rate": self.dropout}] if self.dropout else []
        specs = [{"type": "conv", "in": N_UNITS, "out": c, "kernel": self.first_kernel, "mask": False,
                  "init_for": "relu"}, {"type": "relu"}, *drop]
        for d in self.dilations:
            specs += [{"type": "conv", "in": c, "out": c, "kernel": self.kernel, "dilation": d, "residual": True,
                       "init_for": "relu"}, {"type": "relu"}, *drop]
        specs.append({"type": "linear", "in": c, "out": self.n_states})
        for spec in specs:
            if spec["type"] == "conv":
                conv_dims(spec)  # an even kernel or a bad dilation fails here, before any layer is built
        return specs

    def to_dict(self) -> dict:
        return {**asdict(self), "window": self.window}


@dataclass
class TrainConfig(Fields):
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
    #: L2 penalty eta * 1/2 * sum(W^2) over weight matrices (not biases), added to the loss.
    l2: float = 0.0
    #: L1 penalty eta * sum(|W|) over weight matrices, added to the loss.
    l1: float = 0.0
    #: Std of Gaussian noise added to the one-hot inputs in training (0: none).
    input_noise: float = 0.0
    #: Std of Gaussian noise added to the weight matrices for each training step's forward and backward pass.
    weight_noise: float = 0.0
    #: Label smoothing rho: the true class gets 1 - rho, every other class rho / (K - 1).
    smoothing: float = 0.0
    #: Learning-rate schedule: none, step, cosine or plateau.
    schedule: str = "none"
    #: step: multiply the rate by lr_gamma every lr_step epochs.
    lr_step: int = 10
    #: step and plateau: the factor the rate is multiplied by.
    lr_gamma: float = 0.1
    #: plateau: epochs without a better monitored loss before the rate drops.
    lr_patience: int = 2
    #: cosine: the rate reached at the last epoch.
    lr_min: float = 0.0
    #: Engine: numpy or torch.
    engine: str = "numpy"
