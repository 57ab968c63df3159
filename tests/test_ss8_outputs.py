"""The 8 DSSP states in every output that has room for them: a 3-state model's ss8 head in TSV, JSON and the
Prediction; an 8-state model (q8) refused by the 3-state PSIPRED layouts (ss2, horiz)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

import sspred
from conftest import run_cli
from sspred.alphabet import STATES8
from sspred.errors import OutputError
from sspred.features import encode
from sspred.io.fasta import parse_fasta
from sspred.io.readers import READERS

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "sspred" / "examples" / "example.fasta"
#: The 8-state probability columns of the TSV, in STATES8 order.
P8 = [f"p_ss8_{s}" for s in STATES8]


@pytest.fixture(scope="module")
def default():
    return sspred.load("default")


@pytest.fixture(scope="module")
def example(default):
    """The shipped example, predicted by default: its Predictions and what its ss8 head gives, from the model."""
    recs = list(parse_fasta(str(EXAMPLE)))
    preds = default.predict(EXAMPLE)
    heads = default.model.predict_heads([encode(r.sequence) for r in recs])
    return preds, [h["ss8"] for h in heads]


def test_default_has_the_ss8_track_and_q8_has_none(default):
    assert default.track_names == ("disorder", "conservation", "ss8")
    assert sspred.load("q8").track_names == ()  # its 8 states are its probabilities


def test_prediction_ss8_is_the_ss8_head_and_its_letters_the_argmax(example):
    preds, ss8 = example
    for pred, head in zip(preds, ss8):
        assert pred.ss8.shape == (len(pred), 8) and pred.ss8.dtype == np.float32
        np.testing.assert_allclose(pred.ss8, head, rtol=1e-6, atol=1e-7)
        assert pred.ss8_states == "".join(STATES8[k] for k in head.argmax(axis=1))
        np.testing.assert_allclose(pred.ss8.sum(axis=1), 1.0, atol=1e-5)
    assert set("".join(p.ss8_states for p in preds)) - set("HEC")  # more than 3 letters used


def test_tsv_carries_the_ss8_letter_and_8_probabilities(default, example):
    preds, ss8 = example
    out = io.StringIO()
    sspred.write(preds, out, format="tsv")
    rows = list(csv.DictReader(io.StringIO(out.getvalue()), delimiter="\t"))
    header = out.getvalue().splitlines()[0].split("\t")
    assert header == ["id", "pos", "aa", "pred", "p_C", "p_H", "p_E", "p_disorder", "conservation", "ss8", *P8]
    assert len(rows) == sum(len(p) for p in preds)
    letters = "".join(r["ss8"] for r in rows)
    assert letters == "".join(STATES8[k] for head in ss8 for k in head.argmax(axis=1))
    p8 = np.array([[float(r[c]) for c in P8] for r in rows])  # (N, 8)
    np.testing.assert_allclose(p8.sum(axis=1), 1.0, atol=8 * 5e-5)  # 4 decimals each
    np.testing.assert_allclose(p8, np.concatenate(ss8), atol=5e-5 + 1e-7)
    assert [r.ss8 for r in READERS["tsv"](io.StringIO(out.getvalue()))][0].shape == (len(preds[0]), 8)


def test_json_carries_the_ss8_letters_and_8_probabilities(default, example):
    preds, ss8 = example
    out = io.StringIO()
    sspred.write(preds, out, format="json")
    doc = json.loads(out.getvalue())
    for item, head in zip(doc["predictions"], ss8):
        assert item["ss8"] == "".join(STATES8[k] for k in head.argmax(axis=1))
        p8 = np.array(item["ss8_probabilities"])
        assert p8.shape == (len(item["sequence"]), 8)
        np.testing.assert_allclose(p8.sum(axis=1), 1.0, atol=8 * 5e-5)
        np.testing.assert_allclose(p8, head, atol=5e-5 + 1e-7)
    assert doc["predictions"][0] == preds[0].to_dict()
    back = READERS["json"](io.StringIO(out.getvalue()))
    np.testing.assert_allclose(back[0].ss8, preds[0].ss8, atol=5e-5 + 1e-7)


def test_dataframe_has_the_ss8_columns(example):
    pytest.importorskip("pandas")
    df = example[0][0].to_dataframe()
    assert list(df.columns)[-9:] == ["ss8", *P8]
    assert "".join(df["ss8"]) == example[0][0].ss8_states


@pytest.mark.parametrize("fmt", ["ss2", "horiz"])
def test_write_refuses_an_8_state_model_in_a_psipred_layout(fmt, tmp_path):
    preds = sspred.load("q8").predict("MKTAYIAKQRQISFVKSHFSRQ")
    with pytest.raises(OutputError, match=f"the {fmt} format holds 3-state predictions; model 'q8' predicts 8"):
        sspred.write(preds, tmp_path / f"q8.{fmt}", format=fmt)
    assert not (tmp_path / f"q8.{fmt}").exists()


def test_an_8_state_model_writes_fasta_when_no_format_is_named():
    """horiz, the default of a 3-state model, cannot hold 8 states: with no format and no extension, q8 writes
    one line of its 8-state letters per record, the argmax of its probabilities."""
    pred = sspred.load("q8").predict({"q": "MKTAYIAKQRQISFVKSHFSRQ"})[0]
    handle = io.StringIO()
    assert sspred.write([pred], handle) == 1
    assert handle.getvalue() == f">q\n{pred.states}\n"
    assert pred.states == "".join(pred.state_order[i] for i in pred.probabilities.argmax(axis=1))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["ss2", "horiz"])
def test_cli_refuses_q8_in_a_psipred_layout_in_one_line(fmt, tmp_path):
    out = tmp_path / f"never.{fmt}"
    r = run_cli("predict", str(EXAMPLE), "-m", "q8", "--format", fmt, "-o", str(out))
    assert r.returncode == 2 and r.stdout == "" and not out.exists()
    assert r.stderr.splitlines() == [f"sspred: error: the {fmt} format holds 3-state predictions; model 'q8' "
                                     f"predicts 8 states (use fasta, json or tsv)"]


@pytest.mark.slow
def test_cli_tsv_of_default_carries_ss8():
    r = run_cli("predict", str(EXAMPLE), "--format", "tsv")
    assert r.returncode == 0, r.stderr
    header, first = r.stdout.splitlines()[:2]
    assert header.split("\t")[-9:] == ["ss8", *P8]
    cells = first.split("\t")
    assert cells[-9] in STATES8 and abs(sum(float(v) for v in cells[-8:]) - 1) < 8 * 5e-5
