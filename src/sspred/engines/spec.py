"""What both engines share about a layer list: initial weights and which parameters are weights.

The NumPy and torch engines never import each other; both import this module,
so one seed gives the same initial network in either engine.
"""

from __future__ import annotations

import contextlib

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


def conv_dims(spec: dict) -> tuple[int, int, int, int, bool, bool]:
    """(in, out, kernel, dilation, residual, masked) of a conv spec, with the defaults filled in."""
    c_in, c_out, k = int(spec["in"]), int(spec["out"]), int(spec["kernel"])
    d = int(spec.get("dilation", 1))
    residual, masked = bool(spec.get("residual", False)), bool(spec.get("mask", True))
    if k < 1 or k % 2 == 0 or d < 1:
        raise ValueError(f"a conv layer needs an odd kernel and a positive dilation, got kernel={k}, dilation={d}")
    if residual and c_in != c_out:
        raise ValueError(f"a residual conv layer needs out == in, got in={c_in}, out={c_out}")
    return c_in, c_out, k, d, residual, masked


def conv_half(spec: dict) -> int:
    """Positions a conv layer reads on each side of its centre: (kernel // 2) * dilation."""
    _, _, k, d, _, _ = conv_dims(spec)
    return (k // 2) * d


def is_conv(specs: list[dict]) -> bool:
    """True for a layer list that reads whole chains (its first layer is a conv)."""
    return bool(specs) and specs[0]["type"] == "conv"


def gap(specs: list[dict]) -> int:
    """Spacer rows between chains in a layout (sspred.layout): the widest half-width of any conv layer."""
    return max((conv_half(s) for s in specs if s["type"] == "conv"), default=0)


def context(specs: list[dict]) -> int:
    """Residues on each side that can change one output: the sum of the conv half-widths."""
    return sum(conv_half(s) for s in specs if s["type"] == "conv")


#: Layer types whose every output may read the whole chain (unbounded context): a network with one
#: cannot predict a long chain in pieces (engines/numpy/conv_infer.predict_conv_chains).
WHOLE_CHAIN = frozenset({"chain_attention"})


def reads_whole_chain(specs: list[dict]) -> bool:
    """True when some layer of ``specs`` reads the whole chain, so ``context`` bounds nothing."""
    return any(s["type"] in WHOLE_CHAIN for s in specs)


def conv_init(spec: dict, rng: np.random.Generator, dtype) -> tuple[Arrays, Arrays]:
    """A conv layer is a linear map of its window, W of shape (kernel*in, out) position-major, so it
    takes the linear init with fan_in = kernel * in."""
    c_in, c_out, k, _, _, _ = conv_dims(spec)
    return linear_init({"in": k * c_in, "out": c_out, "init_for": spec.get("init_for")}, rng, dtype)


#: ALiBi's slope schedule (Press et al. 2022): head h of H gets m_h = 2^(-ALIBI_BASE * h / H), h = 1..H,
#: a geometric sequence from 2^(-8/H) (a head that looks near) down to 2^-8 (one that sees the whole chain).
ALIBI_BASE = 8.0


def attention_dims(spec: dict) -> tuple[int, int, int, bool, bool]:
    """(in, heads, dim, residual, alibi) of a chain_attention spec, with the defaults filled in."""
    c, h, d = int(spec["in"]), int(spec["heads"]), int(spec["dim"])
    if c < 1 or h < 1 or d < 1:
        raise ValueError(f"a chain_attention layer needs positive in, heads and dim, got in={c}, heads={h}, dim={d}")
    return c, h, d, bool(spec.get("residual", False)), bool(spec.get("alibi", True))


def alibi_slopes(heads: int) -> np.ndarray:
    """(H,) float64: m_h = 2^(-8h/H) for h = 1..H; head h adds -m_h |i - j| to the score of row i reading row j."""
    return 2.0 ** (-ALIBI_BASE * np.arange(1, heads + 1) / heads)


#: Scores (heads x query rows x key rows) one attention block may hold at once. A chain's (H, L, L) scores
#: are computed in blocks of query rows under this bound, so memory grows linearly with the chain (the
#: whole matrix for titin, 34,350 residues and 4 heads, would be 18 GiB in float32). 2^23 keeps chains up to
#: 1,448 residues with 4 heads in one block, i.e. every ordinary chain goes as the unblocked formula did.
ATTENTION_SCORES = 1 << 23


def query_rows(n: int, heads: int, budget: int = ATTENTION_SCORES) -> int:
    """Query rows per attention block for a chain of ``n`` rows and ``heads`` heads: the most whose
    (heads, rows, n) scores fit ``budget`` elements, at least 1 and at most ``n``."""
    return max(1, min(n, budget // max(1, heads * n)))


def attention_init(spec: dict, rng: np.random.Generator, dtype) -> tuple[Arrays, Arrays]:
    """Wq, Wk, Wv (in, heads*dim) and Wo (heads*dim, in), each N(0, 1 / fan_in) (LeCun), drawn in this order.

    Unit-variance inputs then give unit-variance queries and keys, so the scores q.k / sqrt(dim) start
    of order 1 (the softmax neither flat nor one-hot), and the block's output keeps its input's scale."""
    c, h, d, _, _ = attention_dims(spec)
    hd = h * d
    return ({"Wq": (rng.standard_normal((c, hd)) / np.sqrt(c)).astype(dtype),  # (C, H*D)
             "Wk": (rng.standard_normal((c, hd)) / np.sqrt(c)).astype(dtype),  # (C, H*D)
             "Wv": (rng.standard_normal((c, hd)) / np.sqrt(c)).astype(dtype),  # (C, H*D)
             "Wo": (rng.standard_normal((hd, c)) / np.sqrt(hd)).astype(dtype)}, {})  # (H*D, C)


def segments(valid) -> list[tuple[int, int]]:
    """[(start, stop)] of each maximal run of True in ``valid`` (N,) bool (NumPy, or anything ``np.asarray``
    takes): in a layout (sspred.layout) gap rows separate chains, so these runs are the chains."""
    v = np.asarray(valid, dtype=np.int8)  # (N,)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], v, [0]])))  # (2R,): start, stop, start, stop, ...
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


#: Initial (parameters, buffers) of the layer types that have any, keyed by spec type.
INITIALIZERS = {"linear": linear_init, "batchnorm": batchnorm_init, "hopfield": hopfield_init, "conv": conv_init,
                "chain_attention": attention_init}


def set_on_layers(layers, name: str, value) -> None:
    """Set attribute ``name`` on every layer that has one: dropout's random source, conv's valid rows."""
    for layer in layers:
        if hasattr(layer, name):
            setattr(layer, name, value)


@contextlib.contextmanager
def valid_rows(net, valid):
    """For the passes inside the block, ``net``'s conv layers take ``valid`` as its residue rows (either engine)."""
    net.set_valid(valid)
    try:
        yield net
    finally:
        net.set_valid(None)


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
