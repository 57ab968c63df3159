"""Run the speed benchmarks and write their figures, with the machine they ran on, as one JSON file.

    python benchmarks/run.py [NAME ...] --out results.json [--quick]
    python benchmarks/run.py --list

NAME is a module of this folder (all of BENCHMARKS when none is named); each exposes ``measure(quick=False)``,
which returns plain data, and keeps a command line of its own for its other options. ``--quick`` runs each at a
tiny size, to check that it runs and reports real figures (tests/test_benchmarks_runner.py), not to measure.

The file: ``{"machine": {...}, "quick": bool, "results": [{"benchmark", "seconds", "figures"} ...]}``. The machine
is described as the run starts: cores, CPU, memory, load average, Python and NumPy versions, the git commit, the
date. A benchmark whose optional package or data is absent gets ``"skipped"`` and the reason instead of figures.
Timings on a shared machine are noisy: compare ratios from one file.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sspred.errors import InputError, MissingExtra
from sspred.recipes.provenance import source
from sspred.unirep.weights import MissingWeights

#: The benchmarks, in the order they run; each name is a module beside this file.
BENCHMARKS = {
    "speed": "prediction throughput, wall time and peak memory: kernels, references, end to end",
    "model_speed": "several models side by side, end to end",
    "train_speed": "epoch time of the NumPy engine against scikit-learn's MLPClassifier (netsurfp2)",
    "attention_speed": "one chain_attention block against a conv layer; a conv stack with and without one",
    "resource_bounds": "peak memory and wall time on long chains and on many tiny records",
    "load": "sspred serve under concurrent clients, every answer checked",
    "unirep_speed": "where a UniRep mLSTM step's time goes, and the GEMM limit",
}
HERE = Path(__file__).resolve().parent


def git_commit() -> str | None:
    """The checkout's commit, with ``-dirty`` when its tracked files differ from it; None outside git."""
    found = source(HERE)
    return None if found["commit"] is None else found["commit"] + ("-dirty" if found["dirty"] else "")


def machine() -> dict[str, Any]:
    """What the figures depend on besides the code: the hardware, its load, the software, when."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        memory_gib: float | None = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (OSError, ValueError):
        memory_gib = None
    return {"cores": os.cpu_count(), "cpu": cpu, "arch": platform.machine(), "memory_gib": memory_gib,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "numpy": np.__version__, "git_commit": git_commit(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def run_one(name: str, quick: bool) -> dict[str, Any]:
    """One benchmark's entry: its figures and wall seconds, or why it was skipped."""
    start = time.perf_counter()
    try:
        module = importlib.import_module(name)  # a script's own folder comes first in the module search path
        figures = module.measure(quick=quick)
    except (MissingExtra, MissingWeights, InputError) as exc:  # an extra, the UniRep weights or the data sets absent
        return {"benchmark": name, "skipped": str(exc)}
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "sspred":
            raise
        return {"benchmark": name, "skipped": f"needs {exc.name}, which is not installed"}
    return {"benchmark": name, "seconds": round(time.perf_counter() - start, 2), "figures": figures}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    ap.add_argument("--out", type=Path, help="the JSON file written (default: standard output)")
    ap.add_argument("--quick", action="store_true", help="each at a tiny size: checks that it runs")
    ap.add_argument("--list", action="store_true", help="name and describe the benchmarks, and stop")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(f"{name:16s} {what}" for name, what in BENCHMARKS.items()))
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"no benchmark {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")
    report: dict[str, Any] = {"machine": machine(), "quick": args.quick, "results": []}
    for name in args.names or list(BENCHMARKS):
        print(f"{name} ...", file=sys.stderr, flush=True)
        entry = run_one(name, args.quick)
        report["results"].append(entry)
        print(f"{name}: " + (f"skipped ({entry['skipped']})" if "skipped" in entry else f"{entry['seconds']} s"),
              file=sys.stderr, flush=True)
        if args.out:  # written after each benchmark, so a long run stopped part way keeps what it measured
            args.out.write_text(json.dumps(report, indent=1) + "\n")
    if not args.out:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
