"""Speed and scale of `sspred predict`: throughput, wall time and peak memory, end to end, file to file.

Generates its own inputs (seeded): a proteome-sized FASTA of 20,000 random sequences
with a human-proteome-like length distribution (about 11M residues) and one chain of
100,000 residues. Reports, in one run so ratios share the machine's load:

* `sspred predict` end to end (a subprocess; peak RSS from wait4) for -m fast and the
  default model, on both inputs;
* the fast path's kernel alone, both back ends;
* the plain forward pass (one-hot windows through Network.forward) and scikit-learn's
  MLPClassifier.predict_proba on materialised one-hot windows (a subsample), as references;
* peak memory against input size (the streaming claim), on files of growing size.

    nice -n 10 python benchmarks/speed.py [--quick] [--repeats 3] [--fast-model PATH] [--default-model PATH]

Built-in models are used when present; otherwise random-weight models of the same shapes
(speed does not depend on the weight values).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import sspred  # noqa: E402
from sspred.alphabet import AMINO_ACIDS  # noqa: E402
from sspred.config import ModelConfig  # noqa: E402
from sspred.engines.numpy import Network  # noqa: E402
from sspred.features import one_hot, windows  # noqa: E402
from sspred.model import BUILTIN, build_header, resolve, save_model  # noqa: E402

#: UniProtKB/Swiss-Prot amino-acid composition (percent), in AMINO_ACIDS order.
COMPOSITION = np.array([8.25, 1.38, 5.46, 6.72, 3.86, 7.07, 2.27, 5.91, 5.80, 9.64,
                        2.41, 4.06, 4.74, 3.93, 5.53, 6.65, 5.36, 6.86, 1.10, 2.92])
#: Log-normal protein lengths: median ~415 and mean ~570, as in the human proteome (~20k proteins, ~11.4M residues).
LENGTH_MU, LENGTH_SIGMA, LENGTH_MIN, LENGTH_MAX = np.log(415.0), 0.80, 30, 35_000
SHAPES = {"fast": ModelConfig(window=13, hidden=[40], activation="sigmoid"),
          "default": ModelConfig(window=19, hidden=[256, 128], activation="relu")}


def write_fasta(path: Path, lengths: np.ndarray, rng: np.random.Generator, line: int = 60) -> int:
    """Random sequences of the given lengths, wrapped at ``line``; returns the residue count."""
    letters = np.frombuffer(AMINO_ACIDS.encode(), np.uint8)
    p = COMPOSITION / COMPOSITION.sum()
    with open(path, "w") as f:
        for i, n in enumerate(lengths):
            seq = letters[rng.choice(20, size=int(n), p=p)].tobytes().decode()
            f.write(f">seq{i:06d} random length {n}\n")
            f.write("\n".join(seq[j:j + line] for j in range(0, len(seq), line)) + "\n")
    return int(lengths.sum())


def proteome_lengths(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.clip(rng.lognormal(LENGTH_MU, LENGTH_SIGMA, n).astype(int), LENGTH_MIN, LENGTH_MAX)


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


def run_predict(args: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Run `sspred predict ARGS` in a subprocess; (wall seconds, peak RSS in MB, user+sys CPU seconds).

    Peak RSS comes from GNU time (%M): a forked child's own ru_maxrss would count the pages it
    shared with this (large) benchmark process before exec.
    """
    cmd = [sys.executable, "-m", "sspred", "predict", *args]
    full_env = {**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})}
    start = time.perf_counter()
    proc = subprocess.run([TIME, "-f", "@@ %M %U %S", *cmd], env=full_env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    kb, user, sys_ = proc.stderr.rsplit("@@", 1)[1].split()
    return wall, int(kb) / 1024.0, float(user) + float(sys_)


def median_of(fn, repeats: int):
    results = [fn() for _ in range(repeats)]
    return [statistics.median(r[i] for r in results) for i in range(len(results[0]))]


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, "
            f"NumPy {np.__version__}; load average at start {os.getloadavg()[0]:.1f}")


def kernel_rates(model, codes: list[np.ndarray], repeats: int) -> dict[str, float]:
    """Residues/s of the fast path alone, per back end, plus wall and CPU time of the numba one."""
    from sspred.engines.numpy.fastpath import FastForward, available_backends

    total = sum(c.size for c in codes)
    rates = {}
    for backend in available_backends():
        ff = FastForward.from_layers(model.layers, model.params, model.window, backend)
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
            model.predict_proba(c)

    t, c = [], []
    for _ in range(repeats):
        s, p = time.perf_counter(), time.process_time()
        plain()
        t.append(time.perf_counter() - s)
        c.append(time.process_time() - p)
    out["plain forward (one-hot chunks)"] = total / statistics.median(t)
    out["plain forward per CPU-second"] = total / statistics.median(c)
    if importlib.util.find_spec("sklearn") is None:  # the references are optional: scikit-learn is a test extra
        return out
    sub, n = [], 0
    for c in codes:
        if n >= sklearn_residues:
            break
        sub.append(c)
        n += c.size
    x = np.concatenate([one_hot(windows(c, model.window)) for c in sub])  # (n, W*21) materialised
    clf = _sklearn_twin(model, x.shape[1])
    t, c = [], []
    for _ in range(repeats):
        s, p = time.perf_counter(), time.process_time()
        clf.predict_proba(x)
        t.append(time.perf_counter() - s)
        c.append(time.process_time() - p)
    out[f"scikit-learn predict_proba ({n:,} residues, windows materialised)"] = n / statistics.median(t)
    out["scikit-learn predict_proba per CPU-second"] = n / statistics.median(c)
    return out


def _sklearn_twin(model, n_in: int):
    """An MLPClassifier carrying the model's weights (so predict_proba does the same arithmetic)."""
    from sklearn.neural_network import MLPClassifier

    linears = [i for i, s in enumerate(model.layers) if s["type"] == "linear"]
    acts = {s["type"] for s in model.layers if s["type"] != "linear"}
    act = {"sigmoid": "logistic", "tanh": "tanh", "relu": "relu"}[acts.pop()] if acts else "identity"
    hidden = tuple(model.layers[i]["out"] for i in linears[:-1])
    k = model.layers[linears[-1]]["out"]
    clf = MLPClassifier(hidden_layer_sizes=hidden, activation=act, max_iter=1)
    rng = np.random.default_rng(0)
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(rng.random((k * 4, n_in)), np.arange(k * 4) % k)
    clf.coefs_ = [model.params[f"layers.{i}.W"].astype(np.float32) for i in linears]
    clf.intercepts_ = [model.params[f"layers.{i}.b"].astype(np.float32) for i in linears]
    return clf


def in_process(models: dict, codes: list[np.ndarray], n: int, args) -> None:
    for name, (path, _) in models.items():
        model = sspred.load(path).model  # the kernels below the front door are what this measures
        rates = kernel_rates(model, codes, args.repeats)
        refs = reference_rates(model, codes if name == "fast" else codes[: len(codes) // 4], args.repeats,
                               args.sklearn_residues if name == "fast" else args.sklearn_residues // 4)
        for k, v in {**rates, **refs}.items():
            print(f"  {name:8s} {k:70s} {v / 1e6:8.2f} M residues/s")
        sk = [v for k, v in refs.items() if k.startswith("scikit")]
        if len(sk) == 2:
            print(f"  {name:8s} per CPU-second: fast path (numba) / scikit-learn: {rates.get('numba per CPU-second', 0) / sk[1]:.1f}x")
        if sk:
            print(f"  {name:8s} fast path (numba, wall) / scikit-learn predict_proba: {rates.get('numba', rates['numpy']) / sk[0]:.1f}x"
                  f"; / plain forward: {rates.get('numba', rates['numpy']) / refs['plain forward (one-hot chunks)']:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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

    work = Path(args.workdir or tempfile.mkdtemp(prefix="sspred-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    print(f"machine: {machine()}")
    proteome, long_fa = work / "proteome.fasta", work / "long.fasta"
    lengths = proteome_lengths(args.sequences, rng)
    n_res = write_fasta(proteome, lengths, rng)
    write_fasta(long_fa, np.array([args.long]), rng)
    print(f"inputs: {proteome} {args.sequences:,} sequences, {n_res:,} residues "
          f"(median length {int(np.median(lengths))}, max {lengths.max()}), {proteome.stat().st_size / 1e6:.1f} MB; "
          f"{long_fa} one chain of {args.long:,}")

    models = {name: model_path(name, getattr(args, f"{name}_model"), work) for name in ("fast", "default")}
    for name, (path, desc) in models.items():
        print(f"model {name}: {desc}")

    # In-process: kernel alone and references, on the first ~1M residues of the proteome.
    from sspred.io.fasta import parse_fasta
    codes, n = [], 0
    for rec in parse_fasta(str(proteome)):
        codes.append(rec.codes)
        n += rec.codes.size
        if n >= 1_000_000:
            break
    print(f"\nin-process throughput on {n:,} residues (median of {args.repeats}; BLAS threads "
          f"{args.blas_threads or 'default'}):")
    import contextlib
    from threadpoolctl import threadpool_limits
    limit = threadpool_limits(args.blas_threads, user_api="blas") if args.blas_threads else contextlib.nullcontext()
    with limit:
        in_process(models if not args.skip_in_process else {}, codes, n, args)
    print(f"\nend to end, file to file (`sspred predict -f {args.format} -o FILE`), median of {args.repeats}:")
    out = work / "out.txt"
    for name, (path, _) in ({} if args.skip_e2e else models).items():
        for label, fa, res in (("proteome", proteome, n_res), ("100k chain", long_fa, args.long)):
            if name == "default" and args.skip_default_e2e and label == "proteome":
                continue
            reps = args.repeats if name == "fast" else args.repeats_default
            wall, rss, cpu = median_of(lambda: run_predict([str(fa), "-m", path, "-f", args.format, "-o", str(out)]), reps)
            print(f"  -m {name:8s} {label:11s} {wall:7.2f} s  {res / wall / 1e6:6.2f} M residues/s  peak RSS {rss:6.0f} MB"
                  f"  CPU {cpu:6.2f} s  (median of {reps}; load average now {os.getloadavg()[0]:.1f})")

    if args.memory_slope:
        print("\npeak memory against input size (-m fast, streaming):")
        for copies in args.memory_slope:
            big = work / f"proteome_x{copies}.fasta"
            with open(big, "wb") as f:
                for _ in range(copies):
                    f.write(proteome.read_bytes())
            wall, rss, cpu = run_predict([str(big), "-m", models["fast"][0], "-f", "fasta", "-o", str(out)])
            print(f"  {big.stat().st_size / 1e6:8.0f} MB input: {wall:6.2f} s, CPU {cpu:6.2f} s, peak RSS {rss:5.0f} MB")
            big.unlink()


if __name__ == "__main__":
    main()
