# Study run at commit 980ab46 (its last change; in benchmarks/ until 383da78). Results: BENCHMARKS.md, "Ablation".
"""Training-toolkit ablation: what each regularisation trick does to a medium window network.

Network: window 17, two ReLU hidden layers (default 100, 50), Adam, trained on netsurfp2's training split
and early-stopped (where early stopping is on) on its validation split. Each configuration reports Q3 on
NEW364 (netsurfp2 test) and CB513, Q3 on the training residues it saw and on the validation split, and
their gap. Configurations: no regularisation; each trick alone; and the "best combination", made of
every trick that beat no-regularisation on *validation* Q3 (test sets are never used to choose).

The machine is small, so the training and validation splits are subsampled (chains drawn with a fixed
seed) and epochs are capped; the flags say by how much, and BENCHMARKS.md records what was used.

    nice -n 10 python docs/experiments/ablation.py --train-chains 250 --valid-chains 150 --epochs 6
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np

from sspred.config import ModelConfig, TrainConfig
from sspred.evaluation import pooled_q3
from sspred.io import datasets
from sspred.io.datasets import count_scored
from sspred.training import train

#: Strength of each trick when it is on. Chosen once, a priori, at common textbook values; not tuned.
TRICKS = {
    "L2": ("train", {"l2": 1e-3}),
    "L1": ("train", {"l1": 1e-5}),
    "dropout": ("model", {"dropout": 0.2}),
    "batch norm": ("model", {"batchnorm": True}),
    "input noise": ("train", {"input_noise": 0.1}),
    "label smoothing": ("train", {"smoothing": 0.1}),
    "early stopping": ("train", {"patience": 2}),
}


def configure(base: TrainConfig, tricks: list[str]) -> TrainConfig:
    cfg = base
    for name in tricks:
        kind, changes = TRICKS[name]
        cfg = replace(cfg, model=replace(cfg.model, **changes)) if kind == "model" else replace(cfg, **changes)
    return cfg


def sample(chains, n: int, seed: int):
    if n <= 0 or n >= len(chains):
        return chains
    keep = np.sort(np.random.default_rng(seed).choice(len(chains), n, replace=False))
    return [chains[i] for i in keep]


def run(label, cfg, chains) -> dict:
    start = time.perf_counter()
    model = train(cfg, chains["train"], chains["valid"])
    history = model.header["train"]["history"]
    row = {"config": label, "epochs_run": len(history["epochs"]), "best_epoch": history["best_epoch"],
           "train_seconds": round(time.perf_counter() - start, 1)}
    for split in ("train", "valid", "new364", "cb513"):
        row[f"{split}_q3"] = round(pooled_q3(model, chains[split]), 2)
    row["gap"] = round(row["train_q3"] - row["valid_q3"], 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train-chains", type=int, default=250, help="netsurfp2 training chains used (0: all 9,712).")
    ap.add_argument("--valid-chains", type=int, default=150, help="netsurfp2 validation chains used (0: all 1,080).")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--hidden", default="100,50")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--engine", default="numpy")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--only", nargs="*", help="Run only these configurations (names as printed).")
    ap.add_argument("--combo", action="append", default=[],
                    help="Also run this combination, tricks joined by '+', e.g. 'L2+dropout' (repeatable).")
    ap.add_argument("--json", default=None, help="Also write the rows here.")
    args = ap.parse_args()

    window = 17
    chains = {"train": sample(datasets.load("netsurfp2", "train", args.data_dir), args.train_chains, args.seed),
              "valid": sample(datasets.load("netsurfp2", "valid", args.data_dir), args.valid_chains, args.seed + 1),
              "new364": datasets.load("netsurfp2", "test", args.data_dir),
              "cb513": datasets.load("cb513", "test", args.data_dir)}
    print("residues scored: " + ", ".join(f"{k} {count_scored(v)} ({len(v)} chains)" for k, v in chains.items()),
          flush=True)
    base = TrainConfig(model=ModelConfig(window=window, hidden=[int(h) for h in args.hidden.split(",")],
                                         activation="relu"),
                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, patience=0,
                       engine=args.engine)

    plan = [("none", [])] + [(name, [name]) for name in TRICKS]
    rows = []
    header = f"{'config':28s} {'epochs':>6s} {'best':>4s} {'train':>6s} {'valid':>6s} {'gap':>6s} {'NEW364':>6s} {'CB513':>6s} {'sec':>6s}"
    print(header, flush=True)

    def show(row):
        print(f"{row['config']:28s} {row['epochs_run']:6d} {row['best_epoch']:4d} {row['train_q3']:6.2f} {row['valid_q3']:6.2f} "
              f"{row['gap']:6.2f} {row['new364_q3']:6.2f} {row['cb513_q3']:6.2f} {row['train_seconds']:6.1f}", flush=True)

    for label, tricks in plan:
        if args.only and label not in args.only:
            continue
        rows.append(run(label, configure(base, tricks), chains))
        show(rows[-1])
    by_name = {r["config"]: r for r in rows}
    if "none" in by_name and (not args.only or "best" in args.only):
        helpful = [n for n in TRICKS if n in by_name and by_name[n]["valid_q3"] > by_name["none"]["valid_q3"]]
        label = "best: " + " + ".join(helpful) if helpful else "best: none helped"
        rows.append(run(label, configure(base, helpful), chains))
        show(rows[-1])
    for combo in args.combo:
        tricks = [t.strip() for t in combo.split("+")]
        unknown = [t for t in tricks if t not in TRICKS]
        if unknown:
            raise SystemExit(f"unknown trick(s) {unknown}; known: {', '.join(TRICKS)}")
        rows.append(run(" + ".join(tricks), configure(base, tricks), chains))
        show(rows[-1])
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
