"""UniRep mLSTM speed on the CPU: many chains and one long chain, idle and beside busy processes, this tree's
code against a baseline revision's in the same run (the machine may be shared: compare the ratios).

    PYTHONPATH=src python benchmarks/unirep_speed.py profile               # where a step's time goes
    PYTHONPATH=src python benchmarks/unirep_speed.py compare [--baseline REV] [--chains 400] [--long 10000]
        [--load 4] [--cases many,long,long-load]
    python benchmarks/run.py unirep_speed --out results.json      # profile, beside the machine's description

``compare`` runs ``sspred predict FASTA -m unirep -f ss2`` (process start-up included, NumPy engine) with the
baseline's src (``git archive REV src``) and with this tree's, one after the other for each case: the first
``--chains`` netsurfp2 validation chains, and one chain of ``--long``
residues (the validation chains joined, cut to length), idle and with ``--load`` busy-looping Python processes
that the script starts and stops. It prints one JSON line per run (seconds, residues/s, peak memory) and says
whether the two trees' .ss2 files are byte-equal. ``profile`` times each operation of one step at several
batch sizes with one BLAS thread, the float32 GEMM rate here, so the mLSTM's share of the GEMM limit shows,
and the cost of the two barrier waits a step shared by two workers makes; ``measure`` returns its figures to
benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import sspred
from sspred.extras import require
from sspred.io import datasets

#: The checkout whose history holds the baseline revision.
ROOT = Path(__file__).resolve().parent.parent
#: The source folder of the sspred this process imported: the tree measured against the baseline.
SRC = Path(sspred.__file__).resolve().parents[1]
#: The revision before the running batch: the padded-group NumPy mLSTM.
BASELINE = "26c1ab2"
#: Multiply-adds of one residue's step at 1900 units, counted as 2 FLOP each: h Wmh and m Wh.
FLOP_PER_RESIDUE = 2 * (1900 * 1900 + 1900 * 4 * 1900)


def baseline_src(rev: str, into: Path) -> Path:
    """The ``src`` folder of revision ``rev``, unpacked under ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "src.tar"
    with open(tar, "wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], stdout=fh, check=True)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")
    return into / "src"


def timed(cmd: list[str], src: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MB of a child process run with ``src`` first on PYTHONPATH. The peak is
    the child's VmHWM, read every 50 ms: its ru_maxrss would start at this process's peak."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    peak_kb = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError):  # exiting, or not yet a process of its own
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{cmd} exited {proc.returncode}")
    return seconds, peak_kb / 1024


def busy(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


def compare(args) -> None:
    chains = datasets.load("netsurfp2", "valid", datasets.data_dir(None))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        trees = {"baseline": baseline_src(args.baseline, tmp / "base"), "new": Path(args.new)}
        many = tmp / "many.fasta"
        many.write_text("".join(f">{c.id}\n{c.sequence}\n" for c in chains[:args.chains]))
        joined = "".join(c.sequence for c in chains)
        long = tmp / "long.fasta"
        long.write_text(f">long\n{joined[:args.long]}\n")
        residues = {"many": sum(c.codes.size for c in chains[:args.chains]), "long": args.long}
        for case in args.cases.split(","):
            fasta = many if case == "many" else long
            load = busy(args.load) if case.endswith("-load") else []
            try:
                outs = {}
                for tree, src in trees.items():
                    outs[tree] = tmp / f"{case}-{tree}.ss2"
                    cmd = [sys.executable, "-m", "sspred", "predict", str(fasta), "-m", "unirep", "-f", "ss2", "-o",
                           str(outs[tree])]
                    seconds, mb = timed(cmd, src)
                    n = residues[case.split("-")[0]]
                    print(json.dumps({"case": case, "tree": tree, "busy_processes": len(load),
                                      "load_average_1min": round(os.getloadavg()[0], 1), "residues": n,
                                      "seconds": round(seconds, 2), "residues_per_s": round(n / seconds),
                                      "peak_mb": round(mb)}), flush=True)
            finally:
                stop(load)
            a, b = (outs[t].read_text().splitlines() for t in ("baseline", "new"))
            differ = [(x, y) for x, y in zip(a, b) if x != y]
            # .ss2 rows: index, residue, state, then three probabilities to 3 decimals.
            largest = max((abs(float(u) - float(v)) for x, y in differ for u, v in zip(x.split()[3:], y.split()[3:])),
                          default=0.0)
            print(json.dumps({"case": case, "ss2_lines": len(a), "lines_differing": len(differ) + abs(len(a) - len(b)),
                              "states_differing": sum(x.split()[2] != y.split()[2] for x, y in differ),
                              "largest_probability_difference": round(largest, 3)}), flush=True)


def profile(batches: Sequence[int]) -> list[dict[str, Any]]:
    """The GEMM rate at one and two BLAS threads, a barrier wait on two threads, then each step operation's
    share at each batch size."""
    threadpool_limits = require("threadpoolctl", "serve", "benchmarks/unirep_speed.py").threadpool_limits

    from sspred.engines.numpy.mlstm import _sigmoid_, _Tables
    from sspred.unirep import weights as uw

    rows: list[dict[str, Any]] = []
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    for threads in (1, 2):
        with threadpool_limits(threads, "blas"):
            a @ a
            start = time.perf_counter()
            for _ in range(5):
                a @ a  # (2048, 2048) @ (2048, 2048)
            rate = 5 * 2 * 2048 ** 3 / (time.perf_counter() - start)
        rows.append({"gemm_2048_threads": threads, "gflop_per_s": round(rate / 1e9, 1),
                     "residues_per_s_limit": round(rate / FLOP_PER_RESIDUE)})
    # A shared step (one long chain on two workers) waits twice: time those waits alone, on two threads.
    waits = 20_000
    barrier = threading.Barrier(2)

    def wait_all() -> None:
        for _ in range(waits):
            barrier.wait()

    helper = threading.Thread(target=wait_all)
    start = time.perf_counter()
    helper.start()
    wait_all()
    helper.join()
    wait = (time.perf_counter() - start) / waits
    rows.append({"barrier_wait_us_two_threads": round(wait * 1e6, 1),
                 "seconds_for_35000_steps_of_two_waits": round(35_000 * 2 * wait, 2)})
    w = uw.load(1900)
    t = _Tables(w.cells[0], w.embedding)
    table = t.table
    assert table is not None, "the first cell's input is a token: it has the token table"
    units = t.units
    rng = np.random.default_rng(0)
    for b in batches:
        xin, m = np.empty((b, 5 * units), np.float32), np.empty((b, units), np.float32)
        z = np.empty((b, 4 * units), np.float32)
        h, c = rng.random((b, units), dtype=np.float32), rng.random((b, units), dtype=np.float32)
        tok = rng.integers(1, 24, b)
        out16 = np.empty((b * 20 + 1, units), np.float16)
        row = rng.permutation(b * 20)[:b]

        def gates() -> None:
            z.fill(0.1)  # the same inputs every time
            _sigmoid_(z[:, :3 * units])
            np.tanh(z[:, 3 * units:], out=z[:, 3 * units:])

        def update() -> None:
            c2 = c * 0.5
            c2 *= z[:, units:2 * units]
            np.tanh(c2, out=h)
            h.__imul__(z[:, 2 * units:3 * units])

        ops = {"token tables (gather)": lambda: np.take(table, tok, axis=0, out=xin, mode="clip"),
               "h Wmh": lambda: np.matmul(h, t.wmh, out=m),
               "m Wh": lambda: np.matmul(m, t.wh, out=z),
               "m *= xm, z += xw": lambda: (np.multiply(m, xin[:, :units], out=m),
                                            np.add(z, xin[:, units:], out=z)),
               "gates (sigmoid, tanh)": gates, "c, h update": update,
               "states to float16 rows": lambda: out16.__setitem__(row, h)}
        times = {}
        # The same buffers are updated again and again, so values may overflow; only the time counts here.
        with threadpool_limits(1, "blas"), np.errstate(all="ignore"):
            for name, op in ops.items():
                op()
                reps = max(3, 400 // b)
                start = time.perf_counter()
                for _ in range(reps):
                    op()
                times[name] = (time.perf_counter() - start) / reps
        step = sum(times.values())
        rows.append({"batch": b, "ms_per_step": round(step * 1e3, 2), "residues_per_s_one_thread": round(b / step),
                     "share": {k: round(v / step, 3) for k, v in times.items()}})
    return rows


def measure(quick: bool = False, batch: Sequence[int] = (1, 16, 64, 128, 256)) -> dict[str, Any]:
    """``profile``'s figures; ``quick``: batches of 1 and 8."""
    return {"profile": profile((1, 8) if quick else batch)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--baseline", default=BASELINE)
    c.add_argument("--new", default=str(SRC), help="the src folder to measure against the baseline")
    c.add_argument("--chains", type=int, default=400)
    c.add_argument("--long", type=int, default=10_000)
    c.add_argument("--load", type=int, default=4, help="busy-looping processes beside the *-load cases")
    c.add_argument("--cases", default="many,long,long-load")
    f = sub.add_parser("profile")
    f.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64, 128, 256])
    args = p.parse_args()
    if args.cmd == "compare":
        compare(args)
    else:
        for row in profile(args.batch):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
