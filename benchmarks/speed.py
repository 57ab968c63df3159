"""Speed and scale of `sspred predict`: throughput, wall time and peak memory, end to end, file to file.

Generates its own inputs (seeded): a proteome-sized FASTA of 20,000 random sequences
with a human-proteome-like length distribution (about 11M residues) and one chain of
100,000 residues. Reports, in one run so ratios share the machine's load:

* `sspred predict` end to end (a subprocess; peak RSS from GNU time) for -m fast and the
  default model, on both inputs;
* the fast path's kernel alone, both back ends;
* the plain forward pass (Model.predict_proba_codes) and, for a window network, scikit-learn's
  MLPClassifier.predict_proba on materialised one-hot windows (a subsample), as references;
* peak memory against input size (the streaming claim), on files of growing size.

    nice -n 10 python benchmarks/speed.py [--quick] [--repeats 3] [--fast-model PATH] [--default-model PATH]
    nice -n 10 python benchmarks/run.py speed --out results.json       # the same, beside the machine's description

Built-in models are used when present; otherwise random-weight models of the same shapes
(speed does not depend on the weight values). Prints the figures as JSON; ``measure`` returns them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import sspred
from sspred.config import ModelConfig
from sspred.engines.numpy import Network
from sspred.features import one_hot, windows
from sspred.io.fasta import parse_fasta
from sspred.model import BUILTIN, build_header, resolve, save_model
from sspred.synthetic import proteome_lengths, write_fasta

#: The source folder of the sspred this process imported: the `sspred predict` children run the same code.
SRC = Path(sspred.__file__).resolve().parents[1]
SHAPES = {"fast": ModelConfig(window=13, hidden=[40], activation="sigmoid"),
          "default": ModelConfig(window=19, hidden=[256, 128], activation="relu")}
#: Our activation -> MLPClassifier's name for it.
SKLEARN_ACTIVATIONS = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}
#: Residues of the proteome read for the in-process measurements.
IN_PROCESS_RESIDUES = 1_000_000


def model_path(name: str, explicit: str | None, workdir: Path) -> tuple[str, str]:
    """(path, description): the given file, the built-in, or a random-weight stand-in of the same shape."""
    if explicit:
        return explicit, f"{explicit}"
    if name in BUILTIN and resolve(name).is_file():
        return name, f"built-in '{name}'"
    cfg = SHAPES[name]
    net = Network(cfg.layers(), np.float32, np.random.default_rng(0))
    path = workdir / f"random-{name}.npz"
    save_model(path, build_header(cfg, f"random-{name}"), net.params)
    return str(path), f"random weights, shape of '{name}' (w{cfg.window} h{cfg.hidden} {cfg.activation})"


TIME = "/usr/bin/time"


def run_predict(args: list[str]) -> tuple[float, float, float]:
    """Run `sspred predict ARGS` in a subprocess; (wall seconds, peak RSS in MB, user+sys CPU seconds).

    Peak RSS comes from GNU time (%M): a forked child's own ru_maxrss would count the pages it
    shared with this (large) benchmark process before exec.
    """
    cmd = [sys.executable, "-m", "sspred", "predict", *args]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    proc = subprocess.run([TIME, "-f", "@@ %M %U %S", *cmd], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    kb, user, sys_ = proc.stderr.rsplit("@@", 1)[1].split()
    return wall, int(kb) / 1024.0, float(user) + float(sys_)


def median_of(fn: Callable[[], tuple[float, ...]], repeats: int) -> list[float]:
    results = [fn() for _ in range(repeats)]
    return [statistics.median(r[i] for r in results) for i in range(len(results[0]))]


def kernel_rates(model, codes: list[np.ndarray], repeats: int) -> dict[str, float]:
    """Residues/s of the fast path alone, per back end, wall and per CPU-second; none for a model it cannot run."""
    from sspred.engines.numpy.fastpath import FastForward, NoFastPath, available_backends

    total = sum(c.size for c in codes)
    rates: dict[str, float] = {}
    for backend in available_backends():
        try:
            ff = FastForward.from_layers(model.layers, model.params, model.window, backend)
        except NoFastPath:  # a conv stack: the plain forward below is its only path
            return rates
        ff.predict_many(codes[:2])  # compile / warm up
        walls, cpus = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            ff.predict_many(codes)
            walls.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
        rates[backend] = total / statistics.median(walls)
        rates[f"{backend} per CPU-second"] = total / statistics.median(cpus)
    return rates


def reference_rates(model, codes: list[np.ndarray], repeats: int, sklearn_residues: int) -> dict[str, float]:
    """Plain forward pass and scikit-learn predict_proba on materialised one-hot windows."""
    total = sum(c.size for c in codes)
    out = {}

    def plain():
        for c in codes:
            model.predict_proba_codes(c)

    t, c = [], []
    for _ in range(repeats):
        s, p = time.perf_counter(), time.process_time()
        plain()
        t.append(time.perf_counter() - s)
        c.append(time.process_time() - p)
    out["plain forward"] = total / statistics.median(t)
    out["plain forward per CPU-second"] = total / statistics.median(c)
    if importlib.util.find_spec("sklearn") is None:  # the references are optional: scikit-learn is a test extra
        return out
    if not {s["type"] for s in model.layers} <= set(SKLEARN_ACTIVATIONS) | {"linear"}:
        return out  # not an MLP: MLPClassifier has no twin of it
    sub, n = [], 0
    for chain in codes:
        if n >= sklearn_residues:
            break
        sub.append(chain)
        n += chain.size
    x = np.concatenate([one_hot(windows(chain, model.window)) for chain in sub])  # (n, W*21) materialised
    clf = _sklearn_twin(model, x.shape[1])
    t, c = [], []
    for _ in range(repeats):
        s, p = time.perf_counter(), time.process_time()
        clf.predict_proba(x)
        t.append(time.perf_counter() - s)
        c.append(time.process_time() - p)
    out["scikit-learn residues (windows materialised)"] = n
    out["scikit-learn predict_proba"] = n / statistics.median(t)
    out["scikit-learn predict_proba per CPU-second"] = n / statistics.median(c)
    return out


def _sklearn_twin(model, n_in: int):
    """An MLPClassifier carrying the model's weights (so predict_proba does the same arithmetic)."""
    from sklearn.neural_network import MLPClassifier

    linears = [i for i, s in enumerate(model.layers) if s["type"] == "linear"]
    acts = {s["type"] for s in model.layers if s["type"] != "linear"}
    act = SKLEARN_ACTIVATIONS[acts.pop()] if acts else "identity"
    hidden = tuple(model.layers[i]["out"] for i in linears[:-1])
    k = model.layers[linears[-1]]["out"]
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation=act, max_iter=1)
    rng = np.random.default_rng(0)
    with np.errstate(all="ignore"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(rng.random((k * 4, n_in)), np.arange(k * 4) % k)
    clf.coefs_ = [model.params[f"layers.{i}.W"].astype(np.float32) for i in linears]
    clf.intercepts_ = [model.params[f"layers.{i}.b"].astype(np.float32) for i in linears]
    return clf


def in_process(models: dict[str, tuple[str, str]], codes: list[np.ndarray], repeats: int,
               sklearn_residues: int) -> dict[str, dict[str, int]]:
    """Residues/s of the kernels and the references, per model (the default model on a quarter of the chains)."""
    out = {}
    for name, (path, _) in models.items():
        model = sspred.load(path).model  # the kernels below the front door are what this measures
        rates = kernel_rates(model, codes, repeats)
        refs = reference_rates(model, codes if name == "fast" else codes[: max(1, len(codes) // 4)], repeats,
                               sklearn_residues if name == "fast" else sklearn_residues // 4)
        out[name] = {k: round(v) for k, v in {**rates, **refs}.items()}
    return out


def measure(quick: bool = False, sequences: int = 20_000, long: int = 100_000, repeats: int = 3,
            repeats_default: int = 1, seed: int = 0, format: str = "horiz", fast_model: str | None = None,
            default_model: str | None = None, sklearn_residues: int = 200_000,
            memory_slope: Sequence[int] = (1, 4), workdir: str | None = None, skip_default_e2e: bool = False,
            skip_in_process: bool = False, skip_e2e: bool = False, blas_threads: int = 0) -> dict[str, Any]:
    """Throughput, wall time and peak memory of prediction; ``quick``: 30 sequences, a 2,000-residue chain, once."""
    if quick:
        sequences, long, repeats, repeats_default, sklearn_residues, memory_slope = 30, 2000, 1, 1, 3000, (1,)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="sspred-speed-"))
        work = Path(workdir)
        work.mkdir(parents=True, exist_ok=True)
        return _measure(work, sequences, long, repeats, repeats_default, seed, format, fast_model, default_model,
                        sklearn_residues, memory_slope, skip_default_e2e, skip_in_process, skip_e2e, blas_threads)


def _measure(work: Path, sequences: int, long: int, repeats: int, repeats_default: int, seed: int, format: str,
             fast_model: str | None, default_model: str | None, sklearn_residues: int, memory_slope: Sequence[int],
             skip_default_e2e: bool, skip_in_process: bool, skip_e2e: bool, blas_threads: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    proteome, long_fa = work / "proteome.fasta", work / "long.fasta"
    lengths = proteome_lengths(sequences, rng)
    n_res = write_fasta(proteome, lengths, rng)
    write_fasta(long_fa, np.array([long]), rng)
    result: dict[str, Any] = {"inputs": {"sequences": sequences, "residues": n_res,
                                         "median_length": int(np.median(lengths)), "max_length": int(lengths.max()),
                                         "megabytes": round(proteome.stat().st_size / 1e6, 1), "long_chain": long}}
    models = {"fast": model_path("fast", fast_model, work), "default": model_path("default", default_model, work)}
    result["models"] = {name: desc for name, (_, desc) in models.items()}

    # In-process: kernel alone and references, on the first ~1M residues of the proteome.
    codes, n = [], 0
    for rec in parse_fasta(str(proteome)):
        codes.append(rec.codes)
        n += rec.codes.size
        if n >= IN_PROCESS_RESIDUES:
            break
    if not skip_in_process:
        limit: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if blas_threads:
            from threadpoolctl import threadpool_limits
            limit = threadpool_limits(blas_threads, user_api="blas")
        with limit:
            result["in_process"] = {"residues": n, "repeats": repeats, "blas_threads": blas_threads or "default",
                                    "residues_per_s": in_process(models, codes, repeats, sklearn_residues)}
    out = work / "out.txt"
    rows = []
    for name, (path, _) in ({} if skip_e2e else models).items():
        for label, fa, res in (("proteome", proteome, n_res), ("long chain", long_fa, long)):
            if name == "default" and skip_default_e2e and label == "proteome":
                continue
            reps = repeats if name == "fast" else repeats_default
            wall, rss, cpu = median_of(lambda: run_predict([str(fa), "-m", path, "-f", format, "-o", str(out)]), reps)
            rows.append({"model": name, "input": label, "residues": res, "format": format, "repeats": reps,
                         "seconds": round(wall, 3), "residues_per_s": round(res / wall), "peak_rss_mb": round(rss),
                         "cpu_s": round(cpu, 3), "load_average": round(os.getloadavg()[0], 1)})
    result["end_to_end"] = rows
    slope = []
    for copies in memory_slope:  # peak memory against input size (-m fast, streaming)
        big = work / f"proteome_x{copies}.fasta"
        with open(big, "wb") as f:
            for _ in range(copies):
                f.write(proteome.read_bytes())
        wall, rss, cpu = run_predict([str(big), "-m", models["fast"][0], "-f", "fasta", "-o", str(out)])
        slope.append({"input_mb": round(big.stat().st_size / 1e6, 1), "seconds": round(wall, 3),
                      "cpu_s": round(cpu, 3), "peak_rss_mb": round(rss)})
        big.unlink()
    result["memory_slope"] = slope
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny inputs, one repeat (checks that it runs)")
    ap.add_argument("--sequences", type=int, default=20_000)
    ap.add_argument("--long", type=int, default=100_000, help="length of the single long chain")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--repeats-default", type=int, default=1, help="repeats of the (slow) default model's end-to-end runs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", default="horiz", help="output format of the end-to-end runs")
    ap.add_argument("--fast-model")
    ap.add_argument("--default-model")
    ap.add_argument("--sklearn-residues", type=int, default=200_000)
    ap.add_argument("--memory-slope", type=int, nargs="*", default=[1, 4],
                    help="copies of the proteome file concatenated for the memory-vs-size check")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--skip-default-e2e", action="store_true")
    ap.add_argument("--skip-in-process", action="store_true", help="only the end-to-end runs")
    ap.add_argument("--skip-e2e", action="store_true", help="only the in-process measurements")
    ap.add_argument("--blas-threads", type=int, default=0,
                    help="pin BLAS threads in the in-process section (0: library default)")
    args = ap.parse_args()
    print(json.dumps(measure(**vars(args)), indent=1))


if __name__ == "__main__":
    main()
