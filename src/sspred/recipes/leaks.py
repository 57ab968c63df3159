"""The packaged leak lists (``src/sspred/data/leaks_*.txt``): training chains with a homolog in a test set.

    python -m sspred.recipes.leaks netsurfp2 [--work /tmp/sspred-audit] [--threads 2]
    python -m sspred.recipes.leaks labels [--work /tmp/sspred-label-leaks] [--threads 2]

``netsurfp2`` searches every chain of every set sspred trains or tests on (but netsurfp2 train's, reached from
the other side) against all of them with MMseqs2 (``sspred.splits`` settings: -s 7.5, E <= 1e-3), prints, for each
(row set, column set) pair, how many chains of the row set have a chain of the column set at >= 25% identity over
>= 80% of the shorter chain (BENCHMARKS.md, "Every pair of sets we train or test on"), and writes
``leaks_netsurfp2.txt``: the netsurfp2 training and validation chains with such a homolog in a test set.

``labels`` audits the multi-task training sets (flip-conservation's labelled chains, all four dssp8 files) against
CB513, TS115 and NEW364 (netsurfp2's test split), searching both ways (test chains as queries, then training chains
as queries) so a test chain cannot miss a homolog that the prefilter's per-query cap (``--max-seqs``) crowded out;
the leak test is symmetric, so a pair found in either direction counts. It writes ``leaks_conservation.txt`` and
``leaks_dssp8.txt`` and prints the table of BENCHMARKS.md, "The multi-task label sets against the test sets".

MMseqs2 hits are cached under ``--work``, so a rerun only reads them back. ``--out-dir`` (default: the package's
data folder) is where the lists go.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Sequence
from pathlib import Path

from sspred import splits
from sspred.io import datasets
from sspred.io.chain import Chain
from sspred.io.textfile import atomic_output

#: Where the lists ship: sspred.splits.LEAK_LISTS reads them from here.
DATA_PACKAGE = Path(__file__).resolve().parents[1] / "data"
#: The one set too big to search as queries on a small machine; its pairs come from the other direction.
NOT_QUERIED = "netsurfp2/train"
#: Test sets whose netsurfp2 training and validation homologs go into leaks_netsurfp2.txt.
NETSURFP2_TESTS = ("cb513", "ts115", "netsurfp2/test", "dssp8/Test2016")
#: Test sets every multi-task training set is audited against (names as in the lists' third column).
LABEL_TESTS = ("cb513", "ts115", "netsurfp2/test")
#: Where each multi-task training set's chains come from, for its list's header.
PROVENANCE = {"conservation": "shared/data/flip-conservation (FLIP splits/conservation, CC-BY-4.0), labelled chains",
              "dssp8": "shared/data/dssp8-pdb-sets, all four files (fengtuan/LIFT_SS, GPL-2.0)"}

#: One row of a leak list: training id, its source, test set, test id, identity, coverage (rounded to 3 places).
LeakRow = tuple[str, str, str, str, float, float]


def named_sets(d: Path) -> dict[str, list[Chain]]:
    """Every set sspred trains or tests on, by the name the audit table and the netsurfp2 list give it.

    Parameters
    ----------
    d : Path
        The data folder (``sspred.io.datasets.data_dir``).

    Returns
    -------
    dict of str to list of Chain
        qs1988 (train with valid, test), netsurfp2 (train, valid, test), cb513, ts115 and each dssp8 file.
    """
    nsp = datasets.read_netsurfp2(d / "netsurfp2")
    qs = datasets.DATASETS["qs1988"](d)
    sets = {"qs1988/train": qs["train"] + qs["valid"], "qs1988/test": qs["test"],
            "netsurfp2/train": nsp["train"], "netsurfp2/valid": nsp["valid"], "netsurfp2/test": nsp["test"],
            "cb513": datasets.load("cb513", "test", d), "ts115": datasets.load("ts115", "test", d)}
    for f in datasets.DSSP8_FILES:
        sets["dssp8/" + f.split(".")[0]] = datasets.read_three_line(d / "dssp8-pdb-sets" / f)
    return sets


def union_hits(sets: dict[str, list[Chain]], cache: Path, settings: splits.SearchSettings) -> list[splits.Hit]:
    """Every chain of every set but NOT_QUERIED searched against all chains of all sets, ids as ``set|id``.

    Parameters
    ----------
    sets : dict of str to list of Chain
        The sets, as ``named_sets`` returns them.
    cache : Path
        TSV of the hits (``sspred.splits.write_hits``): read when it exists, written after the search otherwise.
    settings : sspred.splits.SearchSettings
        MMseqs2's settings.

    Returns
    -------
    list of sspred.splits.Hit
    """
    if not cache.exists():
        tagged = {name: [(f"{name}|{c.id}", c.sequence) for c in chains] for name, chains in sets.items()}
        queries = [q for name, qs in tagged.items() if name != NOT_QUERIED for q in qs]
        targets = [t for ts in tagged.values() for t in ts]
        splits.write_hits(cache, splits.search(queries, targets, settings))
    return splits.read_hits(cache)


def pair_leaks(hits: Sequence[splits.Hit], identity: float = splits.IDENTITY, coverage: float = splits.COVERAGE
               ) -> tuple[dict[tuple[str, str], set[str]], list[LeakRow]]:
    """The leaks between every pair of sets, and the rows of the netsurfp2 leak list, from ``union_hits``.

    The leak test is symmetric (identity, coverage of the shorter chain), so a pair found in either direction counts
    for both sets.

    Parameters
    ----------
    hits : sequence of sspred.splits.Hit
        Hits whose ids are ``set|id``.
    identity, coverage : float
        The leak's thresholds.

    Returns
    -------
    leaks : dict of (str, str) to set of str
        ``leaks[(A, B)]``: ids of the chains of set A with a leak-strength partner in set B.
    rows : list of LeakRow
        netsurfp2 training and validation chains with a partner in one of NETSURFP2_TESTS, sorted, one per pair.
    """
    leaks: dict[tuple[str, str], set[str]] = {}
    rows = set()
    for h in hits:
        (qset, qid), (tset, tid) = h.query.split("|", 1), h.target.split("|", 1)
        if qset == tset or not h.leaks(identity, coverage):
            continue
        leaks.setdefault((qset, tset), set()).add(qid)
        leaks.setdefault((tset, qset), set()).add(tid)
        for (a, aid), (b, bid) in (((qset, qid), (tset, tid)), ((tset, tid), (qset, qid))):
            if a in ("netsurfp2/train", "netsurfp2/valid") and b in NETSURFP2_TESTS:
                rows.add((aid, a, b, bid, round(h.identity, 3), round(h.coverage, 3)))
    return leaks, sorted(rows)


def audit_table(sets: dict[str, list[Chain]], leaks: dict[tuple[str, str], set[str]]) -> list[str]:
    """The Markdown table of ``pair_leaks``: per row set (with its chain count), its chains leaking into each set.

    Parameters
    ----------
    sets : dict of str to list of Chain
        The sets, in the table's order.
    leaks : dict of (str, str) to set of str
        As ``pair_leaks`` returns it.

    Returns
    -------
    list of str
        The table's lines.
    """
    names = list(sets)
    short = {n: n.replace("dssp8/", "").replace("netsurfp2/", "nsp2/").replace("qs1988/", "qs/")
             .replace("_valid", "").replace("_Valid", "") for n in names}
    lines = ["| set (chains) | " + " | ".join(short[n] for n in names) + " |", "|---|" + "---:|" * len(names)]
    for q in names:
        cells = ["—" if q == t else str(len(leaks.get((q, t), ()))) for t in names]
        lines.append(f"| {short[q]} ({len(sets[q])}) | " + " | ".join(cells) + " |")
    return lines


def netsurfp2_header(identity: float = splits.IDENTITY, coverage: float = splits.COVERAGE) -> str:
    """The comment lines of leaks_netsurfp2.txt: how it was made and how to read it."""
    return ("# netsurfp2 training/validation chains with a homolog in a test set, found by\n"
            "#   python -m sspred.recipes.leaks netsurfp2   (sspred.splits: MMseqs2 easy-search -s 7.5,\n"
            f"#   E <= 1e-3, identity >= {identity}, alignment over >= {coverage} of the shorter chain)\n"
            "# Drop the chains of column 1 (filtered by column 3) before testing on that set.\n"
            "# netsurfp2_id\tnetsurfp2_split\ttest_set\ttest_id\tidentity\tcoverage\n")


def label_header(name: str, version: str) -> str:
    """The comment lines of a multi-task set's list (``name`` a key of PROVENANCE), MMseqs2 ``version`` named."""
    return (f"# {name} chains with a homolog in a test set (cb513, ts115, netsurfp2/test = NEW364), found by\n"
            f"#   python -m sspred.recipes.leaks labels   (sspred.splits: MMseqs2 {version} easy-search -s 7.5, "
            "E <= 1e-3,\n"
            f"#   identity >= {splits.IDENTITY}, alignment over >= {splits.COVERAGE} of the shorter chain;\n"
            "#   searched both ways, test chains as queries and training chains as queries)\n"
            f"# Chains checked: {PROVENANCE[name]}; test sets from shared/data cb513, ts115, netsurfp2.\n"
            "# Drop the chains of column 1 (filtered by column 3) before testing on that set.\n"
            f"# {name}_id\t{name}_source\ttest_set\ttest_id\tidentity\tcoverage\n")


def write_leak_list(path: Path, header: str, rows: Sequence[LeakRow]) -> None:
    """Write a leak list: ``header`` (comment lines), then one tab-separated line per row.

    Parameters
    ----------
    path : Path
        The file written (its folder is made if absent).
    header : str
        Lines starting with ``#``, each ending in a newline.
    rows : sequence of LeakRow
        In the order written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as handle:  # a stopped run never leaves a shipped list half written
        handle.write(header)
        for row in rows:
            handle.write("\t".join(map(str, row)) + "\n")


def label_training_sets(d: Path) -> dict[str, dict[str, list[Chain]]]:
    """Per multi-task leak list, its chains grouped by where they come from (the list's second column)."""
    cons = datasets.read_conservation(d / "flip-conservation")
    dssp8 = {f"dssp8/{name.split('.')[0]}": datasets.read_three_line(d / "dssp8-pdb-sets" / name)
             for name in datasets.DSSP8_FILES}
    return {"conservation": {f"conservation/{split}": chains for split, chains in cons.items()}, "dssp8": dssp8}


def label_test_sets(d: Path) -> dict[str, list[Chain]]:
    """The test sets of LABEL_TESTS, by the names the lists' third column gives them."""
    return {"cb513": datasets.load("cb513", "test", d), "ts115": datasets.load("ts115", "test", d),
            "netsurfp2/test": datasets.load("netsurfp2", "test", d)}


def hits_both_ways(train: Sequence[tuple[str, str]], test: Sequence[tuple[str, str]], cache: Path,
                   settings: splits.SearchSettings) -> list[splits.Hit]:
    """Hits from test to train, and from train to test turned round (test chains always the queries).

    Parameters
    ----------
    train, test : sequence of (id, sequence)
        The chains searched.
    cache : Path
        TSV of the hits: read when it exists, written after the searches otherwise.
    settings : sspred.splits.SearchSettings
        MMseqs2's settings.

    Returns
    -------
    list of sspred.splits.Hit
    """
    if not cache.exists():
        forward = splits.search(test, train, settings)
        backward = splits.search(train, test, settings)
        turned = [splits.Hit(h.target, h.query, h.identity, h.tcov, h.qcov, h.evalue, h.bits, h.tlen, h.qlen)
                  for h in backward]
        splits.write_hits(cache, forward + turned)
    return splits.read_hits(cache)


def label_rows(hits: Sequence[splits.Hit]) -> list[LeakRow]:
    """The sorted rows of a multi-task leak list from ``hits_both_ways`` hits whose ids are ``set|id``."""
    rows = set()
    for h in hits:
        if h.leaks(splits.IDENTITY, splits.COVERAGE):
            (test_name, test_id), (src, train_id) = h.query.split("|", 1), h.target.split("|", 1)
            rows.add((train_id, src, test_name, test_id, round(h.identity, 3), round(h.coverage, 3)))
    return sorted(rows)


def mmseqs_version() -> str:
    """MMseqs2's own version string, for the lists' headers."""
    out = subprocess.run([splits.mmseqs_binary(), "version"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown version"


def netsurfp2(d: Path, work: Path, out_dir: Path, settings: splits.SearchSettings) -> list[str]:
    """Write leaks_netsurfp2.txt under ``out_dir``; return the audit table's lines and a summary line."""
    sets = named_sets(d)
    work.mkdir(parents=True, exist_ok=True)
    leaks, rows = pair_leaks(union_hits(sets, work / "union.tsv", settings))
    path = out_dir / "leaks_netsurfp2.txt"
    write_leak_list(path, netsurfp2_header(), rows)
    by_test: dict[str, set[str]] = {}
    for row in rows:
        by_test.setdefault(row[2], set()).add(row[0])
    return [f"Chains of the row set with a chain of the column set at >= {splits.IDENTITY:.0%} identity over >= "
            f"{splits.COVERAGE:.0%} of the shorter chain (MMseqs2 -s {settings.sensitivity}, E <= {settings.evalue}):",
            "", *audit_table(sets, leaks), "",
            f"wrote {path}: " + ", ".join(f"{len(v)} netsurfp2 chains leak into {k}" for k, v in sorted(by_test.items()))]


def labels(d: Path, work: Path, out_dir: Path, settings: splits.SearchSettings) -> list[str]:
    """Write leaks_conservation.txt and leaks_dssp8.txt under ``out_dir``; return the summary table's lines."""
    work.mkdir(parents=True, exist_ok=True)
    tests = label_test_sets(d)
    # Keys are "set|id": ids repeat across sources (CB513 rows, dssp8 files), and a row must keep its source.
    test_seqs = [(f"{name}|{c.id}", c.sequence) for name, chains in tests.items() for c in chains]
    version = mmseqs_version()
    lines = ["| training set | chains checked | " + " | ".join(f"with a homolog in {t}" for t in LABEL_TESTS)
             + " | in any |", "|---|---:|" + "---:|" * (len(LABEL_TESTS) + 1)]
    for name, sources in label_training_sets(d).items():
        train_seqs = [(f"{src}|{c.id}", c.sequence) for src, chains in sources.items() for c in chains]
        rows = label_rows(hits_both_ways(train_seqs, test_seqs, work / f"{name}.tsv", settings))
        write_leak_list(out_dir / f"leaks_{name}.txt", label_header(name, version), rows)
        per_test = [len({(r[1], r[0]) for r in rows if r[2] == t}) for t in LABEL_TESTS]
        lines.append(f"| {name} | {len(train_seqs)} | " + " | ".join(map(str, per_test))
                     + f" | {len({(r[1], r[0]) for r in rows})} |")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sspred.recipes.leaks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lists", choices=("netsurfp2", "labels"))
    p.add_argument("--work", type=Path, help="cache of MMseqs2 hits (default /tmp/sspred-audit or "
                   "/tmp/sspred-label-leaks)")
    p.add_argument("--data-dir", default=None, help="data sets (default: $SSPRED_DATA)")
    p.add_argument("--out-dir", type=Path, default=DATA_PACKAGE, help="where the lists are written")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    d = datasets.data_dir(args.data_dir)
    settings = splits.SearchSettings(threads=args.threads)
    if args.lists == "netsurfp2":
        lines = netsurfp2(d, args.work or Path("/tmp/sspred-audit"), args.out_dir, settings)
    else:
        lines = labels(d, args.work or Path("/tmp/sspred-label-leaks"), args.out_dir, settings)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
