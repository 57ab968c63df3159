r"""An 8-state (DSSP Q8) conv network trained without test-set homologs, scored on CB513 and TS115.

    cd /work/main
    OPENBLAS_NUM_THREADS=1 nice -n 5 python benchmarks/conv_q8.py --work /work/q8work --name c64-d02 \
        --channels 64 --dropout 0.2 --epochs 1
    OPENBLAS_NUM_THREADS=1 nice -n 5 python benchmarks/conv_q8.py --work /work/q8work --name c96-d02 \
        --channels 96 --dropout 0.2 --epochs 12

What one run does:

1. Split (once; cached as train.txt, valid.txt and split.json in --work, --resplit redoes it).
   a. Read the four dssp8 PDB sets (sspred.io.datasets.DSSP8_FILES, fengtuan/LIFT_SS: SPOT-1D
      validation, PISCES 25% validation, CB634 validation, SPOT-1D Test2016).
   b. Audit them with MMseqs2 (sspred.splits.audit: -s 7.5, E <= 1e-3, >= 25% identity over >= 80%
      of the shorter chain, the project's settings, as NetSurfP-2.0 removed homologs) against every
      test set: CB513, TS115 and NEW364 (netsurfp2's test split).
   c. Drop every dssp8 chain with a homolog in any of them, chains too short for MMseqs2 to find
      (under sspred.splits.MIN_SEARCHABLE, so unauditable), chains with no observed residue and
      exact repeats of a sequence; cluster the rest at the same 25%/80% (sspred.splits.cluster,
      single linkage) and hand whole clusters to validation (about --valid-fraction of the chains,
      seeded by --seed) and the rest to training, so no validation chain has a training homolog.
   d. Write both as three-line files ('>id', sequence, DSSP8 labels, 'X' unobserved) and print the
      counts: chains before and after, and how many dssp8 chains leak into each test set.
2. Train: the ``sspred train --arch conv --states 8 ...`` command a user would type (printed), as a
   subprocess, on train.txt with valid.txt for early stopping (restores the best-loss epoch).
3. Score: ``sspred evaluate`` on valid.txt (the selection score), then once on CB513 and on TS115,
   JSON reports beside the model. Q3 is the 8-to-3 reduction (H,G,I -> H; E,B -> E; rest -> C).
4. Record the run in results.jsonl and copy the run with the best VALIDATION Q8 (never a test
   score) to best-q8.npz.

Labels: the dssp8 files' L (loop) and P (polyproline II) count as coil C (sspred.alphabet.DSSP8_ALIASES).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sspred import splits
from sspred.io import datasets
from sspred.io.textfile import atomic_output

#: The test sets audited against: name -> (named set, split).
TEST_SETS = {"cb513": ("cb513", "test"), "ts115": ("ts115", "test"), "new364": ("netsurfp2", "test")}
#: The test sets scored after training (NEW364 has only 3-state labels, so no Q8).
SCORED = ("cb513", "ts115")
#: Train/valid/test shares passed to sspred.splits.assign_splits; test is empty here.
NO_TEST = 0.0


def read_dssp8(d: Path) -> list[tuple[str, datasets.Chain]]:
    """(file stem, chain) for every chain of the four dssp8 files, in file order."""
    return [(name.split(".")[0], c) for name in datasets.DSSP8_FILES
            for c in datasets.read_three_line(d / "dssp8-pdb-sets" / name)]


def make_split(args) -> dict:
    """Audit, filter and cluster the dssp8 chains; write train.txt and valid.txt; return the counts."""
    d = datasets.data_dir(args.data_dir)
    settings = splits.SearchSettings(threads=args.threads)
    pool = read_dssp8(d)
    chains = [c for _, c in pool]
    # Keyed by position: the same PDB chain id can sit in two of the files.
    keyed = [(str(i), c.sequence) for i, c in enumerate(chains)]
    counts = {"dssp8_chains": len(chains),
              "dssp8_per_file": {f: sum(1 for g, _ in pool if g == f) for f in dict.fromkeys(g for g, _ in pool)},
              "identity": args.identity, "coverage": args.coverage,
              "mmseqs": {"sensitivity": settings.sensitivity, "evalue": settings.evalue, "max_seqs": settings.max_seqs},
              "leaks": {}}
    leaking: set[int] = set()
    for name, (set_name, split) in TEST_SETS.items():
        test = datasets.load(set_name, split, d)
        t0 = time.perf_counter()
        a = splits.audit(keyed, [(c.id, c.sequence) for c in test], args.identity, args.coverage, settings)
        mine = {int(k) for k in a.leaking_train}
        leaking |= mine
        counts["leaks"][name] = {
            "test_chains": len(test), "test_chains_with_dssp8_homolog": len(a.leaking_test),
            "test_rows_with_dssp8_homolog": sum(r.leak for r in a.rows),
            "dssp8_chains_leaking": len(mine),
            "dssp8_chains_leaking_per_file": {f: sum(1 for i in mine if pool[i][0] == f)
                                              for f in counts["dssp8_per_file"]},
            "search_seconds": round(time.perf_counter() - t0, 1)}
        print(f"audit {name}: {len(test)} test rows, {counts['leaks'][name]['test_rows_with_dssp8_homolog']} with a "
              f"dssp8 homolog; {len(mine)} dssp8 chains leak into it "
              f"({counts['leaks'][name]['dssp8_chains_leaking_per_file']}) [{time.perf_counter() - t0:.0f}s]",
              flush=True)
    short = {i for i, c in enumerate(chains) if len(c.sequence) < splits.MIN_SEARCHABLE}
    empty = {i for i, c in enumerate(chains) if not (c.y8 >= 0).any()}
    seen: dict[str, int] = {}
    repeats = set()
    for i, c in enumerate(chains):
        if i in leaking or i in short or i in empty:
            continue
        if c.sequence in seen:
            repeats.add(i)
        else:
            seen[c.sequence] = i
    keep = [i for i in range(len(chains)) if i not in leaking | short | empty | repeats]
    counts.update(dssp8_chains_leaking_any=len(leaking), dropped_short=len(short - leaking),
                  dropped_no_observed=len(empty - leaking - short), dropped_exact_repeats=len(repeats), kept=len(keep))
    print(f"dssp8: {len(chains)} chains; {len(leaking)} leak into some test set; dropped also "
          f"{counts['dropped_short']} shorter than {splits.MIN_SEARCHABLE}, {counts['dropped_no_observed']} without an "
          f"observed residue, {len(repeats)} exact repeats; {len(keep)} kept", flush=True)

    t0 = time.perf_counter()
    labels = splits.cluster([(str(i), chains[i].sequence) for i in keep], args.identity, args.coverage, settings)
    sizes = np.unique(labels, return_counts=True)[1]
    assign = splits.assign_splits(labels, (1 - args.valid_fraction, args.valid_fraction, NO_TEST),
                                  np.random.default_rng(args.seed))
    part = {s: [chains[keep[j]] for j in np.flatnonzero(assign == s)] for s in ("train", "valid")}
    # By construction no cluster straddles the split; check it anyway, it is what the split promises.
    assert not set(labels[assign == "train"]) & set(labels[assign == "valid"])
    counts.update(clusters=int(sizes.size), largest_cluster=int(sizes.max()), singletons=int((sizes == 1).sum()),
                  cluster_seconds=round(time.perf_counter() - t0, 1), valid_fraction=args.valid_fraction,
                  seed=args.seed)
    for s in ("train", "valid"):
        counts[s] = {"chains": len(part[s]), "residues": sum(len(c.sequence) for c in part[s]),
                     "scored": int(sum((c.y8 >= 0).sum() for c in part[s]))}
        with atomic_output(Path(args.work) / f"{s}.txt") as handle:
            datasets.write_three_line(part[s], handle)
    print(f"clusters at {args.identity:.0%}/{args.coverage:.0%}: {sizes.size} (largest {sizes.max()}, "
          f"{(sizes == 1).sum()} singletons) [{time.perf_counter() - t0:.0f}s]; train {counts['train']}, "
          f"valid {counts['valid']}", flush=True)
    with atomic_output(Path(args.work) / "split.json") as handle:
        json.dump(counts, handle, indent=1)
    return counts


def sspred(*words: str) -> list[str]:
    """The sspred CLI under this interpreter (``sspred WORDS`` for a user with the package installed)."""
    return [sys.executable, "-m", "sspred", *words]


def run(cmd: list[str], log: Path) -> None:
    """Run ``cmd`` (printed as the sspred command), echoing its output and keeping it in ``log``."""
    print("$ sspred " + shlex.join(cmd[3:]), flush=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with open(log, "a") as keep:
        keep.write("$ sspred " + shlex.join(cmd[3:]) + "\n")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        for line in proc.stdout:
            keep.write(line)
            keep.flush()
            if not line.startswith(("  ", "class", "confusion", "accuracy by")):  # evaluate's tables: in the log only
                print(line, end="", flush=True)
        if proc.wait():
            sys.exit(f"command failed (exit {proc.returncode}); see {log}")


def train_and_score(args) -> dict:
    work = Path(args.work)
    model = work / f"{args.name}.npz"
    log = work / f"{args.name}.log"
    log.unlink(missing_ok=True)
    t0 = time.perf_counter()
    run(sspred("train", "--data", str(work / "train.txt"), "--valid-data", str(work / "valid.txt"),
               "--out", str(model), "--name", args.name, "--arch", "conv", "--states", "8",
               "--channels", str(args.channels), "--first-kernel", str(args.first_kernel), "--kernel", str(args.kernel),
               "--dilations", args.dilations, "--dropout", str(args.dropout), "--batch-size", str(args.batch_size),
               "--lr", str(args.lr), "--schedule", "cosine", "--lr-min", str(args.lr_min), "--epochs", str(args.epochs),
               "--patience", str(args.patience or args.epochs), "--seed", str(args.seed),
               "--engine", "torch", "--device", "cpu", "--threads", str(args.threads)), log)
    train_seconds = time.perf_counter() - t0
    scores = {}
    for label, data in (("valid", str(work / "valid.txt")), *((s, s) for s in SCORED)):
        report = work / f"{args.name}-{label}.json"
        run(sspred("evaluate", "--data", data, "-m", str(model), "--json", str(report),
                   "--bootstrap", str(args.bootstrap)), log)
        r = json.loads(report.read_text())
        scores[label] = {"q8": r["q8"], "q3": r["q3"], "q8_ci": r.get("ci", {}).get("q8"), "residues": r["residues"]}
    from sspred import modelfile

    history = modelfile.load(model)[0]["train"]["history"]
    epochs = history["epochs"]
    row = {"name": args.name, "model": str(model), "channels": args.channels, "first_kernel": args.first_kernel,
           "kernel": args.kernel, "dilations": args.dilations, "dropout": args.dropout, "batch_size": args.batch_size,
           "lr": args.lr, "lr_min": args.lr_min, "epochs_asked": args.epochs, "epochs_run": len(epochs),
           "best_epoch": history["best_epoch"], "seconds_per_epoch": float(np.mean([e["seconds"] for e in epochs])),
           "train_seconds": round(train_seconds, 1), "history": epochs, **scores}
    with open(work / "results.jsonl", "a") as handle:
        handle.write(json.dumps(row) + "\n")
    return row


def promote(work: Path) -> dict:
    """Copy the recorded run with the best validation Q8 to best-q8.npz; return its row."""
    rows = [json.loads(line) for line in open(work / "results.jsonl") if line.strip()]
    rows = [r for r in rows if Path(r["model"]).exists()]
    best = max(rows, key=lambda r: r["valid"]["q8"])
    shutil.copyfile(best["model"], work / "best-q8.npz")
    print("\n| run | ch | drop | epochs (best) | s/epoch | valid Q8 | CB513 Q8 | CB513 Q3 | TS115 Q8 | TS115 Q3 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['name']} | {r['channels']} | {r['dropout']} | {r['epochs_run']} ({r['best_epoch']}) | "
              f"{r['seconds_per_epoch']:.0f} | {r['valid']['q8']:.2f} | {r['cb513']['q8']:.2f} | {r['cb513']['q3']:.2f} | "
              f"{r['ts115']['q8']:.2f} | {r['ts115']['q3']:.2f} |")
    print(f"best on validation Q8: {best['name']} -> {work / 'best-q8.npz'}")
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default="/work/q8work", help="Folder for the split, models, logs and reports (keep it outside the repo).")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--name", default="c64-d02", help="Run name: the model is WORK/NAME.npz.")
    p.add_argument("--resplit", action="store_true", help="Redo the audit and split even if WORK holds one.")
    p.add_argument("--split-only", action="store_true", help="Stop after writing the split.")
    p.add_argument("--identity", type=float, default=splits.IDENTITY)
    p.add_argument("--coverage", type=float, default=splits.COVERAGE)
    p.add_argument("--valid-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="Seed of the cluster split and of training.")
    p.add_argument("--threads", type=int, default=1, help="MMseqs2 and torch threads.")
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--first-kernel", type=int, default=15)
    p.add_argument("--kernel", type=int, default=5)
    p.add_argument("--dilations", default="1,2,4,8,16")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--batch-size", type=int, default=16, help="Chains per step.")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-min", type=float, default=2e-5)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--patience", type=int, default=0, help="Early-stopping patience (0: --epochs, i.e. keep the best-loss epoch).")
    p.add_argument("--bootstrap", type=int, default=1000, help="sspred evaluate's resamples for the 95%% intervals.")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.resplit or not all((work / f).exists() for f in ("train.txt", "valid.txt", "split.json")):
        make_split(args)
    else:
        counts = json.loads((work / "split.json").read_text())
        print(f"split from {work / 'split.json'}: {counts['dssp8_chains']} dssp8 chains, leaking into "
              + ", ".join(f"{k} {v['dssp8_chains_leaking']}" for k, v in counts["leaks"].items())
              + f" ({counts['dssp8_chains_leaking_any']} in all); train {counts['train']}, valid {counts['valid']}")
    if args.split_only:
        return
    row = train_and_score(args)
    print(f"{row['name']}: {row['epochs_run']} epochs at {row['seconds_per_epoch']:.0f} s each, best epoch "
          f"{row['best_epoch']}; valid Q8 {row['valid']['q8']:.2f}; CB513 Q8 {row['cb513']['q8']:.2f} Q3 "
          f"{row['cb513']['q3']:.2f}; TS115 Q8 {row['ts115']['q8']:.2f} Q3 {row['ts115']['q3']:.2f}")
    promote(work)


if __name__ == "__main__":
    main()
