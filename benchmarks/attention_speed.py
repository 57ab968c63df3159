"""Speed of one chain_attention forward pass in the NumPy engine, against a conv layer of the same width.

A 128-channel block with 4 heads of dim 32 (ALiBi, residual) runs over about 100k residues in chains
whose lengths are drawn log-normal with median 250 (sigma 0.6, clipped to 20..2000: roughly the spread
of PDB chains), laid out as the trainer lays them (sspred.layout, gap rows between chains), in float32,
evaluation mode. For scale, the same rows go through one 128 -> 128 conv layer of kernel 3, the unit
the default conv trunk is built of. Prints one JSON line per layer: residues/s (best of --repeats).

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/attention_speed.py
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/attention_speed.py --stack --residues 30000
    OPENBLAS_NUM_THREADS=1 python benchmarks/run.py attention_speed --out results.json     # both

``--stack`` measures whole prediction instead: a c64k5d5 conv stack (64 channels, kernel 5, dilations 1 to 16) with no
attention and with one block (4 heads x 16), through engines/numpy/conv_infer.predict_conv_chains on its
buffered path (ConvInference) and on the layer-by-layer path, over the same random chains. Measured with
--residues 30000 (96 chains) on the shared 2-core machine under two training runs (very noisy; two of three runs
agreed): buffered 121k-133k residues/s without attention and 39k with one block, i.e. the block costs about
two thirds of the time (ratio 0.30); the layer path 83k-87k and 43k-47k. With attention the two paths are within
the noise of each other: the (H, L, L) scores, the same work in both, dominate.

Measured on the shared 2-core machine (one BLAS thread, NumPy 2.4; noisy): 343 chains, 100,226 residues,
chain_attention about 66,000 residues/s against 354,000 for the conv layer, i.e. one block costs about
as much as five such conv layers. Its cost per residue grows with chain length (the (H, L, L) scores and
their exp are most of it), so long chains pay more; the projections alone are four (N, C) products.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from sspred.config import ConvConfig
from sspred.engines.numpy.conv_infer import inference, predict_conv_chains
from sspred.engines.numpy.network import Network
from sspred.engines.spec import gap, initial_state
from sspred.layout import lay_out

#: Log-normal chain lengths: median 250 residues, sigma 0.6, clipped to 20..2000.
MEDIAN, SIGMA, SHORTEST, LONGEST = 250, 0.6, 20, 2000


def chain_lengths(total: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths drawn until they sum to at least ``total`` residues."""
    lengths: list[int] = []
    while sum(lengths) < total:
        lengths.append(int(np.clip(round(MEDIAN * np.exp(SIGMA * rng.standard_normal())), SHORTEST, LONGEST)))
    return np.array(lengths)


def rate(spec: dict, x: np.ndarray, valid: np.ndarray, residues: int, repeats: int, seed: int) -> float:
    """Residues per second of one forward of the layer ``spec`` over rows ``x`` (N, C), best of ``repeats``."""
    net = Network([spec], dtype=np.float32)
    net.load_params(initial_state([spec], np.random.default_rng(seed), np.float32))
    net.set_valid(valid)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        net.forward(x, train=False)
        best = min(best, time.perf_counter() - start)
    return residues / best


#: The stack of --stack: c64k5d5, the shipped models' conv trunk; its attention block has 4 heads of 16.
STACK: dict[str, Any] = dict(channels=64, kernel=5, dilations=[1, 2, 4, 8, 16], dropout=0.0, attention_heads=4, attention_dim=16)


def stack_rates(lengths: np.ndarray, repeats: int, seed: int) -> list[dict]:
    """Residues/s of predict_conv_chains for the STACK with 0 and 1 attention blocks, buffered and layer by layer
    (best of ``repeats``), over random chains of ``lengths``."""
    rng = np.random.default_rng(seed)
    chains = [rng.integers(0, 20, n).astype(np.uint8) for n in lengths]
    residues, rows = int(lengths.sum()), []
    for blocks in (0, 1):
        specs = ConvConfig(**STACK, attention=blocks).layers()
        net = Network(specs, dtype=np.float32)
        net.load_params(initial_state(specs, np.random.default_rng(seed), np.float32))
        for path, runner in (("buffered", inference(net)), ("layers", None)):
            assert path == "layers" or runner is not None, "the buffered path refused the stack"
            best = np.inf
            for _ in range(repeats):
                start = time.perf_counter()
                predict_conv_chains(net, chains, runner=runner)
                best = min(best, time.perf_counter() - start)
            rows.append({"stack": "c64k5d5", "attention_blocks": blocks, "path": path, "chains": len(chains),
                         "residues": residues, "residues_per_s": round(residues / best)})
    return rows


def layer_rates(residues: int, channels: int, heads: int, dim: int, repeats: int, seed: int) -> list[dict]:
    """Residues/s of one chain_attention block and of one conv layer of the same width, over the same rows."""
    rng = np.random.default_rng(seed)
    attention = {"type": "chain_attention", "in": channels, "heads": heads, "dim": dim, "residual": True}
    conv = {"type": "conv", "in": channels, "out": channels, "kernel": 3, "residual": True}
    lengths = chain_lengths(residues, rng)
    layout = lay_out([np.zeros(n, np.uint8) for n in lengths], gap([conv]))
    x = rng.standard_normal((layout.valid.size, channels)).astype(np.float32)  # (N, C)
    total = int(lengths.sum())
    return [{"layer": name, "spec": spec, "chains": int(lengths.size), "residues": total,
             "median_length": float(np.median(lengths)),
             "residues_per_s": round(rate(spec, x, layout.valid, total, repeats, seed))}
            for name, spec in (("chain_attention", attention), ("conv k3", conv))]


def measure(quick: bool = False, residues: int = 100_000, channels: int = 128, heads: int = 4, dim: int = 32,
            repeats: int = 3, seed: int = 0, layers: bool = True, stack: bool = True) -> dict[str, Any]:
    """The layers' rates and the stack's (each when asked for); ``quick``: 2,000 residues, once."""
    if quick:
        residues, repeats = 2000, 1
    out: dict[str, Any] = {}
    if layers:
        out["layers"] = layer_rates(residues, channels, heads, dim, repeats, seed)
    if stack:
        out["stack"] = stack_rates(chain_lengths(residues, np.random.default_rng(seed)), repeats, seed)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2,000 residues, once (checks that it runs)")
    ap.add_argument("--residues", type=int, default=100_000)
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stack", action="store_true", help="a c64k5d5 stack with and without one attention block")
    args = ap.parse_args()
    result = measure(**{**vars(args), "layers": not args.stack})
    for row in result.get("stack", result.get("layers", [])):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
