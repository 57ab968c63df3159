"""Evaluation metrics and calibration of a trained model on the shared sets.

Prints, per set: Q3 (and Q8 for an 8-state model) pooled and per-chain mean with
95% bootstrap intervals over chains, SOV'99, SOV_refine, ECE, and accuracy at
each .horiz confidence digit. With ``--train-set NAME``, each test set is also
scored on the subset of its chains that share no exact substring (either way,
over 30 residues) with that set's train and valid chains: a crude lower bound on
leakage, not a homology filter (the audit with MMseqs2 is the real one).

    PYTHONPATH=src python benchmarks/evaluation_metrics.py MODEL --sets cb513 ts115 [--train-set dssp8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sspred
from sspred.evaluation import evaluate_model
from sspred.io import datasets

#: Shorter strings are not counted as a shared substring: 30 residues are far beyond chance.
MIN_SHARED = 30


def shares_sequence(chain, train_seqs: list[str]) -> bool:
    s = chain.sequence
    return any(s in t or (len(t) > MIN_SHARED and t in s) for t in train_seqs)


def fmt_ci(r: dict, key: str) -> str:
    ci = r.get("ci", {}).get(key)
    return f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci and ci[0] is not None else ""


def report(name: str, r: dict) -> None:
    line = f"{name:28s} chains {r['chains']:5d}  residues {r['residues']:7d}  "
    if "q8" in r:
        line += f"Q8 {r['q8']:.2f}{fmt_ci(r, 'q8')}  Q8/chain {r['q8_chain_mean']:.2f}  "
    line += (f"Q3 {r['q3']:.2f}{fmt_ci(r, 'q3')}  Q3/chain {r['q3_chain_mean']:.2f}  "
             f"SOV'99 {r['sov99']['overall']:.2f}  SOV_refine {r['sov_refine']['overall']:.2f}  "
             f"ECE {r['calibration']['ece']:.4f}")
    print(line)
    d = r["calibration"]["confidence_digit"]
    print(f"{'':28s} accuracy by confidence digit ({r['calibration']['states']}): " +
          "  ".join(f"{i}:{a:.1f}% (n={n})" for i, (a, n) in enumerate(zip(d["accuracy"], d["count"])) if n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--sets", nargs="+", default=["cb513", "ts115"], help="NAME or NAME:SPLIT")
    ap.add_argument("--train-set", default=None, help="also score chains sharing no sequence with this set's train+valid")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    model = sspred.load(args.model).model
    print(f"model {args.model}: {model.name}, {len(model.state_order)} states, window {model.window}")
    train_seqs = None
    if args.train_set:
        train_seqs = [c.sequence for split in ("train", "valid") for c in datasets.load(args.train_set, split, args.data_dir)]
    for spec in args.sets:
        name, _, split = spec.partition(":")
        chains = datasets.load(name, split or "test", args.data_dir)
        start = time.perf_counter()
        r = evaluate_model(model, chains, rng=np.random.default_rng(args.seed), n_boot=args.bootstrap)
        report(f"{name}/{split or 'test'}", r)
        if train_seqs is not None:
            clean = [c for c in chains if not shares_sequence(c, train_seqs)]
            r = evaluate_model(model, clean, rng=np.random.default_rng(args.seed), n_boot=args.bootstrap)
            report("  without shared sequence", r)
        print(f"{'':28s} ({time.perf_counter() - start:.1f}s)")


if __name__ == "__main__":
    main()
