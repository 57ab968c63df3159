"""The NumPy engine: layers with hand-written backpropagation, losses and optimizers."""

from sspred.engines.numpy.network import Network

__all__ = ["Network"]
