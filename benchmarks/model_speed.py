"""Prediction speed of several model files side by side, end to end (`sspred predict`, FASTA in, a file out).

    nice -n 10 python benchmarks/model_speed.py MODEL [MODEL ...] [--sequences 2000] [--repeats 3] [--format tsv]
    nice -n 10 python benchmarks/run.py model_speed --out results.json          # fast, default and accurate

One seeded proteome-like FASTA (sspred.synthetic: the human proteome's length distribution, Swiss-Prot's
composition) is predicted by each model in turn, `--repeats` times round-robin so every model sees the
same load; the median wall time (process start included) gives residues/s, and the ratio
to the first model is given beside it (machines are noisy: compare ratios from one run).
The format is horiz by default, as in speed.py; TSV adds every extra head's column
(p_disorder, conservation) and one text row per residue, which costs more than the network.
Prints the figures as JSON; ``measure`` returns them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import sspred
from sspred.synthetic import proteome_lengths, write_fasta

#: The source folder of the sspred this process imported: the `sspred predict` children run the same code.
SRC = Path(sspred.__file__).resolve().parents[1]
#: Models compared when none are named.
MODELS = ("fast", "default", "accurate")


def predict_seconds(args: list[str]) -> float:
    """Wall seconds of `sspred predict ARGS` in a subprocess, process start included."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sspred", "predict", *args], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        raise RuntimeError(f"sspred predict {' '.join(args)} failed:\n{proc.stderr}")
    return time.perf_counter() - start


def measure(quick: bool = False, models: Sequence[str] = MODELS, sequences: int = 2000, repeats: int = 3,
            seed: int = 0, format: str = "horiz") -> dict[str, Any]:
    """Residues/s of each model, end to end; ``quick``: -m fast alone on 20 sequences, once."""
    if quick:
        models, sequences, repeats = ("fast",), 20, 1
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "proteome.fasta"
        residues = write_fasta(fasta, proteome_lengths(sequences, np.random.default_rng(seed)),
                               np.random.default_rng(seed + 1))
        walls: dict[str, list[float]] = {m: [] for m in models}
        for _ in range(repeats):
            for m in models:
                walls[m].append(predict_seconds([str(fasta), "-m", m, "-f", format, "-o", str(Path(tmp) / "out")]))
    rows = []
    for m in models:
        seconds = statistics.median(walls[m])
        rows.append({"model": m, "seconds": round(seconds, 3), "residues_per_s": round(residues / seconds),
                     "ratio_to_first": round(statistics.median(walls[models[0]]) / seconds, 3)})
    return {"sequences": sequences, "residues": residues, "format": format, "repeats": repeats, "models": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", default=list(MODELS), help="built-in names or model files")
    ap.add_argument("--quick", action="store_true", help="-m fast on 20 sequences, once (checks that it runs)")
    ap.add_argument("--sequences", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", default="horiz", help="output format (tsv adds every extra head's column)")
    print(json.dumps(measure(**vars(ap.parse_args())), indent=1))


if __name__ == "__main__":
    main()
