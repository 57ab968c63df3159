"""sspred: protein secondary-structure prediction with feed-forward neural networks.

>>> import sspred
>>> p = sspred.load("fast")
>>> pr = p.predict("MKTAYIAKQRQISFVKSHFSRQ")[0]
>>> pr.states
'CCCHHHHHCCCCHHHHCCCCCC'
>>> pr.probabilities.round(2)[2]
array([0.55, 0.29, 0.15], dtype=float32)

``import sspred`` stays fast: the public names below are imported from their
modules on first use (PEP 562), so importing the package loads no model code,
and never torch, numba, pandas or matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sspred.errors import (ConfigError, DeviceError, InputError, MissingExtra, ModelFileError, OutputError,
                           SspredError, ToolError, TrainingDiverged, WeightsError)

if TYPE_CHECKING:
    # What type checkers and IDEs see of the lazily loaded names below; at run time these lines do not run.
    # `name as name` marks a re-export (PEP 484).
    # In the order of _LAZY below, which the API reference follows.
    from sspred.predict.api import load as load, Predictor as Predictor, Prediction as Prediction, write as write
    from sspred.model import Model as Model
    from sspred.training import train as train
    from sspred.io.find import load_data as load_data
    from sspred.config import TrainConfig as TrainConfig, ModelConfig as ModelConfig, ConvConfig as ConvConfig
    from sspred.evaluation import evaluate as evaluate, Scores as Scores

from sspred.version import __version__

#: Public name -> the module that defines it, imported when the name is first used.
_LAZY = {
    # prediction (sspred.predict.api)
    "load": "sspred.predict.api",
    "Predictor": "sspred.predict.api",
    "Prediction": "sspred.predict.api",
    "write": "sspred.predict.api",
    "Model": "sspred.model",
    # training and evaluation (sspred.training, sspred.config, sspred.evaluation)
    "train": "sspred.training",
    "load_data": "sspred.io.find",
    "TrainConfig": "sspred.config",
    "ModelConfig": "sspred.config",
    "ConvConfig": "sspred.config",
    "evaluate": "sspred.evaluation",
    "Scores": "sspred.evaluation",
}

#: The error family (sspred.errors) is imported eagerly: it is small and imports nothing.
__all__ = ["SspredError", "InputError", "ModelFileError", "ConfigError", "WeightsError", "MissingExtra", "DeviceError",
           "TrainingDiverged", "OutputError", "ToolError", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public names only: not this module's own imports (annotations, importlib) or dunders.
    return sorted(__all__)
