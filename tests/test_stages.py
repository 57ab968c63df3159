"""The stages of a training run (sspred.stages), each run alone on plain data, and together as ``sspred.train``."""

from __future__ import annotations

import numpy as np
import pytest

from sspred.config import ConfigError, ConvConfig, ModelConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.features import DenseWindowIndex, WindowIndex
from sspred.io.datasets import make_chain
from sspred.io.find import load_data
from sspred.layout import ChainIndex
from sspred.model import load_model
from sspred.stages import (DataSets, Features, History, build_examples, build_learner, build_model,
                           compute_features, learner_settings, place_learner, read_data, release_learner)
from sspred.training import fit, prepare_run, train

SEQUENCE, LABELS = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "CCHHHHHHHHHCCEEEEECCCCHHHHHHHCCCC"


def chains(n: int = 5, prefix: str = "c"):
    return [make_chain(f"{prefix}{i}", SEQUENCE[i:], LABELS[i:], eight=False) for i in range(n)]


def window_config(**kw) -> TrainConfig:
    return TrainConfig(model=ModelConfig(window=5, hidden=[4]), epochs=2, **kw)


def conv_config(**kw) -> TrainConfig:
    return TrainConfig(model=ConvConfig(channels=8, first_kernel=5, dilations=[1], dropout=0.0), epochs=2,
                       batch_size=2, **kw)


# --- 1. data sets


def test_read_data_takes_chains_as_given_and_validates_on_what_it_is_given():
    train, valid = chains(4), chains(2, "v")
    sets = read_data(window_config(), train, valid)
    assert [c.id for c in sets.train] == [c.id for c in train] and [c.id for c in sets.valid] == ["v0", "v1"]
    assert read_data(window_config(), train).valid == []  # chains name no set to validate on


def test_read_data_of_a_named_set_validates_on_its_valid_split(data_dir):
    sets = read_data(window_config(), "qs1988", data_dir=data_dir)
    assert sets.label == "qs1988"
    assert [c.id for c in sets.train] == [c.id for c in load_data("qs1988", "train", data_dir)]
    assert [c.id for c in sets.valid] == [c.id for c in load_data("qs1988", "valid", data_dir)]


# --- 2. features


def test_a_window_network_reads_no_features():
    assert compute_features(window_config(), DataSets("x", chains())) == Features()


def test_a_first_stage_s_probabilities_are_its_predictions_of_both_sets():
    sets = DataSets("x", chains(3), chains(2, "v"))
    got = compute_features(window_config(stage1="fast"), sets)
    fast = load_model("fast")
    assert got.stage1 is not None and got.stage1.name == "fast" and got.teacher is None
    for mine, chain in zip(got.stage1_train + got.stage1_valid, sets.train + sets.valid):
        np.testing.assert_array_equal(mine, fast.predict_many([chain.codes])[0])


def test_a_teacher_s_probabilities_are_its_predictions_of_the_training_chains():
    sets = DataSets("x", chains(3), chains(2, "v"))
    got = compute_features(conv_config(teacher="fast"), sets)
    expected = load_model("fast").predict_proba([c.sequence for c in sets.train])
    assert len(got.teacher) == 3 and got.states_train is None and got.stage1 is None
    for mine, theirs in zip(got.teacher, expected):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)


def test_a_model_predicts_a_set_in_slices_as_in_one_call(monkeypatch):
    import sspred.model as sm

    model = load_model("fast")
    codes = [c.codes for c in chains(5)]
    monkeypatch.setattr(sm, "SET_CHAINS", 2)
    for sliced, whole in zip(model.predict_set(codes), model.predict_many(codes)):
        np.testing.assert_array_equal(sliced, whole)


# --- 3. layout


def test_examples_are_laid_out_from_plain_arrays():
    sets = DataSets("x", chains(3), chains(2, "v"))
    residues = sum(len(c.sequence) for c in sets.train)
    window = build_examples(window_config(), sets, Features())
    assert isinstance(window.train, WindowIndex) and len(window.train) == residues
    assert len(window.valid) == sum(len(c.sequence) for c in sets.valid)
    # A teacher's targets are any (L, 3) arrays: uniform ones here.
    uniform = [np.full((len(c.sequence), 3), 1 / 3, np.float32) for c in sets.train]
    conv = build_examples(conv_config(teacher="t"), sets, Features(teacher=uniform))
    assert isinstance(conv.train, ChainIndex) and len(conv.train) == 3 and len(conv.valid) == 2
    assert conv.layers == conv_config().model.layers()
    probs = [np.full((len(c.sequence), 3), 1 / 3, np.float32) for c in sets.train]
    second = build_examples(window_config(stage1="fast"), sets,
                            Features(stage1=load_model("fast"), stage1_train=probs))
    assert isinstance(second.train, DenseWindowIndex) and len(second.train) == residues and second.valid is None


def test_teacher_probabilities_that_do_not_fit_the_chains_are_a_config_error():
    sets = DataSets("x", chains(2))
    short = [np.full((len(c.sequence) - 1, 3), 1 / 3, np.float32) for c in sets.train]
    with pytest.raises(ConfigError, match="teacher probabilities for chain 'c0'"):
        build_examples(conv_config(teacher="t"), sets, Features(teacher=short))


# --- 4. learner, 5. fit, 6. model


def test_the_learner_is_the_engine_s_drawn_from_the_config_s_seed():
    cfg = window_config(seed=3)
    placement = place_learner(cfg)
    assert placement.learner_class is NumpyLearner and placement.device is None
    learner = build_learner(cfg, cfg.model.layers(), placement)
    again = NumpyLearner(cfg.model.layers(), learner_settings(cfg), np.random.default_rng(3))
    for name, value in again.get_params().items():
        np.testing.assert_array_equal(learner.get_params()[name], value)


def test_the_model_stage_records_the_run_and_predicts_as_the_learner():
    cfg = window_config(name="tiny")
    sets = DataSets("tiny-chains", chains(4))
    examples = build_examples(cfg, sets, Features())
    learner = build_learner(cfg, examples.layers, place_learner(cfg))
    history = fit(learner, examples.train, examples.valid, cfg)
    params, spread = release_learner(learner)
    model = build_model(cfg, params, history, data=sets.label, n_train=4, n_valid=0, engine="numpy",
                        layers=examples.layers)
    assert spread is None and model.name == "tiny"
    assert model.header["train"]["data"] == "tiny-chains" and model.header["train"]["history"] == history.to_dict()
    rows = examples.train.examples(np.arange(len(examples.train)))[0]
    np.testing.assert_allclose(np.concatenate(model.predict_proba([c.sequence for c in sets.train])),
                               learner.predict_proba(rows), atol=1e-6)


def test_the_history_is_plain_data():
    history = History([{"epoch": 1, "train_loss": 1.0}], 1, True)
    assert History.from_dict(history.to_dict()) == history


@pytest.mark.parametrize("config", [window_config(), conv_config(teacher="fast", teacher_weight=0.7),
                                    window_config(stage1="fast")], ids=["window", "teacher", "second-stage"])
def test_the_stages_by_hand_train_the_weights_train_does(config):
    """prepare_run and TrainingRun.fit are these stages in a row: the same weights, bit for bit."""
    data, valid = chains(4), chains(2, "v")
    sets = read_data(config, data, valid)
    examples = build_examples(config, sets, compute_features(config, sets))
    learner = build_learner(config, examples.layers, place_learner(config))
    history = fit(learner, examples.train, examples.valid, config)
    model = build_model(config, release_learner(learner)[0], history, data=sets.label, n_train=len(sets.train),
                        n_valid=len(sets.valid), engine="numpy", layers=examples.layers,
                        stage1=load_model(config.stage1) if config.stage1 else None)
    trained = train(config, data, valid)
    assert sorted(model.params) == sorted(trained.params)
    for name, value in trained.params.items():
        np.testing.assert_array_equal(model.params[name], value)
    run = prepare_run(config, data, valid)
    assert type(run.train_index) is type(examples.train) and run.layers == examples.layers
    assert (run.n_train_chains, run.n_valid_chains, run.data) == (4, 2, sets.label)
