"""sspred plot: pictures of a prediction, of training history, of a confusion matrix and of calibration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import typer

from sspred.alphabet import STATES3, STATES8
from sspred.cli.root import SspredTyper, app
from sspred.cli.common import DATA_DIR, warn
from sspred.errors import InputError
from sspred.extras import require
from sspred.io import datasets
from sspred.io.fasta import Record, parse_fasta
from sspred.io.textfile import check_output, open_text
from sspred.predict.api import load

plot_app = SspredTyper(no_args_is_help=True, help="Draw PNG (or SVG/PDF) figures: prediction, history, confusion, "
                       'calibration. Needs pip install "sspred[plot]" (matplotlib).')
app.add_typer(plot_app, name="plot")

OUT = typer.Option(..., "--out", "-o", help="Figure file; the extension picks the format (.png, .svg, .pdf).")
# The report a confusion or calibration figure draws: a JSON file, or a model evaluated now on a data set.
REPORT = typer.Argument(None, help="JSON report from 'sspred evaluate --json'.")
REPORT_MODEL = typer.Option(None, "-m", "--model", help="Model to evaluate when no report is given.")
REPORT_DATA = typer.Option(None, "--data", help="Data set to evaluate on when no report is given.")
REPORT_SPLIT = typer.Option("test", "--split")


def _start(out: Path, inputs: Sequence[str | Path] = ()) -> None:
    """What every figure needs, checked before any work: a writable --out, not an input, and matplotlib."""
    check_output(out, inputs=list(inputs))
    require("matplotlib.figure", "plot", "sspred plot")


def _draw(fn, *args, out: Path, **kwargs) -> None:
    from sspred import plots

    try:
        fig = fn(*args, **kwargs)
    except plots.PlotUnavailable as exc:
        typer.echo(f"sspred: error: {exc}", err=True)
        raise typer.Exit(2)
    plots.save(fig, out)
    typer.echo(f"wrote {out}")


def _truth_labels(chain, states: str) -> np.ndarray:
    """The chain's true states as indices into ``states`` (an 8-state model shown against 3-state labels
    draws H, E and C in their 8-state colours)."""
    if states == STATES8:
        if chain.y8 is not None:
            return chain.y8
        as8 = np.array([STATES8.index(s) for s in STATES3])
        return np.where(chain.y3 >= 0, as8[np.maximum(chain.y3, 0)], chain.y3)
    return chain.y3


@plot_app.command("prediction")
def prediction(
    input: Optional[str] = typer.Argument(None, help="FASTA file with the chain (plain or gzipped); "
                                          "leave out to draw --record from the --truth set."),
    out: Path = OUT,
    model: Optional[str] = typer.Option(None, "-m", "--model", help="Built-in model name or model file."),
    record: Optional[str] = typer.Option(None, "--record", "-r", help="Record id to draw (default: the first)."),
    truth: Optional[str] = typer.Option(None, "--truth", help=f"Labelled set ({', '.join(datasets.DATASETS)}) or file holding the record's true states."),
    split: str = typer.Option("test", "--split", help="Split of --truth when it is a named set."),
    data_dir: Optional[str] = DATA_DIR,
    per_row: int = typer.Option(100, "--per-row", help="Residues per row of the figure."),
) -> None:
    """A protein's predicted states and per-residue probabilities along the sequence, with a confidence track."""
    from sspred import plots

    _start(out, [p for p in (input, truth) if p is not None])
    if per_row < 10:
        raise typer.BadParameter("at least 10", param_hint="--per-row")
    if input is None and (truth is None or record is None):
        raise typer.BadParameter("give a FASTA file, or --truth and --record to draw a chain of a labelled set")
    predictor = load(model)
    if input is not None:
        rec = next((r for r in parse_fasta(input, warn=warn) if record is None or r.id == record), None)
        if rec is None:
            raise InputError(f"no record {record!r}", path=input)
        rec_id, sequence, codes = rec.id, rec.sequence, rec.codes
    else:
        assert record is not None  # checked above: no input means --truth and --record
        rec_id = record
    labels, title_extra = None, ""
    if truth is not None:
        chains = datasets.load(truth, split, data_dir)
        chain = next((c for c in chains if c.id == rec_id), None)
        if chain is None:
            raise InputError(f"record {rec_id!r} not found in the labelled set", path=truth)
        if input is None:
            sequence, codes = chain.sequence, chain.codes
        elif chain.sequence.upper() != sequence.upper():
            raise InputError(f"record {rec_id!r}: the sequence differs from the labelled set's", path=truth)
    [pred] = next(predictor.predict_batches([Record(rec_id, "", sequence, codes)]))
    probs, states = pred.probabilities, predictor.state_order
    if truth is not None:
        labels = _truth_labels(chain, states)
        keep = labels >= 0
        if keep.any():
            q = 100 * np.mean(probs.argmax(axis=1)[keep] == labels[keep])
            title_extra = f"  ·  {'Q8' if states == STATES8 else 'Q3'} {q:.1f}% on {int(keep.sum())} labelled residues"
    fig_title = f"{rec_id} ({len(sequence)} residues), model {predictor.model_name}{title_extra}"
    _draw(plots.plot_prediction, sequence, probs, states, truth=labels, confidence=pred.confidence,
          title=fig_title, per_row=per_row, out=out)


@plot_app.command("history")
def history(
    models: List[str] = typer.Argument(..., help="Model files whose training history to draw (one colour each)."),
    out: Path = OUT,
) -> None:
    """Learning curves (loss and accuracy per epoch, training and validation) from model files."""
    from sspred import plots

    _start(out, models)
    items, states = [], set()
    for path in models:
        m = load(path).model
        hist = m.header.get("train", {}).get("history")
        if not hist or not hist.get("epochs"):
            raise InputError("model file holds no training history", path=path)
        items.append((m.name, hist))
        states.add(m.state_order)
    accuracy_name = "Q8" if states == {STATES8} else ("Q3" if states == {STATES3} else "Q3 or Q8")
    _draw(plots.plot_history, items, accuracy_name, out=out)


def _report(report: Optional[Path], model: Optional[str], data: Optional[str], split: str,
            data_dir: Optional[str]) -> dict:
    """An evaluate report: read from JSON, or computed from a model and a data set."""
    if report is not None:
        with open_text(report) as handle:
            try:
                return json.load(handle)
            except json.JSONDecodeError as exc:
                raise InputError(f"not a JSON report: {exc.msg}", path=str(report), line=exc.lineno) from None
    if data is None:
        raise typer.BadParameter("give an evaluate JSON report, or --data (with -m) to evaluate now")
    from sspred.evaluation import evaluate

    # As `sspred evaluate` scores, without the bootstrap: a plot draws no intervals.
    return evaluate(model, data, split, data_dir=data_dir, bootstrap=0).report


def _where(r: dict) -> str:
    d = r.get("data") or {}
    split = d.get("split", "?")  # None: a labelled file, read whole
    return f"model {r.get('model', '?')} on {d.get('name', '?')}" + (f"/{split}" if split else "")


@plot_app.command("confusion")
def confusion(
    report: Optional[Path] = REPORT,
    out: Path = OUT,
    model: Optional[str] = REPORT_MODEL,
    data: Optional[str] = REPORT_DATA,
    split: str = REPORT_SPLIT,
    data_dir: Optional[str] = DATA_DIR,
    states: str = typer.Option("3", "--n-states", "--states", help="3, or 8 for an 8-state model's 8x8 matrix (--states: the old name, deprecated)."),
) -> None:
    """Confusion-matrix heatmap (rows true, columns predicted; counts and row percentages)."""
    from sspred import plots

    _start(out, [report] if report is not None else [])
    r = _report(report, model, data, split, data_dir)
    if states == "8":
        if "eight_state" not in r:
            raise InputError("the report has no 8-state scores (an 8-state model on a set with 8-state labels)")
        cm, names, acc = r["eight_state"]["confusion"], STATES8, f"Q8 {r['q8']:.2f}%"
    elif states == "3":
        cm, names, acc = r["confusion"], STATES3, f"Q3 {r['q3']:.2f}%"
    else:
        raise typer.BadParameter("3 or 8", param_hint="--n-states")
    _draw(plots.plot_confusion, np.array(cm), names, title=f"{_where(r)}\n{acc}", out=out)


@plot_app.command("calibration")
def calibration(
    report: Optional[Path] = REPORT,
    out: Path = OUT,
    model: Optional[str] = REPORT_MODEL,
    data: Optional[str] = REPORT_DATA,
    split: str = REPORT_SPLIT,
    data_dir: Optional[str] = DATA_DIR,
) -> None:
    """Reliability diagram and accuracy by .horiz confidence digit."""
    from sspred import plots

    _start(out, [report] if report is not None else [])
    r = _report(report, model, data, split, data_dir)
    _draw(plots.plot_calibration, r["calibration"], title=_where(r), out=out)
