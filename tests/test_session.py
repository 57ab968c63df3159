"""The model file's content (Model, a value) apart from what predicts with it (Session: device, extractors, built
networks), and predict_proba on what a user has: sequences."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import sspred
from sspred.features import encode
from sspred.model import Model, Session, load_model

SEQS = {"a": "MKTAYIAKQRQISFVKSHFSRQ", "b": "GSHMLEDPVD", "c": "MKV"}


@pytest.fixture(scope="module")
def fast():
    return sspred.load("fast")


def test_predict_proba_takes_sequences_and_gives_each_chains_probabilities(fast):
    want = [pr.probabilities for pr in fast.predict(SEQS)]
    for given in (SEQS, list(SEQS.values())):
        got = fast.predict_proba(given)
        assert [p.shape for p in got] == [(len(s), 3) for s in SEQS.values()]
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
    one = fast.predict_proba(SEQS["a"])  # a str is one sequence
    assert len(one) == 1
    np.testing.assert_array_equal(one[0], want[0])
    for g, w in zip(fast.model.predict_proba(list(SEQS.values())), want):  # the Model's own session agrees
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-6)
    with pytest.raises(sspred.InputError, match="position 4"):
        fast.predict_proba("MKV1")


def test_the_codes_form_is_predict_proba_codes_and_the_old_call_warns(fast):
    codes = encode(SEQS["a"])
    want = fast.model.predict_proba_codes(codes)
    assert want.shape == (len(SEQS["a"]), 3)
    with pytest.warns(DeprecationWarning, match=r"predict_proba\(codes\) is deprecated"):
        old = fast.model.predict_proba(codes)
    np.testing.assert_array_equal(old, want)
    np.testing.assert_allclose(want, fast.predict_proba(SEQS["a"])[0], rtol=0, atol=1e-6)


def test_a_model_is_a_value_nothing_can_set_a_device_or_a_cache_on():
    model = load_model("fast")
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.device = "cpu"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.feature_cache = "/tmp"  # type: ignore[misc]
    session = Session(model, feature_cache="somewhere")
    assert (session.model, session.device, session.feature_cache) == (model, None, "somewhere")
    assert model.session is model.session and model.session is not session  # the model's own, built once
    assert session.members is not model.session.members  # each session builds its own networks


def test_a_predictor_on_a_device_owns_its_session_and_leaves_the_model_alone():
    pytest.importorskip("torch")
    p = sspred.load("default", device="cpu")
    assert p.session.device == "cpu" and p.session.model is p.model
    assert "session" not in vars(p.model)  # the model's own NumPy session was never built
    numpy = sspred.load("default")
    for a, b in zip(p.predict_proba(SEQS), numpy.predict_proba(SEQS)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    with pytest.raises(sspred.ConfigError, match="another model"):
        sspred.Predictor(numpy.model, p.session)


def test_training_returns_a_new_model_and_leaves_its_teacher_and_first_stage_as_they_were():
    from sspred.config import ConvConfig, ModelConfig, TrainConfig
    from sspred.io.datasets import make_chain

    chains = [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQ", "CCHHHHHHHHHCCEEEEECCCC", eight=False) for i in range(3)]
    teacher = load_model("fast")
    before = (dict(teacher.header), {k: v.copy() for k, v in teacher.params.items()}, vars(teacher).keys() - {"session"})
    cfg = TrainConfig(model=ConvConfig(channels=8, first_kernel=5, dilations=[1], dropout=0.0), epochs=1,
                      teacher="fast", teacher_weight=0.5, batch_size=2)
    model = sspred.train(cfg, chains)
    assert isinstance(model, Model) and model.header is not teacher.header
    second = sspred.train(TrainConfig(model=ModelConfig(window=3, hidden=[4]), epochs=1, stage1="fast"), chains)
    assert second.params is not teacher.params
    after = load_model("fast")
    assert before[0] == dict(after.header) and before[2] == vars(teacher).keys() - {"session"}
    for k, v in before[1].items():
        np.testing.assert_array_equal(after.params[k], v)
