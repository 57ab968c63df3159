"""What both engines share about a layer list: initial weights and which parameters are weights.

The NumPy and torch engines never import each other; both import this module,
so one seed gives the same initial network in either engine.
"""

from __future__ import annotations

import numpy as np

#: Init gain per following activation: variance of W is gain / fan_in
#: (He et al. 2015 for ReLU; LeCun 1998 for the saturating ones).
INIT_GAIN = {"relu": 2.0, "tanh": 1.0, "sigmoid": 1.0, None: 1.0}

#: Name of the matrices that L1/L2 and weight noise act on; biases and batch-norm gamma/beta are left alone.
WEIGHT_NAME = "W"


Arrays = dict[str, np.ndarray]


def linear_init(spec: dict, rng: np.random.Generator, dtype) -> tuple[Arrays, Arrays]:
    """W ~ N(0, gain / fan_in) of shape (in, out) and b = 0, drawn in this order from ``rng``; no buffers."""
    fan_in, fan_out = spec["in"], spec["out"]
    std = np.sqrt(INIT_GAIN[spec.get("init_for")] / fan_in)
    return ({"W": (rng.standard_normal((fan_in, fan_out)) * std).astype(dtype),
             "b": np.zeros(fan_out, dtype=dtype)}, {})


def batchnorm_init(spec: dict, rng: np.random.Generator, dtype) -> tuple[Arrays, Arrays]:
    """gamma = 1, beta = 0 (learned); running mean 0 and variance 1 (buffers: not learned, saved with the model)."""
    n = spec["n"]
    return ({"gamma": np.ones(n, dtype), "beta": np.zeros(n, dtype)},
            {"running_mean": np.zeros(n, dtype), "running_var": np.ones(n, dtype)})


#: Initial (parameters, buffers) of the layer types that have any, keyed by spec type.
INITIALIZERS = {"linear": linear_init, "batchnorm": batchnorm_init}


def is_weight(name: str) -> bool:
    """True for a flat parameter name ``layers.{i}.W``."""
    return name.rsplit(".", 1)[-1] == WEIGHT_NAME


def initial_state(specs: list[dict], rng: np.random.Generator, dtype) -> dict[str, np.ndarray]:
    """Every parameter and buffer of a fresh network, named ``layers.{i}.{name}``, drawn layer by layer."""
    out = {}
    for i, spec in enumerate(specs):
        if spec["type"] in INITIALIZERS:
            params, buffers = INITIALIZERS[spec["type"]](spec, rng, dtype)
            out.update({f"layers.{i}.{k}": v for k, v in {**params, **buffers}.items()})
    return out
