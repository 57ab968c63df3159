"""Training on one's own file: a run with nothing to validate on says so, and evaluating that file names it as
the file it is, not as a set's test split."""

from __future__ import annotations

import itertools

import pytest

from conftest import run_cli
from sspred.evaluation import evaluate
from sspred.io import datasets

pytestmark = pytest.mark.slow  # sspred in a subprocess

WARNING = ("sspred: warning: no validation data (give --valid-data FILE): nothing is chosen on validation and "
           "training does not stop early; the last epoch's weights are saved")


def labelled_file(path, chains) -> None:
    """Chains as a three-line DSSP file (>id, residues, 3-state labels)."""
    path.write_text("".join(f">{c.id}\n{c.sequence}\n{''.join('CHE'[k] for k in c.y3)}\n" for c in chains))


@pytest.fixture(scope="module")
def files(data_dir, tmp_path_factory):
    chains = datasets.load("qs1988", "train", data_dir)
    where = tmp_path_factory.mktemp("own")
    labelled_file(where / "mytrain.txt", itertools.islice(chains, 40))
    labelled_file(where / "myvalid.txt", chains[40:55])
    return where


def test_training_without_validation_data_says_so_in_one_line(files):
    out = files / "m.npz"
    r = run_cli("train", "--data", str(files / "mytrain.txt"), "--epochs", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert [line for line in r.stderr.splitlines() if line.startswith("sspred: warning:")] == [WARNING]
    with_valid = run_cli("train", "--data", str(files / "mytrain.txt"), "--valid-data", str(files / "myvalid.txt"),
                         "--epochs", "1", "--out", str(files / "v.npz"))
    assert with_valid.returncode == 0, with_valid.stderr
    assert "warning" not in with_valid.stderr


def test_evaluating_a_file_names_the_file_not_a_test_split(files):
    model = files / "e.npz"
    assert run_cli("train", "--data", str(files / "mytrain.txt"), "--epochs", "1", "--out", str(model)).returncode == 0
    path = str(files / "mytrain.txt")
    r = run_cli("evaluate", "-m", str(model), "--data", path, "--bootstrap", "0")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert f"data {path}  chains 40" in first and "/test" not in first
    report = evaluate(str(model), path, bootstrap=0).report
    assert report["data"] == {"name": path, "split": None}
    assert evaluate(str(model), "qs1988", bootstrap=0).report["data"] == {"name": "qs1988", "split": "test"}
