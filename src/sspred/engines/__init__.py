"""Engines that run the networks: NumPy (always available) and PyTorch (optional extra).

Engines are looked up by name and imported only when chosen, so the core
install and ``sspred predict`` never import torch.
"""

from __future__ import annotations

import importlib

from sspred.errors import InputError

#: Learner class per engine name, as "module:attribute" (imported on first use).
ENGINES = {
    "numpy": "sspred.engines.numpy.learner:NumpyLearner",
    "torch": "sspred.engines.torch.learner:TorchLearner",
}


def learner_class(name: str):
    """The learner class of engine ``name``; an InputError when unknown or when torch is not installed."""
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    module, attr = ENGINES[name].split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        if exc.name == "torch":
            raise InputError("the torch engine needs PyTorch: pip install 'sspred[torch]'") from None
        raise
