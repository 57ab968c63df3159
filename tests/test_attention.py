"""Chain attention blocks: gradients, the two engines, chain layouts and a short training run.

The hand-written backward pass is checked against finite differences and against torch's autograd;
a chain's outputs must not depend on which chains share its layout.
"""

from __future__ import annotations

import numpy as np
import pytest

from sspred.config import ConvConfig, TrainConfig
from sspred.engines.numpy.activations import softmax, softmax_heads
from sspred.engines.numpy.attention import ChainAttention, alibi_line, alibi_rows, attend, blocks
from sspred.engines.numpy.gradcheck import numeric_grad, relative_error
from sspred.engines.numpy.learner import NumpyLearner
from sspred.engines.numpy.network import Network
from sspred.engines.spec import ATTENTION_SCORES, alibi_slopes, attention_dims, gap, query_rows, segments
from sspred.features import one_hot
from sspred.io import datasets
from sspred.layout import ChainIndex, lay_out

from layout_support import (assert_engines_agree_on_layout, assert_layout_gradients_match_finite_differences,
                            example_codes, random_state)  # noqa: F401 (example_codes: a fixture)

#: Two chains of 5 and 7 rows with gap rows before, between and after them.
TWO_CHAINS = np.array([0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0], dtype=bool)


def attention(c=4, heads=2, dim=3, residual=True, alibi=True) -> dict:
    return {"type": "chain_attention", "in": c, "heads": heads, "dim": dim, "residual": residual, "alibi": alibi}


def conv_attention_specs(channels=6, heads=2, dim=3) -> list[dict]:
    """A small conv trunk (one-hot -> conv -> relu -> dilated residual conv -> relu), a residual
    attention block on top, and a linear head to 3 states."""
    trunk = ConvConfig(channels=channels, first_kernel=5, kernel=3, dilations=[2], dropout=0).layers()[:-1]
    assert trunk[-1]["type"] == "relu"
    return [*trunk, attention(channels, heads, dim), {"type": "linear", "in": channels, "out": 3}]


# --- 1. the spec ------------------------------------------------------------------------------------

def test_segments_are_the_runs_of_valid_rows_and_slopes_follow_alibi():
    assert segments(TWO_CHAINS) == [(2, 7), (9, 16)]
    assert segments(np.ones(4, bool)) == [(0, 4)]
    assert segments(np.zeros(3, bool)) == []
    # Press et al. 2022: 8 heads get 1/2, 1/4, ..., 1/256.
    np.testing.assert_allclose(alibi_slopes(8), 0.5 ** np.arange(1, 9))
    np.testing.assert_allclose(alibi_slopes(4), 0.25 ** np.arange(1, 5))


@pytest.mark.parametrize("bad", [{"heads": 0}, {"dim": 0}])
def test_bad_attention_specs_raise_value_errors(bad):
    spec = {**attention(), **bad}
    with pytest.raises(ValueError, match="positive"):
        attention_dims(spec)
    with pytest.raises(ValueError, match="positive"):
        Network([spec])


def test_one_head_one_position_worked_by_hand():
    """A chain of 2 rows, 1 head of dim 1, identity-like weights: the scores, ALiBi and softmax by hand."""
    layer = ChainAttention({"type": "chain_attention", "in": 1, "heads": 1, "dim": 1})
    layer.params = {k: np.ones((1, 1)) for k in ("Wq", "Wk", "Wv", "Wo")}
    x = np.array([[1.0], [2.0]])
    # scores s_ij = x_i x_j / sqrt(1) - 2^-8 |i - j|; row 0: [1, 2 - 1/256]; row 1: [2 - 1/256, 4]
    m = 2.0 ** -8
    w0 = np.exp([1.0, 2.0 - m]) / np.exp([1.0, 2.0 - m]).sum()
    w1 = np.exp([2.0 - m, 4.0]) / np.exp([2.0 - m, 4.0]).sum()
    expected = np.array([[w0 @ [1.0, 2.0]], [w1 @ [1.0, 2.0]]])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-14)


# --- 2. finite differences --------------------------------------------------------------------------

#: (spec, valid): two chains of different lengths with gap rows, with and without residual and ALiBi;
#: and no mask (all rows one chain).
CASES = {
    "residual-alibi-gaps": (attention(residual=True, alibi=True), TWO_CHAINS),
    "plain-no-alibi-gaps": (attention(c=3, heads=3, dim=2, residual=False, alibi=False), TWO_CHAINS),
    "one-chain": (attention(c=3, heads=1, dim=4, residual=False), None),
}


@pytest.mark.parametrize("block", [None, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_attention_gradients_match_finite_differences(case, block):
    """block 2: chains of 5, 7 and 9 rows go in blocks of 2 query rows, the last block of each a single row."""
    spec, valid = CASES[case]
    rng = np.random.default_rng(list(CASES).index(case))
    layer = ChainAttention(spec)
    layer.init(rng, np.float64)
    layer.valid = valid
    layer.block = block
    n = TWO_CHAINS.size if valid is not None else 9
    x = rng.normal(size=(n, spec["in"]))
    r = rng.normal(size=(n, spec["in"]))

    def f():  # a non-linear scalar of the output, so dout depends on the weights
        return float((np.tanh(layer.forward(x, True)) * r).sum())

    for train in (True, False):  # backward after an evaluation pass recomputes the attention weights
        y = layer.forward(x, train)
        dx = layer.backward((1 - np.tanh(y) ** 2) * r)
        analytic = {k: g.copy() for k, g in layer.grads.items()}
        assert set(analytic) == set(layer.params) == {"Wq", "Wk", "Wv", "Wo"}
        for k, p in layer.params.items():
            assert relative_error(analytic[k], numeric_grad(f, p)) < 1e-7, (k, train)
        assert relative_error(dx, numeric_grad(f, x)) < 1e-7, train
    if valid is not None:
        # Gap rows read nothing, are read by nothing, and output zeros (or their input, with residual).
        gaps = ~valid
        expect_gap_dx = dx[gaps] if spec["residual"] else 0
        y = layer.forward(x, False)
        np.testing.assert_array_equal(y[gaps], x[gaps] if spec["residual"] else 0)
        x[gaps] += rng.normal(size=x[gaps].shape)
        np.testing.assert_array_equal(layer.forward(x, False)[valid], y[valid])
        assert np.all(dx[gaps] == expect_gap_dx)


def test_conv_attention_network_gradients_over_scored_rows_match_finite_differences(example_codes):
    specs = conv_attention_specs(channels=4, heads=2, dim=2)
    assert_layout_gradients_match_finite_differences(specs, example_codes, np.random.default_rng(5))


# --- 3. the NumPy and torch engines agree -----------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("alibi", [True, False])
def test_engines_agree_on_attention_logits_and_every_gradient(dtype, alibi, example_codes):
    specs = conv_attention_specs(channels=8, heads=4, dim=3)
    specs[-2]["alibi"] = alibi
    assert_engines_agree_on_layout(specs, example_codes, np.random.default_rng([21, alibi]), dtype)


@pytest.mark.parametrize("soft_first", [False, True])
def test_engines_agree_on_a_multitask_attention_network_with_dict_targets(soft_first, example_codes):
    """ConvConfig with heads ss8, disorder and conservation besides ss3 and one attention block, on the four
    example chains laid out together: dict targets with absent rows (gaps and a quarter of the residues), the
    ss3 head soft (a teacher's distributions) or hard, uneven head weights; float64 to 1e-8."""
    cfg = ConvConfig(channels=6, first_kernel=5, kernel=3, dilations=[2], dropout=0,
                     heads=["ss8", "disorder", "conservation"], head_weights={"ss8": 0.5, "disorder": 2.0},
                     attention=1, attention_heads=2, attention_dim=3)
    heads = cfg.output_heads()
    assert heads.names == ("ss3", "ss8", "disorder", "conservation")
    assert_engines_agree_on_layout(cfg.layers(), example_codes, np.random.default_rng([22, soft_first]), "float64",
                                   heads=heads, weights=cfg.head_weights, soft_first=soft_first)


#: Valid masks for one layer: all rows one chain; two chains inside gaps; chains touching both ends.
EDGE_MASKS = {
    "none": None,
    "gaps": TWO_CHAINS,
    "edges": np.array([1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1], dtype=bool),
}


@pytest.mark.parametrize("mask", list(EDGE_MASKS))
@pytest.mark.parametrize("residual", [True, False])
def test_one_layer_agrees_with_torch_for_every_mask(mask, residual):
    torch = pytest.importorskip("torch")
    from sspred.engines.torch.attention import ChainAttention as TorchChainAttention

    valid = EDGE_MASKS[mask]
    rng = np.random.default_rng([3, residual])
    spec = attention(c=5, heads=3, dim=2, residual=residual)
    n = 8 if valid is None else valid.size
    layer = ChainAttention(spec)
    layer.init(rng, np.float64)
    layer.valid = valid
    x = rng.normal(size=(n, 5))
    dout = rng.normal(size=(n, 5))
    y = layer.forward(x, True)
    dx = layer.backward(dout)

    tlayer = TorchChainAttention(spec).double()
    with torch.no_grad():
        for k, v in layer.params.items():
            getattr(tlayer, k).copy_(torch.from_numpy(v))
    tlayer.valid = None if valid is None else torch.from_numpy(valid)
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = tlayer(xt)
    (yt * torch.from_numpy(dout)).sum().backward()
    assert relative_error(y, yt.detach().numpy()) < 1e-12
    assert relative_error(dx, xt.grad.numpy()) < 1e-12
    for k, g in layer.grads.items():
        assert relative_error(g, getattr(tlayer, k).grad.numpy()) < 1e-12, k


# --- 4. layout invariance ---------------------------------------------------------------------------

def test_a_chain_attends_the_same_alone_or_among_other_chains(example_codes):
    specs = conv_attention_specs(channels=8, heads=4, dim=4)
    net = Network(specs, dtype="float64")
    net.load_params(random_state(specs, np.random.default_rng(2), "float64"))
    g = gap(specs)

    def probs(layout, valid):
        net.set_valid(valid)
        try:
            return softmax(net.forward(one_hot(layout.codes[:, None], np.float64)))
        finally:
            net.set_valid(None)

    alone = []
    for c in example_codes:
        single = lay_out([c], g)
        alone.append(probs(single, single.valid)[g:g + c.size])
    order = [2, 0, 3, 1]
    batch = lay_out([example_codes[i] for i in order], g)
    for i, p in zip(order, batch.split(probs(batch, batch.valid))):
        np.testing.assert_allclose(p, alone[i], rtol=0, atol=1e-12, err_msg=f"chain {i}")
    # The check can fail: attending over every row of the batch mixes the chains.
    mixed = batch.split(probs(batch, np.ones_like(batch.valid)))
    leaked = max(np.abs(p - alone[i]).max() for i, p in zip(order, mixed))
    assert leaked > 1e-3


# --- 5. a short training run in both engines --------------------------------------------------------

def test_one_epoch_of_conv_attention_gives_the_same_loss_in_both_engines(data_dir):
    pytest.importorskip("torch")
    from sspred.engines.torch.learner import TorchLearner
    from sspred.training import fit, learner_settings

    chains = datasets.load("qs1988", "train", data_dir)[:20]
    specs = conv_attention_specs(channels=8, heads=2, dim=4)
    index = ChainIndex(chains, gap(specs))
    cfg = TrainConfig(dtype="float64", lr=1e-2, seed=3, epochs=1, batch_size=5, patience=0)
    a = NumpyLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    b = TorchLearner(specs, learner_settings(cfg), np.random.default_rng(cfg.seed))
    start = a.get_params()
    ha, hb = fit(a, index, None, cfg), fit(b, index, None, cfg)
    la, lb = ha.epochs[0]["train_loss"], hb.epochs[0]["train_loss"]
    assert np.isfinite(la) and la == pytest.approx(lb, rel=1e-6)
    assert ha.epochs[0]["train_accuracy"] == pytest.approx(hb.epochs[0]["train_accuracy"])
    for k, v in a.get_params().items():
        assert relative_error(v, b.get_params()[k]) < 1e-6, k
        assert not np.array_equal(v, start[k]), f"{k} never moved"


# --- 6. model files and long chains -----------------------------------------------------------------

def test_attention_model_file_round_trip_and_long_chains_go_whole(tmp_path, example_codes, monkeypatch):
    """The layer table is all a model file needs; a long chain is never cut into pieces (no finite
    context covers attention), so predicting with a small row budget equals one pass."""
    from sspred.engines.numpy.conv_infer import predict_conv_chains
    from sspred.model import build_header, load_model, save_model

    specs = conv_attention_specs(channels=8, heads=2, dim=4)
    cfg = ConvConfig(channels=8, first_kernel=5, kernel=3, dilations=[2], dropout=0)
    path = tmp_path / "attention.npz"
    save_model(path, build_header(cfg, "attention", specs), random_state(specs, np.random.default_rng(8), "float32"))
    model = load_model(path)
    assert model.layers == specs
    many = model.predict_many(example_codes)
    whole = predict_conv_chains(model.network, example_codes, max_rows=10**6)
    budget = predict_conv_chains(model.network, example_codes, max_rows=50)  # every chain but one is longer
    for c, p, q, r in zip(example_codes, many, whole, budget):
        assert p.shape == (c.size, 3)
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-6)
        np.testing.assert_allclose(r, p, rtol=0, atol=1e-6)
        np.testing.assert_allclose(model.predict_proba_codes(c), p, rtol=0, atol=1e-6)
    # The check can fail: cut into pieces with the conv context only, the long chains change.
    from sspred.engines.numpy import conv_infer

    monkeypatch.setattr(conv_infer, "reads_whole_chain", lambda specs: False)
    cut = predict_conv_chains(model.network, example_codes, max_rows=50)
    assert max(np.abs(p - q).max() for p, q in zip(whole, cut)) > 1e-4


# --- 7. the buffered prediction path ----------------------------------------------------------------

def test_buffered_inference_runs_attention_as_the_layers_do(example_codes):
    """conv_infer.ConvInference (reused buffers, threads) against the layer-by-layer path on a multi-task
    conv stack with two attention blocks: a large layout first, then smaller ones (stale buffer rows would
    show), with and without ALiBi, and through the threaded chain predictor."""
    from sspred.engines.numpy import conv_infer
    from sspred.engines.numpy.conv_infer import forward_layout, predict_conv_chains

    cfg = ConvConfig(channels=8, first_kernel=5, kernel=3, dilations=[2], dropout=0.1, heads=["disorder"],
                     attention=2, attention_heads=3, attention_dim=4)
    specs = cfg.layers()
    specs[-4]["alibi"] = False  # the second block without ALiBi: both kinds of step
    net = Network(specs, dtype="float32")
    net.load_params(random_state(specs, np.random.default_rng(12), "float32"))
    runner = conv_infer.inference(net)
    assert runner is not None and sum(s[0] == "attention" for s in runner.steps) == 2
    heads = tuple(cfg.output_heads().slices().values())
    g = gap(specs)
    for group in ([0, 1, 2, 3], [2], [1, 3], [0], [3, 2, 1, 0]):
        layout = lay_out([example_codes[i] for i in group], g)
        fast = forward_layout(net, layout, runner, heads)
        plain = forward_layout(net, layout, None, heads)
        np.testing.assert_allclose(fast[layout.valid], plain[layout.valid], rtol=0, atol=1e-5, err_msg=str(group))
    chains = [example_codes[i % 4][: 20 + 13 * i] for i in range(12)]  # many passes, run on several threads
    plain = predict_conv_chains(net, chains, max_rows=120, heads=heads)
    fast = predict_conv_chains(net, chains, max_rows=120, runner=runner, heads=heads)
    for p, q in zip(plain, fast):
        np.testing.assert_allclose(q, p, rtol=0, atol=1e-5)
    # The check can fail: attending across the whole layout (one chain) changes every chain's outputs.
    layout = lay_out(example_codes, g)
    mixed = softmax_heads(runner.logits(layout.codes, np.ones_like(layout.valid)), heads)
    assert np.abs(mixed - forward_layout(net, layout, None, heads))[layout.valid].max() > 1e-3


# --- 8. blocks of query rows: memory linear in the chain --------------------------------------------

def test_query_rows_bound_each_block_and_alibi_rows_are_the_bias_matrix():
    assert query_rows(10, 4) == 10  # an ordinary chain is one block
    assert query_rows(100_000, 4) * 4 * 100_000 <= ATTENTION_SCORES
    assert query_rows(10**9, 4) == 1
    slopes = alibi_slopes(3)
    n = 9
    pos = np.arange(n)
    full = -slopes[:, None, None] * np.abs(pos[:, None] - pos[None, :])  # (H, L, L)
    line = alibi_line(slopes, n, np.float64)
    assert line.shape == (3, 2 * n - 1)
    spans = blocks(n, 3, rows=4)
    assert spans == [(0, 4), (4, 8), (8, 9)]
    for r0, r1 in spans:
        np.testing.assert_array_equal(alibi_rows(line, r0, r1), full[:, r0:r1])


#: Chains of 11 and 16 rows inside gap rows, and the block sizes tried: 11 and 16 are multiples of none.
LONGER = np.array([0, 0] + [1] * 11 + [0, 0] + [1] * 16 + [0], dtype=bool)


@pytest.mark.parametrize("block", [1, 3, 5])
@pytest.mark.parametrize("alibi", [True, False])
def test_blocked_numpy_attention_equals_the_unblocked_values_and_gradients(block, alibi):
    rng = np.random.default_rng([31, block, alibi])
    spec = attention(c=5, heads=3, dim=2, residual=True, alibi=alibi)
    layer = ChainAttention(spec)
    layer.init(rng, np.float64)
    layer.valid = LONGER
    x = rng.normal(size=(LONGER.size, 5))
    dout = rng.normal(size=(LONGER.size, 5))

    def run(rows, train):
        layer.block = rows
        y = layer.forward(x, train)
        if train:
            assert len(layer.attn) == 2 and len(layer.attn[1]) == -(-16 // (rows or 16))  # blocks of the 16-row chain
        return y, layer.backward(dout), {k: g.copy() for k, g in layer.grads.items()}

    y0, dx0, g0 = run(None, True)  # one block per chain: the unblocked formula
    for train in (True, False):  # backward from kept weights, and recomputing each block's
        y, dx, g = run(block, train)
        np.testing.assert_allclose(y, y0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(dx, dx0, rtol=0, atol=1e-12)
        for k in g0:
            np.testing.assert_allclose(g[k], g0[k], rtol=0, atol=1e-12, err_msg=k)


def test_blocked_buffered_inference_equals_one_block_per_chain(example_codes):
    """ConvInference in float32 with blocks of 7 query rows, on its thread pool, against one block per chain."""
    from sspred.engines.numpy import conv_infer

    specs = conv_attention_specs(channels=8, heads=4, dim=4)
    net = Network(specs, dtype="float32")
    net.load_params(random_state(specs, np.random.default_rng(13), "float32"))
    runner = conv_infer.inference(net)
    assert runner is not None
    layout = lay_out(example_codes, gap(specs))
    assert max(b - a for a, b in segments(layout.valid)) > 7
    whole = runner.logits(layout.codes, layout.valid)
    runner.block = 7
    np.testing.assert_allclose(runner.logits(layout.codes, layout.valid), whole, rtol=0, atol=1e-5)


def test_blocked_attention_memory_stays_far_below_one_score_matrix():
    """A 2,000-row chain in blocks of 50 query rows: the peak NumPy allocation is a small part of one (H, L, L)
    float64 scores matrix (64 MB), and the output equals one block's."""
    import tracemalloc

    rng = np.random.default_rng(7)
    n, h, d = 2000, 2, 4
    q, k, v = (rng.normal(size=(n, h * d)) for _ in range(3))
    slopes = alibi_slopes(h)
    full = np.empty((n, h * d))
    attend(q, k, v, h, d, 0.5, slopes, full, rows=n)
    out = np.empty((n, h * d))
    tracemalloc.start()
    try:
        attend(q, k, v, h, d, 0.5, slopes, out, rows=50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < h * n * n * 8 / 10
    np.testing.assert_allclose(out, full, rtol=0, atol=1e-12)


@pytest.mark.parametrize("rows", [1, 3, 5])
@pytest.mark.parametrize("alibi", [True, False])
def test_blocked_torch_attention_equals_the_unblocked_values_and_gradients(rows, alibi):
    """engines/torch/attention.attend over a batch of 2 chains of 11 rows (leading axis), and through the layer
    with gaps, blocked against unblocked in float64; autograd through the blocks."""
    torch = pytest.importorskip("torch")
    from sspred.engines.torch.attention import ChainAttention as TorchChainAttention
    from sspred.engines.torch.attention import attend as torch_attend

    gen = torch.Generator().manual_seed(rows)
    slopes = torch.from_numpy(alibi_slopes(3)) if alibi else None
    qkv = [torch.randn(2, 11, 6, generator=gen, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    w = torch.randn(2, 11, 6, generator=gen, dtype=torch.float64)

    def grads(r):
        for t in qkv:
            t.grad = None
        o = torch_attend(*qkv, 3, 2, 0.7, slopes, rows=r)
        (o * w).sum().backward()
        return o.detach(), [t.grad.clone() for t in qkv]

    o0, g0 = grads(None)
    o, g = grads(rows)
    torch.testing.assert_close(o, o0, rtol=0, atol=1e-12)
    for a, b in zip(g, g0):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)

    spec = attention(c=5, heads=3, dim=2, residual=True, alibi=alibi)
    layer = TorchChainAttention(spec).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    layer.valid = torch.from_numpy(LONGER)
    x = torch.randn(LONGER.size, 5, generator=gen, dtype=torch.float64)
    outs = []
    for r in (None, rows):
        layer.block = r
        layer.zero_grad()
        y = layer(x)
        (y * y).sum().backward()
        outs.append((y.detach(), [p.grad.clone() for p in layer.parameters()]))
    torch.testing.assert_close(outs[1][0], outs[0][0], rtol=0, atol=1e-12)
    for a, b in zip(outs[1][1], outs[0][1]):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


# --- 9. long chains through the shipped model, in a subprocess --------------------------------------

#: Runs the command in argv[1:] and prints its exit code and peak RSS (KiB): RUSAGE_CHILDREN of a fresh
#: parent counts that one child alone, not whatever else this test process has started.
PEAK_RSS = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
            "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
#: Titin, the longest known protein (UniProt Q8WZ42), in residues.
TITIN = 34_350


def random_chain(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return "".join(np.array(list("ACDEFGHIKLMNPQRSTVWY"))[rng.integers(0, 20, n)])


def peak_rss_kib(args: list[str], timeout: int) -> int:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PEAK_RSS, *args], capture_output=True, text=True, timeout=timeout)
    rc, kib = map(int, done.stdout.split())
    assert rc == 0, done.stderr
    return kib


@pytest.mark.slow
def test_accurate_predicts_a_titin_length_chain_in_bounded_memory(tmp_path):
    """35,000 residues through `accurate` (one attention block of 4 heads): unblocked, its (4, L, L) float32
    scores alone were 18 GiB and the prediction died; blocked, the whole process stays under 1.5 GiB."""
    import sys

    n = TITIN + 650
    fasta, out = tmp_path / "long.fa", tmp_path / "out.fa"
    fasta.write_text(">long\n" + random_chain(n, 35) + "\n")
    kib = peak_rss_kib([sys.executable, "-m", "sspred", "predict", str(fasta), "-m", "accurate", "-f", "fasta",
                        "-o", str(out)], timeout=1200)
    assert kib < 1.5 * 2**20, f"peak RSS {kib / 2**10:.0f} MiB"
    states = "".join(line for line in out.read_text().splitlines()[1:] if not line.startswith(">"))
    assert len(states) == n and set(states) <= set("HEC")


SERVE_ONE = """
import resource, sys
from fastapi.testclient import TestClient
from sspred.serve import Limits, create_app
n = int(sys.argv[1])
with TestClient(create_app(model="accurate", limits=Limits(max_residues=n, max_request_bytes=2 * n))) as client:
    r = client.post("/api/predict", content=">long\\n" + sys.stdin.read() + "\\n", headers={"Content-Type": "text/plain"})
    states = r.json()["predictions"][0]["states"] if r.status_code == 200 else r.text
print(r.status_code, len(states), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_the_service_answers_a_request_at_its_residue_limit_in_bounded_memory():
    """The service serving `accurate`, its limit set to 20,000 residues, answers one chain of exactly that
    many (unblocked attention took 22 GB here) with the whole process under 1 GiB."""
    import subprocess
    import sys

    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    n = 20_000
    done = subprocess.run([sys.executable, "-c", SERVE_ONE, str(n)], input=random_chain(n, 20),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    status, residues, kib = done.stdout.split()
    assert (status, residues) == ("200", str(n))
    assert int(kib) < 2**20, f"peak RSS {int(kib) / 2**10:.0f} MiB"


def test_a_maximal_service_request_keeps_every_shipped_attention_block_bounded():
    """One chain of the service's default max_residues, through each shipped model's attention layers: every
    block of query rows holds at most ATTENTION_SCORES scores, so the request's memory is linear in it."""
    from sspred.model import load_model, resolve
    from sspred.serve.service import Limits

    n = Limits().max_residues
    found = 0
    for name in ("fast", "default", "accurate", "q8", "unirep"):
        if not resolve(name).exists():
            continue
        for member in load_model(name).members:
            for spec in member.stage1.net.specs:
                if spec["type"] == "chain_attention":
                    found += 1
                    _, h, _, _, _ = attention_dims(spec)
                    rows = query_rows(n, h)
                    assert 1 < rows < n and h * rows * n <= ATTENTION_SCORES, (name, rows)
    assert found >= 1  # accurate has one
