"""The names a user may type for the parts of a training run: the keys of the tables that implement them.

The config checks a name against these lists, and the engines and the fit loop key their tables by the same
names, so ``sspred.config`` needs nothing from the code that sits above it (the engines, the fit loop). Only
names live here, no code; tests/test_imports.py holds every table's keys equal to its list.
"""

from __future__ import annotations

#: Engines (sspred.engines.ENGINES): numpy always, torch with the optional extra.
ENGINES = ("numpy", "torch")
#: Hidden-layer activations (sspred.engines.numpy.activations.ACTIVATIONS; the torch engine's layer table).
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: Optimizers (OPTIMIZERS of sspred.engines.numpy.optim and sspred.engines.torch.optim).
OPTIMIZERS = ("sgd", "adam")
#: Learning-rate schedules (sspred.schedules.SCHEDULES).
SCHEDULES = ("none", "step", "cosine", "plateau")
