"""Scores of a multi-head model's extra heads: Q8 from the ss8 head, disorder (ROC AUC, MCC at the chosen
threshold) and conservation (Spearman, 3-group accuracy), checked against the metrics on predict_heads outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import sspred
from sspred import metrics
from sspred.alphabet import DISORDER_UNKNOWN, DISORDERED, MASKED, STATES3
from sspred.cli import app
from sspred.config import ConvConfig, TrainConfig
from sspred.evaluation import (DEFAULT_DISORDER_THRESHOLD, choose_disorder_threshold, evaluate, evaluate_model,
                               predict_labelled_heads)
from sspred.io.datasets import Chain, disorder_from_resolved, make_chain
from sspred.model import Model, load_model

#: Hand-made chains: 8-state labels, unresolved ends (disordered, and not scored for structure), classes 1-9.
CHAINS = [
    ("d1", "MSGSHHHHHHKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "CCCCCCCCCCHHHHHHHHHHHGGGCCEEEEECCTTSSHHHHC"),
    ("d2", "GSAMEELLKKAEELLKKNPEGKVTVKVTVEGGKVTVKVTVGS", "CCCHHHHHHHHHHHHHCCBCCEEEEEEETTTEEEEEEECCCC"),
    ("d3", "MKVLAAGIVGAVLLSGCSSKPEQPKTDAPQEEAAKPAEEKKA", "CCHHHHHHHHHHHHTTCCCSCCCCCCCCCCCCCCCCCCCCCC"),
]


def _chains() -> list[Chain]:
    out = []
    for k, (cid, seq, ss8) in enumerate(CHAINS):
        resolved = np.ones(len(seq), dtype=bool)
        resolved[:3 + 2 * k] = False           # a disordered N-terminus of 3, 5 and 7 residues
        resolved[-2:] = False
        chain = make_chain(cid, seq, ss8, eight=True, mask=resolved, disorder=disorder_from_resolved(resolved))
        chain.disorder[len(seq) // 2] = DISORDER_UNKNOWN  # one residue the set does not label: left out
        # Classes 1-9 cycling, with 0 (unknown) every seventh residue.
        chain.conservation = np.array([0 if i % 7 == 3 else 1 + (i * (k + 2)) % 9 for i in range(len(seq))],
                                      dtype=np.int8)
        out.append(chain)
    return out


@pytest.fixture(scope="module")
def chains() -> list[Chain]:
    return _chains()


@pytest.fixture(scope="module")
def model(chains) -> Model:
    """A tiny real conv stack with every extra head, trained in well under a second."""
    cfg = TrainConfig(model=ConvConfig(channels=8, first_kernel=5, kernel=3, dilations=[1],
                                       heads=["ss8", "disorder", "conservation"]), epochs=3, seed=0)
    return sspred.train(cfg, chains)


def _with_threshold(model: Model, t) -> Model:
    return Model({**model.header, "thresholds": {"disorder": t}}, model.params)


def _disorder_arrays(model, chains):
    outs = model.predict_heads([c.codes for c in chains])
    return (np.concatenate([c.disorder for c in chains]).astype(np.int64),
            np.concatenate([o["disorder"][:, DISORDERED] for o in outs]))


def test_disorder_auc_and_mcc_match_the_metrics_on_predict_heads(model, chains):
    r = evaluate_model(model, chains)
    y, s = _disorder_arrays(model, chains)
    d = r["disorder"]
    known = y >= 0
    assert d["residues"] == int(known.sum()) == sum(len(c.sequence) for c in chains) - len(chains)
    assert d["disordered"] == 3 + 5 + 7 + 2 * 3
    assert d["auc"] == pytest.approx(metrics.roc_auc(y, s))
    # The AUC's definition, pair by pair: P(score of a disordered residue > an ordered one's), ties one half.
    pos, neg = s[y == DISORDERED], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])  # (P, N)
    assert d["auc"] == pytest.approx(pairs.mean())
    assert d["threshold"] == DEFAULT_DISORDER_THRESHOLD and d["threshold_source"] == "default"
    assert d["mcc"] == pytest.approx(metrics.binary_mcc(y, s, DEFAULT_DISORDER_THRESHOLD))


def test_threshold_chosen_on_chains_travels_in_the_model_file(model, chains, tmp_path):
    t, mcc = choose_disorder_threshold(model, chains)
    y, s = _disorder_arrays(model, chains)
    assert (t, mcc) == pytest.approx(metrics.best_mcc_threshold(y, s))
    path = tmp_path / "m.npz"
    _with_threshold(model, t).save(path)
    loaded = load_model(path)
    assert loaded.header["thresholds"] == {"disorder": t}
    d = evaluate(loaded, chains, bootstrap=0).disorder
    assert d["threshold"] == t and d["threshold_source"] == "model"
    # Scored on the chains it was chosen on, the MCC at the stored threshold is the best one.
    assert d["mcc"] == pytest.approx(mcc) and d["mcc"] == pytest.approx(metrics.binary_mcc(y, s, t))


@pytest.mark.parametrize("bad", [1.5, -0.1, "0.5", True])
def test_a_bad_stored_threshold_is_an_error_naming_the_model(model, chains, bad):
    with pytest.raises(ValueError, match=r"thresholds\.disorder must be a probability"):
        evaluate_model(_with_threshold(model, bad), chains)


def test_conservation_spearman_and_group_accuracy(model, chains):
    r = evaluate_model(model, chains)
    outs = model.predict_heads([c.codes for c in chains])
    y = np.concatenate([c.conservation for c in chains]).astype(np.int64)
    pred = np.concatenate([o["conservation"].argmax(axis=1) + 1 for o in outs])
    keep = y != 0
    c = r["conservation"]
    assert c["residues"] == int(keep.sum()) < y.size
    assert c["spearman"] == pytest.approx(metrics.spearman(pred[keep].astype(float), y[keep].astype(float)))
    groups = lambda v: (v - 1) // 3  # 1-3, 4-6, 7-9  # noqa: E731
    assert c["q3_groups"] == pytest.approx(100 * np.mean(groups(pred[keep]) == groups(y[keep])))


def test_q8_of_a_three_state_model_comes_from_its_ss8_head(model, chains):
    scores = evaluate(model, chains, bootstrap=30, seed=1)
    r = scores.report
    outs = model.predict_heads([c.codes for c in chains])
    y8 = np.concatenate([c.y8 for c in chains])
    pred8 = np.concatenate([o["ss8"].argmax(axis=1) for o in outs])
    scored = y8 != MASKED
    assert model.state_order == STATES3 and r["q8_head"] == "ss8"
    assert scores.q8 == r["q8"] == pytest.approx(100 * np.mean(pred8[scored] == y8[scored]))
    assert np.array(r["eight_state"]["confusion"]).sum() == scored.sum() == r["residues"]
    assert r["calibration"]["states"] == STATES3  # calibration stays on the states head
    lo, hi = r["ci"]["q8"]
    assert lo <= r["q8"] <= hi
    assert scores.to_dict()["disorder"] == scores.disorder and scores.to_dict()["conservation"] == scores.conservation


def test_heads_come_from_one_pass_and_the_states_head_is_predict_many(model, chains):
    outs = predict_labelled_heads(model, chains)
    assert [sorted(o) for o in outs] == [sorted(model.heads.names)] * len(chains)
    for o, p in zip(outs, model.predict_many([c.codes for c in chains])):
        np.testing.assert_array_equal(o["ss3"], p)


def test_a_single_head_model_reports_no_extra_heads(chains):
    r = evaluate_model(load_model("fast"), chains)
    assert not {"disorder", "conservation", "q8", "q8_head"} & set(r)
    pred = [load_model("fast").predict_proba_codes(c.codes).argmax(axis=1) for c in chains]
    y3 = np.concatenate([c.y3 for c in chains])
    p3 = np.concatenate(pred)
    assert r["q3"] == pytest.approx(100 * np.mean(p3[y3 >= 0] == y3[y3 >= 0]))
    with pytest.raises(ValueError, match="no disorder head"):
        choose_disorder_threshold("fast", chains)


def test_chains_without_structure_labels_score_the_heads_and_leave_q3_undefined(model, chains):
    # As the conservation set's reader builds them: every y3 MASKED, no y8, classes 1-9.
    bare = [Chain(c.id, c.sequence, c.codes, np.full(len(c.sequence), MASKED, dtype=np.int8),
                  conservation=c.conservation) for c in chains]
    scores = evaluate(model, bare, bootstrap=20)
    assert scores.q3 is None and scores.q8 is None and scores.residues == 0 and scores.disorder is None
    assert "ci" not in scores.report
    assert scores.conservation == evaluate_model(model, chains)["conservation"]


def _write_ps4_csv(path, chains) -> None:
    """A CB513-style CSV (input, dssp3, dssp8, disorder; 0 = unobserved) of ``chains``."""
    rows = ["input,dssp3,dssp8,disorder"]
    for cid, seq, ss8 in CHAINS:
        c = next(ch for ch in chains if ch.id == cid)
        observed = (c.disorder != DISORDERED).astype(int)
        rows.append(",".join([" ".join(seq), " ".join("C" * len(seq)), " ".join(ss8),
                              " ".join(str(v) for v in observed)]))
    path.write_text("\n".join(rows) + "\n")


def _write_conservation(folder, chains) -> None:
    """A FLIP conservation folder (sequences.fasta, sampled.fasta with one class digit per residue)."""
    folder.mkdir()
    (folder / "sequences.fasta").write_text("".join(f">{c.id}\n{c.sequence}\n" for c in chains))
    # The format has no unknown class: 0s become 5 here.
    (folder / "sampled.fasta").write_text("".join(
        f">{c.id} SET=test VALIDATION=False\n{''.join(str(v or 5) for v in c.conservation)}\n" for c in chains))


def test_cli_prints_the_heads_lines_and_json_carries_them(model, chains, tmp_path):
    t, _ = choose_disorder_threshold(model, chains)
    path = tmp_path / "heads.npz"
    _with_threshold(model, t).save(path)
    data = tmp_path / "set_cb513.csv"
    _write_ps4_csv(data, chains)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["evaluate", "-m", str(path), "--data", str(data), "--bootstrap", "20",
                                   "--json", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    report = json.loads(out.read_text())
    d = report["disorder"]
    assert d["threshold_source"] == "model" and d["threshold"] == pytest.approx(t, abs=1e-12)
    assert f"disorder ROC AUC {d['auc']:.4f}  MCC {d['mcc']:.4f} at P(disordered) >= {t:.4f}" in res.stdout
    assert any(line.startswith("Q8 ") and line.endswith("(ss8 head)") for line in lines)
    assert "8-state (ss8 head):" in lines
    assert lines[-1] == f"Q3 {report['q3']:.2f}"
    assert "conservation" not in report  # a CSV carries no conservation classes

    folder = tmp_path / "cons"
    _write_conservation(folder, chains)
    res = CliRunner().invoke(app, ["evaluate", "-m", str(path), "--data", str(folder), "--json", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    c = json.loads(out.read_text())["conservation"]
    assert f"conservation Spearman {c['spearman']:.4f}  3-group accuracy {c['q3_groups']:.2f}%" in res.stdout
    assert c["residues"] == sum(len(ch.sequence) for ch in chains)
    assert any(line.startswith("no secondary-structure labels") for line in lines)
    assert lines[-1] == "Q3 n/a"


@pytest.mark.slow
def test_the_conservation_set_is_evaluable(model, data_dir):
    res = CliRunner().invoke(app, ["evaluate", "-m", "fast", "--data", "conservation", "--data-dir",
                                   str(data_dir), "--bootstrap", "10"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().splitlines()[-1] == "Q3 n/a"
    scores = evaluate(model, "conservation", data_dir=data_dir, bootstrap=10)
    assert scores.q3 is None and scores.conservation["residues"] > 100_000
    assert -1 <= scores.conservation["spearman"] <= 1
