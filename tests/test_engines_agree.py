"""The NumPy and torch engines are the same network: logits, gradients and whole training runs agree.

The NumPy engine's hand-written backward passes are also checked against
finite differences for the layers and penalties added with the training toolkit.
"""

from __future__ import annotations

import numpy as np
import pytest

from sspred.alphabet import N_SYMBOLS
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.gradcheck import numeric_grad
from sspred.engines.numpy.learner import NumpyLearner, penalty
from sspred.engines.numpy.losses import SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.engines.spec import initial_state
from sspred.features import WindowIndex, one_hot
from sspred.training import learner_settings

torch = pytest.importorskip("torch")

from sspred.engines.torch.learner import TorchLearner  # noqa: E402
from sspred.engines.torch.losses import smoothed_targets  # noqa: E402
from sspred.engines.torch.network import DTYPES, TorchNetwork  # noqa: E402

#: Agreement demanded per dtype (the issue's acceptance numbers).
TOL = {"float64": 1e-8, "float32": 1e-4}


def small_specs(activation: str, batchnorm: bool, dropout: float = 0.3) -> list[dict]:
    """Every layer type: input dropout, a linear bottleneck, two hidden layers with batch norm and dropout."""
    return ModelConfig(window=5, hidden=[7, 6], activation=activation, batchnorm=batchnorm,
                       dropout=dropout, dropout_at=[0, 1, 2], bottleneck=4).layers()


def masks_for(specs, batch: int, rng) -> dict[int, np.ndarray]:
    """A keep-mask for each dropout layer, shaped like that layer's input."""
    masks, width = {}, specs[0].get("in", 5 * 21)
    for i, s in enumerate(specs):
        if s["type"] == "linear":
            width = s["out"]
        if s["type"] == "dropout":
            masks[i] = rng.random((batch, width)) >= s["rate"]
    return masks


def batch(rng, n=16, window=5):
    codes = rng.integers(0, N_SYMBOLS, size=(n, window)).astype(np.uint8)
    return codes, rng.integers(0, 3, size=n)


def both_networks(specs, dtype, masks, rng):
    """A NumPy and a torch network holding the same weights (running statistics perturbed off 0/1)."""
    state = initial_state(specs, rng, np.dtype(dtype))
    for k in state:
        if k.endswith("running_mean"):
            state[k] = rng.normal(0, 0.5, state[k].shape).astype(dtype)
        elif k.endswith("running_var") or k.endswith("gamma"):
            state[k] = rng.uniform(0.5, 2.0, state[k].shape).astype(dtype)
        elif k.endswith("beta") or k.endswith(".b"):
            state[k] = rng.normal(0, 0.3, state[k].shape).astype(dtype)
    npnet = Network(specs, dtype=dtype)
    npnet.load_params(state)
    tnet = TorchNetwork(specs).to(dtype=DTYPES[dtype])
    tnet.load_arrays(state)
    for i, m in masks.items():
        npnet.layers[i].fixed_mask = m
        tnet.layers[i].fixed_mask = torch.from_numpy(m)
    return npnet, tnet


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_logits_and_every_gradient_agree(dtype, activation, batchnorm, train):
    rng = np.random.default_rng([7, batchnorm, train])
    specs = small_specs(activation, batchnorm)
    codes, y = batch(rng)
    npnet, tnet = both_networks(specs, dtype, masks_for(specs, len(y), rng), rng)
    smoothing = 0.1

    x = one_hot(codes, np.dtype(dtype))
    logits = npnet.forward(x, train=train)
    loss_fn = SoftmaxCrossEntropy(smoothing)
    loss = loss_fn.forward(logits, y)
    dx = npnet.backward(loss_fn.backward())

    tnet.train(train)
    xt = torch.from_numpy(x).requires_grad_(True)
    tlogits = tnet(xt)
    yt = torch.from_numpy(y)
    tloss = -(smoothed_targets(yt, 3, smoothing, tlogits.dtype) * torch.log_softmax(tlogits, 1)).sum() / len(y)
    tloss.backward()

    tol = TOL[dtype]
    np.testing.assert_allclose(logits, tlogits.detach().numpy(), rtol=tol, atol=tol)
    assert loss == pytest.approx(tloss.item(), rel=tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=tol, atol=tol)
    tgrads = {k: p.grad.numpy() for k, p in tnet.named_parameters()}
    assert set(tgrads) == set(npnet.grads) == set(npnet.params)
    for k, g in npnet.grads.items():
        np.testing.assert_allclose(g, tgrads[k], rtol=tol, atol=tol, err_msg=k)
    # Batch norm's running statistics moved the same way (training) or not at all (evaluation).
    tbuf = dict(tnet.named_buffers())
    for k, v in npnet.buffers.items():
        np.testing.assert_allclose(v, tbuf[k].numpy(), rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_learners_agree_with_penalties_smoothing_and_masks(dtype):
    """One full training step of each learner: L1 + L2 + label smoothing + batch norm + injected dropout masks."""
    rng = np.random.default_rng(3)
    specs = small_specs("tanh", batchnorm=True)
    cfg = TrainConfig(dtype=dtype, l2=0.05, l1=0.01, smoothing=0.2, optimizer="sgd", lr=0.1, seed=5)
    a = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    b = TorchLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    for k, v in a.get_params().items():
        np.testing.assert_array_equal(v, b.get_params()[k], err_msg=f"initial {k}")
    codes, y = batch(rng, n=32)
    for i, m in masks_for(specs, len(y), rng).items():
        a.net.layers[i].fixed_mask = m
        b.net.layers[i].fixed_mask = torch.from_numpy(m)
    la, pa = a.step(codes, y)
    lb, pb = b.step(codes, y)
    tol = TOL[dtype]
    assert la == pytest.approx(lb, rel=tol)
    np.testing.assert_array_equal(pa, pb)
    for k, v in a.get_params().items():
        np.testing.assert_allclose(v, b.get_params()[k], rtol=tol, atol=tol, err_msg=k)


# --- finite differences for the NumPy engine's new pieces --------------------------------------

@pytest.mark.parametrize("batchnorm,train", [(False, True), (True, True), (True, False)])
def test_numpy_gradients_match_finite_differences(batchnorm, train):
    """Dropout with a fixed mask and batch norm in both modes, checked entry by entry in float64."""
    rng = np.random.default_rng(11)
    specs = small_specs("tanh", batchnorm)
    codes, y = batch(rng, n=8)
    net, _ = both_networks(specs, "float64", masks_for(specs, len(y), rng), rng)
    x = one_hot(codes, np.float64) + rng.normal(0, 0.1, (8, 5 * 21))  # off the one-hot lattice, so dx is exercised
    loss_fn = SoftmaxCrossEntropy(0.1)

    def f():
        return loss_fn.forward(net.forward(x, train=train), y)

    f()
    net.backward(loss_fn.backward())
    analytic = {k: g.copy() for k, g in net.grads.items()}
    for k, p in net.params.items():
        np.testing.assert_allclose(analytic[k], numeric_grad(f, p), rtol=1e-5, atol=1e-8, err_msg=k)
    f()
    dx = net.backward(loss_fn.backward())
    np.testing.assert_allclose(dx, numeric_grad(f, x), rtol=1e-5, atol=1e-8)


def test_penalty_gradients_match_finite_differences_and_hand_values():
    rng = np.random.default_rng(2)
    params = {"layers.0.W": rng.normal(size=(4, 3)), "layers.0.b": rng.normal(size=3),
              "layers.2.W": rng.normal(size=(3, 2))}
    l1, l2 = 0.03, 0.2
    value, grads = penalty(params, l1, l2)
    # By hand: only the two W matrices count, biases never.
    by_hand = sum(0.5 * l2 * (params[k] ** 2).sum() + l1 * np.abs(params[k]).sum() for k in ("layers.0.W", "layers.2.W"))
    assert value == pytest.approx(by_hand, rel=1e-12)
    assert set(grads) == {"layers.0.W", "layers.2.W"}
    for k, g in grads.items():
        np.testing.assert_allclose(g, numeric_grad(lambda: penalty(params, l1, l2)[0], params[k]), rtol=1e-6, atol=1e-9)


# --- whole training runs -------------------------------------------------------------------------

def test_three_epochs_of_training_agree_in_float64(data_dir):
    """Same seed, same data order, 10 real chains: per-epoch losses agree to a relative 1e-4."""
    from sspred.io import datasets
    from sspred.training import fit

    chains = datasets.load("qs1988", "train", data_dir)
    # 10 chains (1,238 windows: 60 steps of 64 over the 3 epochs) keep it in the quick tier; more adds time, not checks
    train, valid = WindowIndex(chains[:10], 13), WindowIndex(chains[10:16], 13)
    specs = ModelConfig(window=13, hidden=[20], activation="sigmoid", batchnorm=True).layers()
    cfg = TrainConfig(dtype="float64", epochs=3, batch_size=64, lr=3e-3, l2=1e-3, smoothing=0.05,
                      schedule="step", lr_step=1, lr_gamma=0.5, patience=0, seed=4)
    runs = {}
    for cls in (NumpyLearner, TorchLearner):
        learner = cls(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
        runs[cls.engine] = (fit(learner, train, valid, cfg), learner.get_params())
    (hn, pn), (ht, pt) = runs["numpy"], runs["torch"]
    assert len(hn.epochs) == len(ht.epochs) == 3
    for en, et in zip(hn.epochs, ht.epochs):
        for key in ("train_loss", "valid_loss"):
            assert en[key] == pytest.approx(et[key], rel=1e-4), (en["epoch"], key)
    assert hn.epochs[-1]["train_loss"] < hn.epochs[0]["train_loss"]  # it did learn
    for k in pn:
        np.testing.assert_allclose(pn[k], pt[k], rtol=1e-4, atol=1e-6, err_msg=k)


def test_a_model_from_either_engine_predicts_in_the_other(tmp_path, data_dir):
    """Train briefly with torch, save through sspred.model, predict with NumPy; and back."""
    from sspred.engines.torch.network import from_model
    from sspred.io import datasets
    from sspred.model import build_header, load_model, save_model
    from sspred.training import fit

    chains = datasets.load("qs1988", "train", data_dir)[:10]
    mcfg = ModelConfig(window=13, hidden=[12], batchnorm=True, dropout=0.2)
    cfg = TrainConfig(epochs=1, batch_size=128, patience=0)
    learner = TorchLearner(mcfg.layers(), learner_settings(cfg), np.random.default_rng(0))
    fit(learner, WindowIndex(chains, 13), None, cfg)
    path = tmp_path / "t.npz"
    save_model(path, build_header(mcfg, "t"), learner.get_params())
    model = load_model(path)
    assert any(k.endswith("running_var") for k in model.params)  # batch-norm statistics travel in the file
    codes = chains[0].codes
    p_numpy = model.predict_proba_codes(codes)
    with torch.no_grad():
        tnet = from_model(model)
        p_torch = torch.softmax(tnet(tnet.encode(torch.from_numpy(WindowIndex([chains[0]], 13).batch(
            np.arange(codes.size))))), 1).numpy()
    np.testing.assert_allclose(p_numpy, p_torch, atol=1e-5)
    np.testing.assert_allclose(p_numpy, learner.predict_proba(WindowIndex([chains[0]], 13).batch(np.arange(codes.size))),
                               atol=1e-5)


def test_learners_agree_on_stage2_float_rows():
    """A second stage reads float rows (probability windows), not residue codes: both engines take them as they are."""
    from sspred.cascade import stage2_layers

    rng = np.random.default_rng(8)
    specs = stage2_layers(7, [5], "sigmoid", 3)
    cfg = TrainConfig(dtype="float64", lr=0.01)
    a = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(1))
    b = TorchLearner(specs, learner_settings(cfg), np.random.default_rng(1))
    rows, y = rng.random((12, specs[0]["in"])), rng.integers(0, 3, 12)
    for _ in range(3):
        la, _ = a.step(rows, y)
        lb, _ = b.step(rows, y)
        assert la == pytest.approx(lb, rel=1e-10)
    np.testing.assert_allclose(a.predict_proba(rows), b.predict_proba(rows), rtol=1e-10)
