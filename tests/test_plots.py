"""sspred plot on real data: PNGs of the expected size, and the drawn data is the data."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from sspred import plots  # noqa: E402
from sspred.alphabet import STATES3  # noqa: E402
from sspred.evaluation import evaluate_model  # noqa: E402
from sspred.io import datasets  # noqa: E402
from sspred.io.formats import confidence_levels  # noqa: E402
from sspred.model import load_model  # noqa: E402

from test_evaluate import train_small  # noqa: E402


@pytest.fixture(scope="module")
def model3(data_dir, tmp_path_factory):
    chains = datasets.load("qs1988", "train", data_dir)
    return train_small(chains, tmp_path_factory.mktemp("m") / "qs3.npz", epochs=3)


@pytest.fixture(scope="module")
def chain(data_dir):
    # A real chain of more than 100 residues, so the picture wraps onto a second row.
    return next(c for c in datasets.load("qs1988", "test", data_dir) if 100 < len(c.sequence) < 300)


def png_shape(path):
    import matplotlib.image

    assert path.stat().st_size > 5000
    img = matplotlib.image.imread(path)  # (H, W, 4) floats
    assert img[..., :3].std() > 0.05  # not a blank canvas
    return img.shape[:2]


def expected_shape(fig):
    w, h = fig.get_size_inches() * fig.dpi
    return round(h), round(w)


def test_prediction_draws_the_probabilities(model3, chain, tmp_path):
    m = load_model(model3)
    probs = m.predict_proba_codes(chain.codes)
    conf = confidence_levels(probs)
    fig = plots.plot_prediction(chain.sequence, probs, m.state_order, truth=chain.y3, confidence=conf, title=chain.id)
    rows = [ax for ax in fig.axes if ax.get_label().startswith("probabilities")]
    assert len(rows) == -(-len(chain.sequence) // plots.RESIDUES_PER_ROW)
    for j, s in enumerate(STATES3):
        ys = np.concatenate([next(l for l in ax.get_lines() if l.get_label() == f"P({s})").get_ydata() for ax in rows])
        xs = np.concatenate([next(l for l in ax.get_lines() if l.get_label() == f"P({s})").get_xdata() for ax in rows])
        np.testing.assert_allclose(ys, probs[:, j])
        np.testing.assert_array_equal(xs, np.arange(1, len(chain.sequence) + 1))  # residue numbers from 1
    # The confidence track's bar heights are the .horiz digits.
    bars = [p.get_height() for ax in fig.axes if ax.get_label().startswith("confidence") for p in ax.patches]
    np.testing.assert_array_equal(bars, conf)
    # The state strips: row 0 is the argmax's colour, row 1 the true state's (white where masked).
    strip = next(ax for ax in fig.axes if ax.get_label() == "states 0").get_images()[0].get_array()
    n = min(len(chain.sequence), plots.RESIDUES_PER_ROW)
    colours = np.array([plots._rgb(plots.STATE_COLOURS[s]) for s in STATES3])
    np.testing.assert_allclose(strip[0], colours[probs[:n].argmax(axis=1)])
    np.testing.assert_allclose(strip[1], colours[chain.y3[:n]])
    out = tmp_path / "pred.png"
    plots.save(fig, out)
    assert png_shape(out) == expected_shape(fig)


def test_history_of_a_file_from_before_the_accuracy_rename_draws_its_q3():
    """A shipped model's header names the accuracies train_q3 and valid_q3: files are data and still draw."""
    hist = load_model("fast").header["train"]["history"]
    assert "train_q3" in hist["epochs"][0]
    ax = next(a for a in plots.plot_history([("fast", hist)]).axes if a.get_label() == "accuracy")
    line = next(l for l in ax.get_lines() if l.get_label() == "fast validation")
    np.testing.assert_allclose(line.get_ydata(), [e["valid_q3"] for e in hist["epochs"]])


def test_history_draws_the_header_history(model3, tmp_path):
    m = load_model(model3)
    hist = m.header["train"]["history"]
    fig = plots.plot_history([("qs", hist)])
    ax = next(a for a in fig.axes if a.get_label() == "accuracy")
    line = next(l for l in ax.get_lines() if l.get_label() == "qs training")
    np.testing.assert_allclose(line.get_ydata(), [e["train_accuracy"] for e in hist["epochs"]])
    loss = next(a for a in fig.axes if a.get_label() == "loss")
    line = next(l for l in loss.get_lines() if l.get_label() == "qs training")
    np.testing.assert_allclose(line.get_ydata(), [e["train_loss"] for e in hist["epochs"]])
    out = tmp_path / "hist.png"
    plots.save(fig, out)
    assert png_shape(out) == expected_shape(fig)


def test_confusion_and_calibration_draw_the_report(model3, data_dir, tmp_path):
    r = evaluate_model(load_model(model3), datasets.load("qs1988", "test", data_dir))
    cm = np.array(r["confusion"])
    fig = plots.plot_confusion(cm, STATES3)
    ax = next(a for a in fig.axes if a.get_label() == "confusion")
    np.testing.assert_allclose(ax.get_images()[0].get_array(), cm / cm.sum(axis=1, keepdims=True))
    texts = [t.get_text().split("\n")[0] for t in ax.texts]
    assert texts == [f"{v:,}" for v in cm.ravel()]
    out = tmp_path / "cm.png"
    plots.save(fig, out)
    assert png_shape(out) == expected_shape(fig)
    cal = r["calibration"]
    fig = plots.plot_calibration(cal)
    ax = next(a for a in fig.axes if a.get_label() == "reliability")
    line = next(l for l in ax.get_lines() if l.get_label() == "accuracy vs mean confidence")
    used = [i for i, n in enumerate(cal["bins"]["count"]) if n]
    np.testing.assert_allclose(line.get_ydata(), [cal["bins"]["accuracy"][i] for i in used])
    np.testing.assert_allclose(line.get_xdata(), [cal["bins"]["confidence"][i] for i in used])


@pytest.mark.slow
def test_cli_plots(cli, model3, chain, data_dir, tmp_path):
    fasta = tmp_path / "one.fasta"
    fasta.write_text(f">{chain.id}\n{chain.sequence}\n")
    out = tmp_path / "pred.png"
    res = cli("plot", "prediction", str(fasta), "-m", str(model3), "--truth", "qs1988", "--data-dir", str(data_dir),
              "-o", str(out))
    assert res.returncode == 0, res.stderr
    m = load_model(model3)
    probs = m.predict_proba_codes(chain.codes)
    same = plots.plot_prediction(chain.sequence, probs, m.state_order, truth=chain.y3, confidence=confidence_levels(probs))
    assert png_shape(out) == expected_shape(same)
    report = tmp_path / "r.json"  # as 'sspred evaluate --json' writes it
    report.write_text(json.dumps(evaluate_model(m, datasets.load("qs1988", "test", data_dir))))
    for kind, args in (("confusion", [str(report)]), ("history", [str(model3)])):
        out = tmp_path / f"{kind}.png"
        res = cli("plot", kind, *args, "-o", str(out))
        assert res.returncode == 0, res.stderr
        png_shape(out)
    # A record that the truth set does not hold is a clear one-line error.
    fasta.write_text(f">not-there\n{chain.sequence}\n")
    res = cli("plot", "prediction", str(fasta), "-m", str(model3), "--truth", "qs1988", "--data-dir", str(data_dir),
              "-o", str(tmp_path / "x.png"))
    assert res.returncode == 2 and "not found" in res.stderr and "Traceback" not in res.stderr
