"""The hopfield layer: hand-written backward against finite differences and torch, and in a trained network."""

from __future__ import annotations

import numpy as np
import pytest

from sspred.config import TrainConfig
from sspred.engines.numpy.hopfield import Hopfield, init_from_windows
from sspred.engines.numpy.layers import build
from sspred.engines.numpy.network import Network, n_parameters

SPECS = {
    "plain": {"type": "hopfield", "in": 6, "patterns": 5, "dim": 4},
    "out_beta": {"type": "hopfield", "in": 6, "patterns": 7, "dim": 3, "out": 2, "beta": 0.8},
    "residual": {"type": "hopfield", "in": 6, "patterns": 5, "dim": 4, "residual": True},
}


def make(spec: dict, seed: int = 0) -> Hopfield:
    layer = build(spec)
    layer.init(np.random.default_rng(seed), np.float64)
    return layer


def loss_of(layer: Hopfield, x: np.ndarray, g: np.ndarray) -> float:
    return float((layer.forward(x) * g).sum())  # a random linear loss: dL/dy = g


@pytest.mark.parametrize("name", list(SPECS))
def test_gradients_match_central_differences(name):
    rng = np.random.default_rng(1)
    layer = make(SPECS[name])
    x = rng.standard_normal((4, 6))
    g = rng.standard_normal(layer.forward(x).shape)
    layer.forward(x)
    dx = layer.backward(g)
    eps = 1e-6
    targets = {**{k: layer.params[k] for k in layer.params}, "x": x}
    analytic = {**layer.grads, "x": dx}
    assert set(layer.grads) == set(Hopfield.param_shapes(SPECS[name]))
    for key, arr in targets.items():
        numeric = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            up = loss_of(layer, x, g)
            arr[idx] = old - eps
            down = loss_of(layer, x, g)
            arr[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        rel = np.abs(numeric - analytic[key]).max() / max(np.abs(numeric).max(), 1e-12)
        assert rel < 1e-6, (key, rel)


@pytest.mark.parametrize("name", list(SPECS))
def test_matches_torch_forward_and_autograd(name):
    torch = pytest.importorskip("torch")
    from sspred.engines.torch.hopfield import Hopfield as TorchHopfield

    rng = np.random.default_rng(2)
    layer = make(SPECS[name], seed=3)
    module = TorchHopfield(SPECS[name]).double()
    assert {n for n, _ in module.named_parameters()} == set(layer.params)
    with torch.no_grad():
        for n, p in module.named_parameters():
            assert tuple(p.shape) == layer.params[n].shape
            p.copy_(torch.from_numpy(layer.params[n]))
    x = rng.standard_normal((8, 6))
    y = layer.forward(x)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    tx = torch.from_numpy(x).requires_grad_(True)
    ty = module(tx)
    (ty * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for n, p in module.named_parameters():
        np.testing.assert_allclose(layer.grads[n], p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)


def test_layer_is_attention_over_its_stored_patterns():
    torch = pytest.importorskip("torch")
    spec = SPECS["out_beta"]
    layer = make(spec, seed=4)
    x = np.random.default_rng(5).standard_normal((3, 6))
    p = {k: torch.from_numpy(v) for k, v in layer.params.items()}
    q = torch.from_numpy(x) @ p["Wq"]
    attn = torch.nn.functional.scaled_dot_product_attention(q[None], p["K"][None], p["V"][None], scale=spec["beta"])
    np.testing.assert_allclose(layer.forward(x), attn[0].numpy(), rtol=1e-12, atol=1e-12)


def test_network_gradient_through_hopfield_layer():
    """The whole stack (linear, tanh, hopfield, linear, cross-entropy) against central differences."""
    from sspred.engines.numpy.losses import SoftmaxCrossEntropy

    specs = [{"type": "linear", "in": 10, "out": 6, "init_for": "tanh"}, {"type": "tanh"},
             {"type": "hopfield", "in": 6, "patterns": 4, "dim": 3, "residual": True},
             {"type": "linear", "in": 6, "out": 3}]
    rng = np.random.default_rng(6)
    net = Network(specs, dtype=np.float64, rng=rng)
    x, y = rng.standard_normal((5, 10)), rng.integers(0, 3, 5)
    loss = SoftmaxCrossEntropy()
    loss.forward(net.forward(x), y)
    net.backward(loss.backward())
    grads = {k: v.copy() for k, v in net.grads.items()}
    eps = 1e-6
    for key, arr in net.params.items():
        idx = tuple(int(rng.integers(s)) for s in arr.shape)  # one entry per parameter keeps it fast
        old = arr[idx]
        arr[idx] = old + eps
        up = loss.forward(net.forward(x), y)
        arr[idx] = old - eps
        down = loss.forward(net.forward(x), y)
        arr[idx] = old
        assert (up - down) / (2 * eps) == pytest.approx(grads[key][idx], rel=1e-6, abs=1e-10), key


def test_memory_initialised_from_windows_retrieves_them():
    from sspred.hopfield import separation

    rng = np.random.default_rng(7)
    beta = 50.0
    specs = [{"type": "linear", "in": 12, "out": 8, "init_for": "tanh"}, {"type": "tanh"},
             {"type": "hopfield", "in": 8, "patterns": 6, "dim": 8, "beta": beta}]
    net = Network(specs, dtype=np.float64, rng=rng)
    windows = rng.standard_normal((6, 12))
    init_from_windows(net, 2, windows)
    hidden = np.tanh(windows @ net.params["layers.0.W"] + net.params["layers.0.b"])  # (6, 8)
    keys = net.params["layers.2.K"]
    np.testing.assert_allclose(keys, hidden @ net.params["layers.2.Wq"])
    # A stored window's query is its own key, so it is retrieved in one step whenever its separation
    # Delta_i = k_i.k_i - max_j k_i.k_j is large against log(M) / beta (Ramsauer et al. 2020, thm 4).
    sep = separation(keys)
    clear = beta * sep > np.log(6) + 12
    assert clear.sum() >= 3
    np.testing.assert_allclose(net.forward(windows)[clear], hidden[clear], atol=1e-4)


def test_parameter_count():
    spec = {"type": "hopfield", "in": 40, "patterns": 64, "dim": 16}
    assert n_parameters([spec]) == 40 * 16 + 64 * 16 + 64 * 40


def test_trains_on_real_windows_and_round_trips_through_a_model_file(data_dir, tmp_path):
    from sspred.config import ModelConfig
    from sspred.engines.numpy.learner import NumpyLearner
    from sspred.features import WindowIndex
    from sspred.io import datasets
    from sspred.model import build_header, load_model, save_model
    from sspred.training import evaluate_split, fit, learner_settings

    train = WindowIndex(datasets.load("qs1988", "train", data_dir)[:40], 13)
    valid = WindowIndex(datasets.load("qs1988", "valid", data_dir), 13)
    specs = [{"type": "linear", "in": 273, "out": 20, "init_for": "tanh"}, {"type": "tanh"},
             {"type": "hopfield", "in": 20, "patterns": 16, "dim": 8, "residual": True},
             {"type": "linear", "in": 20, "out": 3}]
    cfg = TrainConfig(epochs=3, patience=0, batch_size=64, lr=3e-3)
    learner = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(0))
    before, _, _ = evaluate_split(learner, valid)
    history = fit(learner, train, valid, cfg)
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    assert history.epochs[-1]["valid_loss"] < before
    header = build_header(ModelConfig(window=13, hidden=[20], activation="tanh"), "hop", layers=specs)
    save_model(tmp_path / "hop.npz", header, learner.get_params())
    model = load_model(tmp_path / "hop.npz")
    chain = datasets.load("qs1988", "test", data_dir)[0]
    from sspred.features import windows
    want = learner.predict_proba(np.ascontiguousarray(windows(chain.codes, 13)))
    np.testing.assert_allclose(model.predict_proba_codes(chain.codes), want, rtol=1e-5, atol=1e-6)
