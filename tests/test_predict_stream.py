"""Streaming prediction: batches across records, laziness, progress kept off stdout, gzip, atomic -o."""

import gzip
import itertools

import numpy as np
import pytest

from conftest import netsurfp2_fasta, random_window_model, run_cli
from sspred.io.fasta import parse_fasta
from sspred.io.formats import states_of
from sspred.model import load_model
from sspred.predict.batch import predict_records

pytestmark = pytest.mark.slow  # the NetSurfP-2.0 set, and subprocesses


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    return random_window_model(tmp_path_factory.mktemp("m") / "w13h40.npz", 13, [40], "sigmoid", seed=0)


@pytest.fixture(scope="module")
def real_fasta(data_dir, tmp_path_factory):
    """The first 300 netsurfp2 chains (about 80k residues) as a FASTA file."""
    return netsurfp2_fasta(data_dir, tmp_path_factory.mktemp("fa") / "nsp300.fasta", 300)


def test_batching_does_not_change_probabilities(model_file, real_fasta):
    """One record per batch or hundreds: the same probabilities (bit for bit on the fused numba kernel)."""
    model = load_model(model_file)
    one = [p for _, p in predict_records(model, parse_fasta(str(real_fasta)), max_residues=1)]
    many = [p for _, p in predict_records(model, parse_fasta(str(real_fasta)), max_residues=50_000)]
    assert len(one) == len(many) == 300
    exact = model.members[0].batched.backend == "numba"
    for a, b in zip(one, many):
        if exact:
            assert np.array_equal(a, b)
        else:  # the NumPy fallback's output layer is a BLAS product: see test_fastpath
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    recs = list(parse_fasta(str(real_fasta)))
    for rec, p in zip(recs[:20], many[:20]):  # and the plain one-hot forward pass agrees
        np.testing.assert_allclose(p, model.predict_proba_codes(rec.codes), atol=1e-5, rtol=0)


def test_stream_reads_only_what_it_needs(model_file, real_fasta):
    """After the first prediction comes out, at most two batches of records have been read."""
    model = load_model(model_file)
    pulled = []

    def source():
        for rec in parse_fasta(str(real_fasta)):
            pulled.append(rec.id)
            yield rec

    stream = predict_records(model, source(), max_residues=2_000)
    first, _ = next(stream)
    residues_read = sum(len(r) for r in itertools.islice(parse_fasta(str(real_fasta)), len(pulled)))
    assert first.id == pulled[0]
    assert residues_read < 2 * (2_000 + 5_000) and len(pulled) < 300
    assert sum(1 for _ in stream) == 299


def test_cli_progress_goes_to_stderr_only(model_file, real_fasta, tmp_path):
    quiet = run_cli("predict", str(real_fasta), "-m", str(model_file), "-f", "tsv", "--batch-residues", "5000")
    shown = run_cli("predict", str(real_fasta), "-m", str(model_file), "-f", "tsv", "--batch-residues", "5000",
                    "--progress")
    assert quiet.returncode == shown.returncode == 0, shown.stderr
    assert quiet.stdout == shown.stdout  # progress never changes the output
    assert "residues" not in quiet.stderr and "300 records" in shown.stderr and "res/s" in shown.stderr
    assert "res/s" not in shown.stdout


def test_cli_gzip_and_atomic_output_match_stdout(model_file, real_fasta, tmp_path):
    gz = tmp_path / "in.fa.gz"
    gz.write_bytes(gzip.compress(real_fasta.read_bytes()))
    out = tmp_path / "pred.horiz"
    r = run_cli("predict", str(gz), "-m", str(model_file), "-o", str(out), "--progress")
    assert r.returncode == 0, r.stderr
    plain = run_cli("predict", str(real_fasta), "-m", str(model_file))
    assert out.read_text() == plain.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_cli_states_equal_the_plain_forward_pass(model_file, real_fasta):
    model = load_model(model_file)
    r = run_cli("predict", str(real_fasta), "-m", str(model_file), "-f", "fasta")
    lines = r.stdout.splitlines()
    for rec, head, pred in itertools.islice(zip(parse_fasta(str(real_fasta)), lines[::2], lines[1::2]), 50):
        assert head == f">{rec.id}"
        assert pred == states_of(model.predict_proba_codes(rec.codes), model.state_order)


def test_duplicate_id_warnings_are_capped(tmp_path, model_file):
    # exactness of the duplicate-id table itself is tested in tests/test_seen.py
    from sspred.cli.predict import MAX_DUPLICATE_WARNINGS

    fa = tmp_path / "dups.fa"
    fa.write_text("".join(f">r{i % 5}\nMKVLA\n" for i in range(40)))
    r = run_cli("predict", str(fa), "-m", str(model_file), "-f", "fasta")
    assert r.returncode == 0 and r.stdout.count(">") == 40
    named = [l for l in r.stderr.splitlines() if "duplicate record id '" in l]
    assert len(named) == MAX_DUPLICATE_WARNINGS and "35 duplicate record ids in all" in r.stderr
