"""Training noise: weight noise perturbs only the step's forward/backward pass, input noise only the inputs,
both drawn from the generator the fit loop hands in; and torch stays an optional import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sspred.alphabet import N_SYMBOLS
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.engines.numpy.losses import SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.features import one_hot
from sspred.training import learner_settings


def setup(**train):
    specs = ModelConfig(window=5, hidden=[6], activation="tanh").layers()
    cfg = TrainConfig(dtype="float64", **train)
    rng = np.random.default_rng(0)
    codes = rng.integers(0, N_SYMBOLS, (10, 5)).astype(np.uint8)
    return specs, cfg, codes, rng.integers(0, 3, 10)


def plain_grads(specs, params, x, y):
    net = Network(specs, dtype=np.float64)
    net.load_params(params)
    loss = SoftmaxCrossEntropy()
    value = loss.forward(net.forward(x, train=True), y)
    net.backward(loss.backward())
    return value, net.grads


def test_weight_noise_gradient_is_taken_at_the_noisy_weights_and_the_clean_ones_are_kept():
    specs, cfg, codes, y = setup(weight_noise=0.3)
    learner = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(1))
    before = learner.get_params()
    learner.begin_epoch([9, 1])
    loss, _ = learner.forward_backward(one_hot(codes, np.float64), y)
    for k, v in learner.get_params().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)  # clean weights restored exactly
    # Replay the same draws: one normal array per weight matrix, in layer order; biases untouched.
    rng = np.random.default_rng([9, 1])
    noisy = {k: v + 0.3 * rng.standard_normal(v.shape) if k.endswith(".W") else v for k, v in before.items()}
    want_loss, want = plain_grads(specs, noisy, one_hot(codes, np.float64), y)
    assert loss == pytest.approx(want_loss, rel=1e-12)
    for k, g in learner.net.grads.items():
        np.testing.assert_allclose(g, want[k], rtol=1e-12, err_msg=k)
    clean_loss, _ = plain_grads(specs, before, one_hot(codes, np.float64), y)
    assert abs(loss - clean_loss) > 1e-3  # the noise did change this step


def test_input_noise_is_gaussian_on_the_one_hot_rows():
    specs, cfg, codes, y = setup(input_noise=0.2)
    learner = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(1))
    learner.begin_epoch([4, 2])
    loss, _ = learner.forward_backward(one_hot(codes, np.float64), y)
    x = one_hot(codes, np.float64) + 0.2 * np.random.default_rng([4, 2]).standard_normal((10, 5 * 21))
    want, _ = plain_grads(specs, learner.get_params(), x, y)
    assert loss == pytest.approx(want, rel=1e-12)


@pytest.mark.slow
def test_the_core_never_imports_torch_and_the_torch_engine_says_how_to_get_it():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import sspred.cli, sspred.cli.train, sspred.model, sspred.predict.api, sspred.predict.batch, sspred.training\n"
            "from sspred.engines import learner_class\n"
            "learner_class('numpy')\n"
            "import sspred\n"
            "try:\n    learner_class('torch')\nexcept sspred.MissingExtra as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'the torch engine needs PyTorch: pip install "sspred[torch]"'
