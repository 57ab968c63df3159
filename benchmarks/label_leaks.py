"""Leak audit of the multi-task training sets (conservation, dssp8) against the test sets, with MMseqs2.

    nice -n 10 python benchmarks/label_leaks.py --work /tmp/sspred-label-leaks --threads 2

Every chain of each training set (flip-conservation's labelled chains, all
four dssp8 files) is searched against CB513, TS115 and NEW364 (netsurfp2's
test split), in both directions (test chains as queries, then training chains
as queries), with the settings of ``sspred.splits`` and ``--exclude-leaks``:
MMseqs2 -s 7.5, E <= 1e-3, a leak at >= 25% identity over >= 80% of the
shorter chain. The leak test is symmetric, so a pair found in either
direction counts; searching both ways keeps a test chain from missing a
homolog that the prefilter's per-query cap (--max-seqs) crowded out.

It writes src/sspred/data/leaks_<set>.txt (the format of leaks_netsurfp2.txt)
and prints the Markdown table recorded in BENCHMARKS.md: per training set, the
chains checked and, per test set, the training chains with a homolog there.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from sspred import splits
from sspred.io import datasets

REPO = Path(__file__).resolve().parents[1]
DATA_PACKAGE = REPO / "src/sspred/data"

#: Test sets every training set is audited against (names as in the leak lists' third column).
TEST_SETS = ("cb513", "ts115", "netsurfp2/test")


def training_sets(d: Path) -> dict[str, dict[str, list]]:
    """Per leak list, its chains grouped by where they come from (the list's second column)."""
    cons = datasets.read_conservation(d / "flip-conservation")
    dssp8 = {f"dssp8/{name.split('.')[0]}": datasets.read_three_line(d / "dssp8-pdb-sets" / name)
             for name in datasets.DSSP8_FILES}
    return {"conservation": {f"conservation/{split}": chains for split, chains in cons.items()},
            "dssp8": dssp8}


def test_sets(d: Path) -> dict[str, list]:
    return {"cb513": datasets.load("cb513", "test", d), "ts115": datasets.load("ts115", "test", d),
            "netsurfp2/test": datasets.load("netsurfp2", "test", d)}


def hits_both_ways(train: list[tuple[str, str]], test: list[tuple[str, str]], cache: Path,
                   settings: splits.SearchSettings) -> list[splits.Hit]:
    """Hits from test to train and from train to test, the latter turned round; cached as TSV under ``cache``."""
    if not cache.exists():
        t0 = time.perf_counter()
        forward = splits.search(test, train, settings)
        backward = splits.search(train, test, settings)
        turned = [splits.Hit(h.target, h.query, h.identity, h.tcov, h.qcov, h.evalue, h.bits, h.tlen, h.qlen)
                  for h in backward]
        print(f"  searched {len(test)} test against {len(train)} training chains both ways: "
              f"{len(forward)} + {len(backward)} hits in {time.perf_counter() - t0:.0f}s", flush=True)
        splits.write_hits(cache, forward + turned)
    return splits.read_hits(cache)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default="/tmp/sspred-label-leaks", help="Cache of MMseqs2 hits.")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    d = datasets.data_dir(args.data_dir)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    settings = splits.SearchSettings(threads=args.threads)
    tests = test_sets(d)
    # Keys are "set|id": ids repeat across sources (CB513 rows, dssp8 files), and a row must keep its source.
    test_seqs = [(f"{name}|{c.id}", c.sequence) for name, chains in tests.items() for c in chains]
    rows = []
    for list_name, sources in training_sets(d).items():
        train_seqs = [(f"{src}|{c.id}", c.sequence) for src, chains in sources.items() for c in chains]
        print(f"{list_name}: {len(train_seqs)} chains", flush=True)
        pairs = set()
        for h in hits_both_ways(train_seqs, test_seqs, work / f"{list_name}.tsv", settings):
            if h.leaks(splits.IDENTITY, splits.COVERAGE):
                (test_name, test_id), (src, train_id) = h.query.split("|", 1), h.target.split("|", 1)
                pairs.add((train_id, src, test_name, test_id, round(h.identity, 3), round(h.coverage, 3)))
        write_leak_list(list_name, sorted(pairs), mmseqs_version())
        leaking = {t: {(r[1], r[0]) for r in pairs if r[2] == t} for t in TEST_SETS}
        any_set = {(r[1], r[0]) for r in pairs}
        rows.append((list_name, len(train_seqs), {t: len(v) for t, v in leaking.items()}, len(any_set)))
    print("\n| training set | chains checked | " + " | ".join(f"with a homolog in {t}" for t in TEST_SETS)
          + " | in any |")
    print("|---|---:|" + "---:|" * (len(TEST_SETS) + 1))
    for name, n, per_test, n_any in rows:
        print(f"| {name} | {n} | " + " | ".join(str(per_test[t]) for t in TEST_SETS) + f" | {n_any} |")


def mmseqs_version() -> str:
    out = subprocess.run([splits.mmseqs_binary(), "version"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown version"


#: Where each training set's chains come from, for the leak list's header.
PROVENANCE = {"conservation": "shared/data/flip-conservation (FLIP splits/conservation, CC-BY-4.0), labelled chains",
              "dssp8": "shared/data/dssp8-pdb-sets, all four files (fengtuan/LIFT_SS, GPL-2.0)"}


def write_leak_list(name: str, pairs: list[tuple], version: str) -> None:
    path = DATA_PACKAGE / f"leaks_{name}.txt"
    with open(path, "w") as handle:
        handle.write(f"# {name} chains with a homolog in a test set (cb513, ts115, netsurfp2/test = NEW364), found by\n"
                     f"#   python benchmarks/label_leaks.py   (sspred.splits: MMseqs2 {version} easy-search -s 7.5, E <= 1e-3,\n"
                     f"#   identity >= {splits.IDENTITY}, alignment over >= {splits.COVERAGE} of the shorter chain;\n"
                     "#   searched both ways, test chains as queries and training chains as queries)\n"
                     f"# Chains checked: {PROVENANCE[name]}; test sets from shared/data cb513, ts115, netsurfp2.\n"
                     "# Drop the chains of column 1 (filtered by column 3) before testing on that set.\n"
                     f"# {name}_id\t{name}_source\ttest_set\ttest_id\tidentity\tcoverage\n")
        for row in pairs:
            handle.write("\t".join(map(str, row)) + "\n")
    print(f"  wrote {path.relative_to(REPO)}: {len(pairs)} pairs", flush=True)


if __name__ == "__main__":
    main()
