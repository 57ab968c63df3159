"""Readers of every format in shared/data, checked against the counts in its README."""

import numpy as np
import pytest

from sspred.alphabet import MASKED, STATES3, STATES8
from sspred.errors import InputError
from sspred.features import WindowIndex, windows
from sspred.io import datasets


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
