"""Conv layers over whole chains: gradients, the two engines, chain layouts, the table first layer,
model files and a short training run.

Every hand-written backward pass is checked against finite differences and against torch; a chain's
outputs must not depend on which chains share its layout or on how a long chain is cut into pieces.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import sspred
from sspred.alphabet import N_UNITS
from sspred.config import ConvConfig, ModelConfig, TrainConfig
from sspred.engines.numpy import conv_infer
from sspred.engines.numpy.conv import Conv1d
from sspred.engines.numpy.conv_infer import forward_layout, predict_conv_chains
from sspred.engines.numpy.gradcheck import numeric_grad, relative_error
from sspred.engines.numpy.learner import NumpyLearner
from sspred.engines.numpy.activations import softmax
from sspred.engines.numpy.losses import SoftmaxCrossEntropy
from sspred.engines.numpy.network import Network
from sspred.engines.spec import context, conv_dims, gap, initial_state
from sspred.features import encode, one_hot
from sspred.io import datasets
from sspred.io.fasta import parse_fasta
from sspred.layout import ChainIndex, lay_out
from sspred.training import learner_settings

from layout_support import (EXAMPLE, assert_engines_agree_on_layout, assert_layout_gradients_match_finite_differences,
                            example_codes, random_state)  # noqa: F401 (example_codes: a fixture)


@pytest.fixture(scope="module")
def qs_train(data_dir):

    return datasets.load("qs1988", "train", data_dir)


def numpy_net(specs: list[dict], seed: int, dtype="float32") -> Network:
    net = Network(specs, dtype=dtype)
    net.load_params(random_state(specs, np.random.default_rng(seed), dtype))
    return net


def small_conv(dropout: float = 0.0, **kw) -> ConvConfig:
    return ConvConfig(**{"channels": 8, "first_kernel": 7, "kernel": 3, "dilations": [1, 2, 4], "dropout": dropout,
                         **kw})


# --- 1. finite differences -----------------------------------------------------------------------

#: (spec, rows, valid mask or None): a plain conv; a dilated residual conv whose taps reach past both
#: ends; a masked residual conv over two "chains" with gap rows around and between them.
GAP_VALID = np.array([0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0], dtype=bool)
CONV_CASES = {
    "plain": ({"type": "conv", "in": 5, "out": 4, "kernel": 3, "mask": False}, 9, None),
    "dilated-residual": ({"type": "conv", "in": 4, "out": 4, "kernel": 3, "dilation": 3, "residual": True}, 11, None),
    "masked-gaps": ({"type": "conv", "in": 3, "out": 3, "kernel": 5, "dilation": 2, "residual": True, "mask": True},
                    GAP_VALID.size, GAP_VALID),
}


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv1d_gradients_match_finite_differences(case):
    spec, n, valid = CONV_CASES[case]
    rng = np.random.default_rng(list(CONV_CASES).index(case))
    layer = Conv1d(spec)
    layer.init(rng, np.float64)
    layer.params["b"] = rng.normal(size=layer.params["b"].shape)
    layer.valid = valid
    x = rng.normal(size=(n, spec["in"]))
    r = rng.normal(size=(n, spec["out"]))

    def f():  # a non-linear scalar of the output, so dout depends on the weights
        return float((np.tanh(layer.forward(x, True)) * r).sum())

    y = layer.forward(x, True)
    dx = layer.backward((1 - np.tanh(y) ** 2) * r)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    assert set(analytic) == set(layer.params) == {"W", "b"}
    for k, p in layer.params.items():
        assert relative_error(analytic[k], numeric_grad(f, p)) < 1e-7, k
    assert relative_error(dx, numeric_grad(f, x)) < 1e-7
    if valid is not None:
        # Gap rows are zeroed before the layer reads them: no gradient, and no effect on any output.
        assert not dx[~valid].any()
        before = layer.forward(x, False)
        x[~valid] += rng.normal(size=x[~valid].shape)
        np.testing.assert_array_equal(layer.forward(x, False), before)


def test_conv_network_gradients_over_scored_rows_match_finite_differences(example_codes):
    """one-hot -> unmasked conv -> relu -> residual dilated conv -> relu -> linear, on a layout of two
    real chain fragments; the loss reads scored rows only (gap rows and two unscored residues are left out)."""
    rng = np.random.default_rng(5)
    specs = [{"type": "conv", "in": N_UNITS, "out": 5, "kernel": 5, "mask": False, "init_for": "relu"},
             {"type": "relu"},
             {"type": "conv", "in": 5, "out": 5, "kernel": 3, "dilation": 2, "residual": True, "init_for": "relu"},
             {"type": "relu"},
             {"type": "linear", "in": 5, "out": 3}]
    state = random_state(specs, np.random.default_rng(1), "float64")
    assert_layout_gradients_match_finite_differences(specs, example_codes, rng, state)


# --- 2. the NumPy and torch engines agree ----------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_engines_agree_on_conv_logits_and_every_gradient(dtype, example_codes):
    assert_engines_agree_on_layout(small_conv().layers(), example_codes, np.random.default_rng(21), dtype)


def test_learners_agree_over_chain_layouts_in_float64(qs_train):
    """A few Adam steps of each learner on the same real layouts (no dropout): the same losses and weights."""
    pytest.importorskip("torch")
    from sspred.engines.torch.learner import TorchLearner

    specs = small_conv(dropout=0).layers()
    assert not any(s["type"] == "dropout" for s in specs)
    index = ChainIndex(qs_train[:24], gap(specs))
    cfg = TrainConfig(dtype="float64", lr=1e-2, seed=3)
    a = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    b = TorchLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    start = a.get_params()
    losses = []
    for k in range(4):
        layout, y = index.examples(np.arange(6 * k, 6 * k + 6))
        assert y.size == (layout.labels >= 0).sum() > 0
        la, pa = a.step(layout, y)
        lb, pb = b.step(layout, y)
        assert la == pytest.approx(lb, rel=1e-6), k
        np.testing.assert_array_equal(pa, pb)
        losses.append(la)
    for k, v in a.get_params().items():
        assert relative_error(v, b.get_params()[k]) < 1e-6, k
        assert not np.array_equal(v, start[k]), f"{k} never moved"
    layout, y = index.examples(np.arange(20, 24))
    np.testing.assert_allclose(a.predict_proba(layout), b.predict_proba(layout), rtol=1e-6, atol=1e-9)


# --- 3. layout invariance ---------------------------------------------------------------------------

def test_a_chain_predicts_the_same_alone_or_among_other_chains(example_codes):
    specs = small_conv(dropout=0.2).layers()
    net = numpy_net(specs, seed=2)
    g = gap(specs)
    alone = [forward_layout(net, lay_out([c], g))[g:g + c.size] for c in example_codes]
    order = [2, 0, 3, 1]
    batch = lay_out([example_codes[i] for i in order], g)
    for i, p in zip(order, batch.split(forward_layout(net, batch))):
        np.testing.assert_allclose(p, alone[i], rtol=0, atol=1e-6, err_msg=f"chain {i}")
    # The check can fail: with no gap, neighbouring chains leak into each other.
    tight = lay_out([example_codes[i] for i in order], 0)
    leaked = max(np.abs(p - alone[i]).max() for i, p in zip(order, tight.split(forward_layout(net, tight))))
    assert leaked > 1e-3


def test_predicting_long_chains_in_pieces_equals_one_pass(example_codes, monkeypatch):
    cfg = small_conv(first_kernel=9)
    specs = cfg.layers()
    net = numpy_net(specs, seed=4)
    assert cfg.window == 2 * context(specs) + 1  # the receptive field the pieces' context must cover
    whole = predict_conv_chains(net, example_codes, max_rows=10**6)
    pieces = predict_conv_chains(net, example_codes, max_rows=50)  # three of the four chains go in 3-5 pieces
    for i, (p, q) in enumerate(zip(whole, pieces)):
        assert p.shape == q.shape == (example_codes[i].size, 3)
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-6, err_msg=f"chain {i}")
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    # The check can fail: one residue less context than the receptive field needs changes the pieces' edges.
    monkeypatch.setattr(conv_infer, "context", lambda s: context(s) - 1)
    short = predict_conv_chains(net, example_codes, max_rows=50)
    assert max(np.abs(p - q).max() for p, q in zip(whole, short)) > 1e-4


# --- 4. the table-lookup first layer ------------------------------------------------------------------

@pytest.mark.parametrize("dilations", [[1, 2], []])
def test_table_first_layer_equals_the_one_hot_conv(example_codes, dilations):
    """Including ambiguous letters (fractional one-hot rows) and a stack with no masked layer after the first."""
    seq = next(iter(parse_fasta(EXAMPLE))).sequence
    mixed = encode("XB" + seq[2:40] + "ZJUO" + seq[44:80] + "X")
    codes = [mixed, *example_codes]
    specs = small_conv(first_kernel=9, dilations=dilations).layers()
    net = numpy_net(specs, seed=6)
    layout = lay_out(codes, gap(specs))
    table = forward_layout(net, layout)
    net.set_valid(layout.valid)
    try:
        plain = softmax(net.forward(one_hot(layout.codes[:, None], np.float32), train=False))
    finally:
        net.set_valid(None)
    np.testing.assert_allclose(table[layout.valid], plain[layout.valid], rtol=0, atol=1e-5)


def test_buffered_inference_path_equals_the_layers(example_codes):
    """conv_infer.inference (reused buffers) against the layer-by-layer path, where this tree has it:
    a large layout first, then smaller ones, so stale rows of the reused buffers would show."""
    inference = conv_infer.inference
    specs = small_conv(dropout=0.1, first_kernel=9).layers()
    net = numpy_net(specs, seed=10)
    runner = inference(net)
    assert runner is not None
    g = gap(specs)
    for group in ([0, 1, 2, 3], [2], [1, 3], [0], [3, 2, 1, 0]):
        layout = lay_out([example_codes[i] for i in group], g)
        fast = forward_layout(net, layout, runner)
        plain = forward_layout(net, layout)
        np.testing.assert_allclose(fast[layout.valid], plain[layout.valid], rtol=0, atol=1e-6, err_msg=str(group))
    whole = predict_conv_chains(net, example_codes, max_rows=10**6)
    for p, q in zip(whole, predict_conv_chains(net, example_codes, max_rows=50, runner=runner)):
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-6)


# --- 5. model files -----------------------------------------------------------------------------------

def _saved(tmp_path, name, config, layers, seed):
    from sspred.model import build_header, load_model, save_model

    path = tmp_path / f"{name}.npz"
    save_model(path, build_header(config, name, layers), random_state(layers, np.random.default_rng(seed), "float32"))
    return load_model(path)


def test_conv_model_file_round_trip_and_ensemble_with_a_window_model(tmp_path, example_codes):
    from sspred.cascade import ensemble
    from sspred.model import load_model, save_model

    cfg = small_conv(dropout=0.1, first_kernel=9)
    conv = _saved(tmp_path, "conv", cfg, cfg.layers(), seed=8)
    assert conv.window == cfg.window and conv.layers == cfg.layers()
    single = [conv.predict_proba_codes(c) for c in example_codes]
    many = conv.predict_many(example_codes)
    direct = predict_conv_chains(conv.network, example_codes)
    for c, p, q, r in zip(example_codes, single, many, direct):
        assert p.shape == (c.size, 3)
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-6)
        np.testing.assert_allclose(r, p, rtol=0, atol=1e-6)
    # The weights the file holds are the ones predicting: a network rebuilt from them agrees.
    rebuilt = Network(cfg.layers(), dtype=np.float32)
    rebuilt.load_params(conv.params)
    np.testing.assert_allclose(predict_conv_chains(rebuilt, example_codes[:1])[0], single[0], rtol=0, atol=1e-7)

    wcfg = ModelConfig(window=7, hidden=[6])
    window = _saved(tmp_path, "window", wcfg, wcfg.layers(), seed=9)
    header, params = ensemble([conv, window], "both")
    save_model(tmp_path / "both.npz", header, params)
    both = load_model(tmp_path / "both.npz")
    assert len(both.members) == 2
    mixed = both.predict_many(example_codes)
    for c, p in zip(example_codes, mixed):
        expected = (conv.predict_proba_codes(c) + window.predict_proba_codes(c)) / 2
        np.testing.assert_allclose(p, expected, rtol=0, atol=1e-5)
        np.testing.assert_allclose(both.predict_proba_codes(c), expected, rtol=0, atol=1e-5)


@pytest.mark.slow
def test_conv_models_predict_and_train_without_importing_numba(tmp_path):
    """engines.numpy.paths gives a conv network the buffered path and no fused step, so neither prediction
    nor training loads numba and LLVM (~100 MiB); a window model does take the lookup tables."""
    import os
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from sspred.config import ConvConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.model import load_model
from sspred.training import learner_settings
m = load_model("default")
assert m.layers[0]["type"] == "conv", "the built-in default is a conv stack"
probs = m.predict_many([np.arange(20, dtype=np.uint8), np.zeros(3, np.uint8)])
assert [p.shape for p in probs] == [(20, 3), (3, 3)]
assert {x.batched.path for x in m.members} == {"conv buffered"}
learner = NumpyLearner(ConvConfig(channels=8, dilations=[1]).layers(), learner_settings(TrainConfig(optimizer="adam")),
                       np.random.default_rng(0))
assert learner.fused is None
assert "numba" not in sys.modules, "numba was imported"
fast = load_model("fast")
assert fast.members[0].batched.path == "window tables"
"""
    src = Path(sspred.__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(src)})
    assert r.returncode == 0, r.stderr


# --- 6. training learns --------------------------------------------------------------------------------

def test_three_epochs_over_chains_beat_the_majority_class(qs_train, data_dir):
    from sspred.training import fit

    valid_chains = datasets.load("qs1988", "valid", data_dir)
    cfg = ConvConfig(channels=16, first_kernel=9, dilations=[1, 2], dropout=0.1)
    specs = cfg.layers()
    train, valid = ChainIndex(qs_train, gap(specs)), ChainIndex(valid_chains, gap(specs))
    # 13 steps an epoch: a rate of 2e-2 leaves the all-coil start within three epochs (3e-3 needs about five).
    tcfg = TrainConfig(epochs=3, batch_size=8, lr=2e-2, patience=0, seed=1)
    learner = NumpyLearner(specs, learner_settings(tcfg), np.random.default_rng(tcfg.seed))
    history = fit(learner, train, valid, tcfg)
    assert len(history.epochs) == 3
    labels = np.concatenate([c.labels("3") for c in valid_chains])
    labels = labels[labels >= 0]
    majority = 100.0 * np.bincount(labels).max() / labels.size
    last = history.epochs[-1]
    assert last["valid_accuracy"] > majority + 2.0, (last, majority)
    assert last["train_loss"] < history.epochs[0]["train_loss"]


# --- 7. bad specs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,message", [
    ({"type": "conv", "in": 21, "out": 8, "kernel": 4}, "odd kernel"),
    ({"type": "conv", "in": 8, "out": 8, "kernel": 3, "dilation": 0}, "positive dilation"),
    ({"type": "conv", "in": 8, "out": 6, "kernel": 3, "residual": True}, "out == in"),
])
def test_bad_conv_specs_raise_value_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        conv_dims(spec)
    with pytest.raises(ValueError, match=message):
        Network([spec])
    with pytest.raises(ValueError, match=message):
        Conv1d(spec)
    with pytest.raises(ValueError, match=message):
        initial_state([spec], np.random.default_rng(0), np.float32)


@pytest.mark.parametrize("bad", [{"first_kernel": 8}, {"kernel": 4}])
def test_a_conv_config_with_an_even_kernel_is_refused_when_it_expands(bad):
    with pytest.raises(ValueError, match="odd kernel"):
        ConvConfig(channels=4, dilations=[1, 1], **bad).layers()


def test_chains_without_a_scored_residue_are_left_out_of_training(data_dir):
    chains = datasets.load("qs1988", "train", data_dir)[:3]
    unscored = dataclasses.replace(chains[0], y3=np.full_like(chains[0].y3, -1))
    specs = ConvConfig(channels=8, dropout=0).layers()
    index = ChainIndex([unscored, *chains[1:]], gap(specs))
    assert len(index) == 2
    layout, y = index.examples(np.array([0]))
    loss, _ = NumpyLearner(specs, learner_settings(TrainConfig()), np.random.default_rng(0)).step(layout, y)
    assert np.isfinite(loss) and y.size == (chains[1].y3 >= 0).sum()


@pytest.mark.slow
def test_cli_refuses_an_even_kernel_in_one_line(cli):
    done = cli("train", "--data", "qs1988", "-o", "/tmp/never.npz", "--arch", "conv", "--kernel", "4", "--epochs", "1")
    assert done.returncode == 2
    assert "odd kernel" in done.stderr and "Traceback" not in done.stderr


# --- distillation -------------------------------------------------------------------------------------

def test_distillation_targets_mix_teacher_and_labels_and_both_engines_agree(qs_train):
    """A teacher's probabilities become (n, K) targets w * teacher + (1 - w) * one-hot, rows summing to 1;
    one-hot targets give the integer-label loss exactly; and both learners step alike on soft targets."""
    pytest.importorskip("torch")
    from sspred.engines.torch.learner import TorchLearner

    specs = small_conv(dropout=0).layers()
    chains = qs_train[:12]
    teacher = [np.random.default_rng(i).dirichlet(np.ones(3), size=c.codes.size) for i, c in enumerate(chains)]
    hard = ChainIndex(chains, gap(specs))
    soft = ChainIndex(chains, gap(specs), teacher=teacher, teacher_weight=0.3)
    layout, y = hard.examples(np.arange(4))
    _, t = soft.examples(np.arange(4))
    assert t.shape == (y.size, 3)
    np.testing.assert_allclose(t.sum(axis=1), 1.0, rtol=1e-6)
    expected = 0.3 * np.concatenate([p[c.y3 >= 0] for p, c in zip(teacher[:4], chains[:4])]) + 0.7 * np.eye(3)[y]
    np.testing.assert_allclose(t, expected, rtol=1e-6)

    logits = np.random.default_rng(0).normal(size=(y.size, 3))
    assert SoftmaxCrossEntropy().forward(logits, np.eye(3)[y]) == pytest.approx(SoftmaxCrossEntropy().forward(logits, y))

    cfg = TrainConfig(dtype="float64", lr=1e-2, seed=5)
    a = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    b = TorchLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    for k in range(3):
        layout, t = soft.examples(np.arange(4 * k, 4 * k + 4))
        la, pa = a.step(layout, t)
        lb, pb = b.step(layout, t)
        assert la == pytest.approx(lb, rel=1e-6), k
        np.testing.assert_array_equal(pa, pb)
    for k, v in a.get_params().items():
        assert relative_error(v, b.get_params()[k]) < 1e-6, k


def test_a_teacher_of_the_wrong_length_is_refused(qs_train):
    chains = qs_train[:2]
    teacher = [np.full((c.codes.size + 1, 3), 1 / 3) for c in chains]
    with pytest.raises(ValueError, match="teacher probabilities"):
        ChainIndex(chains, gap(small_conv().layers()), teacher=teacher)
