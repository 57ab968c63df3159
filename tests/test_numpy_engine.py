"""The NumPy engine's backward passes against finite differences, and one SGD step worked by hand."""

import numpy as np
import pytest

from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.activations import log_softmax
from sspred.engines.numpy.gradcheck import numeric_grad, relative_error
from sspred.engines.numpy.layers import ACTIVATIONS, LAYERS, build
from sspred.engines.numpy.learner import NumpyLearner
from sspred.engines.numpy.losses import SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.engines.numpy.optim import SGD, Adam
from sspred.training import learner_settings

TOL = 1e-6


def layer_loss(layer, x, r):
    """A scalar function of the layer output: sum(r * layer(x)), so d/dout = r."""
    return float((layer.forward(x, train=True) * r).sum())


@pytest.mark.parametrize("kind", ["linear", *ACTIVATIONS])
def test_layer_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(1)
    spec = {"type": kind, "in": 5, "out": 4} if kind == "linear" else {"type": kind}
    layer = build(spec)
    layer.init(rng, np.float64)
    x = rng.standard_normal((6, 5))
    # keep ReLU inputs away from the kink, where the derivative is undefined
    x[np.abs(x) < 0.05] = 0.3
    r = rng.standard_normal(layer.forward(x).shape)
    layer.forward(x, train=True)
    dx = layer.backward(r)
    assert relative_error(dx, numeric_grad(lambda: layer_loss(layer, x, r), x)) < TOL
    for name, p in layer.params.items():
        num = numeric_grad(lambda: layer_loss(layer, x, r), p)
        layer.forward(x, train=True)
        layer.backward(r)
        assert relative_error(layer.grads[name], num) < TOL, name


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_gradient(smoothing):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((7, 3)) * 3
    y = rng.integers(0, 3, 7)
    loss = SoftmaxCrossEntropy(smoothing)
    loss.forward(logits, y)
    analytic = loss.backward()
    assert relative_error(analytic, numeric_grad(lambda: loss.forward(logits, y), logits)) < TOL


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0]])
    loss = SoftmaxCrossEntropy()
    assert loss.forward(logits, np.array([0])) == pytest.approx(0.0, abs=1e-12)
    assert loss.forward(logits, np.array([2])) == pytest.approx(2000.0)
    assert np.isfinite(log_softmax(logits)).all()


def test_label_smoothing_targets():
    t = SoftmaxCrossEntropy(0.3).targets(np.array([1]), 3, np.float64)
    np.testing.assert_allclose(t, [[0.15, 0.7, 0.15]])


@pytest.mark.parametrize("hidden", [[], [6], [6, 5]])
def test_whole_network_gradient(hidden):
    rng = np.random.default_rng(3)
    cfg = ModelConfig(window=3, hidden=hidden, activation="tanh")
    net = Network(cfg.layers(), dtype=np.float64, rng=rng)
    x = rng.standard_normal((4, cfg.n_inputs))
    y = rng.integers(0, 3, 4)
    loss = SoftmaxCrossEntropy()

    def f():
        return loss.forward(net.forward(x, train=True), y)

    f()
    net.backward(loss.backward())
    grads = {k: v.copy() for k, v in net.grads.items()}
    for name, p in net.params.items():
        assert relative_error(grads[name], numeric_grad(f, p)) < TOL, name


def test_one_sgd_step_by_hand():
    """A 2-input, 2-class linear softmax net, one SGD step with lr 0.5, worked by hand.

    W = [[1, 0], [0, 1]], b = [0, 0], x = [1, 2], y = 0.
    logits z = x W + b = [1, 2]; softmax p = [1/(1+e), e/(1+e)] = [0.268941, 0.731059].
    dz = p - onehot(y) = [-0.731059, 0.731059] (batch of 1).
    dW = x^T dz = [[-0.731059, 0.731059], [-1.462117, 1.462117]];  db = dz.
    W' = W - 0.5 dW = [[1.365529, -0.365529], [0.731059, 0.268941]];  b' = [0.365529, -0.365529].
    """
    net = Network([{"type": "linear", "in": 2, "out": 2}], dtype=np.float64)
    net.load_params({"layers.0.W": np.eye(2), "layers.0.b": np.zeros(2)})
    loss = SoftmaxCrossEntropy()
    value = loss.forward(net.forward(np.array([[1.0, 2.0]]), train=True), np.array([0]))
    assert value == pytest.approx(np.log(1 + np.e))  # -log(1/(1+e))
    net.backward(loss.backward())
    SGD(net.params, lr=0.5, momentum=0.0).step(net.params, net.grads)
    np.testing.assert_allclose(net.params["layers.0.W"], [[1.365529, -0.365529], [0.731059, 0.268941]], atol=1e-6)
    np.testing.assert_allclose(net.params["layers.0.b"], [0.365529, -0.365529], atol=1e-6)


def test_sgd_momentum_accumulates_velocity():
    p = {"w": np.array([1.0])}
    opt = SGD(p, lr=0.1, momentum=0.9)
    opt.step(p, {"w": np.array([1.0])})  # v = -0.1, w = 0.9
    opt.step(p, {"w": np.array([1.0])})  # v = 0.9 * -0.1 - 0.1 = -0.19, w = 0.71
    assert p["w"][0] == pytest.approx(0.71)


def test_adam_first_step_is_lr_times_sign():
    """With bias correction, Adam's first step is lr * g / (|g| + eps') = lr * sign(g) for any gradient scale."""
    p = {"w": np.array([1.0, 1.0])}
    opt = Adam(p, lr=0.01)
    opt.step(p, {"w": np.array([1e-3, -50.0])})
    np.testing.assert_allclose(p["w"], [0.99, 1.01], atol=1e-8)


def test_learner_trains_in_float32_and_lowers_loss():
    rng = np.random.default_rng(0)
    cfg = ModelConfig(window=5, hidden=[8])
    learner = NumpyLearner(cfg.layers(), learner_settings(TrainConfig(lr=0.01)), rng)
    codes = rng.integers(0, 20, (64, 5)).astype(np.uint8)
    y = (codes[:, 2] % 3).astype(np.int64)  # a learnable rule: the centre residue decides
    first, _ = learner.step(codes, y)
    for _ in range(200):
        last, _ = learner.step(codes, y)
    assert learner.net.params["layers.0.W"].dtype == np.float32
    assert last < 0.5 * first


def test_every_layer_type_is_in_the_table():
    assert {"linear", "sigmoid", "tanh", "relu"} <= set(LAYERS)
    with pytest.raises(ValueError, match="unknown layer type"):
        build({"type": "nope"})
