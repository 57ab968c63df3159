"""Engines that run the networks: NumPy (always available) and PyTorch (optional extra).

Engines are looked up by name and imported only when chosen, so the core
install and ``sspred predict`` never import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sspred.errors import ConfigError
from sspred.extras import require

if TYPE_CHECKING:
    from sspred.engines.learner import Learner

#: Learner class per engine name, as "module:attribute" (imported on first use).
ENGINES = {
    "numpy": "sspred.engines.numpy.learner:NumpyLearner",
    "torch": "sspred.engines.torch.learner:TorchLearner",
}


def learner_class(name: str) -> type[Learner]:
    """The learner class of engine ``name``.

    Parameters
    ----------
    name : str
        A key of ``ENGINES``: "numpy" or "torch".

    Returns
    -------
    type[Learner]
        The engine's learner class (it satisfies ``sspred.engines.learner.Learner``).

    Raises
    ------
    ConfigError
        When no engine has that name (field ``engine``).
    MissingExtra
        When the engine's packages (torch) are not installed.

    Examples
    --------
    >>> learner_class("numpy").engine
    'numpy'
    """
    if name not in ENGINES:
        raise ConfigError("engine", f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    module, attr = ENGINES[name].split(":")
    # Only the torch engine has packages of its own (the "torch" extra); NumPy is always installed.
    return getattr(require(module, "torch", f"the {name} engine"), attr)
