"""sspred.recipes.leaks, the writer of the packaged leak lists: its output format is the shipped files' byte for
byte, and a search over a few real chains finds the very rows the shipped netsurfp2 list holds for them."""

from __future__ import annotations

import shutil

import pytest

from sspred import splits
from sspred.io import datasets
from sspred.recipes import leaks


def shipped_rows(name: str) -> list[leaks.LeakRow]:
    return [(r[0], r[1], r[2], r[3], float(r[4]), float(r[5])) for r in splits.leak_rows(name)]


@pytest.mark.parametrize("name", ["netsurfp2", "conservation", "dssp8"])
def test_writer_rebuilds_each_shipped_list_from_its_rows(name, tmp_path):
    shipped = (leaks.DATA_PACKAGE / f"leaks_{name}.txt").read_text()
    # The label lists name the MMseqs2 release that searched them; the writer takes it as given.
    version = shipped.splitlines()[1].split("MMseqs2 ")[1].split(" easy-search")[0] if name != "netsurfp2" else ""
    header = leaks.netsurfp2_header() if name == "netsurfp2" else leaks.label_header(name, version)
    leaks.write_leak_list(tmp_path / "list.txt", header, shipped_rows(name))
    assert (tmp_path / "list.txt").read_text() == shipped


def test_pair_leaks_counts_a_pair_for_both_sets_and_keeps_netsurfp2_rows():
    hit = splits.Hit("cb513|cb513-001", "netsurfp2/train|1abc-A", identity=0.4, qcov=0.9, tcov=0.5, evalue=1e-20,
                     bits=200.0, qlen=100, tlen=180)
    weak = splits.Hit("ts115|x", "netsurfp2/valid|y", identity=0.2, qcov=1.0, tcov=1.0, evalue=1e-5, bits=50.0,
                      qlen=100, tlen=100)
    pairs, rows = leaks.pair_leaks([hit, weak])
    assert pairs == {("cb513", "netsurfp2/train"): {"cb513-001"}, ("netsurfp2/train", "cb513"): {"1abc-A"}}
    # Coverage is of the shorter chain: the query's 0.9.
    assert rows == [("1abc-A", "netsurfp2/train", "cb513", "cb513-001", 0.4, 0.9)]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mmseqs") is None, reason="MMseqs2 (Debian mmseqs2) not installed")
def test_search_of_a_few_real_chains_finds_the_shipped_rows(tmp_path, data_dir):
    d = data_dir  # the fixture skips, with a message, where the data sets are absent
    shipped = [r for r in shipped_rows("netsurfp2") if r[1] == "netsurfp2/train" and r[2] == "cb513"][:4]
    train_ids, test_ids = {r[0] for r in shipped}, {r[3] for r in shipped}
    nsp = datasets.read_netsurfp2(d / "netsurfp2")
    cb513 = datasets.load("cb513", "test", d)
    sets = {"netsurfp2/train": [c for c in nsp["train"] if c.id in train_ids] + nsp["train"][:20],
            "cb513": [c for c in cb513 if c.id in test_ids]}
    pairs, rows = leaks.pair_leaks(leaks.union_hits(sets, tmp_path / "union.tsv", splits.SearchSettings(threads=1)))
    # Every shipped pair between these chains, and nothing the shipped list lacks.
    expected = [r for r in shipped_rows("netsurfp2") if r[1] == "netsurfp2/train" and r[2] == "cb513"
                and r[3] in test_ids and r[0] in {c.id for c in sets["netsurfp2/train"]}]
    assert rows == expected
    assert pairs[("cb513", "netsurfp2/train")] == test_ids
    assert (tmp_path / "union.tsv").exists()  # the cache a rerun reads
