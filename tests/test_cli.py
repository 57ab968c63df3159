"""The command line as a user meets it: predict, train, evaluate, and one-line errors with exit code 2."""

import gzip
import re
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow  # every test runs sspred in a subprocess

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "sspred" / "examples" / "example.fasta"


def read_example():
    recs, cur = [], None
    for line in EXAMPLE.read_text().splitlines():
        if line.startswith(">"):
            cur = [line[1:].split()[0], ""]
            recs.append(cur)
        else:
            cur[1] += line.strip()
    return recs


def test_predict_fasta_contract_on_example():
    r = run_cli("predict", str(EXAMPLE), "--format", "fasta")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    expected = read_example()
    assert len(lines) == 2 * len(expected)
    for (rid, seq), head, pred in zip(expected, lines[::2], lines[1::2]):
        assert head == f">{rid}"
        assert len(pred) == len(seq) and set(pred) <= set("HEC")


def test_predict_ss2_to_file_matches_stdout(tmp_path):
    out = tmp_path / "p.ss2"
    r = run_cli("predict", str(EXAMPLE), "--format", "ss2", "-o", str(out), "-m", "fast")
    assert r.returncode == 0, r.stderr
    s = run_cli("predict", str(EXAMPLE), "--format", "ss2", "-m", "fast")
    assert out.read_text() == s.stdout
    body = [l for l in s.stdout.splitlines() if l and not l.startswith("#")]
    assert re.fullmatch(r"   1 K [CHE]  ( [01]\.\d{3}){3}", body[0].replace("  0", " 0"))
    assert sum(len(seq) for _, seq in read_example()) == len(body)


def test_predict_gzip_from_stdin(tmp_path):
    r = run_cli("predict", "-", "--format", "fasta", input=">s\nMKTAYIAKQRQISFVKSHFSRQ\n")
    assert r.returncode == 0 and r.stdout.splitlines()[0] == ">s"
    gz = tmp_path / "x.fa.gz"
    gz.write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    assert run_cli("predict", str(gz), "--format", "fasta").stdout == run_cli("predict", str(EXAMPLE), "--format", "fasta").stdout


@pytest.mark.parametrize("content, fragment", [
    (">a\nMKV\n>b\nMK3LV\n", "record 'b', position 3: unknown residue symbol '3'"),
    (">a\nMKV\n>empty\n\n>c\nAA\n", "record 'empty'"),
    ("just some text\n>a\nMKV\n", "text before the first '>' header"),
    ("", "empty file"),
])
def test_bad_fasta_is_one_line_exit_2_and_no_output_file(tmp_path, content, fragment):
    src = tmp_path / "bad.fa"
    src.write_text(content)
    out = tmp_path / "out.ss2"
    r = run_cli("predict", str(src), "-o", str(out), "--format", "ss2")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert fragment in r.stderr and "bad.fa" in r.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_missing_and_corrupt_model(tmp_path):
    r = run_cli("predict", str(EXAMPLE), "-m", str(tmp_path / "none.npz"))
    assert r.returncode == 2 and "model file not found" in r.stderr and r.stderr.count("\n") == 1
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04garbage")
    out = tmp_path / "o.txt"
    r = run_cli("predict", str(EXAMPLE), "-m", str(bad), "-o", str(out))
    assert r.returncode == 2 and "corrupt or truncated" in r.stderr and not out.exists()


def test_missing_input_file(tmp_path):
    r = run_cli("predict", str(tmp_path / "nope.fa"))
    assert r.returncode == 2 and "nope.fa" in r.stderr and "cannot open" in r.stderr


def test_train_then_evaluate_qs1988(data_dir, tmp_path):
    model = tmp_path / "qs.npz"
    r = run_cli("train", "--data", "qs1988", "--data-dir", str(data_dir), "--window", "13", "--hidden", "40",
                "--epochs", "3", "--out", str(model))
    assert r.returncode == 0, r.stderr
    assert "epoch   3" in r.stderr
    r = run_cli("evaluate", "-m", str(model), "--data", "qs1988", "--data-dir", str(data_dir))
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"Q3 \d{1,3}\.\d\d", last)
    assert 40 < float(last.split()[1]) < 80
    assert "MCC" in r.stdout


def test_train_zero_hidden_is_the_perceptron(data_dir, tmp_path):
    model = tmp_path / "p.npz"
    r = run_cli("train", "--data", "qs1988", "--data-dir", str(data_dir), "--hidden", "0", "--epochs", "2",
                "--out", str(model))
    assert r.returncode == 0, r.stderr
    from sspred.model import load_model
    assert [s["type"] for s in load_model(model).layers] == ["linear"]


def test_train_on_a_file_path_with_mismatched_labels(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text(">c1\nMKVLA\nHHHHH\n>c2\nMKV\nHH\n")
    r = run_cli("train", "--data", str(bad), "--epochs", "1", "--out", str(tmp_path / "m.npz"))
    assert r.returncode == 2 and "record 'c2'" in r.stderr and "3 residues but 2 labels" in r.stderr
    assert not (tmp_path / "m.npz").exists()


def test_unknown_format_is_a_usage_error():
    r = run_cli("predict", str(EXAMPLE), "--format", "pdf")
    assert r.returncode == 2 and "unknown format" in r.stderr


def test_q8_model_predicts_8_states_that_reduce_to_the_default_3_state_call(tmp_path):
    q8 = run_cli("predict", str(EXAMPLE), "--format", "fasta", "-m", "q8")
    three = run_cli("predict", str(EXAMPLE), "--format", "fasta", "-m", "default")
    assert q8.returncode == 0 and three.returncode == 0, q8.stderr + three.stderr
    reduce = str.maketrans("HGIEBTSC", "HHHEECCC")  # the NetSurfP 8-to-3 rule
    eight, calls = q8.stdout.splitlines()[1::2], three.stdout.splitlines()[1::2]
    assert [len(p) for p in eight] == [len(seq) for _, seq in read_example()]
    assert set("".join(eight)) <= set("HGIEBTSC") and set("".join(eight)) - set("HEC")  # more than 3 letters used
    agree = sum(a == b for p, c in zip(eight, calls) for a, b in zip(p.translate(reduce), c))
    assert agree / sum(map(len, calls)) > 0.75  # two independently trained models, one of them 8-state


def test_ss2_of_an_8_state_model_is_refused_before_any_output(tmp_path):
    out = tmp_path / "never.ss2"
    r = run_cli("predict", str(EXAMPLE), "--format", "ss2", "-m", "q8", "-o", str(out))
    assert r.returncode == 2
    assert "3-state" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_ensemble_command_averages_and_refuses_mixed_states(tmp_path):
    out = tmp_path / "ens.npz"
    r = run_cli("ensemble", "fast", "default", "-o", str(out), "--name", "mix")
    assert r.returncode == 0, r.stderr
    import numpy as np

    from sspred.features import encode
    from sspred.model import load_model

    codes = encode(read_example()[0][1])
    mixed = load_model(out).predict_proba_codes(codes)
    parts = [load_model(m).predict_proba_codes(codes) for m in ("fast", "default")]
    # default is itself two members, so the three are averaged with equal weight
    expected = (parts[0] + 2 * parts[1]) / 3
    np.testing.assert_allclose(mixed, expected, rtol=0, atol=1e-5)
    bad = run_cli("ensemble", "fast", "q8", "-o", str(tmp_path / "bad.npz"))
    assert bad.returncode == 2 and "same states" in bad.stderr and not (tmp_path / "bad.npz").exists()
