"""What the fit loop asks of a learner: one Protocol that both engines' learners satisfy.

``sspred.training`` trains through this interface alone, so it never imports an engine: the NumPy learner
(``engines.numpy.learner.NumpyLearner``) and the torch one (``engines.torch.learner.TorchLearner``) share no
base class, and a type checker confirms that each has every member below (``tests/test_errors.py`` checks it at
run time too, with ``isinstance`` on this ``runtime_checkable`` protocol).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from sspred.engines.settings import LearnerSettings


@runtime_checkable
class Learner(Protocol):
    """A network, its optimizer and its training noise: what ``sspred.training.fit`` trains.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.engines.numpy.learner import NumpyLearner
    >>> from sspred.config import TrainConfig
    >>> from sspred.training import learner_settings
    >>> cfg = TrainConfig()
    >>> learner = NumpyLearner(cfg.model.layers(), learner_settings(cfg), np.random.default_rng(0))
    >>> isinstance(learner, Learner), learner.engine
    (True, 'numpy')
    """

    #: The engine's name (a key of ``sspred.engines.ENGINES``), as a model file's training entry records it.
    engine: str
    #: This process's rank and the number of processes training together (0 and 1 outside torchrun).
    rank: int
    world: int

    def __init__(self, specs: list[dict], cfg: LearnerSettings, rng: np.random.Generator, **placement: Any) -> None:
        ...

    @staticmethod
    def place(device: str, distributed: bool = False, threads: int = 0) -> dict:
        """The keyword arguments (``placement``) that put a learner on ``device``; a setting this machine cannot
        honour raises DeviceError or ConfigError."""
        ...

    def step(self, codes: Any, y: Any) -> tuple[float, np.ndarray]:
        """Train on one minibatch: (mean loss, (n,) predicted classes of the states head)."""
        ...

    def predict_proba(self, codes: Any) -> np.ndarray:
        """The states head's (n, K) probabilities of a batch's scored rows, in evaluation mode."""
        ...

    def get_params(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer (what a model file stores)."""
        ...

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        ...

    def get_optimizer_state(self) -> dict:
        """The optimizer's state as nested dicts of arrays (what a checkpoint stores)."""
        ...

    def set_optimizer_state(self, state: dict) -> None:
        ...

    def set_lr(self, lr: float) -> None:
        """The step size of the next steps (a schedule sets it each epoch)."""
        ...

    def begin_epoch(self, entropy: list[int]) -> None:
        """Reseed the training noise from ``entropy`` ([seed, epoch]), so a resumed run repeats it."""
        ...

    def replica_spread(self) -> float:
        """Under DDP, the largest difference of any parameter between ranks (the NumPy engine: always 0.0)."""
        ...

    def close(self) -> None:
        """Release what the learner holds outside this process (a process group)."""
        ...
