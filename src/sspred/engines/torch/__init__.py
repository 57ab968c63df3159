"""The PyTorch engine: the same networks as the NumPy engine, built from the same layer list.

Parameters carry the same names (``layers.{i}.W`` of shape (in, out), ...), so
a model file written by either engine loads in the other. Only this package
imports torch.
"""

from sspred.engines.torch.learner import TorchLearner
from sspred.engines.torch.network import TorchNetwork

__all__ = ["TorchLearner", "TorchNetwork"]
