"""sspred: protein secondary-structure prediction with feed-forward neural networks."""

__version__ = "0.1.0"
