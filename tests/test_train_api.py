"""sspred.train / TrainConfig / evaluate as a library: config checks, round trips, and agreement with the CLI."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

from sspred import checkpoint as ckpt
from sspred.cli import app
from sspred.config import ConfigError, ConvConfig, ModelConfig, TrainConfig, model_config
from sspred.evaluation import Scores, evaluate
from sspred.io.datasets import make_chain
from sspred.io.find import load_data
from sspred.model import Model, load_model
from sspred.training import prepare_run, train

#: (config class, field, bad value, words the error must hold: the field and what it may be).
BAD_FIELDS = [
    (ModelConfig, "window", 4, "odd"),
    (ModelConfig, "window", 0, "odd"),
    (ModelConfig, "hidden", [40, 0], ">= 1"),
    (ModelConfig, "activation", "swish", "sigmoid, tanh, relu"),
    (ModelConfig, "n_states", 4, "3, 8"),
    (ModelConfig, "bottleneck", -1, ">= 0"),
    (ModelConfig, "dropout", 1.0, "[0, 1)"),
    (ModelConfig, "dropout_at", [2], "0, 1"),
    (ConvConfig, "n_states", 5, "3, 8"),
    (ConvConfig, "channels", 0, ">= 1"),
    (ConvConfig, "first_kernel", 8, "odd kernel"),
    (ConvConfig, "kernel", 4, "odd kernel"),
    (ConvConfig, "dilations", [1, 0], "positive dilation"),
    (ConvConfig, "dropout", -0.1, "[0, 1)"),
    (TrainConfig, "model", "window", "ModelConfig or a ConvConfig"),
    (TrainConfig, "optimizer", "lbfgs", "sgd, adam"),
    (TrainConfig, "lr", 0.0, "> 0"),
    (TrainConfig, "momentum", 1.0, "[0, 1)"),
    (TrainConfig, "batch_size", 0, ">= 1"),
    (TrainConfig, "epochs", 0, ">= 1"),
    (TrainConfig, "patience", -1, ">= 0"),
    (TrainConfig, "seed", -1, ">= 0"),
    (TrainConfig, "dtype", "float16", "float32, float64"),
    (TrainConfig, "l2", -1e-3, ">= 0"),
    (TrainConfig, "l1", -1e-3, ">= 0"),
    (TrainConfig, "input_noise", -0.1, ">= 0"),
    (TrainConfig, "weight_noise", -0.1, ">= 0"),
    (TrainConfig, "smoothing", 1.0, "[0, 1)"),
    (TrainConfig, "schedule", "exp", "none, step, cosine, plateau"),
    (TrainConfig, "lr_step", 0, ">= 1"),
    (TrainConfig, "lr_gamma", 0.0, "> 0"),
    (TrainConfig, "lr_patience", -1, ">= 0"),
    (TrainConfig, "lr_min", -1.0, ">= 0"),
    (TrainConfig, "engine", "jax", "numpy, torch"),
    (TrainConfig, "teacher_weight", 1.5, "[0, 1]"),
    (TrainConfig, "teacher", "fast", "conv stacks"),
    (TrainConfig, "device", "cuda", "engine='torch'"),
    (TrainConfig, "distributed", True, "engine='torch'"),
    (TrainConfig, "threads", -1, ">= 0"),
]


@pytest.mark.parametrize("cls, name, value, words", BAD_FIELDS, ids=lambda v: str(v))
def test_each_bad_field_is_a_value_error_naming_the_field_and_its_choices(cls, name, value, words):
    with pytest.raises(ValueError) as info:
        cls(**{name: value})
    assert isinstance(info.value, ConfigError) and info.value.field == name
    assert str(info.value).startswith(f"{name}: ") and words in str(info.value)


@pytest.mark.parametrize("kwargs, name, words", [
    ({"model": ConvConfig(), "stage1": "fast"}, "stage1", "window network"),
    ({"model": ConvConfig(), "distributed": True}, "distributed", "engine='torch'"),
])
def test_settings_that_exclude_each_other_are_refused(kwargs, name, words):
    with pytest.raises(ConfigError, match=words) as info:
        TrainConfig(**kwargs)
    assert info.value.field == name


def test_model_config_refuses_a_setting_of_the_other_arch_naming_the_arch_that_has_it():
    """A setting the arch would not read is a mistake, not something to drop: --channels on a window network."""
    shared = {"n_states": 8, "dropout": 0.1}
    assert model_config("window", window=7, hidden=[12], **shared) == ModelConfig(window=7, hidden=[12], **shared)
    assert model_config("conv", channels=16, dilations=[1, 2], **shared) == ConvConfig(channels=16, dilations=[1, 2],
                                                                                       **shared)
    with pytest.raises(ConfigError, match="is not one of window, conv") as info:
        model_config("mlp")
    assert info.value.field == "model"
    for arch, name, value, words in (("window", "head_weights", {"disorder": 2.0}, "only a conv stack"),
                                     ("window", "attention", 1, "only a conv stack"),
                                     ("window", "channels", 16, "only a conv stack"),
                                     ("conv", "hidden", [40], "only a window network"),
                                     ("conv", "window", 13, "only a window network"),
                                     ("conv", "lr", 0.1, "a training setting"),
                                     ("conv", "chanels", 8, "no setting")):
        with pytest.raises(ConfigError, match=words) as info:
            model_config(arch, **{name: value})
        assert info.value.field == name


def test_to_dict_from_dict_round_trips_either_model_config():
    window = TrainConfig(model=ModelConfig(window=7, hidden=(12, 6), activation="relu", dropout=0.1, dropout_at=[0, 2]),
                         optimizer="sgd", lr=0.05, schedule="cosine", stage1="fast", exclude_leaks=True, name="w")
    conv = TrainConfig(model=ConvConfig(channels=16, dilations=[1, 2]), teacher="default", teacher_weight=0.3)
    for cfg in (window, conv):
        d = cfg.to_dict()
        back = TrainConfig.from_dict(d)
        assert back == cfg and type(back.model) is type(cfg.model)
        assert back.to_dict() == d
    assert conv.to_dict()["model"]["arch"] == "conv" and conv.to_dict()["model"]["window"] == ConvConfig(
        channels=16, dilations=[1, 2]).window
    assert window.model.hidden == [12, 6]  # a tuple is kept as the list JSON gives back


def tiny_chains() -> list:
    return [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQ", "CCHHHHHHHHHCCEEEEECCCC", eight=False) for i in range(3)]


def test_callbacks_run_once_per_epoch_and_the_history_is_in_the_header():
    seen = []
    cfg = TrainConfig(model=ModelConfig(window=5, hidden=[4]), epochs=3, patience=0, batch_size=16)
    model = train(cfg, tiny_chains(), callbacks=[seen.append, lambda s: None])
    assert [s["epoch"] for s in seen] == [1, 2, 3]
    assert set(seen[0]) == {"epoch", "train_loss", "train_accuracy", "lr", "seconds"}  # no validation set given
    assert isinstance(model, Model) and model.header["train"]["history"]["epochs"] == seen
    assert TrainConfig.from_dict(model.header["train"]["config"]) == cfg


@pytest.mark.parametrize("settings, name, words", [
    ({"device": "cpu", "distributed": True}, "distributed", "torchrun"),
])
def test_a_torch_setting_this_machine_cannot_honour_is_a_config_error_before_any_data_is_read(
        monkeypatch, settings, name, words):
    """The torch engine places its learner (TorchLearner.place) and names the setting at fault: outside torchrun
    ``distributed`` cannot join a process group."""
    pytest.importorskip("torch")
    monkeypatch.delenv("RANK", raising=False)
    with pytest.raises(ConfigError, match=words) as info:
        prepare_run(TrainConfig(engine="torch", **settings), "no-such-set-or-file")
    assert info.value.field == name


class Stop(Exception):
    pass


def test_resume_continues_to_the_uninterrupted_weights_and_refuses_another_config(tmp_path):
    cfg = TrainConfig(model=ModelConfig(window=5, hidden=[4], dropout=0.2), epochs=3, patience=0, batch_size=16,
                      input_noise=0.05, schedule="plateau", lr_patience=1, lr_gamma=0.5, lr=1e-2)
    whole = train(cfg, tiny_chains())

    def stop_in_epoch_2(stats: dict) -> None:
        if stats["epoch"] == 2:
            raise Stop  # before epoch 2's checkpoint: the file keeps epoch 1
    ck = tmp_path / "ck.npz"
    with pytest.raises(Stop):
        train(cfg, tiny_chains(), checkpoint=ck, callbacks=[stop_in_epoch_2])
    assert ckpt.load(ck)["meta"]["epoch"] == 1 and ckpt.run_config(ckpt.load(ck)["meta"]) == cfg

    with pytest.raises(ConfigError, match=r"lr: checkpoint 0\.01, given 0\.02"):
        train(dataclasses.replace(cfg, lr=0.02), tiny_chains(), resume=ck)
    resumed = train(dataclasses.replace(cfg, name="resumed"), tiny_chains(), resume=ck)  # a name may change
    assert resumed.name == "resumed" and len(resumed.header["train"]["history"]["epochs"]) == 3
    for k, v in whole.params.items():
        np.testing.assert_array_equal(resumed.params[k], v, err_msg=k)
    assert ckpt.load(ck)["meta"]["epoch"] == 3  # a resumed run keeps writing its checkpoint


@pytest.fixture(scope="module")
def qs_slice(data_dir) -> list:
    return load_data("qs1988", "train", data_dir)[:30]


def test_train_returns_the_model_sspred_train_writes(tmp_path, qs_slice, data_dir):
    """The same settings through the library and through the command (in-process) give the same predictions."""
    from sspred.io.datasets import write_three_line

    data = tmp_path / "slice.txt"
    with open(data, "w") as handle:
        write_three_line(qs_slice, handle)
    args = ["--window", "11", "--hidden", "12", "--activation", "tanh", "--epochs", "2", "--batch-size", "64",
            "--seed", "4", "--dropout", "0.1", "--lr", "3e-3", "--threads", "1"]
    out = tmp_path / "cli.npz"
    done = CliRunner().invoke(app, ["train", "--data", str(data), "--valid-data", str(data), "-o", str(out), *args])
    assert done.exit_code == 0, done.output
    cfg = TrainConfig(model=ModelConfig(window=11, hidden=[12], activation="tanh", dropout=0.1), epochs=2,
                      batch_size=64, seed=4, lr=3e-3, threads=1, name="cli")
    model = train(cfg, load_data(data, "train"), valid=str(data))
    saved = load_model(out)
    # Every flag left out has its field's default, and --threads is a runtime field of the config.
    assert TrainConfig.from_dict(saved.header["train"]["config"]) == cfg
    assert model.header["layers"] == saved.header["layers"] and model.name == saved.name == "cli"
    for chain in qs_slice[:5]:
        np.testing.assert_array_equal(model.predict_proba_codes(chain.codes), saved.predict_proba_codes(chain.codes))
    model.save(tmp_path / "lib.npz")
    again = load_model(tmp_path / "lib.npz")
    np.testing.assert_array_equal(again.predict_proba_codes(qs_slice[0].codes), saved.predict_proba_codes(qs_slice[0].codes))
    assert [e["train_loss"] for e in again.header["train"]["history"]["epochs"]] == \
           [e["train_loss"] for e in saved.header["train"]["history"]["epochs"]]


def test_evaluate_returns_the_q3_sspred_evaluate_prints(tmp_path, qs_slice, data_dir):
    model = train(TrainConfig(model=ModelConfig(window=13, hidden=[10]), epochs=2, lr=3e-3), qs_slice)
    path = tmp_path / "m.npz"
    model.save(path)
    done = CliRunner().invoke(app, ["evaluate", "-m", str(path), "--data", "qs1988", "--data-dir", str(data_dir),
                                    "--bootstrap", "20"])
    assert done.exit_code == 0, done.output
    scores = evaluate(model, "qs1988", data_dir=data_dir, bootstrap=20)
    assert isinstance(scores, Scores)
    assert done.output.strip().splitlines()[-1] == f"Q3 {scores.q3:.2f}"
    assert 40 < scores.q3 < 80 and scores.q8 is None and set(scores.mcc) == set("HEC")
    assert scores.chains == len(load_data("qs1988", "test", data_dir)) and scores.report["ci"]["q3"][0] <= scores.q3
    holder = type("Holder", (), {"model": model})()  # anything with .model, as the Predictor
    assert evaluate(holder, "qs1988", data_dir=data_dir, bootstrap=0).q3 == scores.q3
    assert evaluate(str(path), load_data("qs1988", "test", data_dir), bootstrap=0).q3 == scores.q3


@pytest.mark.parametrize("module", ["sspred.config", "sspred.training", "sspred.evaluation", "sspred.io.find"])
def test_the_docstring_examples_run(module):
    """The examples in train, TrainConfig, evaluate, Scores and load_data are real runs; keep them true."""
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_second_stage_cascades_over_the_first_models_probabilities():
    chains = tiny_chains()
    first = load_model("fast")
    model = train(TrainConfig(model=ModelConfig(window=3, hidden=[4]), stage1="fast", epochs=1), chains)
    assert model.header["stage2"]["window"] == 3 and model.header["stage2_train"]["config"]["stage1"] == "fast"
    for k, v in first.params.items():  # the first stage is the given model, untouched
        np.testing.assert_array_equal(model.params[k], v)
    probs = model.predict_proba_codes(chains[0].codes)
    assert probs.shape == (22, 3) and not np.allclose(probs, first.predict_proba_codes(chains[0].codes))


def test_distillation_and_the_leak_filter_are_recorded_in_the_header():
    from sspred.splits import known_leaks

    leak = sorted(known_leaks())[0]
    chains = [*tiny_chains(), make_chain(leak, "MKTAYIAKQRQISF", "CCHHHHHHHHHCCC", eight=False)]
    conv = ConvConfig(channels=4, first_kernel=3, kernel=3, dilations=[1], dropout=0.0)
    model = train(TrainConfig(model=conv, teacher="fast", teacher_weight=0.25, exclude_leaks=True, epochs=1,
                              batch_size=2), chains)
    info = model.header["train"]
    assert info["teacher"] == {"model": "fast", "weight": 0.25}
    assert info["chains"] == 3 and info["leak_filter"] == "sspred.splits.known_leaks()"
    assert model.header["model"]["arch"] == "conv" and model.predict_proba_codes(chains[0].codes).shape == (22, 3)


@pytest.mark.parametrize("flags, words", [
    (["--optimizer", "lbfgs"], ["--optimizer", "sgd, adam"]),
    (["--window", "12"], ["--window", "odd"]),
    (["--arch", "conv", "--stage1", "fast"], ["--stage1", "window network"]),
    (["--device", "cuda"], ["--device", "engine='torch'"]),
])
def test_a_bad_flag_is_a_usage_error_naming_the_flag(tmp_path, flags, words):
    done = CliRunner().invoke(app, ["train", "--data", "qs1988", "-o", str(tmp_path / "m.npz"), *flags])
    assert done.exit_code == 2 and not (tmp_path / "m.npz").exists()
    text = " ".join(done.output.replace("│", " ").split())  # the usage box wraps long lines
    assert all(w in text for w in words), done.output


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_both_learners_satisfy_the_learner_protocol_the_fit_loop_trains(engine):
    """engines.learner.Learner is the one declaration of what fit asks; each engine's learner has all of it."""
    from sspred.engines import learner_class
    from sspred.engines.learner import Learner
    from sspred.training import learner_settings

    if engine == "torch":
        pytest.importorskip("torch")
    cfg = TrainConfig(model=ModelConfig(window=5, hidden=[4]), engine=engine)
    cls = learner_class(engine)
    learner = cls(cfg.model.layers(), learner_settings(cfg), np.random.default_rng(0), **cls.place("cpu"))
    assert isinstance(learner, Learner) and learner.engine == engine
    assert (learner.rank, learner.world) == (0, 1)  # outside torchrun
