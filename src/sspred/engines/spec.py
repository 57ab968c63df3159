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
def hopfield_dims(spec: dict) -> tuple[int, int, int, int, float, bool]:
    """(in, patterns, dim, out, beta, residual) of a hopfield spec, with the defaults filled in."""
    d, m, k = int(spec["in"]), int(spec["patterns"]), int(spec["dim"])
    out = int(spec.get("out", d))
    beta = float(spec.get("beta", 1.0 / np.sqrt(k)))
    residual = bool(spec.get("residual", False))
    if residual and out != d:
        raise ValueError(f"a residual hopfield layer needs out == in, got in={d}, out={out}")
    return d, m, k, out, beta, residual


def hopfield_init(spec: dict, rng: np.random.Generator, dtype) -> tuple[dict, dict]:
    """Wq keeps the query's scale that of the input (LeCun); unit-variance keys then give scores
    beta * q.k of order 1 at beta = 1/sqrt(k), so the softmax starts neither flat nor one-hot."""
    d, m, k, out, _, _ = hopfield_dims(spec)
    return {"Wq": (rng.standard_normal((d, k)) / np.sqrt(d)).astype(dtype),
            "K": rng.standard_normal((m, k)).astype(dtype),
            "V": rng.standard_normal((m, out)).astype(dtype)}, {}


INITIALIZERS = {"linear": linear_init, "batchnorm": batchnorm_init, "hopfield": hopfield_init}


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
