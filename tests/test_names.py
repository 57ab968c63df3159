"""One meaning per name: n_states (3 or 8) in the configs, state_order (the alphabet) on Model, Predictor and in
JSON, states (the predicted string) on Prediction, accuracy for Q3 or Q8. The old names warn for one release;
files written under the old names (the shipped models among them) load without a warning."""

from __future__ import annotations

import dataclasses
import io
import json
import warnings

import numpy as np
import pytest

import sspred
from sspred.config import ConvConfig, ModelConfig, TrainConfig
from sspred.io.datasets import make_chain
from sspred.model import BUILTIN, load_model
from sspred.training import EpochStats, train


def test_n_states_is_an_int_and_the_old_keyword_warns_and_still_works():
    assert ModelConfig().n_states == 3 and ConvConfig(n_states=8).n_states == 8
    with pytest.warns(DeprecationWarning, match=r"ModelConfig\(states=...\) is deprecated; use n_states=8"):
        old = ModelConfig(window=7, states="8")
    assert old == ModelConfig(window=7, n_states=8) and old.layers()[-1]["out"] == 8
    with pytest.warns(DeprecationWarning, match="ConvConfig.states is deprecated"):
        assert ConvConfig(n_states=8).states == "8"
    with pytest.warns(DeprecationWarning), pytest.raises(sspred.ConfigError) as info:
        ModelConfig(states="4")
    assert info.value.field == "n_states"


def test_a_config_dict_of_an_older_file_reads_without_a_warning():
    old = {**ModelConfig(window=7).to_dict(), "states": "8"}
    del old["n_states"]  # a file written before n_states
    conv = {**ConvConfig().to_dict(), "states": "8"}
    del conv["n_states"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = ModelConfig.from_dict(old)
        run = TrainConfig.from_dict({"model": conv, "epochs": 2})
    assert cfg.n_states == 8 and "states" not in cfg.to_dict() and cfg.to_dict()["n_states"] == 8
    assert run.model.n_states == 8


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_the_shipped_model_files_load_unchanged_and_without_a_warning(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_model(name)
        predictor = sspred.load(name)
    assert "states" in model.header["model"] and "n_states" not in model.header["model"]  # files as shipped
    assert predictor.state_order == model.state_order == ("HGIEBTSC" if name == "q8" else "CHE")


def test_model_states_is_the_deprecated_name_of_state_order():
    model = sspred.load("fast").model
    with pytest.warns(DeprecationWarning, match="Model.states is deprecated; use Model.state_order"):
        assert model.states == model.state_order == "CHE"


def test_prediction_states_is_the_predicted_string_and_json_names_the_order_under_both_keys():
    pred = sspred.load("q8").predict("MKTAYIAKQR")[0]
    assert len(pred.states) == 10 and set(pred.states) <= set(pred.state_order)
    out = io.StringIO()
    sspred.write([pred], out, format="json")
    doc = json.loads(out.getvalue())
    assert doc["state_order"] == doc["states"] == "HGIEBTSC"  # the old key beside the new, for one release
    assert doc["model"]["state_order"] == doc["model"]["states"] == "HGIEBTSC"
    assert doc["predictions"][0]["states"] == pred.states


def test_epoch_accuracy_names_the_q8_of_an_eight_state_model_and_the_old_keys_warn():
    chains = [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQ", "CCHHHGGGHHHTTEEEEBSSCC", eight=True) for i in range(3)]
    seen: list[EpochStats] = []
    cfg = TrainConfig(model=ModelConfig(window=5, hidden=[4], n_states=8), epochs=1, patience=0, batch_size=16)
    model = train(cfg, chains, valid=chains, callbacks=[seen.append])
    stats = seen[0]
    assert {"train_accuracy", "valid_accuracy"} <= set(stats) and not {"train_q3", "valid_q3"} & set(stats)
    with pytest.warns(DeprecationWarning, match="'valid_q3' is deprecated; use 'valid_accuracy'"):
        assert stats["valid_q3"] == stats["valid_accuracy"]
    # valid_accuracy is the Q8 of the validation chains, as evaluate scores them
    assert stats["valid_accuracy"] == pytest.approx(sspred.evaluate(model, chains, bootstrap=0).q8, abs=1e-6)
    saved = model.header["train"]["history"]["epochs"][0]
    assert json.loads(json.dumps(saved)) == dict(stats)


def test_predict_says_q8_for_an_eight_state_run(tmp_path):
    from typer.testing import CliRunner

    from sspred.cli import app

    path = tmp_path / "c.3line"
    path.write_text("".join(f">c{i}\nMKTAYIAKQRQISFVKSHFSRQ\nCCHHHGGGHHHTTEEEEBSSCC\n" for i in range(3)))
    done = CliRunner().invoke(app, ["train", "--data", str(path), "--valid-data", str(path), "--n-states", "8",
                                    "--window", "5", "--hidden", "4", "--epochs", "1", "-o", str(tmp_path / "m.npz")])
    assert done.exit_code == 0, done.output
    assert "valid Q8" in done.output and "train Q8" in done.output and "valid Q " not in done.output


def test_replace_keeps_n_states():
    cfg = ModelConfig(n_states=8)
    assert dataclasses.replace(cfg, window=7).n_states == 8
    assert np.array_equal(ModelConfig(n_states=8).layers()[-1]["out"], 8)
