"""Acceptance check: `sspred train --engine numpy` and `--engine torch` on the 1988 setup reach the same UCI-test Q3.

The 1988 setup: the Qian & Sejnowski training proteins (10% of chains held out for early stopping),
window 13, 40 sigmoid hidden units, the same seed. Each engine is run through the real CLI and scored
with `sspred evaluate` on the 17 UCI test proteins.

    nice -n 10 python benchmarks/engines_1988.py [--seed 0] [--epochs 30] [--out-dir runs/engines_1988]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path


def sspred(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sspred", *args], capture_output=True, text=True, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--out-dir", type=Path, default=Path("runs/engines_1988"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--torch-threads", default="0", help="--threads for the torch engine (0: torch's default).")
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    extra = ["--data-dir", args.data_dir] if args.data_dir else []
    rows = []
    engine_flags = {"numpy": [], "torch": ["--device", "cpu", "--threads", args.torch_threads]}
    for engine, flags in engine_flags.items():
        model = args.out_dir / f"qs1988_w13_h40_{engine}.npz"
        start = time.perf_counter()
        sspred("train", "--data", "qs1988", "--window", "13", "--hidden", "40", "--activation", "sigmoid",
               "--seed", str(args.seed), "--epochs", str(args.epochs), "--engine", engine, *flags,
               "-o", str(model), "--quiet", *extra)
        seconds = time.perf_counter() - start
        q3 = float(re.search(r"^Q3 ([0-9.]+)$", sspred("evaluate", "--data", "qs1988", "--split", "test",
                                                         "-m", str(model), *extra).stdout, re.M).group(1))
        rows.append((engine, q3, seconds))
        print(f"{engine:6s}  UCI-test Q3 {q3:6.2f}  train {seconds:6.1f}s", flush=True)
    diff = abs(rows[0][1] - rows[1][1])
    print(f"difference {diff:.2f} points ({'within' if diff <= 1 else 'NOT within'} 1 point)")


if __name__ == "__main__":
    main()
