"""Multi-task conv stacks on every label set at once: train one candidate, score it on validation.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/multitask.py train --out OUT --name NAME \
        [--attention 1] [--teacher accurate] [--conservation-chains 4000] [--epochs 14] [--seed 0]
    PYTHONPATH=src python benchmarks/multitask.py threshold MODEL.npz ...     # store the disorder threshold
    PYTHONPATH=src python benchmarks/multitask.py valid MODEL.npz ...         # validation scores of model files
    PYTHONPATH=src python benchmarks/multitask.py select MEMBER.npz ... --members N   # greedy ensemble on validation
    PYTHONPATH=src python benchmarks/multitask.py tests OUT/NAME.npz ...     # the test sets, once, at the end

``train`` builds the pool the issue names, each set after its own MMseqs2 leak list
(sspred.splits.known_leaks, 25% identity against CB513, TS115 and NEW364):
- netsurfp2 train: 3-state labels and disorder (unresolved residues);
- dssp8 train split: 8- and 3-state labels;
- conservation train: classes 1-9, no secondary structure; a seeded sample of
  ``--conservation-chains`` of them (0: all), which with ``--teacher`` also get
  the teacher's 3-state probabilities as soft targets (distillation on unlabelled chains).
It trains with ``sspred.train`` (the epoch with the best netsurfp2 validation
loss is kept) and writes NAME.npz and NAME.json: the config, pool sizes, the
epochs, and validation scores of every head (``validation``), all on
validation splits: Q3 on netsurfp2 valid, disorder ROC AUC and the MCC-best
threshold on netsurfp2 valid, Q8 on dssp8 valid, conservation Spearman and
3-group accuracy on conservation valid.

``threshold`` stores in a model file the disorder threshold chosen on netsurfp2
validation (``train`` does it too). ``tests`` scores model files on the test
sets with ``sspred.evaluate`` (Q3, Q8 from the ss8 head, SOV, MCC, disorder AUC
and MCC at the stored threshold on NEW364, CB513 and TS115; conservation on its
test split) and prints one JSON line per model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import sspred
from sspred import metrics
from sspred.alphabet import CONSERVATION_UNKNOWN
from sspred.config import ConvConfig, TrainConfig
from sspred.evaluation import choose_disorder_threshold
from sspred.io import datasets
from sspred.splits import without_leaks

#: Loss weights of the extra heads; the 3-state head has 1.
HEAD_WEIGHTS = {"ss8": 0.5, "disorder": 1.0, "conservation": 0.5}


def pool(data_dir, conservation_chains: int, seed: int) -> dict[str, list]:
    """Training chains of each set after its own leak list; the conservation sample drawn with ``seed``."""
    sets = {name: without_leaks(datasets.load(name, "train", data_dir), train_set=name)
            for name in ("netsurfp2", "dssp8", "conservation")}
    if conservation_chains and conservation_chains < len(sets["conservation"]):
        pick = np.sort(np.random.default_rng(seed).choice(len(sets["conservation"]), conservation_chains,
                                                           replace=False))
        sets["conservation"] = [sets["conservation"][i] for i in pick]
    return sets


def head_outputs(model, chains) -> list[dict[str, np.ndarray]]:
    return model.predict_heads([c.codes for c in chains])


def disorder_scores(model, chains) -> tuple[np.ndarray, np.ndarray]:
    """(N,) disorder labels (1/0/-1) and P(disordered) of every residue of ``chains``."""
    out = head_outputs(model, chains)
    return (np.concatenate([c.disorder for c in chains]),
            np.concatenate([o["disorder"][:, 1] for o in out]))


def q8(model, chains) -> float:
    out = head_outputs(model, chains)
    y = np.concatenate([c.y8 for c in chains])
    pred = np.concatenate([o["ss8"].argmax(axis=1) for o in out])
    keep = y >= 0
    return float((pred[keep] == y[keep]).mean() * 100)


def conservation(model, chains) -> dict:
    out = head_outputs(model, chains)
    y = np.concatenate([c.conservation for c in chains]).astype(np.int64)
    pred = np.concatenate([o["conservation"].argmax(axis=1) + 1 for o in out])
    keep = y != CONSERVATION_UNKNOWN
    return {"spearman": metrics.spearman(pred[keep].astype(float), y[keep].astype(float)),
            "q3_groups": metrics.conservation_q3(y[keep], pred[keep]), "residues": int(keep.sum())}


def validation(model, d) -> dict:
    valid = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")
    out = {"q3_netsurfp2_valid": sspred.evaluate(model, valid).q3, "valid_chains": len(valid)}
    names = model.heads.names
    if "disorder" in names:
        y, s = disorder_scores(model, valid)
        threshold, mcc = metrics.best_mcc_threshold(y, s)
        out["disorder"] = {"auc": metrics.roc_auc(y, s), "threshold": threshold, "mcc": mcc}
    if "ss8" in names:
        out["q8_dssp8_valid"] = q8(model, without_leaks(datasets.load("dssp8", "valid", d), train_set="dssp8"))
    if "conservation" in names:
        out["conservation_valid"] = conservation(model, datasets.load("conservation", "valid", d))
    return out


def train(args) -> None:
    d = datasets.data_dir(args.data_dir)
    sets = pool(d, args.conservation_chains, args.seed)
    if args.limit:  # a smoke run of the script itself, not a result
        sets = {k: v[:args.limit] for k, v in sets.items()}
    heads = [h for h in ("ss8", "disorder", "conservation") if h not in args.drop_head]
    model_cfg = ConvConfig(channels=args.channels, first_kernel=15, kernel=5, dilations=[1, 2, 4, 8, 16],
                           dropout=0.2, heads=heads, head_weights={h: HEAD_WEIGHTS[h] for h in heads},
                           attention=args.attention, attention_heads=args.attention_heads,
                           attention_dim=args.attention_dim)
    cfg = TrainConfig(model=model_cfg, optimizer="adam", lr=0.002, schedule="cosine", lr_min=0.00002,
                      batch_size=16, epochs=args.epochs, patience=args.epochs, seed=args.seed, engine=args.engine,
                      device="cpu", teacher=args.teacher, teacher_weight=args.teacher_weight, name=args.name)
    chains = [c for name in ("netsurfp2", "dssp8", "conservation") for c in sets[name]]
    valid = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")[:args.limit or None]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = open(out / f"{args.name}.log", "a")

    def report(stats):
        log.write(json.dumps(stats) + "\n")
        log.flush()

    start = time.perf_counter()
    model = sspred.train(cfg, chains, valid, callbacks=[report])
    seconds = time.perf_counter() - start
    set_disorder_threshold(model, valid)
    model.save(out / f"{args.name}.npz")
    record = {"name": args.name, "config": cfg.to_dict(), "pool": {k: len(v) for k, v in sets.items()},
              "train_seconds": seconds, "history": model.header["train"]["history"],
              "parameters": int(sum(v.size for k, v in model.params.items() if "running" not in k)),
              "validation": validation(model, d)}
    (out / f"{args.name}.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(record["validation"]))


def set_disorder_threshold(model, valid) -> None:
    """Store in the header the P(disordered) where MCC peaks on validation (what ``sspred.evaluate`` applies)."""
    if "disorder" in model.heads.names:
        threshold, _ = choose_disorder_threshold(model, valid)
        model.header["thresholds"] = {**model.header.get("thresholds", {}), "disorder": float(threshold)}


def threshold(args) -> None:
    """Choose and store the disorder threshold of finished model files (an ensemble's is its own)."""
    d = datasets.data_dir(args.data_dir)
    valid = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")
    for path in args.models:
        model = sspred.load(path).model
        set_disorder_threshold(model, valid)
        model.save(path)
        print(path, model.header.get("thresholds"))


def valid(args) -> None:
    """Validation scores of finished model files (ensembles built with ``sspred ensemble``): one JSON line each."""
    d = datasets.data_dir(args.data_dir)
    for path in args.models:
        print(json.dumps({"model": str(path), **validation(sspred.load(path).model, d)}))


def select(args) -> None:
    """Greedy ensemble on validation Q3: from single-network model files, add the one that most raises the
    average's Q3, up to ``--members``; each step printed with its members."""
    d = datasets.data_dir(args.data_dir)
    valid = without_leaks(datasets.load("netsurfp2", "valid", d), train_set="netsurfp2")
    y = np.concatenate([c.y3 for c in valid])
    scored = y >= 0
    probs = {str(p): np.concatenate(sspred.load(p).model.predict_many([c.codes for c in valid]))[scored]
             for p in args.models}  # (n, 3) each
    for m in probs:
        print(f"{m}: valid Q3 {ensemble_q3(probs, y[scored], [m]):.2f}")
    for chosen, q3 in greedy(probs, y[scored], args.members):
        print(f"greedy {len(chosen)}: +{chosen[-1]} -> valid Q3 {q3:.2f}")


def ensemble_q3(probs: dict[str, np.ndarray], y: np.ndarray, members: list[str]) -> float:
    """Q3 of the members' averaged probabilities: ``probs[m]`` (n, 3) on the n scored residues, labels ``y`` (n,)."""
    return float((np.mean([probs[m] for m in members], axis=0).argmax(axis=1) == y).mean() * 100)


def greedy(probs: dict[str, np.ndarray], y: np.ndarray, members: int,
           min_gain: float = -np.inf) -> list[tuple[list[str], float]]:
    """Greedy ensemble steps on validation Q3, [(members so far, their Q3)]: each step adds the member that most
    raises the average's Q3, up to ``members`` of them, and stops early when a step would add less than
    ``min_gain``."""
    steps: list[tuple[list[str], float]] = []
    chosen: list[str] = []
    while len(chosen) < min(members, len(probs)):
        best = max((m for m in probs if m not in chosen), key=lambda m: ensemble_q3(probs, y, chosen + [m]))
        q3 = ensemble_q3(probs, y, chosen + [best])
        if steps and q3 < steps[-1][1] + min_gain:
            break
        chosen.append(best)
        steps.append((list(chosen), q3))
    return steps


def tests(args) -> None:
    """Every test-set score of each model, by ``sspred.evaluate`` (disorder at the header's threshold)."""
    for path in args.models:
        model = sspred.load(path).model
        row = {"model": str(path)}
        for name in ("netsurfp2", "cb513", "ts115"):
            s = sspred.evaluate(model, name, data_dir=args.data_dir, bootstrap=0)
            row[name] = {"q3": s.q3, "q8": s.q8, "sov99": s.sov99, "mcc": s.mcc, "disorder": s.disorder}
        if "conservation" in model.heads.names:
            row["conservation"] = sspred.evaluate(model, "conservation", data_dir=args.data_dir,
                                                  bootstrap=0).conservation
        print(json.dumps(row))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--out", required=True)
    t.add_argument("--name", required=True)
    t.add_argument("--data-dir", default=None)
    t.add_argument("--engine", default="numpy")
    t.add_argument("--channels", type=int, default=64)
    t.add_argument("--attention", type=int, default=0)
    t.add_argument("--attention-heads", type=int, default=4)
    t.add_argument("--attention-dim", type=int, default=16)
    t.add_argument("--teacher", default=None)
    t.add_argument("--teacher-weight", type=float, default=0.5)
    t.add_argument("--conservation-chains", type=int, default=0)
    t.add_argument("--drop-head", action="append", default=[])
    t.add_argument("--epochs", type=int, default=14)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--limit", type=int, default=0, help="chains per set (a smoke run of this script)")
    e = sub.add_parser("tests")
    e.add_argument("models", nargs="+")
    e.add_argument("--data-dir", default=None)
    for cmd in ("threshold", "valid"):
        h = sub.add_parser(cmd)
        h.add_argument("models", nargs="+")
        h.add_argument("--data-dir", default=None)
    g = sub.add_parser("select")
    g.add_argument("models", nargs="+")
    g.add_argument("--members", type=int, default=2)
    g.add_argument("--data-dir", default=None)
    args = p.parse_args()
    {"train": train, "tests": tests, "threshold": threshold, "valid": valid, "select": select}[args.cmd](args)


if __name__ == "__main__":
    main()
