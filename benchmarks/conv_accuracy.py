r"""Conv networks over whole chains (sspred.layout) for the accuracy issue: train on GPU, pick on validation.

Every candidate trains on netsurfp2's training split with the leak list removed (every chain with a
homolog in CB513, TS115, NEW364 or Test2016 at 25% identity: sspred.splits.known_leaks), and is
selected on netsurfp2's validation split with the same filter. Test sets are not read here.

  train   one candidate and seed -> a model file and its history (JSON)
  sweep   every (candidate, seed) of --jobs as parallel processes on one GPU, into --out
  select  (CPU, NumPy engine) validation Q3 and prediction speed of every model file in --out, then a
          greedy ensemble on validation: the member that most raises the average's Q3, --members times

Usage (GPU machine):  PYTHONPATH=src python benchmarks/conv_accuracy.py sweep --data-dir DIR --out OUT \
                          --jobs c128d4:0,c96d4:0 --epochs 25 --minutes 6
      (any machine):  OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/conv_accuracy.py select --out OUT
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sspred.config import ConvConfig, TrainConfig
from sspred.engines.numpy.network import n_parameters
from sspred.engines.spec import gap
from sspred.io import datasets
from sspred.layout import ChainIndex
from sspred.model import build_header, save_model
from sspred.splits import without_leaks

#: Candidates: name -> ConvConfig fields.
CANDIDATES = {
    "c64d4": dict(channels=64, kernel=3, dilations=[1, 2, 4, 8]),
    "c64k5d4": dict(channels=64, kernel=5, dilations=[1, 2, 4, 8]),
    "c64d5": dict(channels=64, kernel=3, dilations=[1, 2, 4, 8, 16]),
    "c96d4": dict(channels=96, kernel=3, dilations=[1, 2, 4, 8]),
    "c128d4": dict(channels=128, kernel=3, dilations=[1, 2, 4, 8]),
    "c128d5": dict(channels=128, kernel=3, dilations=[1, 2, 4, 8, 16]),
    "c128k5d4": dict(channels=128, kernel=5, dilations=[1, 2, 4, 8]),
    "c256d4": dict(channels=256, kernel=3, dilations=[1, 2, 4, 8]),
    "c64k5d5": dict(channels=64, kernel=5, dilations=[1, 2, 4, 8, 16]),
    "c64k5d6": dict(channels=64, kernel=5, dilations=[1, 2, 4, 8, 16, 32]),
    "c96k5d5": dict(channels=96, kernel=5, dilations=[1, 2, 4, 8, 16]),
    "c128k5d5": dict(channels=128, kernel=5, dilations=[1, 2, 4, 8, 16]),
}


class OutOfTime(Exception):
    pass


def filtered(data_dir: str, split: str):
    chains = datasets.load("netsurfp2", split, data_dir)
    return without_leaks(chains), len(chains)


def train_one(args) -> None:
    # The fit loop itself, not sspred.train: a wall-clock deadline ends the run after any epoch and keeps the
    # best weights seen so far, read from the learner in the epoch callback; train runs all epochs (or stops early).
    import torch

    from sspred.engines.torch.learner import TorchLearner
    from sspred.training import fit, learner_settings

    torch.set_num_threads(1)
    mcfg = ConvConfig(**CANDIDATES[args.candidate], dropout=args.dropout)
    specs = mcfg.layers()
    train, n_train = filtered(args.data_dir, "train")
    valid, n_valid = filtered(args.data_dir, "valid")
    cfg = TrainConfig(optimizer="adam", lr=args.lr, batch_size=args.batch_chains, epochs=args.epochs,
                      patience=args.epochs, seed=args.seed, schedule="cosine", lr_min=args.lr / 100,
                      smoothing=args.smoothing, engine="torch")
    learner = TorchLearner(specs, learner_settings(cfg), np.random.default_rng(args.seed), device=args.device)
    tr, va = ChainIndex(train, gap(specs)), ChainIndex(valid, gap(specs))
    deadline = time.time() + 60 * args.minutes
    best = {"loss": np.inf, "params": None, "epoch": 0}
    log = []

    def on_epoch(stats):
        log.append(stats)
        print(args.candidate, args.seed, json.dumps(stats), flush=True)
        if stats["valid_loss"] < best["loss"]:
            best.update(loss=stats["valid_loss"], params=learner.get_params(), epoch=stats["epoch"])
        if time.time() > deadline:
            raise OutOfTime

    start = time.time()
    try:
        fit(learner, tr, va, cfg, callback=on_epoch)
    except OutOfTime:
        pass
    learner.set_params(best["params"])
    name = f"conv-{args.candidate}-s{args.seed}"
    training = {"data": "netsurfp2 train", "chains": len(train), "chains_before_filter": n_train,
                "leak_filter": "sspred.splits.known_leaks() (cb513, ts115, netsurfp2/test, dssp8/Test2016)",
                "valid_chains": len(valid), "train_config": cfg.to_dict(), "best_epoch": best["epoch"],
                "epochs_run": len(log), "seconds": round(time.time() - start, 1), "device": args.device}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_model(out / f"{name}.npz", build_header(mcfg, name, specs, training=training), best["params"])
    (out / f"{name}.json").write_text(json.dumps({"name": name, "candidate": args.candidate, "seed": args.seed,
                                                  "parameters": n_parameters(specs), "window": mcfg.window,
                                                  "best_valid_q3": max(s["valid_accuracy"] for s in log),
                                                  "history": log, **training}, indent=1))


def sweep(args) -> None:
    procs = []
    for job in args.jobs.split(","):
        cand, seed = job.split(":")
        cmd = [sys.executable, __file__, "train", "--candidate", cand, "--seed", seed, "--data-dir", args.data_dir,
               "--out", args.out, "--epochs", str(args.epochs), "--minutes", str(args.minutes), "--device", args.device,
               "--lr", str(args.lr), "--dropout", str(args.dropout), "--batch-chains", str(args.batch_chains),
               "--smoothing", str(args.smoothing)]
        procs.append(subprocess.Popen(cmd))
    codes = [p.wait() for p in procs]
    print("exit codes", codes, flush=True)


def select(args) -> None:
    import sspred

    valid, _ = filtered(args.data_dir, "valid")
    codes = [c.codes for c in valid]
    y = np.concatenate([c.labels("3") for c in valid])
    scored = y >= 0
    probs = {}
    print(f"{'model':24s} {'parameters':>10s} {'valid Q3':>8s} {'residues/s':>10s}")
    for path in sorted(Path(args.out).glob("*.npz")):
        model = sspred.load(path).model
        start = time.perf_counter()
        p = np.concatenate(model.predict_many(codes))[scored]
        speed = sum(c.size for c in codes) / (time.perf_counter() - start)
        probs[model.name] = p
        params = sum(n_parameters(m.stage1.net.specs) for m in model.members)
        print(f"{model.name:24s} {params:10d} {q3(p, y[scored]):8.2f} {speed:10.0f}", flush=True)
    chosen: list[str] = []
    for _ in range(min(args.members, len(probs))):
        best = max(probs, key=lambda k: q3(np.mean([probs[m] for m in chosen + [k]], axis=0), y[scored]))
        chosen.append(best)
        print(f"greedy +{best}: valid Q3 {q3(np.mean([probs[m] for m in chosen], axis=0), y[scored]):.2f}")


def q3(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(axis=1) == labels).mean() * 100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["train", "sweep", "select"])
    ap.add_argument("--members", type=int, default=4, help="select: members of the greedy ensemble")
    ap.add_argument("--candidate", choices=sorted(CANDIDATES))
    ap.add_argument("--jobs", default="c128d4:0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="conv-models")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--minutes", type=float, default=6.0, help="stop after the epoch that passes this (best kept)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--smoothing", type=float, default=0.0)
    ap.add_argument("--batch-chains", type=int, default=16)
    args = ap.parse_args()
    {"train": train_one, "sweep": sweep, "select": select}[args.command](args)


if __name__ == "__main__":
    main()
