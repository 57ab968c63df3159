"""Multi-task conv stacks end to end: the config's heads, the per-head targets of a chain layout (with a
teacher on unlabelled chains), a whole training run in either engine, and every head's probabilities."""

from __future__ import annotations

import numpy as np
import pytest

import sspred
from sspred.alphabet import DISORDERED, MASKED, ORDERED
from sspred.config import ConfigError, ConvConfig, TrainConfig
from sspred.heads import ABSENT, Heads, model_heads
from sspred.io.datasets import Chain, make_chain
from sspred.io.find import data_label, resolve_data
from sspred.layout import ChainIndex
from sspred.model import Model

SEQ = "MKTAYIAKQRQISFVKSHFSRQ"
SS = "CCHHHHHHHHHCCEEEEECCCC"


def labelled(i: int, disorder: bool = True) -> Chain:
    """A 3-state chain whose first two residues are unresolved: no 3-state label there, but disordered."""
    mask = np.ones(len(SEQ), bool)
    mask[:2] = False
    flags = np.where(mask, ORDERED, DISORDERED).astype(np.int8) if disorder else None
    return make_chain(f"l{i}", SEQ, SS, eight=False, mask=mask, disorder=flags)


def unlabelled(i: int) -> Chain:
    """A chain with conservation classes only (as the FLIP conservation set's)."""
    seq = SEQ[::-1]
    classes = (np.arange(len(seq)) % 9 + 1).astype(np.int8)
    return Chain(f"u{i}", seq, sspred.features.encode(seq), np.full(len(seq), MASKED, np.int8),
                 conservation=classes)


def cfg(engine: str = "numpy", **model) -> TrainConfig:
    base = dict(channels=6, first_kernel=5, kernel=3, dilations=[1], dropout=0.0,
                heads=["disorder", "conservation"])
    return TrainConfig(model=ConvConfig(**{**base, **model}), engine=engine, epochs=2, batch_size=2, lr=0.01,
                       patience=0, dtype="float64", device="cpu")


def test_config_orders_heads_states_first_and_refuses_unknown_ones():
    c = ConvConfig(channels=8, heads=["disorder", "ss8"], attention=1, attention_heads=2, attention_dim=4)
    assert c.output_heads().heads == (("ss3", 3), ("disorder", 2), ("ss8", 8))
    assert c.layers()[-1]["out"] == 13
    types = [s["type"] for s in c.layers()]
    assert types.count("chain_attention") == 1 and types.index("chain_attention") < types.index("linear")
    assert model_heads(c.to_dict()) == c.output_heads()
    assert model_heads({"states": "3"}).names == ("ss3",)  # a model file from before multi-task training
    for bad in (["ss3"], ["helix"], ["disorder", "disorder"]):
        with pytest.raises(ConfigError, match="heads"):
            ConvConfig(heads=bad)
    with pytest.raises(ConfigError, match="head_weights"):
        ConvConfig(heads=["disorder"], head_weights={"conservation": 1.0})


def test_layout_targets_follow_residue_rows_and_the_teacher_fills_unlabelled_chains():
    heads = ConvConfig(heads=["disorder", "conservation"]).output_heads()
    chains = [labelled(0), unlabelled(1)]
    # Without a teacher the unlabelled chain still counts: its conservation head has labels.
    index = ChainIndex(chains, 3, heads=heads)
    layout, y = index.examples(np.array([0, 1]))
    n = int(layout.valid.sum())
    assert set(y) == {"ss3", "disorder", "conservation"} and all(t.shape == (n,) for t in y.values())
    first = slice(0, len(SEQ))
    np.testing.assert_array_equal(y["ss3"][first], chains[0].y3)
    np.testing.assert_array_equal(y["disorder"][first][:3], [DISORDERED, DISORDERED, ORDERED])
    assert (y["conservation"][first] == ABSENT).all()
    np.testing.assert_array_equal(y["conservation"][len(SEQ):], chains[1].conservation - 1)
    assert (y["ss3"][len(SEQ):] == ABSENT).all()
    # With a teacher, the states head becomes distributions: mixed where labelled, the teacher's alone on the
    # unlabelled chain, zero rows (absent) on the labelled chain's unresolved residues.
    rng = np.random.default_rng(0)
    teacher = [rng.dirichlet(np.ones(3), len(c.sequence)).astype(np.float32) for c in chains]
    index = ChainIndex(chains, 3, teacher=teacher, teacher_weight=0.25, heads=heads)
    _, y = index.examples(np.array([0, 1]))
    soft = y["ss3"]
    assert soft.shape == (n, 3)
    np.testing.assert_array_equal(soft[:2], 0)
    onehot = np.eye(3)[chains[0].y3[2:]]
    np.testing.assert_allclose(soft[2:len(SEQ)], 0.25 * teacher[0][2:] + 0.75 * onehot, rtol=1e-6)
    np.testing.assert_allclose(soft[len(SEQ):], teacher[1], rtol=1e-6)


def test_a_chain_with_no_label_for_any_head_is_left_out():
    heads = ConvConfig(heads=["disorder"]).output_heads()
    bare = Chain("bare", SEQ, sspred.features.encode(SEQ), np.full(len(SEQ), MASKED, np.int8))
    assert len(ChainIndex([labelled(0), bare], 2, heads=heads)) == 1


def test_eight_state_pool_takes_chains_without_eight_state_labels():
    """An 8-state model with a 3-state head trains on 3-state-only chains too (their ss8 head absent)."""
    heads = ConvConfig(n_states=8, heads=["ss3"]).output_heads()
    eight = make_chain("e", SEQ, "CCHHHGGGHHHTTEEEEBSSCC", eight=True)
    index = ChainIndex([labelled(0), eight], 2, states="8", heads=heads)
    _, y = index.examples(np.array([0, 1]))
    assert (y["ss8"][:len(SEQ)] == ABSENT).all() and (y["ss8"][len(SEQ):] >= 0).all()
    assert (y["ss3"] >= 0).sum() == len(SEQ) - 2 + len(SEQ)


def test_numpy_and_torch_train_the_same_multi_task_weights(tmp_path):
    """Two epochs of the whole run (targets, loss, backward, Adam) in float64 end at the same weights in both
    engines; the run includes an attention block, a teacher's soft targets and an unlabelled chain."""
    pytest.importorskip("torch")
    chains = [labelled(i) for i in range(3)] + [unlabelled(3)]
    extra = dict(attention=1, attention_heads=2, attention_dim=3)
    models = {engine: sspred.train(cfg(engine, **extra), chains) for engine in ("numpy", "torch")}
    # The same run with a conv stack as teacher (a window model would compile its lookup tables first).
    teacher = tmp_path / "teacher.npz"
    sspred.train(cfg(heads=[]), chains[:3]).save(teacher)
    taught = {engine: sspred.train(TrainConfig.from_dict({**cfg(engine, **extra).to_dict(), "teacher": str(teacher)}),
                                   chains) for engine in ("numpy", "torch")}
    for pair in (models, taught):
        a, b = pair["numpy"].params, pair["torch"].params
        assert set(a) == set(b)
        for name in a:
            np.testing.assert_allclose(a[name], b[name], atol=1e-5, err_msg=name)
    # Training moved the weights, and the teacher changed what they moved to.
    start = sspred.train(TrainConfig.from_dict({**cfg(**extra).to_dict(), "lr": 1e-12}), chains).params
    assert max(np.abs(models["numpy"].params[k] - start[k]).max() for k in start) > 1e-3
    assert max(np.abs(models["numpy"].params[k] - taught["numpy"].params[k]).max() for k in start) > 1e-5


def test_every_head_is_a_distribution_and_the_states_head_is_what_predict_gives(tmp_path):
    chains = [labelled(i) for i in range(3)] + [unlabelled(3)]
    model = sspred.train(cfg(attention=1, attention_heads=2, attention_dim=3), chains)
    model.save(tmp_path / "mt.npz")
    loaded = sspred.load(tmp_path / "mt.npz").model  # the load-time probe reads the states head
    assert loaded.heads.names == ("ss3", "disorder", "conservation")
    codes = [c.codes for c in chains]
    out = loaded.predict_heads(codes)
    for o, c in zip(out, chains):
        assert {k: v.shape for k, v in o.items()} == {"ss3": (22, 3), "disorder": (22, 2), "conservation": (22, 9)}
        for p in o.values():
            np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    for o, p in zip(out, loaded.predict_many(codes)):
        np.testing.assert_array_equal(o["ss3"], p)
    np.testing.assert_allclose(loaded.predict_proba_codes(codes[0]), out[0]["ss3"], rtol=1e-5, atol=1e-6)
    # The heads' softmaxes are separate: a joint softmax over all 14 columns would not sum to 1 per head.
    member = loaded.members[0]
    joint = member.predict_many(codes[:1])[0]
    assert joint.shape == (22, 14)
    np.testing.assert_allclose(joint.sum(axis=1), 3, rtol=1e-5)


def test_an_ensemble_averages_each_head_over_the_members_that_have_it():
    chains = [labelled(i) for i in range(3)] + [unlabelled(3)]
    a = sspred.train(cfg(), chains)
    b = sspred.train(TrainConfig.from_dict({**cfg().to_dict(), "seed": 1,
                                            "model": {**cfg().model.to_dict(), "heads": ["disorder"]}}), chains)
    header = {**a.header, "members": [{"model": m.header["model"], "layers": m.header["layers"]} for m in (a, b)]}
    params = {f"members.{k}.{name}": v for k, m in enumerate((a, b)) for name, v in m.params.items()}
    both = Model(header, params)
    assert both.heads == Heads((("ss3", 3), ("disorder", 2), ("conservation", 9)))
    got = both.predict_heads([chains[0].codes])[0]
    one, two = a.predict_heads([chains[0].codes])[0], b.predict_heads([chains[0].codes])[0]
    for name in ("ss3", "disorder"):
        np.testing.assert_allclose(got[name], (one[name] + two[name]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(got["conservation"], one["conservation"])  # b has no conservation head


def test_several_named_files_make_one_pool(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(f">a\n{SEQ}\n{SS}\n")
    second.write_text(f">b\n{SEQ[:10]}\n{SS[:10]}\n>c\n{SEQ[:5]}\n{SS[:5]}\n")
    chains = resolve_data([first, second], "train")
    assert [c.id for c in chains] == ["a", "b", "c"]
    assert data_label([first, second]) == f"{first}+{second}"
