"""Prediction speed of several model files side by side, end to end (`sspred predict`, FASTA in, a file out).

    nice -n 10 python benchmarks/model_speed.py MODEL [MODEL ...] [--sequences 2000] [--repeats 3] [--format tsv]

One seeded proteome-like FASTA (speed.py's length distribution and composition) is
predicted by each model in turn, `--repeats` times round-robin so every model sees the
same load; the median wall time (process start included) gives residues/s, and the ratio
to the first model is printed beside it (machines are noisy: compare ratios from one run).
The format is horiz by default, as in speed.py; TSV adds every extra head's column
(p_disorder, conservation) and one text row per residue, which costs more than the network.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from speed import machine, proteome_lengths, run_predict, write_fasta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="built-in names or model files")
    ap.add_argument("--sequences", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", default="horiz", help="output format (tsv adds every extra head's column)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "proteome.fasta"
        residues = write_fasta(fasta, proteome_lengths(args.sequences, np.random.default_rng(args.seed)),
                               np.random.default_rng(args.seed + 1))
        print(f"machine: {machine()}")
        print(f"input: {args.sequences} sequences, {residues:,} residues; format {args.format}; "
              f"median of {args.repeats} runs\n")
        walls: dict[str, list[float]] = {m: [] for m in args.models}
        for _ in range(args.repeats):
            for m in args.models:
                walls[m].append(run_predict([str(fasta), "-m", m, "-f", args.format, "-o", str(Path(tmp) / "out")])[0])
        first = None
        print("| model | wall s | residues/s | ratio to the first |")
        print("|---|---:|---:|---:|")
        for m in args.models:
            rate = residues / statistics.median(walls[m])
            first = first or rate
            print(f"| {m} | {statistics.median(walls[m]):.1f} | {rate:,.0f} | {rate / first:.2f} |")


if __name__ == "__main__":
    main()
