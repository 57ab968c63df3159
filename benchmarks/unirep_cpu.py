"""The `unirep` model's UniRep stack, trained on the 2-core CPU: netsurfp2 training chains after the leak list,
the 1900-unit model's forward states beside one-hot, a 128-channel conv stack with a disorder head.

    PYTHONPATH=src python benchmarks/unirep_cpu.py states [--train N --valid N]   # states, cached ($SSPRED_CACHE)
    PYTHONPATH=src python benchmarks/unirep_cpu.py train --out OUT [--train N --valid N]  # OUT/NAME.npz, .json
    PYTHONPATH=src python benchmarks/unirep_cpu.py select MODEL ... --out OUT   # greedy members, validation only
    PYTHONPATH=src python benchmarks/unirep_cpu.py distil --teacher OUT/unirep.npz --out OUT   # default's member
    PYTHONPATH=src python benchmarks/unirep_cpu.py speed MODEL       # residues/s, FASTA to .ss2, on this machine

``--train N`` and ``--valid N`` draw seeded samples of N chains (0, the default: every filtered chain: 8,582
and 927). The first `unirep` was trained on samples of 2,000 and 300, when its states ran at 750 residues/s;
whole-set states in length order now take about 25 minutes here. The GPU sweep (benchmarks/unirep_sweep.py)
chose the recipe: of its variants, the forward 1900-unit states were best on validation. Validation picks
the epoch; the test sets are scored once, afterwards, with benchmarks/multitask.py tests.
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
from sspred import metrics
from sspred.cascade import ensemble
from sspred.config import ConvConfig, TrainConfig
from sspred.io import datasets
from sspred.model import Model, Session, load_model, save_model
from sspred.splits import without_leaks
from sspred.unirep.states import Spec, cache_dir, cached_features, extractor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import multitask as mt  # noqa: E402

SPEC = Spec(1900, "last", False)


def sample(args) -> tuple[list, list]:
    """The filtered netsurfp2 training and validation chains, or seeded samples of ``--train``/``--valid``."""
    d = datasets.data_dir(None)
    rng = np.random.default_rng(0)
    train = without_leaks(datasets.load("netsurfp2", "train", d), train_set="netsurfp2")
    valid = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")
    if args.train:
        train = [train[i] for i in np.sort(rng.choice(len(train), args.train, replace=False))]
    if args.valid:
        valid = [valid[i] for i in np.sort(rng.choice(len(valid), args.valid, replace=False))]
    return train, valid


def states(args) -> None:
    train, valid = sample(args)
    ext = extractor(SPEC, engine=args.engine, device="cpu")
    for name, chains in (("valid", valid), ("train", train)):
        start = time.perf_counter()
        cached_features(ext, [c.codes for c in chains], name)
        n = sum(c.codes.size for c in chains)
        seconds = time.perf_counter() - start
        print(json.dumps({"set": name, "chains": len(chains), "residues": n, "seconds": seconds}))


def train(args) -> None:
    chains, valid = sample(args)
    model_cfg = ConvConfig(channels=128, first_kernel=5, kernel=3, dilations=[1, 2, 4, 8, 16], dropout=0.25,
                           heads=["disorder"], head_weights={"disorder": 1.0}, unirep=SPEC.size)
    cfg = TrainConfig(model=model_cfg, optimizer="adam", lr=1e-3, schedule="cosine", lr_min=1e-5, batch_size=16,
                      epochs=args.epochs, patience=args.epochs, seed=0, engine="torch", device="cpu", threads=2,
                      name=args.name, max_seconds=args.max_seconds)
    model, record = fit(cfg, chains, valid, args.out)
    # Validation's states were cached by training; one call over every chain reads them back (the chains are
    # the cache key, so the 512-chain calls of sspred.evaluate would compute them again).
    heads = Session(model, feature_cache=str(cache_dir())).predict_heads([c.codes for c in valid])
    y, pred = np.concatenate([c.y3 for c in valid]), np.concatenate([h["ss3"].argmax(axis=1) for h in heads])
    q3 = float((pred[y >= 0] == y[y >= 0]).mean() * 100)
    disorder = np.concatenate([c.disorder for c in valid])
    score = np.concatenate([h["disorder"][:, 1] for h in heads])
    threshold, mcc = metrics.best_mcc_threshold(disorder, score)
    model.header["thresholds"] = {"disorder": float(threshold)}
    record.update(valid_q3=q3, thresholds=model.header["thresholds"], disorder_auc=metrics.roc_auc(disorder, score),
                  disorder_mcc=mcc)
    finish(model, record, args.out)


def fit(cfg: TrainConfig, chains: list, valid: list, out: str) -> tuple[Model, dict]:
    """Train ``cfg`` (each epoch printed as it ends); the model and its record so far."""
    Path(out).mkdir(parents=True, exist_ok=True)
    epochs: list[dict] = []
    start = time.perf_counter()
    model = sspred.train(cfg, chains, valid, callbacks=[epochs.append, lambda e: print(json.dumps(e), flush=True)])
    return model, {"config": cfg.to_dict(), "train_chains": len(chains), "valid_chains": len(valid),
                   "train_seconds": time.perf_counter() - start, "epochs": epochs}


def finish(model: Model, record: dict, out: str) -> None:
    """OUT/NAME.npz and OUT/NAME.json."""
    name = record["config"]["name"]
    model.save(Path(out) / f"{name}.npz")
    (Path(out) / f"{name}.json").write_text(json.dumps(record, indent=1))
    print(json.dumps({"valid_q3": record["valid_q3"], "seconds": record["train_seconds"]}))


def split(model: Model) -> list[tuple[str, Model]]:
    """An ensemble's members as single-network models, each with a label (MODEL.j); a single network as itself.
    Each keeps its own name in its header, so an ensemble of them names its members as their files did."""
    if "members" not in model.header:
        return [(model.name, model)]
    out = []
    for j, desc in enumerate(model.header["members"]):
        prefix = f"members.{j}."
        header = {"alphabet": model.header["alphabet"], **desc}
        params = {k[len(prefix):]: v for k, v in model.params.items() if k.startswith(prefix)}
        out.append((f"{model.name}.{j}", Model(header, params)))
    return out


def select(args) -> None:
    """Greedy ensemble on the whole filtered validation split: from the members of the given models (model
    files or built-in names; an ensemble's members count one by one), add the one that most raises the
    average's Q3 while it adds at least ``--min-gain``; write the chosen members as one model with its
    disorder threshold."""
    _, valid = sample(args)
    codes = [c.codes for c in valid]
    y = np.concatenate([c.y3 for c in valid])
    scored = y >= 0
    truth = y[scored]
    members, probs, disorder = {}, {}, {}
    for name in args.models:
        for label, m in split(load_model(name)):
            # validation's states, as training cached them
            heads = Session(m, feature_cache=str(cache_dir())).predict_heads(codes)
            members[label] = m
            probs[label] = np.concatenate([h["ss3"] for h in heads])[scored]  # (n, 3)
            if "disorder" in heads[0]:
                disorder[label] = np.concatenate([h["disorder"][:, 1] for h in heads])

    alone = [{"member": m, "valid_q3": mt.ensemble_q3(probs, truth, [m])} for m in probs]
    steps = [{"members": chosen, "valid_q3": q3} for chosen, q3 in mt.greedy(probs, truth, args.members, args.min_gain)]
    chosen = steps[-1]["members"]
    header, params = ensemble([members[m] for m in chosen], args.name)
    with_disorder = [disorder[m] for m in chosen if m in disorder]
    if with_disorder:
        labels, score = np.concatenate([c.disorder for c in valid]), np.mean(with_disorder, axis=0)
        threshold, _ = metrics.best_mcc_threshold(labels, score)
        header["thresholds"] = {"disorder": float(threshold)}
        steps[-1]["disorder_auc"] = metrics.roc_auc(labels, score)
    save_model(Path(args.out) / f"{args.name}.npz", header, params)
    record = {"alone": alone, "greedy": steps, "valid_chains": len(valid), "thresholds": header.get("thresholds")}
    (Path(args.out) / f"{args.name}-select.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(record))


def distil(args) -> None:
    """`default`'s single-task conv member (c64, first kernel 15, kernel 5, dilations 1-16; Adam 0.002, cosine
    to 2e-5, 16 chains a batch) trained again with ``--teacher``'s probabilities as half of each residue's
    target, on the same filtered netsurfp2 training chains (their states are cached: the teacher reads them)."""
    chains, valid = sample(args)
    model_cfg = ConvConfig(channels=64, first_kernel=15, kernel=5, dilations=[1, 2, 4, 8, 16], dropout=0.2)
    cfg = TrainConfig(model=model_cfg, optimizer="adam", lr=0.002, schedule="cosine", lr_min=2e-5, batch_size=16,
                      epochs=args.epochs, patience=args.epochs, seed=args.seed, engine="torch", device="cpu",
                      threads=2, name=args.name, teacher=args.teacher, teacher_weight=args.teacher_weight,
                      max_seconds=args.max_seconds)
    model, record = fit(cfg, chains, valid, args.out)
    record["valid_q3"] = sspred.evaluate(model, valid, bootstrap=0).q3
    finish(model, record, args.out)


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
    t.add_argument("--name", default="unirep")
    t.add_argument("--epochs", type=int, default=6)
    t.add_argument("--max-seconds", type=float, default=900)
    g = sub.add_parser("select")
    g.add_argument("models", nargs="+")
    g.add_argument("--out", required=True)
    g.add_argument("--name", default="unirep")
    g.add_argument("--members", type=int, default=4)
    g.add_argument("--min-gain", type=float, default=0.05)
    d = sub.add_parser("distil")
    d.add_argument("--out", required=True)
    d.add_argument("--name", default="conv-c64k5d5-distil-s0")
    d.add_argument("--teacher", required=True)
    d.add_argument("--teacher-weight", type=float, default=0.5)
    d.add_argument("--epochs", type=int, default=14)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--max-seconds", type=float, default=1800)
    for q in (s, t, g, d):
        q.add_argument("--train", type=int, default=0, help="a seeded sample of N training chains (0: all)")
        q.add_argument("--valid", type=int, default=0, help="a seeded sample of N validation chains (0: all)")
    v = sub.add_parser("speed")
    v.add_argument("models", nargs="+")
    v.add_argument("--chains", type=int, default=100)
    args = p.parse_args()
    {"states": states, "train": train, "select": select, "distil": distil, "speed": speed}[args.cmd](args)


if __name__ == "__main__":
    main()
