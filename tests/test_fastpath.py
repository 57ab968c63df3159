"""The lookup-table fast path against the plain forward pass (one-hot windows through Network.forward)."""

import numpy as np
import pytest

from sspred.alphabet import N_SYMBOLS, N_UNITS, SPACER
from sspred.config import ModelConfig
from sspred.engines.numpy import Network
from sspred.engines.numpy.fastpath import FastForward, NoFastPath, available_backends, layout, pair_tables
from sspred.engines.numpy.activations import softmax
from sspred.features import one_hot, windows
from sspred.model import Model, build_header

TOL = 1e-5


def random_net(window, hidden, activation, seed=0, first_scale=1.0):
    """A network with random weights and biases (biases too, so the folded first bias is exercised)."""
    cfg = ModelConfig(window=window, hidden=hidden, activation=activation)
    rng = np.random.default_rng(seed)
    net = Network(cfg.layers(), np.float32, rng)
    params = {k: (v + rng.normal(0, 0.3, v.shape)).astype(np.float32) for k, v in net.params.items()}
    params = {k: v * np.float32(first_scale if k.startswith("layers.0.") else 1.0) for k, v in params.items()}
    net.load_params(params)
    return cfg, net, params


def chains_with_everything(rng):
    """Chains of every symbol code (ambiguous X B Z J U O included), several shorter than any window."""
    lengths = [1, 2, 5, 12, 40, 333]
    return [rng.integers(0, N_SYMBOLS, size=n).astype(np.uint8) for n in lengths]


def plain(net, codes, window):
    return softmax(net.forward(one_hot(windows(codes, window))))


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("window,hidden", [(1, []), (3, [7]), (13, [40]), (17, []), (19, [24, 16]), (7, [5, 4])])
def test_fast_path_matches_plain_forward(backend, activation, window, hidden):
    cfg, net, params = random_net(window, hidden, activation, seed=window + len(hidden))
    ff = FastForward.from_layers(cfg.layers(), params, window, backend)
    chains = chains_with_everything(np.random.default_rng(window))
    got = ff.predict_many(chains)
    for codes, probs in zip(chains, got):
        assert probs.shape == (codes.size, cfg.n_states)
        np.testing.assert_allclose(probs, plain(net, codes, window), atol=TOL, rtol=0)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturated_activations_stay_exact(backend, activation):
    """First-layer weights large enough that pre-activations pass +-100: exp() must saturate, never overflow."""
    cfg, net, params = random_net(13, [40], activation, seed=3, first_scale=60.0)
    ff = FastForward.from_layers(cfg.layers(), params, 13, backend)
    codes = np.random.default_rng(4).integers(0, N_SYMBOLS, size=500).astype(np.uint8)
    probs = ff.predict(codes)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs, plain(net, codes, 13), atol=TOL, rtol=0)


def test_pair_tables_are_sums_of_first_layer_rows():
    """Worked by hand: the pair entry of (A at offset 0, spacer at offset 1) is W1[0, A] + W1[1, spacer] + b1."""
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((3 * N_UNITS, 4)), rng.standard_normal(4)
    tables = pair_tables(w1, b1, 3)
    assert tables.shape == (2, N_SYMBOLS * N_SYMBOLS, 4)
    a = 0  # alanine
    np.testing.assert_allclose(tables[0, a * N_SYMBOLS + SPACER], w1[a] + w1[N_UNITS + SPACER] + b1, rtol=1e-6)
    # offset 2 pairs with the zero-weight padding offset: only W1 rows of offset 2 count
    np.testing.assert_allclose(tables[1, a * N_SYMBOLS + 5], w1[2 * N_UNITS + a], rtol=1e-6)
    # X (unknown) is 1/20 of every amino acid
    x = N_UNITS  # first ambiguous code
    np.testing.assert_allclose(tables[1, x * N_SYMBOLS], w1[2 * N_UNITS:2 * N_UNITS + 20].mean(axis=0), rtol=1e-5)


def test_layout_separates_chains_with_spacers():
    pc, starts, n = layout([np.array([1, 2], np.uint8), np.array([3], np.uint8)], window=5)
    # half = 2 spacers before each chain and after the last one; each chain is followed by its half
    assert starts.tolist() == [0, 4] and n == 7
    codes = np.concatenate([pc[:1] // N_SYMBOLS, pc % N_SYMBOLS])
    assert codes[:9].tolist() == [SPACER, SPACER, 1, 2, SPACER, SPACER, 3, SPACER, SPACER]


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("hidden", [[40], [32, 16]])
def test_batched_result_does_not_depend_on_the_batch(backend, hidden):
    """A chain's probabilities are the same alone or among others.

    Bit for bit where no BLAS call is involved (numba, one hidden layer: the fused kernel treats
    every row alike). A BLAS product may round a row differently depending on its place in the
    matrix (OpenBLAS takes other code paths for edge rows), so elsewhere only to float32 rounding;
    that is why Dask shards reuse the single-process batches exactly.
    """
    cfg, _, params = random_net(19, hidden, "relu", seed=5)
    ff = FastForward.from_layers(cfg.layers(), params, 19, backend)
    chains = chains_with_everything(np.random.default_rng(9))
    together = ff.predict_many(chains)
    for codes, probs in zip(chains, together):
        if backend == "numba" and len(hidden) == 1:
            assert np.array_equal(ff.predict(codes), probs)
        else:
            np.testing.assert_allclose(ff.predict(codes), probs, atol=1e-6, rtol=0)


def test_backends_agree_on_a_long_chain():
    if "numba" not in available_backends():
        pytest.skip("numba not installed")
    cfg, net, params = random_net(13, [40], "sigmoid", seed=6)
    codes = np.random.default_rng(1).integers(0, 20, size=40_000).astype(np.uint8)
    a = FastForward.from_layers(cfg.layers(), params, 13, "numba").predict(codes)
    b = FastForward.from_layers(cfg.layers(), params, 13, "numpy").predict(codes)
    np.testing.assert_allclose(a, b, atol=TOL, rtol=0)
    np.testing.assert_allclose(a, plain(net, codes, 13), atol=TOL, rtol=0)


def test_unknown_layers_fall_back_to_the_plain_pass():
    cfg, net, params = random_net(5, [6], "tanh")
    specs = cfg.layers()
    with pytest.raises(NoFastPath):
        FastForward.from_layers(specs[:1] + [{"type": "mystery"}] + specs[1:], params, 5)
    model = Model(build_header(cfg, "t"), params)
    codes = np.random.default_rng(0).integers(0, N_SYMBOLS, size=30).astype(np.uint8)
    assert model.members[0].batched.path == "window tables"
    np.testing.assert_allclose(model.predict_many([codes])[0], model.predict_proba_codes(codes), atol=TOL)
    # A batch-norm layer has no table form: the chooser (engines.numpy.paths) falls back to the plain pass.
    with_bn = specs[:1] + [{"type": "batchnorm", "n": 6}] + specs[1:]
    bn_net = Network(with_bn, np.float32, np.random.default_rng(1))
    model = Model(build_header(cfg, "t", layers=with_bn), bn_net.state)
    assert model.members[0].batched.path == "window one-hot"
    np.testing.assert_array_equal(model.predict_many([codes])[0], model.predict_proba_codes(codes))
    np.testing.assert_allclose(model.predict_proba_codes(codes), plain(bn_net, codes, 5), rtol=0, atol=1e-7)


def test_ensembles_and_cascades_take_the_fast_path_for_their_first_stages():
    """predict_many of a 2-member ensemble, one member with a second stage, equals predict_proba."""
    rng = np.random.default_rng(11)
    members, params = [], {}
    for k, (window, stage2_window) in enumerate([(13, 7), (9, None)]):
        cfg = ModelConfig(window=window, hidden=[12], activation="tanh")
        net = Network(cfg.layers(), np.float32, rng)
        desc = {"model": cfg.to_dict(), "layers": cfg.layers()}
        params.update({f"members.{k}.{n}": v for n, v in net.params.items()})
        if stage2_window:
            s2 = ModelConfig(window=stage2_window, hidden=[6], activation="sigmoid")
            s2_layers = s2.layers()
            s2_layers[0]["in"] = stage2_window * 4 + 1  # K + 1 units per position, and the log-length input
            net2 = Network(s2_layers, np.float32, rng)
            desc["stage2"] = {"window": stage2_window, "layers": s2_layers}
            params.update({f"members.{k}.stage2.{n}": v for n, v in net2.params.items()})
        members.append(desc)
    header = build_header(ModelConfig(window=13, hidden=[12], activation="tanh"), "ens", members=members)
    model = Model(header, params)
    assert [m.batched.path for m in model.members] == ["window tables"] * 2
    chains = chains_with_everything(rng)
    for codes, probs in zip(chains, model.predict_many(chains)):
        np.testing.assert_allclose(probs, model.predict_proba_codes(codes), atol=TOL, rtol=0)
