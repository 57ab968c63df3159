"""A multi-task model's disorder and conservation heads in every output: Prediction, TSV, JSON, the CLI and the
web service; a single-head model's outputs keep their layout."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import sspred
from sspred.cli import app
from sspred.config import ConvConfig, TrainConfig
from sspred.features import encode
from sspred.io.datasets import make_chain
from sspred.io.formats import PROB_DECIMALS
from sspred.io.readers import READERS
from sspred.predict.api import Predictor

#: Two real sequences (ubiquitin's start, the Trp-cage) and a short one.
SEQUENCES = {"ubq": "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG",
             "trp": "NLYIQWLKDGGPSSGRPPPS", "short": "MKV"}
#: The TSV columns of a 3-state model with both extra heads.
TSV_COLUMNS = ["id", "pos", "aa", "pred", "p_C", "p_H", "p_E", "p_disorder", "conservation"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A conv stack with disorder and conservation heads, trained one epoch on four labelled chains (about a
    second), saved and loaded back as ``sspred predict -m tiny.npz`` loads it."""
    # ends disordered (1), the middle ordered (0): the disorder head has labels to train on
    disorder = np.array([1] * 4 + [0] * 14 + [1] * 4, dtype=np.int8)
    chains = [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQ", "CCHHHHHHHHHCCEEEEECCCC", eight=False,
                         disorder=disorder) for i in range(4)]
    cfg = TrainConfig(model=ConvConfig(channels=8, first_kernel=5, kernel=3, dilations=[1],
                                       heads=["disorder", "conservation"]), epochs=1)
    path = tmp_path_factory.mktemp("tiny") / "tiny.npz"
    sspred.train(cfg, chains).save(path)
    return path


@pytest.fixture(scope="module")
def predictor(tiny):
    return sspred.load(str(tiny))


@pytest.fixture(scope="module")
def heads(predictor):
    """What the model's heads give for SEQUENCES, from the model itself: {id: {head: (L, K_h)}}."""
    out = predictor.model.predict_heads([encode(s) for s in SEQUENCES.values()])
    return dict(zip(SEQUENCES, out))


def test_the_tiny_model_has_both_heads(predictor):
    assert predictor.model.heads.names == ("ss3", "disorder", "conservation")


def test_prediction_carries_disorder_and_conservation_from_the_heads(predictor, heads):
    for pred in predictor.predict(SEQUENCES):
        want = heads[pred.id]
        np.testing.assert_array_equal(pred.probabilities, want["ss3"])
        assert pred.disorder.dtype == np.float32 and pred.disorder.shape == (len(pred),)
        np.testing.assert_array_equal(pred.disorder, want["disorder"][:, 1])
        assert pred.conservation.shape == (len(pred),)
        np.testing.assert_array_equal(pred.conservation, want["conservation"].argmax(axis=1) + 1)
        assert set(pred.conservation.tolist()) <= set(range(1, 10))


def test_one_network_pass_per_batch(predictor, monkeypatch):
    """predict fills every field from Session.predict_heads; it never runs the network a second time."""
    calls = []
    session = predictor.session
    for name in ("predict_heads", "predict_many", "predict_proba", "predict_proba_codes"):
        original = getattr(session, name)
        monkeypatch.setattr(session, name, lambda *a, _name=name, _f=original: calls.append(_name) or _f(*a))
    preds = predictor.predict(SEQUENCES)
    assert calls == ["predict_heads"] and all(p.disorder is not None for p in preds)


def test_tsv_has_the_head_columns_with_the_heads_values(predictor, heads):
    preds = predictor.predict(SEQUENCES)
    out = io.StringIO()
    assert sspred.write(preds, out, format="tsv") == len(SEQUENCES)
    lines = out.getvalue().splitlines()
    assert lines[0].split("\t") == TSV_COLUMNS
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) == sum(map(len, SEQUENCES.values()))
    at = 0
    for rec_id, seq in SEQUENCES.items():
        mine, at = rows[at:at + len(seq)], at + len(seq)
        assert [r[0] for r in mine] == [rec_id] * len(seq)
        want = heads[rec_id]
        # p_disorder printed as the probabilities are: four decimals
        assert all(len(r[7].split(".")[1]) == PROB_DECIMALS == len(r[4].split(".")[1]) for r in mine)
        np.testing.assert_allclose([float(r[7]) for r in mine], want["disorder"][:, 1], atol=5e-5)
        assert [int(r[8]) for r in mine] == (want["conservation"].argmax(axis=1) + 1).tolist()
        np.testing.assert_allclose([[float(v) for v in r[4:7]] for r in mine], want["ss3"], atol=5e-5)
    # and the TSV reader reads the columns back
    back = READERS["tsv"](io.StringIO(out.getvalue()))
    for pred, read in zip(preds, back):
        np.testing.assert_allclose(read.disorder, pred.disorder, atol=5e-5)
        np.testing.assert_array_equal(read.conservation, pred.conservation)
        np.testing.assert_allclose(read.probabilities, pred.probabilities, atol=5e-5)


def test_json_has_the_head_lists_with_the_heads_values(predictor, heads):
    preds = predictor.predict(SEQUENCES)
    out = io.StringIO()
    sspred.write(preds, out, format="json")
    doc = json.loads(out.getvalue())
    for item in doc["predictions"]:
        want = heads[item["id"]]
        assert item["disorder"] == np.round(want["disorder"][:, 1].astype(np.float64), PROB_DECIMALS).tolist()
        assert item["conservation"] == (want["conservation"].argmax(axis=1) + 1).tolist()
        assert all(type(c) is int for c in item["conservation"])
    back = READERS["json"](io.StringIO(out.getvalue()))
    np.testing.assert_array_equal(back[0].conservation, preds[0].conservation)
    # to_dict and to_dataframe carry them too
    d = preds[0].to_dict()
    assert d == doc["predictions"][0]  # one shape: to_dict is the JSON item
    assert d["conservation"] == preds[0].conservation.tolist()
    assert d["disorder"] == np.round(preds[0].disorder.astype(np.float64), PROB_DECIMALS).tolist()
    pytest.importorskip("pandas")
    df = preds[0].to_dataframe()
    assert list(df.columns) == TSV_COLUMNS[:4] + ["confidence"] + TSV_COLUMNS[4:]
    np.testing.assert_array_equal(df["p_disorder"].to_numpy(), preds[0].disorder)


def test_psipred_and_fasta_formats_are_unchanged_by_the_heads(predictor):
    """ss2, horiz and fasta have no room for the heads: the same bytes as the states alone give."""
    preds = predictor.predict(SEQUENCES)
    for fmt in ("ss2", "horiz", "fasta"):
        alone = [sspred.Prediction(p.id, p.sequence, p.probabilities, p.state_order, p.model_name) for p in preds]
        with_heads, without = io.StringIO(), io.StringIO()
        sspred.write(preds, with_heads, format=fmt)
        sspred.write(alone, without, format=fmt)
        assert with_heads.getvalue() == without.getvalue()


def test_single_head_model_has_no_head_fields_or_columns():
    fast = sspred.load("fast")
    pred = fast.predict(SEQUENCES["trp"])[0]
    assert pred.disorder is None and pred.conservation is None and pred.tracks == {}
    assert sorted(pred.to_dict()) == ["confidence", "id", "probabilities", "sequence", "states"]
    tsv = pred.format("tsv")
    assert tsv.splitlines()[0].split("\t") == ["id", "pos", "aa", "pred", "p_C", "p_H", "p_E"]
    assert all(len(line.split("\t")) == 7 for line in tsv.splitlines())
    item = json.loads(pred.format("json"))["predictions"][0]
    assert item == pred.to_dict()


def test_one_file_holds_one_kind_of_prediction(predictor):
    mine = predictor.predict(SEQUENCES["trp"])[0]
    bare = sspred.Prediction(mine.id, mine.sequence, mine.probabilities, mine.state_order, mine.model_name)
    with pytest.raises(ValueError, match="one file holds predictions of one model"):
        sspred.write([mine, bare], io.StringIO(), format="tsv")


def test_cli_tsv_and_json_carry_the_heads(tiny, predictor, tmp_path):
    fasta = tmp_path / "in.fasta"
    fasta.write_text("".join(f">{k}\n{v}\n" for k, v in SEQUENCES.items()))
    preds = predictor.predict(SEQUENCES)
    for fmt in ("tsv", "json"):
        result = CliRunner().invoke(app, ["predict", str(fasta), "-m", str(tiny), "--format", fmt])
        assert result.exit_code == 0, result.output
        expected = io.StringIO()
        sspred.write(preds, expected, format=fmt)
        assert result.stdout == expected.getvalue()
    assert result.stdout.count('"disorder": [') == len(SEQUENCES)
    tsv = CliRunner().invoke(app, ["predict", str(fasta), "-m", str(tiny), "--format", "tsv"]).stdout
    assert tsv.splitlines()[0].split("\t") == TSV_COLUMNS


def test_web_service_json_carries_the_heads_only_for_a_multi_head_model(predictor, heads):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from sspred.serve import create_app
    from sspred.serve.schemas import PredictResponse

    body = {"sequences": [{"id": k, "sequence": v} for k, v in SEQUENCES.items()]}
    with TestClient(create_app(model=predictor)) as client:
        answer = client.post("/api/predict", json=body).json()
        horiz = client.post("/api/predict.horiz", json=body)
    PredictResponse.model_validate(answer)
    for item in answer["predictions"]:
        want = heads[item["id"]]
        assert item["disorder"] == np.round(want["disorder"][:, 1].astype(np.float64), PROB_DECIMALS).tolist()
        assert item["conservation"] == (want["conservation"].argmax(axis=1) + 1).tolist()
        np.testing.assert_allclose(item["probabilities"], want["ss3"], atol=6e-5)
    assert horiz.status_code == 200 and horiz.text == "".join(p.format("horiz") for p in predictor.predict(SEQUENCES))
    with TestClient(create_app(model=Predictor(sspred.load("fast").model))) as client:
        single = client.post("/api/predict", json=body).json()
    assert all("disorder" not in p and "conservation" not in p for p in single["predictions"])


@pytest.mark.slow  # a browser
def test_page_draws_the_disorder_track_only_for_a_multi_head_model(predictor):
    """In headless Chromium: a multi-head model's page has a row under the states, one cell per residue, each
    as opaque as the API's P(disordered), with a legend and a readout; a single-head model's page has none."""
    pytest.importorskip("fastapi")
    sync_api = pytest.importorskip("playwright.sync_api")
    httpx = pytest.importorskip("httpx")
    from serve_support import chromium, live_server

    from sspred.serve import create_app

    seq = SEQUENCES["ubq"]
    fasta = f">ubq\n{seq}\n"
    with chromium() as browser:
        for served, has_track in ((predictor, True), (sspred.load("fast"), False)):
            with live_server(create_app(model=served)) as base:
                page = browser.new_page()
                page.set_default_timeout(20_000)
                page.goto(base + "/")
                page.fill("#fasta", fasta)
                page.click("#predict")
                page.locator("#error:not([hidden]), #results:not([hidden])").first.wait_for()
                sync_api.expect(page.locator("#predict")).to_be_enabled()
                assert page.is_hidden("#error")
                record = page.locator(".record").first
                cells = record.locator(".dis > span")
                if not has_track:
                    assert cells.count() == 0 and page.locator(".legend-disorder").count() == 0
                    page.close()
                    continue
                api = httpx.post(base + "/api/predict", content=fasta, headers={"Content-Type": "text/plain"}).json()
                want = api["predictions"][0]["disorder"]
                assert cells.count() == len(seq) == len(want)
                shades = record.locator(".dis > span > b").evaluate_all(
                    "els => els.map(e => Number(getComputedStyle(e).opacity))")
                np.testing.assert_allclose(shades, want, atol=1e-6)
                # under the states, above the confidence bars, in every row
                rows = record.locator(".row")
                for r in range(rows.count()):
                    ss, dis, conf = (rows.nth(r).locator(f".{c}").bounding_box() for c in ("ss", "dis", "conf"))
                    assert ss["y"] + ss["height"] <= dis["y"] + 1 and dis["y"] + dis["height"] <= conf["y"] + 1
                assert "P(disordered)" in page.inner_text(".legend-disorder")
                i = 30
                assert cells.nth(i).get_attribute("title") == f"P(disordered) {want[i]:.2f}"
                record.locator(f'.aa > span[data-i="{i}"]').hover()
                readout = page.inner_text("#readout")
                assert f"P(disordered) {want[i]:.2f}" in readout
                assert f"conservation {api['predictions'][0]['conservation'][i]}/9" in readout
                page.close()
