"""Homology-aware splits and the leakage audit, against real MMseqs2 on small real slices."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

from sspred import splits
from sspred.errors import ToolError
from sspred.io import datasets

needs_mmseqs = pytest.mark.skipif(shutil.which("mmseqs") is None, reason="MMseqs2 (Debian mmseqs2) not installed")
QS_TRAIN = "qian-sejnowski-1988/protein-secondary-structure.train"


def pairs(chains):
    return [(c.id, c.sequence) for c in chains]


# --- pure parts --------------------------------------------------------------------------------

def test_components_join_transitively_and_label_by_smallest_member():
    # 0-2 and 2-4 join {0, 2, 4}; 1-3 joins {1, 3}; 5 is alone.
    labels = splits.components(6, [(2, 0), (4, 2), (3, 1)])
    assert labels.tolist() == [0, 1, 0, 1, 0, 5]


def test_assign_splits_keeps_clusters_whole_and_held_out_sets_within_their_share():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(40), rng.integers(1, 6, size=40))  # 40 clusters of 1-5 chains
    assign = splits.assign_splits(labels, (0.8, 0.1, 0.1), np.random.default_rng(1))
    for k in np.unique(labels):
        assert len(set(assign[labels == k])) == 1
    for name in ("valid", "test"):
        assert 0 < (assign == name).sum() <= round(0.1 * labels.size)
    # A cluster larger than a held-out share always trains.
    big = np.array([0] * 50 + list(range(1, 51)))
    assert set(splits.assign_splits(big, (0.8, 0.1, 0.1), np.random.default_rng(2))[:50]) == {"train"}


def test_hit_coverage_is_that_of_the_shorter_chain():
    # A 50-residue query aligned over 45 residues of a 300-residue target: 90% of the shorter chain.
    h = splits.Hit("q", "t", 0.4, qcov=0.9, tcov=0.15, evalue=1e-20, bits=90, qlen=50, tlen=300)
    assert h.coverage == 0.9 and h.leaks(0.25, 0.8) and not h.leaks(0.5, 0.8)


def test_missing_mmseqs_is_a_tool_error(monkeypatch):
    monkeypatch.setenv("SSPRED_MMSEQS", "no-such-mmseqs-binary")
    with pytest.raises(ToolError, match="MMseqs2 not found"):
        splits.search([("a", "ACDEFGHIK")], [("b", "ACDEFGHIK")])


@pytest.mark.slow
def test_missing_mmseqs_on_the_command_line_is_one_line_and_exit_2(cli, data_dir):
    r = cli("audit", "--train", "qs1988", "--test", "qs1988", "--data-dir", str(data_dir),
            env={"SSPRED_MMSEQS": "no-such-mmseqs-binary"})
    assert r.returncode == 2 and "MMseqs2 not found" in r.stderr and "Traceback" not in r.stderr


# --- three-line files keep labels and masks ---------------------------------------------------

@pytest.mark.parametrize("name", ["cb513", pytest.param("netsurfp2", marks=pytest.mark.slow)])
def test_three_line_round_trip_keeps_states_and_masks(data_dir, tmp_path, name):
    chains = datasets.load(name, "test", data_dir)[:40]
    buf = io.StringIO()
    assert datasets.write_three_line(chains, buf) == len(chains)
    (tmp_path / "x.txt").write_text(buf.getvalue())
    back = datasets.read_file(tmp_path / "x.txt")
    assert [c.id for c in back] == [c.id for c in chains]
    for a, b in zip(chains, back):
        assert a.sequence == b.sequence
        np.testing.assert_array_equal(a.y3, b.y3)  # masks (-1) included
        if a.y8 is None:
            assert b.y8 is None
        else:
            np.testing.assert_array_equal(a.y8, b.y8)
    assert any((c.y3 < 0).any() for c in chains)  # the slice does exercise masks


# --- real MMseqs2 ------------------------------------------------------------------------------

@pytest.mark.slow
@needs_mmseqs
def test_self_search_and_a_contained_fragment(data_dir):
    chain = datasets.load("qs1988", "test", data_dir)[0]
    half = chain.sequence[: len(chain.sequence) // 2]
    hits = splits.search([("frag", half)], [("full", chain.sequence)], splits.SearchSettings(threads=1))
    best = splits.best_hits(hits, 0.8)["frag"]
    assert best.identity == 1.0
    assert best.qlen == len(half) and best.tlen == len(chain.sequence)
    # The fragment is covered completely; the full chain only about half.
    assert best.coverage == 1.0 and best.tcov == pytest.approx(len(half) / len(chain.sequence), abs=0.02)


@pytest.mark.slow
@needs_mmseqs
def test_audit_finds_the_qs1988_test_chains_that_are_cb513_chains(data_dir):
    # shared/data/README.md: 8 of the 17 Qian-Sejnowski test chains are essentially CB513 chains.
    test = datasets.load("qs1988", "test", data_dir)
    cb513 = datasets.load("cb513", "test", data_dir)
    result = splits.audit(pairs(cb513), pairs(test), settings=splits.SearchSettings(threads=1))
    assert [r.id for r in result.rows] == [c.id for c in test]
    same = [r for r in result.rows if r.best and r.best.identity >= 0.95 and r.best.coverage >= 0.8]
    assert len(same) == 8
    # At 25% identity the leak is larger still, and every flagged row is a real hit above the threshold.
    assert len(result.leaking_test) >= len(same)
    for r in result.rows:
        assert r.leak == bool(r.best and r.best.identity >= 0.25 and r.best.coverage >= 0.8)
    assert result.leaking_train <= {c.id for c in cb513}


@pytest.mark.slow
@needs_mmseqs
def test_split_writes_cluster_disjoint_sets_that_pass_the_audit(cli, data_dir, tmp_path):
    src = data_dir / QS_TRAIN
    r = cli("split", "--data", str(src), "--out-dir", str(tmp_path), "--valid-fraction", "0.15",
            "--test-fraction", "0.15", "--seed", "3", "--threads", "1")
    assert r.returncode == 0, r.stderr
    parts = {s: datasets.read_file(tmp_path / f"{s}.txt") for s in splits.SPLITS}
    original = datasets.read_file(src)
    assert sorted(c.id for p in parts.values() for c in p) == sorted(c.id for c in original)
    assert parts["test"] and parts["valid"]
    by_id = {c.id: c for c in original}
    for c in parts["test"]:
        np.testing.assert_array_equal(c.y3, by_id[c.id].y3)
    # Clusters never straddle splits.
    rows = [line.split("\t") for line in (tmp_path / "clusters.tsv").read_text().splitlines()[1:]]
    split_of_cluster = {}
    for _, cluster, split in rows:
        assert split_of_cluster.setdefault(cluster, split) == split
    # And the audit at the same threshold finds nothing between train and test.
    a = cli("audit", "--train", str(tmp_path / "train.txt"), "--test", str(tmp_path / "test.txt"),
            "--threads", "1", "--fail-on-leak")
    assert a.returncode == 0, a.stderr
    assert f"0 of {len(parts['test'])} test chains leak" in a.stderr


@pytest.mark.slow
@needs_mmseqs
def test_audit_cli_writes_filtered_sets_without_leaks(cli, data_dir, tmp_path):
    args = ["--train", "cb513", "--test", "qs1988:test", "--data-dir", str(data_dir), "--threads", "1"]
    r = cli("audit", *args, "--write-filtered-test", str(tmp_path / "test.txt"),
            "--write-filtered-train", str(tmp_path / "train.txt"), "-o", str(tmp_path / "report.tsv"))
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in (tmp_path / "report.tsv").read_text().splitlines()[1:]]
    assert len(rows) == 17
    leaking = {row[0] for row in rows if row[-1] == "yes"}
    assert leaking and all(float(row[3]) >= 0.25 and float(row[4]) >= 0.8 for row in rows if row[0] in leaking)
    kept = datasets.read_file(tmp_path / "test.txt")
    assert {c.id for c in kept} == {row[0] for row in rows} - leaking
    assert len(datasets.read_file(tmp_path / "train.txt")) < 511
    # The filtered sets audit clean.
    again = cli("audit", "--train", str(tmp_path / "train.txt"), "--test", "qs1988:test",
                "--data-dir", str(data_dir), "--threads", "1", "--fail-on-leak")
    assert again.returncode == 0, again.stderr
    r2 = cli("audit", "--train", "cb513", "--test", str(tmp_path / "test.txt"), "--data-dir", str(data_dir),
             "--threads", "1", "--fail-on-leak")
    assert r2.returncode == 0, r2.stderr


def test_every_leak_list_parses_and_says_how_it_was_made():
    test_sets = {"cb513", "ts115", "netsurfp2/test", "dssp8/Test2016"}
    union = set()
    for name, filename in splits.LEAK_LISTS.items():
        from importlib import resources
        text = (resources.files("sspred.data") / filename).read_text()
        assert "found by" in text and "python -m sspred.recipes.leaks" in text and "identity >= 0.25" in text  # provenance
        rows = splits.leak_rows(name)
        assert rows and all(len(r) == 6 for r in rows)
        assert {r[2] for r in rows} <= test_sets
        assert all(float(r[4]) >= splits.IDENTITY and float(r[5]) >= splits.COVERAGE for r in rows)
        assert splits.known_leaks(train_set=name) == {r[0] for r in rows}
        union |= {r[0] for r in rows}
    assert splits.known_leaks() == union
    with pytest.raises(ValueError, match="no leak list for 'cb513'"):
        splits.known_leaks(train_set="cb513")


@pytest.mark.slow
@needs_mmseqs
@pytest.mark.parametrize("name", ["conservation", "dssp8"])
def test_new_leak_lists_name_real_chains_and_real_homologs(data_dir, name):
    # Sources as the lists' second column names them: conservation/<split>, dssp8/<file stem>.
    if name == "conservation":
        sources = {f"conservation/{k}": v for k, v in datasets.DATASETS["conservation"](data_dir).items()}
    else:
        sources = {f"dssp8/{f.split('.')[0]}": datasets.read_three_line(data_dir / "dssp8-pdb-sets" / f)
                   for f in datasets.DSSP8_FILES}
    pool = [c for v in sources.values() for c in v]
    by_id = {(src, c.id): c for src, v in sources.items() for c in v}
    ids = {c.id for c in pool}
    listed = splits.known_leaks(train_set=name)
    assert listed <= ids
    kept = splits.without_leaks(pool, train_set=name)
    assert len(kept) == sum(c.id not in listed for c in pool) and not {c.id for c in kept} & listed
    # Recompute one listed pair per test set from scratch.
    tests = {"cb513": datasets.load("cb513", "test", data_dir), "ts115": datasets.load("ts115", "test", data_dir)}
    for test_set, chains in tests.items():
        row = next(r for r in splits.leak_rows(name) if r[2] == test_set)
        test_chain = next(c for c in chains if c.id == row[3])
        hits = splits.search([(row[3], test_chain.sequence)], [(row[0], by_id[row[1], row[0]].sequence)],
                             splits.SearchSettings(threads=1))
        best = splits.best_hits(hits, splits.COVERAGE)[row[3]]
        assert best.leaks(splits.IDENTITY, splits.COVERAGE)
        assert best.identity == pytest.approx(float(row[4]), abs=0.002)


@pytest.mark.slow
@needs_mmseqs
def test_packaged_leak_list_pairs_are_real_homologs(data_dir):
    cb = splits.known_leaks("cb513", "netsurfp2")
    nsp = datasets.read_netsurfp2(data_dir / "netsurfp2")
    pool = {c.id: c for c in nsp["train"] + nsp["valid"]}
    assert cb and cb <= set(pool) and cb <= splits.known_leaks()
    assert not splits.known_leaks("netsurfp2/test", "netsurfp2")  # NetSurfP-2.0 removed NEW364's homologs itself
    # Recompute the first listed pair from scratch.
    rows = [r for r in splits.leak_rows("netsurfp2") if r[2] == "cb513"]
    nsp_id, _, _, cb_id, identity, _ = rows[0]
    cb513 = {c.id: c for c in datasets.load("cb513", "test", data_dir)}
    hits = splits.search([(cb_id, cb513[cb_id].sequence)], [(nsp_id, pool[nsp_id].sequence)],
                         splits.SearchSettings(threads=1))
    best = splits.best_hits(hits, splits.COVERAGE)[cb_id]
    assert best.leaks(splits.IDENTITY, splits.COVERAGE)
    assert best.identity == pytest.approx(float(identity), abs=0.002)


@pytest.mark.slow
@needs_mmseqs
def test_min_searchable_is_where_identical_fragments_start_to_be_found(data_dir):
    chain = datasets.load("qs1988", "test", data_dir)[0].sequence
    loose = splits.SearchSettings(threads=1, evalue=10)
    found = {n: bool(splits.search([("f", chain[40:40 + n])], [("c", chain)], loose))
             for n in (splits.MIN_SEARCHABLE - 2, splits.MIN_SEARCHABLE)}
    assert found == {splits.MIN_SEARCHABLE - 2: False, splits.MIN_SEARCHABLE: True}


@pytest.mark.slow
@needs_mmseqs
def test_audit_warns_about_chains_too_short_to_search(cli, data_dir):
    r = cli("audit", "--train", "qs1988:test", "--test", str(data_dir / QS_TRAIN), "--data-dir", str(data_dir),
            "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "shorter than 12 residues" in r.stderr and "train061" in r.stderr
