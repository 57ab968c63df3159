"""Engines that run the networks: NumPy (always available) and PyTorch (optional extra).

Engines are looked up by name and imported only when chosen, so the core
install and ``sspred predict`` never import torch.
"""

from __future__ import annotations

from sspred.errors import InputError
from sspred.extras import require

#: Learner class per engine name, as "module:attribute" (imported on first use).
ENGINES = {
    "numpy": "sspred.engines.numpy.learner:NumpyLearner",
    "torch": "sspred.engines.torch.learner:TorchLearner",
}


def learner_class(name: str):
    """The learner class of engine ``name``; an InputError when unknown, MissingExtra when torch is not installed."""
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    module, attr = ENGINES[name].split(":")
    # torch is the only optional package an engine needs; a missing one names the extra that installs it.
    return getattr(require(module, "torch", f"the {name} engine"), attr)
