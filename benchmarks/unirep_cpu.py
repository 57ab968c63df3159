"""The shipped `unirep` model, trained on the 2-core CPU: a seeded sample of netsurfp2 training chains, the
1900-unit model's forward states beside one-hot, a 128-channel conv stack with a disorder head.

    PYTHONPATH=src python benchmarks/unirep_cpu.py states            # states of the sample, cached ($SSPRED_CACHE)
    PYTHONPATH=src python benchmarks/unirep_cpu.py train --out OUT   # OUT/unirep.npz and OUT/unirep.json
    PYTHONPATH=src python benchmarks/unirep_cpu.py speed MODEL       # residues/s, FASTA to .ss2, on this machine

Why a sample: computing the 1900-unit states runs at about 750 residues/s on the 2 busy cores here, so the
whole training set (2.17 M residues after the leak list) would take 50 minutes before the first epoch. The GPU
sweep (benchmarks/unirep_sweep.py) chose the recipe: of its variants, the forward 1900-unit states were best
on validation. The validation sample (300 of the 927 filtered validation chains) picks the epoch; the test
sets are scored once, afterwards, with benchmarks/multitask.py tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import sspred
from sspred.config import ConvConfig, TrainConfig
from sspred.io import datasets
from sspred.splits import without_leaks
from sspred.unirep.states import Spec, cached_features, extractor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multitask as mt  # noqa: E402

#: Chains sampled (seed 0) from the filtered netsurfp2 training and validation splits.
TRAIN_CHAINS, VALID_CHAINS = 2000, 300
SPEC = Spec(1900, "last", False)


def sample() -> tuple[list, list]:
    d = datasets.data_dir(None)
    rng = np.random.default_rng(0)
    train = without_leaks(datasets.load("netsurfp2", "train", d), train_set="netsurfp2")
    valid = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")
    train = [train[i] for i in np.sort(rng.choice(len(train), TRAIN_CHAINS, replace=False))]
    valid = [valid[i] for i in np.sort(rng.choice(len(valid), VALID_CHAINS, replace=False))]
    return train, valid


def states(args) -> None:
    train, valid = sample()
    ext = extractor(SPEC, engine=args.engine, device="cpu")
    for name, chains in (("valid", valid), ("train", train)):
        start = time.perf_counter()
        cached_features(ext, [c.codes for c in chains], name)
        n = sum(c.codes.size for c in chains)
        seconds = time.perf_counter() - start
        print(json.dumps({"set": name, "chains": len(chains), "residues": n, "seconds": seconds}))


def train(args) -> None:
    chains, valid = sample()
    model_cfg = ConvConfig(channels=128, first_kernel=5, kernel=3, dilations=[1, 2, 4, 8, 16], dropout=0.25,
                           heads=["disorder"], head_weights={"disorder": 1.0}, unirep=SPEC.size)
    cfg = TrainConfig(model=model_cfg, optimizer="adam", lr=1e-3, schedule="cosine", lr_min=1e-5, batch_size=16,
                      epochs=args.epochs, patience=args.epochs, seed=0, engine="torch", device="cpu", threads=2,
                      name="unirep", max_seconds=args.max_seconds)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = []
    start = time.perf_counter()
    model = sspred.train(cfg, chains, valid, callbacks=[epochs.append])
    seconds = time.perf_counter() - start
    mt.set_disorder_threshold(model, valid)
    model.save(out / "unirep.npz")
    q3 = sspred.evaluate(model, valid).q3
    record = {"config": cfg.to_dict(), "train_chains": len(chains), "valid_chains": len(valid),
              "train_seconds": seconds, "epochs": epochs, "valid_q3": q3,
              "thresholds": model.header.get("thresholds")}
    (out / "unirep.json").write_text(json.dumps(record, indent=1))
    print(json.dumps({"valid_q3": q3, "seconds": seconds}))


def speed(args) -> None:
    """`sspred predict` wall time from FASTA to .ss2 on netsurfp2 validation chains, as a user runs it."""
    d = datasets.data_dir(None)
    chains = datasets.load("netsurfp2", "valid", d)[:args.chains]
    with tempfile.TemporaryDirectory() as tmp:
        fasta = Path(tmp) / "in.fasta"
        fasta.write_text("".join(f">{c.id}\n{c.sequence}\n" for c in chains))
        rows = {}
        for model in args.models:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sspred", "predict", str(fasta), "-m", model, "-f", "ss2", "-o",
                            str(Path(tmp) / "out.ss2")], check=True)
            seconds = time.perf_counter() - start
            n = sum(c.codes.size for c in chains)
            rows[model] = {"residues": n, "seconds": seconds, "residues_per_s": n / seconds}
        print(json.dumps(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("states")
    s.add_argument("--engine", default="numpy")
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=6)
    t.add_argument("--max-seconds", type=float, default=900)
    v = sub.add_parser("speed")
    v.add_argument("models", nargs="+")
    v.add_argument("--chains", type=int, default=100)
    args = p.parse_args()
    {"states": states, "train": train, "speed": speed}[args.cmd](args)


if __name__ == "__main__":
    main()
