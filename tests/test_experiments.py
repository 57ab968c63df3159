"""sspred experiment: the sweeps train real networks on real chains and write figures and reports."""

from __future__ import annotations

import numpy as np
import pytest

from sspred import experiments
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.io import datasets
from sspred.training import learner_settings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("window,hidden", [(13, [40]), (1, []), (21, [5, 3])])
def test_param_count_matches_the_network(window, hidden):
    learner = NumpyLearner(ModelConfig(window=window, hidden=hidden).layers(), learner_settings(TrainConfig()),
                           np.random.default_rng(0))
    assert experiments.count_params(window, hidden) == sum(p.size for p in learner.net.params.values())


@pytest.fixture
def tiny(data_dir):
    qs = datasets.load("qs1988", "train", data_dir)
    test = datasets.load("qs1988", "test", data_dir)[:4]
    return experiments.Setting("tiny", qs[:12], test, epochs=1, long_epochs=3, description="12 UCI chains",
                               optim={"lr": 1e-2, "batch_size": 64})


def test_per_epoch_curve_ends_at_the_final_scores(tiny):
    r = experiments.train_and_score(tiny.train, tiny.test, 5, [10], 3, seed=0, per_epoch=True, optim=tiny.optim)
    assert [row["epoch"] for row in r["curve"]] == [1, 2, 3]
    assert r["curve"][-1]["train_q3"] == pytest.approx(r["train_q3"])
    assert r["curve"][-1]["test_q3"] == pytest.approx(r["test_q3"])
    assert r["train_residues"] == datasets.count_scored(tiny.train)
    assert 30 < r["test_q3"] < 90


def test_hidden_experiment_writes_figure_report_and_reuses_its_cache(tiny, tmp_path):
    png, md = experiments.run_experiment("hidden", tiny, tmp_path, seed=0, command="sspred experiment hidden")
    assert png.read_bytes()[:8] == PNG_MAGIC
    text = md.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "units" not in line]
    assert [int(row.split("|")[1]) for row in rows] == experiments.HIDDEN
    assert "Made by: `sspred experiment hidden`" in text and f"]({png.name})" in text
    # The params experiment recalls the hidden runs instead of training them again.
    cache = experiments.Runner(tiny, tmp_path / "results-tiny.json", 0)
    assert len(cache.results) == len(experiments.HIDDEN)
    again = experiments.hidden_runs(cache)
    assert [r["test_q3"] for r in again] == [cache.results[k]["test_q3"] for k in cache.results]


@pytest.mark.slow
def test_unknown_experiment_or_setting_is_a_usage_error(cli):
    r = cli("experiment", "nope")
    assert r.returncode == 2 and "window" in r.stderr
    r = cli("experiment", "window", "--data", "nope")
    assert r.returncode == 2 and "netsurfp2" in r.stderr
