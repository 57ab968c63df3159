r"""Does a Hopfield (associative-memory) layer help? Q3 on NEW364 and CB513 against plain MLPs.

Every network reads a 13-residue one-hot window and is trained with the NumPy engine
(sspred.training.fit over NumpyLearner) on the same subsample of netsurfp2's training chains,
with early stopping on a subsample of its validation chains. Compared:

  mlp-h40         window -> linear 40 -> tanh -> linear 3                      (the reference)
  mlp-h55         the same with 55 hidden units: about the hopfield nets' parameter count
  hopfield        window -> linear 40 -> tanh -> hopfield(64 patterns, dim 16, residual) -> linear 3
  hopfield-win    the same, its 64 stored patterns initialised from 64 training windows
  hopfield-plain  the same as hopfield without the residual path: the readout sees only the retrieval

Usage: SSPRED_DATA=../shared/data PYTHONPATH=src nice -n 10 python benchmarks/hopfield_layer.py \
           --train-chains 2500 --valid-chains 300 --epochs 6 [--seed 0] [--variants mlp-h55,hopfield]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from sspred.config import TrainConfig
from sspred.engines.numpy.hopfield import init_from_windows
from sspred.engines.numpy.learner import NumpyLearner
from sspred.engines.numpy.network import n_parameters
from sspred.features import WindowIndex, one_hot
from sspred.io import datasets
from sspred.training import evaluate_split, fit, learner_settings

WINDOW = 13
N_IN = WINDOW * 21
HOP = {"type": "hopfield", "in": 40, "patterns": 64, "dim": 16}


def mlp(hidden: int) -> list[dict]:
    return [{"type": "linear", "in": N_IN, "out": hidden, "init_for": "tanh"}, {"type": "tanh"},
            {"type": "linear", "in": hidden, "out": 3}]


def hopfield(residual: bool) -> list[dict]:
    return [{"type": "linear", "in": N_IN, "out": 40, "init_for": "tanh"}, {"type": "tanh"},
            {**HOP, "residual": residual}, {"type": "linear", "in": 40, "out": 3}]


#: name -> (layer specs, initialise the memory from training windows?)
VARIANTS = {
    "mlp-h40": (mlp(40), False),
    "mlp-h55": (mlp(55), False),
    "hopfield": (hopfield(True), False),
    "hopfield-win": (hopfield(True), True),
    "hopfield-plain": (hopfield(False), False),
}


def subsample(chains, n, seed):
    if n <= 0 or n >= len(chains):
        return chains
    keep = np.random.default_rng(seed).choice(len(chains), size=n, replace=False)
    return [chains[i] for i in sorted(keep)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--train-chains", type=int, default=2000, help="netsurfp2 training chains used (0: all 9712)")
    ap.add_argument("--valid-chains", type=int, default=300, help="validation chains for early stopping (0: all)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--patience", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", default="mlp-h40,mlp-h55,hopfield,hopfield-win",
                    help=f"comma list of: {', '.join(VARIANTS)}")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()

    splits = {s: datasets.load("netsurfp2", s, args.data_dir) for s in ("train", "valid", "test")}
    train = WindowIndex(subsample(splits["train"], args.train_chains, args.seed), WINDOW)
    valid = WindowIndex(subsample(splits["valid"], args.valid_chains, args.seed), WINDOW)
    tests = {"NEW364": WindowIndex(splits["test"], WINDOW),
             "CB513": WindowIndex(datasets.load("cb513", "test", args.data_dir), WINDOW)}
    print(f"train {len(train)} residues, valid {len(valid)}, " +
          ", ".join(f"{k} {len(v)}" for k, v in tests.items()), flush=True)
    cfg = TrainConfig(optimizer="adam", lr=1e-3, batch_size=256, epochs=args.epochs, patience=args.patience,
                      seed=args.seed)
    results = []
    # The fit loop itself, not sspred.train: the Hopfield variants are layer lists no ModelConfig expands to,
    # and hopfield-win seeds the learner's memory from training windows before the first step.
    for name in args.variants.split(","):
        specs, from_windows = VARIANTS[name]
        learner = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(args.seed))
        if from_windows:
            rows = np.random.default_rng(args.seed + 1).choice(len(train), size=HOP["patterns"], replace=False)
            init_from_windows(learner.net, 2, one_hot(train.batch(rows), learner.dtype))
        start = time.perf_counter()
        history = fit(learner, train, valid, cfg,
                      callback=lambda s: print(f"  {name} epoch {s['epoch']}: valid Q3 {s['valid_accuracy']:.2f} "
                                               f"({s['seconds']:.0f}s)", flush=True))
        row = {"model": name, "parameters": n_parameters(specs), "best_epoch": history.best_epoch,
               "epochs_run": len(history.epochs), "train_seconds": round(time.perf_counter() - start, 1),
               "valid_q3": history.epochs[history.best_epoch - 1]["valid_accuracy"]}
        for test_name, idx in tests.items():
            row[test_name] = evaluate_split(learner, idx)[1]
        results.append(row)
        print(json.dumps(row), flush=True)
    print()
    print("| model | parameters | best epoch | valid Q3 | NEW364 Q3 | CB513 Q3 | train s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['model']} | {r['parameters']:,} | {r['best_epoch']}/{r['epochs_run']} | {r['valid_q3']:.2f} | "
              f"{r['NEW364']:.2f} | {r['CB513']:.2f} | {r['train_seconds']:.0f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
