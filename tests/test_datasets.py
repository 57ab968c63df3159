"""Readers of every format in shared/data, checked against the counts in its README."""

import numpy as np
import pytest

from sspred.alphabet import (CONSERVATION_UNKNOWN, DISORDER_UNKNOWN, DISORDERED, MASKED, ORDERED, STATES3,
                             STATES8)
from sspred.errors import InputError
from sspred.features import WindowIndex, windows
from sspred.io import datasets
from sspred.io.fasta import read_fasta


def residues(chains):
    return sum(len(c.sequence) for c in chains)


def test_qian_sejnowski_counts(data_dir):
    s = datasets.load("qs1988", "train", data_dir) + datasets.load("qs1988", "valid", data_dir)
    t = datasets.load("qs1988", "test", data_dir)
    assert (len(s), residues(s)) == (111, 18105)
    assert (len(t), residues(t)) == (17, 3520)


def test_qs1988_validation_holds_out_training_chains_only(data_dir):
    valid = {c.sequence for c in datasets.load("qs1988", "valid", data_dir)}
    train = {c.sequence for c in datasets.load("qs1988", "train", data_dir)}
    test = {c.sequence for c in datasets.load("qs1988", "test", data_dir)}
    assert valid and not valid & test and not valid & train


@pytest.mark.slow
def test_netsurfp2_splits_and_mask(data_dir):
    s = datasets.DATASETS["netsurfp2"](data_dir)
    assert {k: len(v) for k, v in s.items()} == {"train": 9712, "valid": 1080, "test": 364}
    chain = next(c for c in s["train"] if c.id == "2a6h-E")
    # mask.fasta: first residue and last three are unresolved (0)
    assert chain.y3[0] == MASKED and (chain.y3[-3:] == MASKED).all() and (chain.y3[1:-3] >= 0).all()
    assert "".join(STATES3[i] for i in chain.y3[1:6]) == "CCCCH"


def test_cb513_and_ts115_masks_match_readme_counts(data_dir):
    cb = datasets.load("cb513", "test", data_dir)
    ts = datasets.load("ts115", "test", data_dir)
    assert len(cb) == 511 and residues(cb) == 144011
    assert 82_000 < datasets.count_scored(cb) < 84_000  # "about 83k scored"
    assert len(ts) == 115 and residues(ts) == 29704


def test_eight_to_three_reduction(data_dir):
    cb = datasets.load("cb513", "test", data_dir)
    for chain in cb[:50]:
        keep = chain.y3 >= 0
        s8 = np.array(list(STATES8))[chain.y8[keep]]
        s3 = np.array(list(STATES3))[chain.y3[keep]]
        expect = np.where(np.isin(s8, ["H", "G", "I"]), "H", np.where(np.isin(s8, ["E", "B"]), "E", "C"))
        assert (s3 == expect).all()


@pytest.mark.slow
def test_three_line_sets_mask_unobserved_x(data_dir):
    path = data_dir / "dssp8-pdb-sets" / "CB634_valid.txt"
    chains = datasets.read_three_line(path)
    lines = [l.strip() for l in open(path) if l.strip()]
    labels = {lines[k][1:]: lines[k + 2] for k in range(0, len(lines), 3)}
    assert len(chains) == len(labels) == 512
    n_x = 0
    for chain in chains:
        unobserved = np.array(list(labels[chain.id])) == "X"
        np.testing.assert_array_equal(unobserved, chain.y3 == MASKED)
        n_x += unobserved.sum()
    assert n_x == 8986  # every 'X' in the file is masked


@pytest.mark.slow
def test_crlf_three_line_file_reads_like_lf(data_dir):
    chains = datasets.read_three_line(data_dir / "dssp8-pdb-sets" / "Test2016.txt")
    assert len(chains) == 1213
    assert all(len(c.y8) == len(c.sequence) for c in chains)


def test_window_index_matches_per_chain_windows(data_dir):
    chains = datasets.load("qs1988", "test", data_dir)[:3]
    idx = WindowIndex(chains, 13)
    rows = np.arange(len(idx))
    expected = np.concatenate([windows(c.codes, 13) for c in chains])
    np.testing.assert_array_equal(idx.batch(rows), expected)
    np.testing.assert_array_equal(idx.labels, np.concatenate([c.y3 for c in chains]))


def test_label_length_mismatch_names_the_record(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(">chainA\nMKVL\nHHH\n")
    with pytest.raises(InputError, match=r"record 'chainA'.*4 residues but 3 labels"):
        datasets.read_three_line(bad)


def test_unknown_state_letter_is_an_error(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(">c\nMKVL\nHHQH\n")
    with pytest.raises(InputError, match="unknown state letter 'Q'.*|.*position 3"):
        datasets.read_three_line(bad)


def test_unknown_set_name_is_an_error():
    with pytest.raises(InputError, match="unknown data set"):
        datasets.load("nope", "train")


# --- where the data folder is -----------------------------------------------------------------

@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No $SSPRED_DATA, the working directory and the package's source both in a tree without shared/data."""
    if any((d / "shared" / "data").is_dir() for d in (tmp_path, *tmp_path.parents)):
        pytest.skip(f"a shared/data folder lies above {tmp_path}")
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(datasets, "__file__", str(tmp_path / "site-packages" / "sspred" / "io" / "datasets.py"))
    return tmp_path


def shared_data(root):
    folder = root / "shared" / "data"
    folder.mkdir(parents=True)
    return folder


def test_data_folder_beside_a_checkout_is_found_from_anywhere_in_it(nowhere, monkeypatch):
    """The layout the old '../shared/data' default assumed, found from the checkout's root and from deeper."""
    folder = shared_data(nowhere / "project")
    for cwd in (nowhere / "project" / "sspred", nowhere / "project" / "sspred" / "docs" / "course"):
        cwd.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(cwd)
        assert datasets.data_dir() == folder


def test_data_folder_above_the_package_source_is_found_from_elsewhere(nowhere, monkeypatch):
    folder = shared_data(nowhere / "project")
    monkeypatch.setattr(datasets, "__file__", str(nowhere / "project" / "sspred" / "src" / "sspred" / "io" / "x.py"))
    assert datasets.data_dir() == folder  # the working directory (nowhere/work) has none above it


def test_data_folder_given_or_in_the_environment_comes_first(nowhere, monkeypatch):
    shared_data(nowhere / "work")
    given, env = nowhere / "given", nowhere / "env"
    given.mkdir()
    env.mkdir()
    monkeypatch.setenv(datasets.DATA_ENV, str(env))
    assert datasets.data_dir(given) == given
    assert datasets.data_dir() == env


def test_missing_data_folder_says_what_was_tried(nowhere, monkeypatch):
    with pytest.raises(InputError) as caught:
        datasets.load("cb513", "test")
    message = str(caught.value)
    for tried in ("--data-dir", f"${datasets.DATA_ENV}", str(nowhere / "work"), str(nowhere / "site-packages")):
        assert tried in message
    monkeypatch.setenv(datasets.DATA_ENV, str(nowhere / "missing"))
    with pytest.raises(InputError, match=r"data folder not found \(given by \$SSPRED_DATA\)") as caught:
        datasets.data_dir()
    assert str(nowhere / "missing") in str(caught.value)
    with pytest.raises(InputError, match=r"given by --data-dir"):
        datasets.data_dir(nowhere / "also-missing")


# --- disorder and conservation targets ------------------------------------------------------

def _csv_column(path, name):
    """One space-separated column of a ps4 CSV, per row, parsed here independently of the reader."""
    import csv

    with open(path) as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        return [np.array(row[header.index(name)].split(), dtype=float) for row in reader if row]


@pytest.mark.parametrize("name,path", [("cb513", "cb513/CB513_HHblits.csv"), ("ts115", "ts115/TS115_HHblits.csv")])
def test_cb513_ts115_disorder_is_the_unobserved_column(data_dir, name, path):
    chains = datasets.load(name, "test", data_dir)
    column = _csv_column(data_dir / path, "disorder")
    assert len(chains) == len(column)
    for chain, observed in zip(chains, column):
        assert chain.disorder.dtype == np.int8
        # 0 in the column (unobserved) is disordered; every residue of these chains has a known target.
        np.testing.assert_array_equal(chain.disorder, np.where(observed == 0, DISORDERED, ORDERED))
        # A disordered residue is never scored for secondary structure (the 3/8-state masks stay as they were).
        assert (chain.y3[chain.disorder == DISORDERED] == MASKED).all()
    assert sum(int((c.disorder == DISORDERED).sum()) for c in chains) == sum(int((o == 0).sum()) for o in column)


def test_cb513_disorder_covers_the_whole_chain_not_only_the_cb513_segment(data_dir):
    chains = datasets.load("cb513", "test", data_dir)
    segment = _csv_column(data_dir / "cb513/CB513_HHblits.csv", "cb513_mask")
    # Residues outside the CB513 segment are masked for Q3 but keep a disorder target.
    outside = [(c, s == 0) for c, s in zip(chains, segment) if (s == 0).any()]
    assert outside
    for chain, out in outside:
        assert (chain.y3[out] == MASKED).all() and (chain.disorder[out] >= 0).all()


@pytest.mark.slow
def test_netsurfp2_disorder_is_the_unresolved_mask(data_dir):
    s = datasets.DATASETS["netsurfp2"](data_dir)
    chain = next(c for c in s["train"] + s["valid"] if c.id == "2a6h-E")
    # mask.fasta: first residue and last three are unresolved (0), so disordered.
    assert chain.disorder[0] == DISORDERED and (chain.disorder[-3:] == DISORDERED).all()
    assert (chain.disorder[1:-3] == ORDERED).all()
    masks = {}
    with open(data_dir / "netsurfp2" / "mask.fasta") as handle:
        for header, body, _ in read_fasta(handle, "mask.fasta"):
            masks[header.split()[0]] = body
    n_dis = 0
    for chains in s.values():
        for c in chains:
            np.testing.assert_array_equal(c.disorder == DISORDERED, np.array(list(masks[c.id])) == "0")
            # netsurfp2 masks nothing but unresolved residues, so its y3 mask and disorder agree.
            np.testing.assert_array_equal(c.disorder == DISORDERED, c.y3 == MASKED)
            n_dis += int((c.disorder == DISORDERED).sum())
    assert n_dis == sum(m.count("0") for m in masks.values())


def test_sets_without_disorder_or_conservation_say_unknown(data_dir):
    for chain in datasets.load("qs1988", "test", data_dir) + datasets.load("ts115", "test", data_dir):
        assert chain.conservation.shape == (len(chain.sequence),) and chain.conservation.dtype == np.int8
        assert (chain.conservation == CONSERVATION_UNKNOWN).all()
    for chain in datasets.load("qs1988", "test", data_dir):
        assert chain.disorder.shape == (len(chain.sequence),) and (chain.disorder == DISORDER_UNKNOWN).all()


def test_disorder_length_mismatch_names_the_record():
    with pytest.raises(InputError, match=r"record 'c'.*4 residues but 3 disorder flags"):
        datasets.make_chain("c", "MKVL", "CHHC", eight=False, disorder=np.zeros(3, np.int8))


def _fasta_headers(path):
    with open(path) as handle:
        return [header for header, _, _ in read_fasta(handle, str(path))]


@pytest.mark.slow
def test_conservation_counts_splits_and_classes(data_dir):
    folder = data_dir / "flip-conservation"
    with open(folder / "sequences.fasta") as handle:
        seqs = {h.split()[0]: body for h, body, _ in read_fasta(handle, "sequences.fasta")}
    # The README: 10,295 chains, 2.68M residues.
    assert len(seqs) == 10295 and round(sum(map(len, seqs.values())) / 1e4) == 268
    s = datasets.DATASETS["conservation"](data_dir)
    headers = _fasta_headers(folder / "sampled.fasta")
    expect = {"train": sum("SET=train" in h and "VALIDATION=False" in h for h in headers),
              "valid": sum("VALIDATION=True" in h for h in headers),
              "test": sum("SET=test" in h for h in headers)}
    assert {k: len(v) for k, v in s.items()} == expect and sum(expect.values()) == len(headers)
    chains = [c for v in s.values() for c in v]
    # Every labelled chain is in a split; the sequences without a label record are the only ones left out.
    assert {c.id for c in chains} == {h.split()[0] for h in headers} < set(seqs)
    for c in chains:
        assert c.sequence == seqs[c.id] and c.conservation.size == len(c.sequence)
        assert (c.y3 == MASKED).all() and c.y8 is None and (c.disorder == DISORDER_UNKNOWN).all()
    classes = np.concatenate([c.conservation for c in chains])
    assert classes.min() == 1 and classes.max() == 9 and classes.size == sum(len(c.sequence) for c in chains)
    with open(folder / "sampled.fasta") as handle:
        first_id, first_digits = next((h.split()[0], b) for h, b, _ in read_fasta(handle, "sampled.fasta"))
    first = next(c for c in chains if c.id == first_id)
    assert "".join(map(str, first.conservation)) == first_digits
    assert datasets.count_scored(chains) == 0  # no secondary structure to train on


def _conservation_folder(tmp_path, digits):
    (tmp_path / "sequences.fasta").write_text(">a1-A\nMKVLA\n>b2-B\nGGSW\n")
    (tmp_path / "sampled.fasta").write_text(f">a1-A SET=train VALIDATION=False\n{digits}\n"
                                            ">b2-B SET=test VALIDATION=False\n9911\n")
    return tmp_path


def test_conservation_reader_and_read_file_on_a_small_folder(tmp_path):
    folder = _conservation_folder(tmp_path, "12345")
    s = datasets.read_conservation(folder)
    assert [c.id for c in s["train"]] == ["a1-A"] and [c.id for c in s["test"]] == ["b2-B"] and not s["valid"]
    assert s["train"][0].conservation.tolist() == [1, 2, 3, 4, 5]
    # read_file tells the conservation folder (no mask.fasta) from a netsurfp2 folder.
    assert [c.conservation.tolist() for c in datasets.read_file(folder)] == [[1, 2, 3, 4, 5], [9, 9, 1, 1]]


@pytest.mark.parametrize("digits,message", [("12305", r"record 'a1-A', position 4: conservation class '0' is not"),
                                            ("123", r"record 'a1-A', position 4: 5 residues but 3 conservation")])
def test_bad_conservation_labels_name_record_and_position(tmp_path, digits, message):
    folder = _conservation_folder(tmp_path, digits)
    with pytest.raises(InputError, match=message):
        datasets.read_conservation(folder)
