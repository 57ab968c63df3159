"""The multi-task loss: one head's labels count only where they exist, the same in both engines.

Oracles: finite differences for the NumPy engine's hand-written gradient, the torch engine's autograd,
the single-head SoftmaxCrossEntropy (one head alone is that loss exactly), and CB513's own label counts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sspred.alphabet import CONSERVATION_UNKNOWN, DISORDER_UNKNOWN, DISORDERED, MASKED
from sspred.engines.numpy.gradcheck import numeric_grad, relative_error
from sspred.engines.numpy.losses import MultiHeadCrossEntropy, SoftmaxCrossEntropy
from sspred.heads import ABSENT, STANDARD_HEADS, Heads, chain_targets, present
from sspred.io import datasets
from sspred.io.datasets import Chain

torch = pytest.importorskip("torch")

from sspred.engines.torch.losses import MultiHeadCrossEntropy as TorchMultiHeadCrossEntropy  # noqa: E402
from sspred.engines.torch.losses import multi_head_cross_entropy  # noqa: E402

#: Finite differences in float64 (gradcheck.STEP balances truncation and rounding near 1e-6 relative).
FD_TOL = 1e-6
#: NumPy vs torch in float64: the same arithmetic in a different order.
AGREE_TOL = 1e-10
#: Uneven weights, so a head's weight reaching the wrong columns would show.
WEIGHTS = {"ss3": 1.0, "ss8": 0.5, "disorder": 2.0, "conservation": 0.25}


def random_case(rng, n=12, heads=STANDARD_HEADS, absent=0.3, empty=(), soft_first=False):
    """Logits (n, width) float64, and targets with about ``absent`` of each head's rows -1; heads in
    ``empty`` have no labels at all. ``soft_first``: the first head's targets are (n, K) distributions (a
    teacher's), rows of zeros where absent."""
    logits = rng.standard_normal((n, heads.width)) * 2
    targets = {}
    for i, (name, k) in enumerate(heads.heads):
        y = rng.integers(0, k, n)
        y[rng.random(n) < absent] = ABSENT
        y[0] = 0  # every head but the ``empty`` ones has at least one label
        if soft_first and i == 0:
            y = np.where((y >= 0)[:, None], rng.dirichlet(np.ones(k), n), 0.0)  # (n, K)
        targets[name] = np.full(n, ABSENT) if name in empty else y
    return logits, targets


# --- Heads ---------------------------------------------------------------------------------------

def test_slices_width_and_split_are_views_in_head_order():
    heads = STANDARD_HEADS
    assert heads.names == ("ss3", "ss8", "disorder", "conservation")
    assert heads.width == 3 + 8 + 2 + 9
    assert heads.slices() == {"ss3": slice(0, 3), "ss8": slice(3, 11), "disorder": slice(11, 13),
                              "conservation": slice(13, 22)}
    logits = np.arange(2 * 22, dtype=np.float64).reshape(2, 22)
    parts = heads.split(logits)
    assert [p.shape for p in parts.values()] == [(2, 3), (2, 8), (2, 2), (2, 9)]
    assert all(np.shares_memory(p, logits) for p in parts.values())
    np.testing.assert_array_equal(np.concatenate(list(parts.values()), axis=1), logits)
    with pytest.raises(ValueError, match=r"expected \(N, 22\)"):
        heads.split(logits[:, :21])


def test_to_dict_survives_json_and_rebuilds_the_same_heads():
    d = json.loads(json.dumps(STANDARD_HEADS.to_dict()))
    assert d == {"heads": [{"name": "ss3", "classes": 3}, {"name": "ss8", "classes": 8},
                           {"name": "disorder", "classes": 2}, {"name": "conservation", "classes": 9}]}
    assert Heads.from_dict(d) == STANDARD_HEADS
    assert Heads((["ss3", np.int64(3)],)) == Heads((("ss3", 3),))  # pairs from JSON lists or NumPy ints


@pytest.mark.parametrize("pairs,message", [
    ((), "at least one head"),
    ((("ss3", 3), ("ss3", 8)), "'ss3' is used twice"),
    ((("ss3", 1),), "'ss3': classes must be an integer >= 2"),
    ((("ss3", True),), "'ss3': classes must be an integer >= 2"),
    ((("ss3", 2.5),), "'ss3': classes must be an integer >= 2"),
    ((("", 3),), "head 0: name must be a non-empty string"),
    ((("ss3", 3), ("ss8",)), r"head 1: expected a \(name, classes\) pair"),
    (("ss3", 3), r"head 0: expected a \(name, classes\) pair, got 'ss3'"),  # one pair, not a tuple of pairs
])
def test_bad_heads_are_refused_by_name(pairs, message):
    with pytest.raises(ValueError, match=message):
        Heads(pairs)


def test_bad_header_and_bad_weights_are_refused():
    with pytest.raises(ValueError, match="not a heads description"):
        Heads.from_dict({"heads": [{"name": "ss3"}]})
    with pytest.raises(ValueError, match="unknown heads \\['ss9'\\]"):
        STANDARD_HEADS.weights({"ss9": 1.0})
    with pytest.raises(ValueError, match="'ss8': weight must be finite and >= 0"):
        STANDARD_HEADS.weights({"ss8": -1.0})
    with pytest.raises(ValueError, match="'ss8': weight must be finite and >= 0"):
        STANDARD_HEADS.weights({"ss8": float("nan")})
    assert STANDARD_HEADS.weights({"ss8": 0.5}) == {"ss3": 1.0, "ss8": 0.5, "disorder": 1.0, "conservation": 1.0}


@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_bad_targets_are_refused_naming_the_head_and_row(engine):
    heads = Heads((("ss3", 3), ("disorder", 2)))
    logits = np.zeros((4, 5))
    good = {"ss3": np.array([0, 1, 2, -1]), "disorder": np.array([1, 0, -1, -1])}

    def loss(targets):
        if engine == "numpy":
            return MultiHeadCrossEntropy(heads).forward(logits, targets)
        return multi_head_cross_entropy(torch.from_numpy(logits), targets, heads)

    assert np.isfinite(float(loss(good)))
    with pytest.raises(ValueError, match="the heads are \\['ss3', 'disorder'\\]"):
        loss({"ss3": good["ss3"]})
    with pytest.raises(ValueError, match="the heads are"):
        loss({**good, "ss8": good["ss3"]})
    with pytest.raises(ValueError, match=r"'disorder': targets of shape \(3,\), expected \(4,\)"):
        loss({**good, "disorder": good["disorder"][:3]})
    with pytest.raises(ValueError, match="'ss3': targets must be integer class indices"):
        loss({**good, "ss3": good["ss3"].astype(np.float64)})
    with pytest.raises(ValueError, match="'disorder': row 2 has class 2, outside 0..1"):
        loss({**good, "disorder": np.array([1, 0, 2, -1])})
    with pytest.raises(ValueError, match="'ss3': row 0 has class -2"):
        loss({**good, "ss3": np.array([-2, 1, 2, -1])})


# --- the NumPy engine's gradient -----------------------------------------------------------------

@pytest.mark.parametrize("soft_first", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weights", [None, WEIGHTS])
def test_gradient_matches_finite_differences(smoothing, weights, soft_first):
    """Hard targets everywhere, and a soft (teacher) first head beside hard ones (smoothing leaves soft targets
    as given)."""
    rng = np.random.default_rng([14, int(smoothing * 10), weights is None, soft_first])
    logits, targets = random_case(rng, soft_first=soft_first)
    loss = MultiHeadCrossEntropy(STANDARD_HEADS, weights, smoothing)
    loss.forward(logits, targets)
    analytic = loss.backward()
    assert analytic.shape == logits.shape and analytic.dtype == np.float64
    numeric = numeric_grad(lambda: loss.forward(logits, targets), logits)
    assert relative_error(analytic, numeric) < FD_TOL
    # Absent rows get no gradient from their head: each head's slice is zero exactly where it has no label.
    for name, g in STANDARD_HEADS.split(analytic).items():
        assert not g[~present(targets[name])].any()
        assert g[present(targets[name])].any()
    if soft_first:  # the soft head's gradient is weight * (softmax - t) / n_h, t the distribution itself
        rows = present(targets["ss3"])
        z = logits[rows, STANDARD_HEADS.slices()["ss3"]]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        w = 1.0 if weights is None else weights["ss3"]
        np.testing.assert_allclose(analytic[rows, :3], w * (p - targets["ss3"][rows]) / rows.sum(), rtol=1e-12)


def test_one_head_alone_is_softmax_cross_entropy_exactly():
    rng = np.random.default_rng(3)
    for smoothing in (0.0, 0.2):
        logits, y = rng.standard_normal((9, 8)) * 3, rng.integers(0, 8, 9)
        single, multi = SoftmaxCrossEntropy(smoothing), MultiHeadCrossEntropy(Heads((("ss8", 8),)), None, smoothing)
        assert multi.forward(logits, {"ss8": y}) == single.forward(logits, y)
        np.testing.assert_array_equal(multi.backward(), single.backward())
        # With absent rows it is SoftmaxCrossEntropy of the present rows, gradient scattered back to them.
        y[[1, 4]] = ABSENT
        present = y >= 0
        assert multi.forward(logits, {"ss8": y}) == single.forward(logits[present], y[present])
        expected = np.zeros_like(logits)
        expected[present] = single.backward()
        np.testing.assert_array_equal(multi.backward(), expected)


def test_head_without_labels_contributes_zero_and_no_gradient():
    rng = np.random.default_rng(5)
    logits, targets = random_case(rng, empty=("conservation",))
    loss = MultiHeadCrossEntropy(STANDARD_HEADS, WEIGHTS)
    with np.errstate(all="raise"):  # no 0/0 anywhere
        value = loss.forward(logits, targets)
        grad = loss.backward()
    assert loss.counts["conservation"] == 0 and loss.parts["conservation"] == 0.0
    # The same as a model without that head at all.
    rest = Heads(STANDARD_HEADS.heads[:3])
    cols = STANDARD_HEADS.slices()["conservation"]
    without = MultiHeadCrossEntropy(rest, {k: v for k, v in WEIGHTS.items() if k != "conservation"})
    assert value == pytest.approx(without.forward(logits[:, :cols.start], {k: targets[k] for k in rest.names}),
                                  rel=1e-15)
    assert not grad[:, cols].any()
    np.testing.assert_array_equal(grad[:, :cols.start], without.backward())

    # No head with labels: the loss is 0 and the gradient all zeros, not NaN, in both engines.
    nothing = {name: np.full(len(logits), ABSENT) for name in STANDARD_HEADS.names}
    with np.errstate(all="raise"):
        assert loss.forward(logits, nothing) == 0.0
        assert not loss.backward().any()
    t = torch.tensor(logits, requires_grad=True)
    value = multi_head_cross_entropy(t, nothing, STANDARD_HEADS, WEIGHTS)
    value.backward()
    assert value.item() == 0.0 and not t.grad.any()


# --- NumPy vs torch --------------------------------------------------------------------------------

def torch_loss_and_grad(logits: np.ndarray, targets, heads, weights=None, smoothing=0.0):
    t = torch.tensor(logits, requires_grad=True)
    value = TorchMultiHeadCrossEntropy(heads, weights, smoothing)(t, targets)
    value.backward()
    return value.item(), t.grad.numpy()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("empty", [(), ("ss8",)])
def test_numpy_and_torch_agree(smoothing, empty):
    rng = np.random.default_rng([15, len(empty)])
    logits, targets = random_case(rng, n=40, empty=empty)
    loss = MultiHeadCrossEntropy(STANDARD_HEADS, WEIGHTS, smoothing)
    value = loss.forward(logits, targets)
    t_value, t_grad = torch_loss_and_grad(logits, targets, STANDARD_HEADS, WEIGHTS, smoothing)
    assert abs(value - t_value) < AGREE_TOL
    assert np.abs(loss.backward() - t_grad).max() < AGREE_TOL
    # Torch targets given as tensors (int8, as the data sets store labels) give the same numbers.
    tensors = {k: torch.from_numpy(v.astype(np.int8)) for k, v in targets.items()}
    assert abs(torch_loss_and_grad(logits, tensors, STANDARD_HEADS, WEIGHTS, smoothing)[0] - t_value) < AGREE_TOL


def test_float32_logits_keep_their_dtype_and_agree():
    rng = np.random.default_rng(16)
    logits, targets = random_case(rng, n=30)
    logits = logits.astype(np.float32)
    loss = MultiHeadCrossEntropy(STANDARD_HEADS, WEIGHTS)
    value = loss.forward(logits, targets)
    grad = loss.backward()
    assert grad.dtype == np.float32
    t_value, t_grad = torch_loss_and_grad(logits, targets, STANDARD_HEADS, WEIGHTS)
    assert value == pytest.approx(t_value, rel=1e-5)
    assert np.abs(grad - t_grad).max() < 1e-6


# --- targets from real chains ------------------------------------------------------------------------

def test_chain_targets_map_each_label_kind():
    """A hand-built chain: y3/y8 pass through, disorder 1/0/-1 as is, ConSurf class k -> k - 1, 0 -> absent."""
    seq = "MKVLA"
    chain = Chain("c1", seq, np.zeros(5, np.uint8), np.array([0, 1, MASKED, 2, 0], np.int8),
                  np.array([7, 0, MASKED, 3, 7], np.int8),
                  disorder=np.array([DISORDERED, 0, DISORDER_UNKNOWN, 0, DISORDERED], np.int8),
                  conservation=np.array([CONSERVATION_UNKNOWN, 1, 9, 5, CONSERVATION_UNKNOWN], np.int8))
    bare = Chain("c2", "GG", np.zeros(2, np.uint8), np.array([MASKED, 1], np.int8))  # no y8, nothing else known
    t = chain_targets(STANDARD_HEADS, [chain, bare])
    assert all(v.dtype == np.int64 for v in t.values())
    np.testing.assert_array_equal(t["ss3"], [0, 1, -1, 2, 0, -1, 1])
    np.testing.assert_array_equal(t["ss8"], [7, 0, -1, 3, 7, -1, -1])
    np.testing.assert_array_equal(t["disorder"], [1, 0, -1, 0, 1, -1, -1])
    np.testing.assert_array_equal(t["conservation"], [-1, 0, 8, 4, -1, -1, -1])
    with pytest.raises(ValueError, match="no per-residue targets are known for heads \\['solvent'\\]"):
        chain_targets(Heads((("ss3", 3), ("solvent", 2))), [chain])


def test_cb513_counts_per_head_and_loss_on_real_chains(data_dir):
    chains = datasets.load("cb513", "test", data_dir)
    targets = chain_targets(STANDARD_HEADS, chains)
    n = sum(len(c.sequence) for c in chains)
    expected = {
        "ss3": datasets.count_scored(chains),
        "ss8": int(sum((c.labels("8") >= 0).sum() for c in chains)),
        "disorder": int(sum((c.disorder != DISORDER_UNKNOWN).sum() for c in chains)),
        "conservation": int(sum((c.conservation != CONSERVATION_UNKNOWN).sum() for c in chains)),
    }
    assert {name: int((y >= 0).sum()) for name, y in targets.items()} == expected
    assert expected["conservation"] == 0 and 0 < expected["ss3"] < expected["disorder"] == n  # CB513 has no classes
    assert int((targets["disorder"] == 1).sum()) == int(sum((c.disorder == DISORDERED).sum() for c in chains))

    # Zero logits: each head with labels costs exactly log K (a uniform guess); conservation, without any, 0.
    loss = MultiHeadCrossEntropy(STANDARD_HEADS)
    assert loss.forward(np.zeros((n, STANDARD_HEADS.width)), targets) == pytest.approx(
        np.log(3) + np.log(8) + np.log(2), rel=1e-12)
    assert loss.counts == expected

    # Random logits: the two engines agree on the real label pattern, and masked rows get no gradient.
    logits = np.random.default_rng(17).standard_normal((n, STANDARD_HEADS.width))
    loss = MultiHeadCrossEntropy(STANDARD_HEADS, WEIGHTS, 0.1)
    value = loss.forward(logits, targets)
    grad = loss.backward()
    t_value, t_grad = torch_loss_and_grad(logits, targets, STANDARD_HEADS, WEIGHTS, 0.1)
    assert abs(value - t_value) < AGREE_TOL and np.abs(grad - t_grad).max() < AGREE_TOL
    parts = STANDARD_HEADS.split(grad)
    assert not parts["ss3"][targets["ss3"] < 0].any() and not parts["conservation"].any()


@pytest.mark.slow
def test_conservation_set_trains_only_the_conservation_head(data_dir):
    """The FLIP conservation chains have classes on every residue and no secondary structure or disorder."""
    chains = datasets.load("conservation", "test", data_dir)
    targets = chain_targets(STANDARD_HEADS, chains)
    n = sum(len(c.sequence) for c in chains)
    assert {name: int((y >= 0).sum()) for name, y in targets.items()} == {
        "ss3": 0, "ss8": 0, "disorder": 0,
        "conservation": int(sum((c.conservation != CONSERVATION_UNKNOWN).sum() for c in chains))}
    assert targets["conservation"].max() == 8 and targets["conservation"].min() >= 0
    loss = MultiHeadCrossEntropy(STANDARD_HEADS)
    assert loss.forward(np.zeros((n, STANDARD_HEADS.width)), targets) == pytest.approx(np.log(9), rel=1e-12)


# --- the train command's multi-task flags -----------------------------------------------------------

def test_train_command_maps_head_attention_and_several_data_flags_onto_the_config(tmp_path):
    """--heads (comma list and repeated), --head-weight, --attention*, and --data given twice: one model file
    whose config, layers and training record say so; bad values are usage errors naming the flag."""
    from typer.testing import CliRunner

    from sspred.cli import app
    from sspred.model import load_model

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(">c1\nMKTAYIAKQRQISFVKSHFSRQ\nCCHHHHHHHHHCCEEEEECCCC\n>c2\nMKVLAAGIVALLA\nCCEEEEECCHHHC\n")
    b.write_text(">d1\nGSHMSLFDEKKNE\nCCCHHHHHHHHCC\n")
    out = tmp_path / "m.npz"
    conv = ["--arch", "conv", "--channels", "8", "--first-kernel", "5", "--kernel", "3", "--dilations", "1",
            "--epochs", "1", "--quiet"]
    result = CliRunner().invoke(app, ["train", "--data", str(a), "--data", str(b), *conv, "--heads", "ss8,disorder",
                                      "--heads", "conservation", "--head-weight", "disorder=0.5", "--head-weight",
                                      "ss8=2", "--attention", "1", "--attention-heads", "2", "--attention-dim", "4",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.heads.names == ("ss3", "ss8", "disorder", "conservation")
    cfg = model.header["model"]
    assert cfg["head_weights"] == {"disorder": 0.5, "ss8": 2.0} and cfg["attention"] == 1
    attention = [s for s in model.layers if s["type"] == "chain_attention"]
    assert [(s["heads"], s["dim"]) for s in attention] == [(2, 4)]
    assert model.layers[-1]["out"] == 3 + 8 + 2 + 9
    assert model.header["train"]["chains"] == 3 and model.header["train"]["data"] == f"{a}+{b}"
    assert [p.shape for p in model.predict_heads([np.arange(7)])[0].values()] == [(7, 3), (7, 8), (7, 2), (7, 9)]

    # One --data keeps working, and records the file as before.
    result = CliRunner().invoke(app, ["train", "--data", str(a), *conv, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_model(out).header["train"]["data"] == str(a) and load_model(out).heads.names == ("ss3",)

    def usage_error(*args) -> str:
        """The usage error's text on one line: the error box's frame and line breaks depend on the terminal."""
        result = CliRunner().invoke(app, ["train", "--data", str(a), *args, "--out", str(tmp_path / "x.npz")])
        assert result.exit_code == 2, result.output
        return " ".join(result.output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())

    assert "Invalid value for --head-weight: expected NAME=WEIGHT" in usage_error(*conv, "--head-weight", "disorder")
    assert "Invalid value for --heads: unknown or repeated heads ['helix']" in usage_error(*conv, "--heads", "helix")
    assert "Invalid value for --attention" in usage_error(*conv, "--attention", "-1")
    assert "Invalid value for --heads: only a conv stack" in usage_error("--heads", "disorder")
    assert not (tmp_path / "x.npz").exists()
