"""The compiled index-input training step against the one-hot NumPy path: same gradients, same Adam step."""

import numpy as np
import pytest

from sspred.alphabet import N_SYMBOLS
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.index_train import FusedStep, numba
from sspred.engines.numpy.learner import NumpyLearner
from sspred.engines.numpy.losses import SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.features import one_hot
from sspred.training import learner_settings

pytestmark = pytest.mark.skipif(numba is None, reason="numba (the 'fast' extra) not installed")


def batch(rng, n, window):
    codes = rng.integers(0, N_SYMBOLS, size=(n, window)).astype(np.uint8)  # every code, ambiguous ones too
    return codes, rng.integers(0, 3, size=n)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("window,hidden", [(13, 40), (5, 7), (1, 3)])
def test_index_gradients_equal_one_hot_gradients(activation, window, hidden):
    rng = np.random.default_rng(window * hidden)
    cfg = ModelConfig(window=window, hidden=[hidden], activation=activation)
    net = Network(cfg.layers(), np.float32, rng)
    for p in net.params.values():
        p += rng.normal(0, 0.2, p.shape).astype(np.float32)  # biases away from 0 too
    codes, y = batch(rng, 64, window)
    loss_fn = SoftmaxCrossEntropy()
    ref_loss = loss_fn.forward(net.forward(one_hot(codes), train=True), y)
    net.backward(loss_fn.backward())
    ref = {k: v.copy() for k, v in net.grads.items()}
    loss, pred = FusedStep(activation).grads(net, codes, y)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    for name, g in ref.items():
        np.testing.assert_allclose(net.grads[name], g, atol=1e-6, rtol=1e-4, err_msg=name)
    assert np.array_equal(pred, net.forward(one_hot(codes)).argmax(axis=1))


def test_fused_adam_steps_track_the_plain_learner():
    cfg = ModelConfig(window=13, hidden=[40], activation="sigmoid")
    tcfg = TrainConfig(batch_size=200)
    fused = NumpyLearner(cfg.layers(), learner_settings(tcfg), np.random.default_rng(0))
    plain = NumpyLearner(cfg.layers(), learner_settings(tcfg), np.random.default_rng(0))
    plain.fused = None
    assert fused.fused is not None
    rng = np.random.default_rng(1)
    for _ in range(5):
        codes, y = batch(rng, 200, 13)
        lf, pf = fused.step(codes, y)
        lp, pp = plain.step(codes, y)
        assert lf == pytest.approx(lp, rel=1e-5)
    for name, p in plain.get_params().items():
        np.testing.assert_allclose(fused.get_params()[name], p, atol=2e-6, err_msg=name)
    assert int(fused.optimizer.state["t"]) == 5


def test_other_shapes_keep_the_plain_path():
    assert not FusedStep.applies(ModelConfig(hidden=[8, 8]).layers(), "adam", np.float32)
    assert not FusedStep.applies(ModelConfig().layers(), "sgd", np.float32)
    assert not FusedStep.applies(ModelConfig().layers(), "adam", np.float64)
    assert FusedStep.applies(ModelConfig().layers(), "adam", np.float32)


def test_fused_step_follows_replaced_arrays():
    """Loading parameters or optimizer state as new arrays (a resumed run) must not leave the step on stale ones."""
    cfg = ModelConfig(window=5, hidden=[6], activation="relu")
    a = NumpyLearner(cfg.layers(), learner_settings(TrainConfig()), np.random.default_rng(0))
    b = NumpyLearner(cfg.layers(), learner_settings(TrainConfig()), np.random.default_rng(0))
    b.fused = None
    rng = np.random.default_rng(2)
    codes, y = batch(rng, 32, 5)
    a.step(codes, y)
    b.step(codes, y)
    fresh = {k: v.copy() for k, v in b.net.params.items()}
    a.net.load_params(fresh)  # new arrays, as load_params makes
    for key in ("m", "v"):
        a.optimizer.state[key] = {k: v.copy() for k, v in b.optimizer.state[key].items()}
    a.step(codes, y)
    b.step(codes, y)
    for name, p in b.get_params().items():
        np.testing.assert_allclose(a.get_params()[name], p, atol=2e-6, err_msg=name)
