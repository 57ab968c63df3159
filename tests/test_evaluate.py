"""sspred evaluate on real data: the report's numbers agree with each other and with the metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sspred import metrics
from sspred.alphabet import EIGHT_TO_THREE, STATES3, STATES8
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.evaluation import evaluate_model
from sspred.features import WindowIndex
from sspred.io import datasets
from sspred.model import build_header, load_model, save_model
from sspred.training import fit, learner_settings


def train_small(chains, path, n_states=3, window=9, hidden=(8,), epochs=2):
    """A small real model, trained in-process in about a second."""
    mcfg = ModelConfig(window=window, hidden=list(hidden), n_states=n_states)
    tcfg = TrainConfig(epochs=epochs, patience=0, lr=3e-3)
    learner = NumpyLearner(mcfg.layers(), learner_settings(tcfg), np.random.default_rng(0))
    history = fit(learner, WindowIndex(chains, window, str(n_states)), None, tcfg)
    save_model(path, build_header(mcfg, path.stem, train={"data": "test", "history": history.to_dict()}),
               learner.get_params())
    return path


@pytest.fixture(scope="module")
def model3(data_dir, tmp_path_factory):
    chains = datasets.load("qs1988", "train", data_dir)
    return train_small(chains, tmp_path_factory.mktemp("m") / "qs3.npz")


@pytest.fixture(scope="module")
def model8(data_dir, tmp_path_factory):
    chains = datasets.load("dssp8", "train", data_dir)[:150]
    return train_small(chains, tmp_path_factory.mktemp("m") / "d8.npz", n_states=8, epochs=1)


def test_report_agrees_with_metrics_on_real_data(data_dir, model3):
    chains = datasets.load("qs1988", "test", data_dir)
    r = evaluate_model(load_model(model3), chains, rng=np.random.default_rng(1), n_boot=200)
    cm = np.array(r["confusion"])
    assert cm.sum() == r["residues"] == datasets.count_scored(chains)
    assert r["q3"] == pytest.approx(100 * np.trace(cm) / cm.sum())
    mcc = metrics.per_class(cm)["mcc"]
    assert [r["per_class"]["mcc"][s] for s in STATES3] == pytest.approx(mcc.tolist())
    # Per-chain mean recomputed from the model's own predictions.
    m = load_model(model3)
    per_chain = [100 * np.mean(m.predict_proba_codes(c.codes).argmax(1)[c.y3 >= 0] == c.y3[c.y3 >= 0]) for c in chains]
    assert r["q3_chain_mean"] == pytest.approx(np.mean(per_chain))
    for key in ("q3", "q3_chain_mean", "sov99", "sov_refine"):
        value = r[key] if not isinstance(r[key], dict) else r[key]["overall"]
        lo, hi = r["ci"][key]
        assert lo <= value <= hi, key
        assert 0 < lo < hi < 100
    cal = r["calibration"]
    assert sum(cal["bins"]["count"]) == r["residues"] == sum(cal["confidence_digit"]["count"])
    assert 0 <= cal["ece"] < 0.5
    assert "q8" not in r  # a 3-state model


@pytest.mark.slow
def test_eight_state_report_reduces_to_three_states(data_dir, model8):
    chains = datasets.load("ts115", "test", data_dir)
    r = evaluate_model(load_model(model8), chains)
    assert r["states"] == STATES8 and "ci" not in r  # no Generator, no intervals
    cm8 = np.array(r["eight_state"]["confusion"])
    assert r["q8"] == pytest.approx(100 * np.trace(cm8) / cm8.sum())
    # 3-state predictions and labels are the 8-to-3 reduction of the 8-state ones, so
    # summing the 8x8 matrix over the reduction's groups gives the 3x3 matrix exactly.
    group = np.eye(3, dtype=np.int64)[EIGHT_TO_THREE]  # (8, 3)
    assert (group.T @ cm8 @ group).tolist() == r["confusion"]
    assert r["q3"] >= r["q8"]
    assert r["calibration"]["states"] == STATES8


@pytest.mark.slow
def test_eight_state_model_on_three_state_set(data_dir, model8):
    chains = datasets.load("qs1988", "test", data_dir)
    r = evaluate_model(load_model(model8), chains)
    assert "q8" not in r and r["calibration"]["states"] == STATES3
    assert sum(r["calibration"]["bins"]["count"]) == r["residues"]


@pytest.mark.slow
def test_cli_prints_scores_and_writes_json(cli, data_dir, model3, tmp_path):
    out = tmp_path / "report.json"
    res = cli("evaluate", "--data", "qs1988", "-m", str(model3), "--data-dir", str(data_dir),
              "--bootstrap", "100", "--json", str(out))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    report = json.loads(out.read_text())
    assert lines[-1] == f"Q3 {report['q3']:.2f}"  # the contract: last line exactly 'Q3 <percent>'
    assert any(l.startswith("SOV'99 ") for l in lines) and any(l.startswith("ECE ") for l in lines)
    assert any("MCC" in l for l in lines) and any(l.startswith("confusion") for l in lines)
    assert report["data"] == {"name": "qs1988", "split": "test"} and report["bootstrap"]["resamples"] == 100
    # Same seed, same intervals.
    res2 = cli("evaluate", "--data", "qs1988", "-m", str(model3), "--data-dir", str(data_dir), "--bootstrap", "100")
    assert lines[-2].startswith("report written")
    assert res2.stdout.strip().splitlines()[-2] == lines[-3]  # the "Q3 95% CI" line


@pytest.mark.slow
def test_cli_eight_state_prints_q8(cli, data_dir, model8):
    res = cli("evaluate", "--data", "ts115", "-m", str(model8), "--data-dir", str(data_dir), "--bootstrap", "50")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[-1].startswith("Q3 ") and any(l.startswith("Q8 ") for l in lines)
    assert "8-state:" in lines
