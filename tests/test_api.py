"""The public Python API: every input kind, every error, formats, streaming, and agreement with `sspred predict`."""

from __future__ import annotations

import ast
import gzip
import io
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sspred
import sspred.io.sequences
import sspred.predict.batch
from sspred.cli import app
from sspred.io.fasta import parse_fasta
from sspred.io.formats import WRITERS, make_writer
from sspred.features import encode

EXAMPLE = Path(str(resources.files("sspred.examples") / "example.fasta"))
#: Human ubiquitin and the Trp-cage miniprotein: real sequences, short enough for milliseconds of prediction.
UBQ = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"
TRP = "NLYIQWLKDGGPSSGRPPPS"


@pytest.fixture(scope="module")
def fast():
    return sspred.load("fast")


@pytest.fixture(scope="module")
def default():
    return sspred.load("default")


def reference(predictor, pairs):
    """Probabilities straight from the model, one chain at a time: the oracle for every input kind."""
    return [predictor.model.predict_proba_codes(rec.codes)
            for rec in parse_fasta(io.StringIO("".join(f">{i}\n{s}\n" for i, s in pairs)))]


def check(preds, predictor, pairs):
    assert [(p.id, p.sequence) for p in preds] == list(pairs)
    for pred, ref in zip(preds, reference(predictor, pairs)):
        assert pred.probabilities.dtype == np.float32 and pred.probabilities.shape == (len(pred.sequence), 3)
        np.testing.assert_allclose(pred.probabilities, ref, atol=1e-5, rtol=0)
        assert pred.states == "".join(predictor.state_order[k] for k in ref.argmax(axis=1))


# --- input kinds -----------------------------------------------------------------------------------------------

def test_one_string_is_seq1(fast):
    check(fast.predict(UBQ), fast, [("seq1", UBQ)])


def test_list_of_strings_numbered_in_order(fast):
    check(fast.predict([UBQ, TRP, "mkv"]), fast, [("seq1", UBQ), ("seq2", TRP), ("seq3", "mkv")])
    check(fast.predict(s for s in (TRP, UBQ)), fast, [("seq1", TRP), ("seq2", UBQ)])  # any iterable


def test_dict_keeps_ids_and_order(fast):
    check(fast.predict({"ubq": UBQ, "trp": TRP}), fast, [("ubq", UBQ), ("trp", TRP)])


def test_biopython_seqrecords(fast):
    pytest.importorskip("Bio", reason="biopython not installed (pip install biopython)")
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord

    recs = [SeqRecord(Seq(UBQ), id="1UBQ_A", description="ubiquitin"), SeqRecord(Seq(TRP), id="1L2Y_A")]
    check(fast.predict(recs), fast, [("1UBQ_A", UBQ), ("1L2Y_A", TRP)])
    check(fast.predict(recs[0]), fast, [("1UBQ_A", UBQ)])  # one record alone
    check(fast.predict({"u": Seq(UBQ)}), fast, [("u", UBQ)])  # a dict of Seq objects


def test_biopython_fasta_reader_agrees_with_a_path(fast):
    SeqIO = pytest.importorskip("Bio.SeqIO", reason="biopython not installed (pip install biopython)")
    from_bio = fast.predict(SeqIO.parse(str(EXAMPLE), "fasta"))
    from_path = fast.predict(EXAMPLE)
    assert [p.id for p in from_bio] == [p.id for p in from_path] == ["1AKI_A", "1DIX_A", "1L2Y_A", "1O1Z_A"]
    for a, b in zip(from_bio, from_path):
        assert a.states == b.states and np.array_equal(a.probabilities, b.probabilities)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_path_plain_and_gzipped(fast, tmp_path, compress):
    text = f">ubq ubiquitin\n{UBQ[:40]}\n{UBQ[40:]}\n\n>trp\r\n{TRP.lower()}*\r\n"
    path = tmp_path / ("in.fa.gz" if compress else "in.fa")
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    check(fast.predict(path), fast, [("ubq", UBQ), ("trp", TRP.lower())])


def test_whitespace_and_gaps_as_in_a_fasta_file(fast):
    with pytest.warns(UserWarning, match=r"record 'g': removed 2 gap character\(s\)"):
        preds = fast.predict({"g": "MKT-AY\nIAK. QR"})
    check(preds, fast, [("g", "MKTAYIAKQR")])


# --- errors ----------------------------------------------------------------------------------------------------

def test_bad_residue_names_record_and_position(fast):
    with pytest.raises(sspred.InputError, match=r"^record 'seq2', position 4: unknown residue symbol '1'$") as err:
        fast.predict(["MKV", "MKT1AY"])
    assert (err.value.record, err.value.position) == ("seq2", 4)


def test_bad_residue_in_a_file_is_reported_as_the_cli_reports_it(fast, tmp_path):
    path = tmp_path / "bad.fa"
    path.write_text(">ok\nMKV\n>bad one\nMKTA\nY!K\n")
    with pytest.raises(sspred.InputError) as err:
        fast.predict(path)
    result = CliRunner().invoke(app, ["predict", str(path), "-m", "fast"])
    assert isinstance(result.exception, sspred.InputError) and str(result.exception) == str(err.value)
    assert str(err.value) == f"{path}, record 'bad', position 6: unknown residue symbol '!'"


def test_inner_stop_empty_sequence_and_empty_input(fast):
    with pytest.raises(sspred.InputError, match=r"record 'x', position 3: '\*' \(stop\) inside"):
        fast.predict({"x": "MK*V"})
    with pytest.raises(sspred.InputError, match=r"^record 'e': empty sequence$"), pytest.warns(UserWarning, match="gap"):
        fast.predict({"a": "MKV", "e": " -\n"})
    for empty in ([], {}, "", "  \n", iter(())):
        with pytest.raises(sspred.InputError, match="empty input"):
            fast.predict(empty)


def test_bad_ids_and_wrong_types(fast):
    with pytest.raises(sspred.InputError, match="record id must be one printable word"):
        fast.predict({"two words": "MKV"})
    with pytest.raises(sspred.InputError, match="empty record id"):
        fast.predict({"": "MKV"})
    with pytest.raises(TypeError, match="not bytes"):
        fast.predict(b"MKV")
    with pytest.raises(TypeError, match="item 2 of sequences is a int"):
        fast.predict(["MKV", 7])


def test_a_string_is_never_a_path(fast, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("in.fa").write_text(f">ubq\n{UBQ}\n")
    with pytest.raises(sspred.InputError, match=r"'in.fa' is a file name.* pass pathlib.Path\('in.fa'\)"):
        fast.predict("in.fa")  # 'INFA' once the gap '.' goes: a sequence, were it not the name of a file
    with pytest.raises(sspred.InputError, match=r"position 4: unknown residue symbol '/'"), pytest.warns(UserWarning):
        fast.predict("dir/x.fa")  # no such file: just a bad sequence
    check(fast.predict(Path("in.fa")), fast, [("ubq", UBQ)])


def test_unknown_model_and_bad_model_file(tmp_path):
    with pytest.raises(sspred.ModelFileError, match=r"^nosuch: model file not found, and no built-in model has that name \(default, "):
        sspred.load("nosuch")
    (tmp_path / "m.npz").write_bytes(b"not a model")
    with pytest.raises(sspred.ModelFileError, match="not an sspred model file"):
        sspred.load(tmp_path / "m.npz")


def test_ss2_of_an_eight_state_model_is_a_clear_error(tmp_path):
    q8 = sspred.load("q8")
    pred = q8.predict(TRP)[0]
    assert q8.state_order == pred.state_order == "HGIEBTSC" and pred.probabilities.shape == (len(TRP), 8)
    with pytest.raises(ValueError, match="ss2 format holds 3-state predictions; model 'q8' predicts 8 states"):
        pred.format("ss2")
    with pytest.raises(ValueError, match="3-state"):
        sspred.write([pred], tmp_path / "out.ss2", format="ss2")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


# --- predictions, formats, writing ------------------------------------------------------------------------------

def test_prediction_fields(fast):
    pred = fast.predict({"ubq": UBQ})[0]
    assert (pred.id, pred.sequence, len(pred)) == ("ubq", UBQ, len(UBQ))
    np.testing.assert_allclose(pred.probabilities.sum(axis=1), 1, atol=1e-5)
    top2 = np.sort(pred.probabilities, axis=1)[:, -2:]  # (L, 2): second, top
    # PSIPRED's confidence: the gap between the top two probabilities, in tenths (float32 ties rounded up)
    expected = np.clip(np.floor(10 * (top2[:, 1].astype(np.float64) - top2[:, 0]) + 1e-6), 0, 9)
    assert pred.confidence.shape == (len(UBQ),) and np.issubdtype(pred.confidence.dtype, np.integer)
    assert np.array_equal(pred.confidence, expected)
    d = pred.to_dict()
    assert list(d) == ["id", "sequence", "states", "confidence", "probabilities"]
    assert d["states"] == pred.states and d["confidence"] == "".join(map(str, pred.confidence))
    assert d["probabilities"] == np.round(pred.probabilities.astype(np.float64), 4).tolist()
    assert json.loads(json.dumps(d)) == d
    assert d == json.loads(pred.format("json"))["predictions"][0]  # to_dict is the JSON output's item


def test_to_dataframe(fast):
    pd = pytest.importorskip("pandas", reason="pandas not installed (pip install pandas)")
    pred = fast.predict({"trp": TRP})[0]
    df = pred.to_dataframe()
    assert list(df.columns) == ["id", "pos", "aa", "pred", "confidence", "p_C", "p_H", "p_E"]
    assert len(df) == len(TRP) and "".join(df["aa"]) == TRP and "".join(df["pred"]) == pred.states
    assert df["pos"].tolist() == list(range(1, len(TRP) + 1)) and (df["id"] == "trp").all()
    np.testing.assert_array_equal(df[["p_C", "p_H", "p_E"]].to_numpy(), pred.probabilities)
    # the TSV writer's table, read back, is the same table
    tsv = pd.read_csv(io.StringIO(pred.format("tsv")), sep="\t")
    assert list(tsv.columns) == ["id", "pos", "aa", "pred", "p_C", "p_H", "p_E"]
    np.testing.assert_allclose(tsv[["p_C", "p_H", "p_E"]].to_numpy(), pred.probabilities, atol=5e-5)


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_format_and_write_use_the_cli_writers(fast, tmp_path, fmt):
    preds = fast.predict({"ubq": UBQ, "trp": TRP})
    expected = io.StringIO()
    writer = make_writer(fmt, expected, "fast", "CHE", model_info=fast.model_info)
    writer.begin()
    for p in preds:
        writer.record(p.id, p.sequence, p.probabilities)
    writer.end()
    assert sspred.write(preds, tmp_path / f"out.{fmt}", format=fmt) == 2
    assert (tmp_path / f"out.{fmt}").read_text() == expected.getvalue()
    handle = io.StringIO()
    sspred.write(iter(preds), handle, format=fmt)  # a generator and a handle
    assert handle.getvalue() == expected.getvalue()
    one = io.StringIO()
    sspred.write(preds[:1], one, format=fmt)
    assert preds[0].format(fmt) == one.getvalue()


def test_write_refuses_mixed_models_unknown_formats_and_nothing(fast, tmp_path):
    mixed = [fast.predict(TRP)[0], sspred.load("q8").predict(TRP)[0]]
    with pytest.raises(ValueError, match="one file holds predictions of one model"):
        sspred.write(mixed, tmp_path / "mixed.horiz")
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        sspred.write(mixed[:1], tmp_path / "x.pdf", format="pdf")
    with pytest.raises(ValueError, match="no predictions"):
        sspred.write([], tmp_path / "none.horiz")
    assert list(tmp_path.iterdir()) == []  # atomic: a failed write leaves no file


def test_predict_iter_streams_a_many_record_file(fast, tmp_path, monkeypatch):
    """A 2,000-record file, predicted in batches of ~500 residues: laziness, order and values all hold."""
    rng = np.random.default_rng(0)
    letters = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    seqs = {f"r{i}": "".join(rng.choice(letters, size=int(rng.integers(5, 60)))) for i in range(2000)}
    path = tmp_path / "many.fa.gz"
    path.write_bytes(gzip.compress("".join(f">{k}\n{v}\n" for k, v in seqs.items()).encode()))
    monkeypatch.setattr(sspred.predict.batch, "BATCH_RESIDUES", 500)
    read = []
    monkeypatch.setattr(sspred.predict.api, "records",
                        lambda s: (read.append(r.id) or r for r in sspred.io.sequences.records(s)))
    it = fast.predict_iter(path)
    first = next(it)
    assert first.id == "r0" and len(read) < 50  # two batches of ~500 residues, not the whole file
    rest = list(it)
    assert [p.id for p in [first, *rest]] == list(seqs) == read
    sample = [first, *rest][::97]
    check(sample, fast, [(p.id, seqs[p.id]) for p in sample])


def test_batches_of_tiny_records_stop_at_batch_records(default, monkeypatch):
    """A batch holds at most ``BATCH_RECORDS`` records however few residues they have (each record's prediction
    is a handful of objects), and the predictions equal those of one batch of every record."""
    rng = np.random.default_rng(1)
    letters = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    seqs = {f"r{i}": "".join(rng.choice(letters, size=12)) for i in range(250)}
    whole = default.predict(seqs)
    monkeypatch.setattr(sspred.predict.batch, "BATCH_RECORDS", 100)
    recs = list(sspred.io.sequences.records(seqs))
    assert [len(b) for b in sspred.predict.batch.record_batches(recs)] == [100, 100, 50]
    batches = list(default.predict_batches(recs))
    assert [len(b) for b in batches] == [100, 100, 50]
    for got, want in zip([p for b in batches for p in b], whole):
        assert got.id == want.id and got.states == want.states
        np.testing.assert_allclose(got.probabilities, want.probabilities, atol=1e-6, rtol=0)
        np.testing.assert_allclose(got.ss8, want.ss8, atol=1e-6, rtol=0)


# --- agreement with the CLI --------------------------------------------------------------------------------------

def test_predict_equals_sspred_predict_on_the_example(default):
    """The shipped example, default model: the same states and the same probabilities as `sspred predict -f json`."""
    result = CliRunner().invoke(app, ["predict", str(EXAMPLE), "-f", "json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    preds = default.predict(EXAMPLE)
    assert cli["model"] == default.model_info and cli["states"] == default.state_order == "CHE"
    assert cli["model"]["name"] == "default" and cli["warnings"] == []
    assert [p.id for p in preds] == [c["id"] for c in cli["predictions"]] == ["1AKI_A", "1DIX_A", "1L2Y_A", "1O1Z_A"]
    for pred, c in zip(preds, cli["predictions"]):
        assert pred.to_dict() == c
        assert np.array_equal(np.round(pred.probabilities.astype(np.float64), 4), np.array(c["probabilities"]))
    handle = io.StringIO()
    sspred.write(preds, handle, format="json")
    assert handle.getvalue() == result.stdout
    # and the same bytes for the whole file in the CLI's default format
    horiz = CliRunner().invoke(app, ["predict", str(EXAMPLE)])
    handle = io.StringIO()
    sspred.write(preds, handle)
    assert horiz.exit_code == 0 and handle.getvalue() == horiz.stdout


def test_predictor_wraps_the_model(default):
    assert (default.model_name, default.state_order) == ("default", "CHE")
    assert isinstance(default.model, sspred.Model) and default.model.header["name"] == "default"
    assert sspred.load().model_name == "default" and sspred.load(load_path()).model_name == "default"


def load_path() -> Path:
    return Path(str(resources.files("sspred.models") / "default.npz"))


def test_to_torch_needs_the_export_module(default):
    try:
        import sspred.engines.torch.export  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"sspred\[torch\]"):
            default.to_torch()
        return
    torch = pytest.importorskip("torch")
    module = default.to_torch()
    pred = default.predict(TRP)[0]
    codes = torch.as_tensor(encode(TRP)[None].astype(np.int64))  # (1, L)
    with torch.no_grad():
        out = module(codes)  # one (1, L, K_h) per head, the states head first (default has several heads)
    assert isinstance(out, tuple) and len(out) == len(default.model.heads.names)
    np.testing.assert_allclose(out[0][0].numpy(), pred.probabilities, atol=1e-4)
    disorder = out[default.model.heads.names.index("disorder")]
    np.testing.assert_allclose(disorder[0, :, 1].numpy(), pred.disorder, atol=1e-4)


# --- the package ---------------------------------------------------------------------------------------------

HEAVY = ("torch", "numba", "pandas", "matplotlib")


def test_package_init_imports_only_errors():
    """`import sspred` runs no more than sspred/__init__.py's own imports: check them without importing."""
    tree = ast.parse(Path(sspred.__file__).read_text())
    imported = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    assert imported == {"__future__", "importlib", "typing", "sspred.errors", "sspred.version"}
    for name in ("sspred.errors", "sspred.version"):  # and these two import nothing
        tree = ast.parse(Path(sys.modules[name].__file__).read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                    and getattr(n, "module", "") != "__future__"]
    assert set(sspred.__all__) >= {"load", "Predictor", "Prediction", "write", "InputError", "ModelFileError",
                                   "Model", "__version__"}
    assert set(sspred.__all__) <= set(dir(sspred))


def test_dir_lists_the_public_names_and_each_resolves():
    """dir(sspred) is __all__ (no annotations, importlib or dunders), and every public name loads."""
    assert dir(sspred) == sorted(sspred.__all__)
    assert "importlib" not in dir(sspred) and "annotations" not in dir(sspred)
    for name in sspred.__all__:
        assert getattr(sspred, name) is not None, name
    import sspred.predict.api as api

    assert sspred.load is api.load and sspred.TrainConfig.__module__ == "sspred.config"


def test_type_checking_block_names_every_lazy_name_from_its_module():
    """The `if TYPE_CHECKING:` imports, what type checkers see, are exactly the lazy table, module for module."""
    tree = ast.parse(Path(sspred.__file__).read_text())
    blocks = [node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"]
    assert len(blocks) == 1
    seen = {alias.name: node.module for node in blocks[0].body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
    assert seen == sspred._LAZY
    assert (Path(sspred.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
def test_import_sspred_in_a_fresh_interpreter_loads_nothing_heavy():
    """Importing loads neither numpy nor model code; loading and predicting with the default (conv) model
    loads none of torch, numba, pandas, matplotlib."""
    code = ("import sys, sspred; before = set(sys.modules); sspred.load('default').predict('MKV'); "
            f"print(sorted(m for m in before if m.split('.')[0] in {HEAVY!r} + ('numpy',) or m == 'sspred.model'), "
            f"sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[] []"


def test_web_service_serves_a_predictor(fast):
    """create_app takes what sspred.load returns; its answer is the library's prediction."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from sspred.serve import create_app

    with TestClient(create_app(model=fast)) as client:
        r = client.post("/api/predict", json={"sequences": [{"id": "ubq", "sequence": UBQ}]})
    assert r.status_code == 200, r.text
    (answer,) = r.json()["predictions"]
    (pred,) = fast.predict({"ubq": UBQ})
    assert r.json()["model"]["name"] == "fast" and answer == pred.to_dict()


def test_web_service_json_is_the_cli_json_for_several_records(default, tmp_path):
    """One path, one shape: the service's JSON answer for several records (a JSON body and a FASTA body) is what
    `sspred predict -f json` writes for them, byte for byte once parsed: the same probabilities, not close ones,
    the same keys, the same model object; and it is the shape the service's schema documents."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from sspred.serve import create_app
    from sspred.serve.schemas import PredictResponse

    records = list(parse_fasta(str(EXAMPLE))) + [next(parse_fasta(io.StringIO(f">ubq\n{UBQ}\n>trp\n{TRP}\n")))]
    fasta = tmp_path / "in.fasta"
    fasta.write_text("".join(f">{r.id}\n{r.sequence}\n" for r in records))
    result = CliRunner().invoke(app, ["predict", str(fasta), "-f", "json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    with TestClient(create_app(model=default)) as client:
        by_json = client.post("/api/predict", json={"sequences": [{"id": r.id, "sequence": r.sequence}
                                                                  for r in records]}).json()
        by_fasta = client.post("/api/predict", content=fasta.read_text(), headers={"Content-Type": "text/plain"}).json()
    assert len(cli["predictions"]) == len(records) == 5
    for served in (by_json, by_fasta):
        assert served == cli  # keys, order, model object, probabilities: all equal
    PredictResponse.model_validate(cli)
    assert cli["predictions"] == [p.to_dict() for p in default.predict(fasta)]
