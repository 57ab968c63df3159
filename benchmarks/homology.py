"""Homology-aware evaluation on the real sets: the pairwise leakage audit and the globin lesson.

    nice -n 10 python benchmarks/homology.py audit-table --work /tmp/sspred-audit
    nice -n 10 python benchmarks/homology.py globin --work /tmp/sspred-audit

``audit-table`` searches every chain (but netsurfp2 train's, reached from the other side) against all sets with MMseqs2
(sspred.splits settings: -s 7.5, E <= 1e-3) and prints, for each (test set,
training set) pair, how many test chains have a training chain at >= 25%
identity over >= 80% of the shorter chain. It also writes the netsurfp2
leak list (src/sspred/data/leaks_netsurfp2.txt).

``globin`` trains the same network on a random chain-level split and on a
25% cluster split of the same pool and prints both test accuracies.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from sspred import splits
from sspred.io import datasets

REPO = Path(__file__).resolve().parents[1]
LEAK_FILE = REPO / "src/sspred/data/leaks_netsurfp2.txt"


def named_sets(d: Path) -> dict[str, list]:
    nsp = datasets.read_netsurfp2(d / "netsurfp2")
    qs = datasets.DATASETS["qs1988"](d)
    sets = {"qs1988/train": qs["train"] + qs["valid"], "qs1988/test": qs["test"],
            "netsurfp2/train": nsp["train"], "netsurfp2/valid": nsp["valid"], "netsurfp2/test": nsp["test"],
            "cb513": datasets.load("cb513", "test", d), "ts115": datasets.load("ts115", "test", d)}
    for f in datasets.DSSP8_FILES:
        sets["dssp8/" + f.split(".")[0]] = datasets.read_three_line(d / "dssp8-pdb-sets" / f)
    return sets


#: The one set too big to search as queries on a small machine; its pairs come from the other direction.
NOT_QUERIED = "netsurfp2/train"


def union_hits(sets: dict, work: Path, settings: splits.SearchSettings) -> list[splits.Hit]:
    """Every chain of every set but NOT_QUERIED searched against all chains of all sets; cached under ``work``."""
    cache = work / "union.tsv"
    if not cache.exists():
        tagged = {name: [(f"{name}|{c.id}", c.sequence) for c in chains] for name, chains in sets.items()}
        queries = [q for name, qs in tagged.items() if name != NOT_QUERIED for q in qs]
        targets = [t for ts in tagged.values() for t in ts]
        t0 = time.perf_counter()
        hits = splits.search(queries, targets, settings)
        print(f"searched {len(queries)} chains against {len(targets)}: {len(hits)} hits in "
              f"{time.perf_counter() - t0:.0f}s", flush=True)
        splits.write_hits(cache, hits)
    return splits.read_hits(cache)


def audit_table(args) -> None:
    sets = named_sets(datasets.data_dir(args.data_dir))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    settings = splits.SearchSettings(threads=args.threads)
    names = list(sets)
    # The leak test is symmetric (identity, coverage of the shorter chain), so a pair found in either
    # direction counts for both sets: leaks[(A, B)] = chains of A with a leak-strength partner in B.
    leaks: dict[tuple[str, str], set[str]] = {}
    leak_pairs = []
    for h in union_hits(sets, work, settings):
        (qset, qid), (tset, tid) = h.query.split("|", 1), h.target.split("|", 1)
        if qset == tset or not h.leaks(args.identity, args.coverage):
            continue
        leaks.setdefault((qset, tset), set()).add(qid)
        leaks.setdefault((tset, qset), set()).add(tid)
        for (a, aid), (b, bid) in (((qset, qid), (tset, tid)), ((tset, tid), (qset, qid))):
            if a in ("netsurfp2/train", "netsurfp2/valid") and b in LEAK_TESTS:
                leak_pairs.append((aid, a, b, bid, h.identity, h.coverage))
    short = {n: n.replace("dssp8/", "").replace("netsurfp2/", "nsp2/").replace("qs1988/", "qs/")
             .replace("_valid", "").replace("_Valid", "") for n in names}
    print(f"\nChains of the row set with a chain of the column set at >= {args.identity:.0%} identity "
          f"over >= {args.coverage:.0%} of the shorter chain (MMseqs2 -s {settings.sensitivity}, "
          f"E <= {settings.evalue}):\n")
    print("| set (chains) | " + " | ".join(short[n] for n in names) + " |")
    print("|---|" + "---:|" * len(names))
    for q in names:
        cells = ["—" if q == t else str(len(leaks.get((q, t), ()))) for t in names]
        print(f"| {short[q]} ({len(sets[q])}) | " + " | ".join(cells) + " |")
    write_leak_file(leak_pairs, args)


#: Test sets whose netsurfp2 training homologs go into the leak list.
LEAK_TESTS = ("cb513", "ts115", "netsurfp2/test", "dssp8/Test2016")


def write_leak_file(pairs, args) -> None:
    pairs = sorted(set((t, ts, qs, qid, round(i, 3), round(c, 3)) for t, ts, qs, qid, i, c in pairs))
    LEAK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LEAK_FILE, "w") as h:
        h.write("# netsurfp2 training/validation chains with a homolog in a test set, found by\n"
                "#   python benchmarks/homology.py audit-table   (sspred.splits: MMseqs2 easy-search -s 7.5,\n"
                f"#   E <= 1e-3, identity >= {args.identity}, alignment over >= {args.coverage} of the shorter chain)\n"
                "# Drop the chains of column 1 (filtered by column 3) before testing on that set.\n"
                "# netsurfp2_id\tnetsurfp2_split\ttest_set\ttest_id\tidentity\tcoverage\n")
        for row in pairs:
            h.write("\t".join(map(str, row)) + "\n")
    by_test = {}
    for t, _, qs, _, _, _ in pairs:
        by_test.setdefault(qs, set()).add(t)
    print(f"\nwrote {LEAK_FILE.relative_to(REPO)}: " + ", ".join(f"{len(v)} netsurfp2 chains leak into {k}"
                                                              for k, v in sorted(by_test.items())))


def globin(args) -> None:
    from sspred.config import ModelConfig, TrainConfig
    from sspred.evaluation import pooled_q3
    from sspred.training import train

    d = datasets.data_dir(args.data_dir)
    pool = (datasets.read_netsurfp2(d / "netsurfp2")["train"] if args.pool == "netsurfp2" else
            [c for f in datasets.DSSP8_FILES for c in datasets.read_three_line(d / "dssp8-pdb-sets" / f)])
    rng = np.random.default_rng(args.seed)
    pool = [pool[i] for i in sorted(rng.choice(len(pool), size=min(args.chains, len(pool)), replace=False))]
    t0 = time.perf_counter()
    digest = hashlib.sha1("\n".join(c.id for c in pool).encode()).hexdigest()[:12]  # the pool, not the seed
    cache = Path(args.work) / f"clusters-{args.pool}-{digest}-{args.identity}-{args.coverage}.npy"
    if cache.exists():
        labels = np.load(cache)
    else:
        labels = splits.cluster([(c.id, c.sequence) for c in pool], args.identity, args.coverage,
                                splits.SearchSettings(threads=args.threads))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, labels)
    n_clusters = len(np.unique(labels))
    print(f"pool: {len(pool)} {args.pool} chains (seed {args.seed}), {n_clusters} clusters at "
          f"{args.identity:.0%}/{args.coverage:.0%} (largest {np.bincount(labels).max()}), "
          f"{time.perf_counter() - t0:.0f}s")
    fractions = (0.8, 0.1, 0.1)
    cfg = TrainConfig(model=ModelConfig(window=13, hidden=[40]), epochs=args.epochs, patience=0, seed=args.seed,
                      lr=args.lr)
    rows = []
    for kind, assign in (("random chain split", splits.random_splits(len(pool), fractions, np.random.default_rng(args.seed))),
                         (f"cluster split at {args.identity:.0%}", splits.assign_splits(labels, fractions, np.random.default_rng(args.seed)))):
        part = {s: [c for c, a in zip(pool, assign) if a == s] for s in splits.SPLITS}
        # How many test chains have a homolog in train: the leak the cluster split removes.
        leaked = sum(labels[i] in set(labels[assign == "train"]) for i in np.flatnonzero(assign == "test"))
        model = train(cfg, part["train"])
        q_train, q_test = pooled_q3(model, part["train"]), pooled_q3(model, part["test"])
        rows.append((kind, len(part["train"]), len(part["test"]), leaked, q_train, q_test))
        print(f"{kind}: train {len(part['train'])} chains, test {len(part['test'])} chains "
              f"({leaked} with a train homolog); Q3 train {q_train:.2f}, test {q_test:.2f}", flush=True)
        # Within one test set: chains with a training homolog against those without.
        train_clusters = set(labels[assign == "train"])
        test_ids = np.flatnonzero(assign == "test")
        for name, pick in (("with a train homolog", [i for i in test_ids if labels[i] in train_clusters]),
                           ("without", [i for i in test_ids if labels[i] not in train_clusters])):
            if pick:
                chains = [pool[i] for i in pick]
                print(f"    test chains {name}: {len(pick)} chains, {datasets.count_scored(chains)} residues, "
                      f"Q3 {pooled_q3(model, chains):.2f}", flush=True)
    print(f"\nw13 h40, Adam lr {args.lr:g}, {args.epochs} epochs; gap (random - cluster) in test Q3: "
          f"{rows[0][5] - rows[1][5]:+.2f} points")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=("audit-table", "globin"))
    p.add_argument("--work", default="/tmp/sspred-audit", help="Cache of MMseqs2 hits.")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--identity", type=float, default=splits.IDENTITY)
    p.add_argument("--coverage", type=float, default=splits.COVERAGE)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--chains", type=int, default=2000, help="globin: chains drawn from the pool.")
    p.add_argument("--pool", choices=("netsurfp2", "dssp8"), default="netsurfp2",
                   help="globin: netsurfp2 training chains, or all four dssp8 files.")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-2, help="globin: Adam step size (1e-3 stays on the linear plateau).")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    {"audit-table": audit_table, "globin": globin}[args.what](args)


if __name__ == "__main__":
    main()
