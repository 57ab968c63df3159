"""Score a model on labelled chains: plain data in, a report dict out.

The report holds the field's numbers (see ``evaluate_model``); every value is a
plain float, int, string or list, so it can be written as JSON as it stands.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence, Union

import numpy as np

from sspred import metrics
from sspred.alphabet import CONSERVATION_UNKNOWN, DISORDERED, EIGHT_TO_THREE, STATE_SETS, STATES3, STATES8
from sspred.errors import ConfigError, InputError, ModelFileError
from sspred.io.chain import Chain
from sspred.io.find import Data, data_label, data_split, resolve_data
from sspred.io.formats import confidence_levels
from sspred.model import Model, Session
from sspred.predict.api import load
from sspred.predict.batch import LABELLED_CHAINS, predict_labelled

#: Bootstrap resamples of the chains for the 95% intervals.
N_BOOTSTRAP = 1000
#: Confidence level of the bootstrap intervals.
CI_LEVEL = 0.95
#: Equal-width bins of the top-label probability in the reliability curve.
N_CALIBRATION_BINS = 10
#: Levels of the .horiz confidence digit.
N_CONFIDENCE_DIGITS = 10
#: (8, 3) matrix that sums 8-state probabilities into H/E/C ones, by the 8-to-3 reduction.
EIGHT_TO_THREE_MATRIX = np.eye(len(STATES3))[EIGHT_TO_THREE]
#: P(disordered) at or above which a residue is called disordered when the model's header has no
#: ``thresholds.disorder`` (one chosen on validation by ``choose_disorder_threshold``): the point where the
#: disorder head finds both classes equally likely, the call its argmax makes.
DEFAULT_DISORDER_THRESHOLD = 0.5


class HoldsModel(Protocol):
    """Anything that holds a Model as ``.model``: a ``sspred.Predictor``."""

    @property
    def model(self) -> Model:
        """The Model held."""


#: What ``evaluate`` takes as a model: a Model, a Session, anything holding a Model (a Predictor, whose session
#: then predicts), or a built-in name or a model file (None: the default model).
ModelLike = Union[Model, Session, HoldsModel, str, os.PathLike, None]


def _clean(x: Any) -> Any:
    """NaN to None, so the JSON report holds null rather than the non-standard NaN."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def _named(values: Iterable[float], states: str) -> dict:
    return {s: float(v) for s, v in zip(states, values)}


def _state_block(y_true: list[np.ndarray], y_pred: list[np.ndarray], states: str) -> tuple[dict, dict]:
    """Residue and segment scores of one state set; returns (report part, per-chain arrays for the bootstrap)."""
    k = len(states)
    t, p = np.concatenate(y_true), np.concatenate(y_pred)
    cm = metrics.confusion(t, p, k)
    correct, total = metrics.chain_counts(y_true, y_pred)
    sov99 = [metrics.sov(a, b, k, "sov99") for a, b in zip(y_true, y_pred)]
    refine = [metrics.sov(a, b, k, "sov_refine") for a, b in zip(y_true, y_pred)]
    m99, mref = metrics.chain_mean_sov(sov99, k), metrics.chain_mean_sov(refine, k)
    part = {
        "residues": int(cm.sum()),
        "accuracy": metrics.pooled_accuracy(correct, total),
        "accuracy_chain_mean": metrics.chain_mean_accuracy(correct, total),
        "confusion": cm.tolist(),
        "per_class": {name: _named(v, states) for name, v in metrics.per_class(cm).items()},
        "sov99": {"overall": m99["overall"], "per_state": _named(m99["per_state"], states)},
        "sov_refine": {"overall": mref["overall"], "per_state": _named(mref["per_state"], states)},
    }
    per_chain = {"correct": correct, "total": total,
                 "sov99": np.array([s.overall for s in sov99]), "sov_refine": np.array([s.overall for s in refine])}
    return part, per_chain


def score_states(chains: Sequence[Chain], predicted: Sequence[str], states: str = STATES3) -> dict:
    """Scores of predicted state strings against labelled ``chains``, as ``evaluate_model`` scores a model's calls.

    For predictions made outside sspred (another program's output, a baseline).

    Parameters
    ----------
    chains : sequence of Chain
        The labelled chains.
    predicted : sequence of str
        One string of ``states`` letters per chain, in order.
    states : {"CHE", "HGIEBTSC"}, default "CHE"
        The letters: "CHE" against the chains' 3-state labels, "HGIEBTSC" against their 8-state ones.

    Returns
    -------
    dict
        Plain data: residues, accuracy (%, pooled over residues), accuracy_chain_mean, confusion, per_class
        (precision, recall, mcc per state), sov99 and sov_refine ({"overall", "per_state"}); None where a score
        is undefined.

    Raises
    ------
    sspred.ConfigError
        For ``states`` other than "CHE" or "HGIEBTSC".
    sspred.InputError
        For a string of the wrong length or with a letter outside ``states``, naming the chain (and position).

    Examples
    --------
    >>> from sspred.io.datasets import make_chain
    >>> chains = [make_chain("a", "MKVLAAGGKV", "CHHHHHHCCC", eight=False)]
    >>> part = score_states(chains, ["CHHHHCCCCC"])
    >>> part["residues"], part["accuracy"], part["confusion"][1]
    (10, 80.0, [2, 4, 0])
    >>> score_states(chains, ["CHHHHCCCCX"])
    Traceback (most recent call last):
    ...
    sspred.errors.InputError: chain 'a': position 10: state letter 'X' is not one of 'CHE' or the mask ''
    """
    labels = {v: k for k, v in STATE_SETS.items()}
    if states not in labels:
        raise ConfigError("states", f"must be {' or '.join(map(repr, labels))}, got {states!r}")
    if len(predicted) != len(chains):
        raise InputError(f"{len(predicted)} predicted strings for {len(chains)} chains")
    y_true, y_pred = [], []
    for chain, text in zip(chains, predicted):
        if len(text) != len(chain.sequence):
            raise InputError(f"chain {chain.id!r}: {len(text)} predicted states for {len(chain.sequence)} residues")
        try:
            y_pred.append(metrics.encode_states(text, states, masked=""))
        except ValueError as exc:
            raise InputError(f"chain {chain.id!r}: {exc}") from None
        y_true.append(chain.labels(labels[states]))
    part, _ = _state_block(y_true, y_pred, states)
    return _clean(part)


def _nanmean(x: np.ndarray) -> float:
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


#: Statistics bootstrapped over chains, keyed by the report name: function of a resample of per-chain arrays.
BOOTSTRAP_STATS = {
    "accuracy": lambda d: metrics.pooled_accuracy(d["correct"], d["total"]),
    "accuracy_chain_mean": lambda d: metrics.chain_mean_accuracy(d["correct"], d["total"]),
    "sov99": lambda d: _nanmean(d["sov99"]),
    "sov_refine": lambda d: _nanmean(d["sov_refine"]),
}


def _calibration(probs: list[np.ndarray], y_true: list[np.ndarray], states: str) -> tuple[dict, dict]:
    p, y = np.concatenate(probs), np.concatenate(y_true)
    curve = metrics.reliability(p, y, N_CALIBRATION_BINS)
    digits = metrics.accuracy_by_level(confidence_levels(p), y, p.argmax(axis=1), N_CONFIDENCE_DIGITS)
    # "states": the old name of "state_order", kept beside it in the report's JSON for one release.
    part = {"state_order": states, "states": states, "ece": metrics.expected_calibration_error(curve),
            "bins": {k: v.tolist() for k, v in curve.items()},
            "confidence_digit": {"count": digits["count"].tolist(), "accuracy": digits["accuracy"].tolist()}}
    # Per-chain bin sums: ECE of a resample is sum_b |sum correct_b - sum conf_b| / N, since
    # (n_b / N) * |acc_b - conf_b| = |n_b acc_b - n_b conf_b| / N.
    rows = []
    for pc, yc in zip(probs, y_true):
        c = metrics.reliability(pc, yc, N_CALIBRATION_BINS)
        n = c["count"]
        rows.append((n, np.nan_to_num(c["confidence"] * n), np.nan_to_num(c["accuracy"] * n)))
    per_chain = {"bin_count": np.array([r[0] for r in rows]), "bin_conf": np.array([r[1] for r in rows]),
                 "bin_correct": np.array([r[2] for r in rows])}
    return part, per_chain


def _ece_of(d: dict) -> float:
    n = d["bin_count"].sum()
    return float(np.abs(d["bin_correct"].sum(axis=0) - d["bin_conf"].sum(axis=0)).sum() / n) if n else float("nan")


def pooled_q3(model: Model | Session, chains: Sequence[Chain]) -> float:
    """Q3 of ``model`` over every scored residue of labelled ``chains``, without the segment scores and calibration.

    Parameters
    ----------
    model : Model or Session
        The model (a Session: on its device).
    chains : sequence of Chain
        The labelled chains.

    Returns
    -------
    float
        The percent (0-100); an 8-state model's calls are reduced 8-to-3.
    """
    pred = [p.argmax(axis=1) for p in predict_labelled(model, chains)]
    if model.state_order == STATES8:
        pred = [EIGHT_TO_THREE[p] for p in pred]
    return metrics.pooled_accuracy(*metrics.chain_counts([c.y3 for c in chains], pred))


def predict_labelled_heads(model: Model | Session, chains: Sequence[Chain]) -> list[dict[str, np.ndarray]]:
    """Every head's probabilities for labelled chains, each batch through the network once.

    The states head equals ``predict_labelled``'s output.

    Parameters
    ----------
    model : Model or Session
        The model (a Session: on its device).
    chains : sequence of Chain
        The chains.

    Returns
    -------
    list of dict of str to numpy.ndarray
        One {head name: (L, K_h) probabilities} per chain, in order.
    """
    out: list[dict[str, np.ndarray]] = []
    for start in range(0, len(chains), LABELLED_CHAINS):
        out += model.predict_heads([c.codes for c in chains[start:start + LABELLED_CHAINS]])
    return out


def _disorder_scores(outs: list[dict], chains: Sequence[Chain]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) disorder labels (DISORDERED/ORDERED, negative where unknown) and (N,) P(disordered), end to end."""
    y = np.concatenate([np.asarray(c.disorder, dtype=np.int64) for c in chains])
    s = np.concatenate([o["disorder"][:, DISORDERED] for o in outs])  # (L, 2) -> (L,) per chain, then (N,)
    return y, s


def disorder_threshold(model: Model | Session) -> tuple[float, str]:
    """The P(disordered) threshold a model's disorder calls use, and where it comes from.

    Parameters
    ----------
    model : Model or Session
        The model.

    Returns
    -------
    threshold : float
        The header's ``thresholds.disorder``, or ``DEFAULT_DISORDER_THRESHOLD``.
    source : str
        "model" or "default".

    Raises
    ------
    ModelFileError
        When the header's threshold is not a probability.
    """
    t = model.header.get("thresholds", {}).get("disorder")
    if t is None:
        return DEFAULT_DISORDER_THRESHOLD, "default"
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 <= t <= 1.0:
        raise ModelFileError(f"model {model.name!r}: header thresholds.disorder must be a probability in [0, 1], "
                         f"got {t!r}")
    return float(t), "model"


def _disorder_block(outs: list[dict], chains: Sequence[Chain], model: Model | Session) -> dict | None:
    """Disorder scores over residues with a known label (None when no residue has one): ROC AUC of
    P(disordered), MCC of "disordered where P >= threshold"."""
    y, s = _disorder_scores(outs, chains)
    known = y >= 0
    if not known.any():
        return None
    threshold, source = disorder_threshold(model)
    return {"auc": metrics.roc_auc(y, s), "mcc": metrics.binary_mcc(y, s, threshold), "threshold": threshold,
            "threshold_source": source, "residues": int(known.sum()), "disordered": int((y == DISORDERED).sum())}


def _conservation_block(outs: list[dict], chains: Sequence[Chain]) -> dict | None:
    """Conservation scores over residues with a known class 1-9 (None when none has): Spearman's rho of the
    predicted class (argmax + 1) against the true one, and the percent in the true class's group."""
    y = np.concatenate([np.asarray(c.conservation, dtype=np.int64) for c in chains])
    pred = np.concatenate([o["conservation"].argmax(axis=1) + 1 for o in outs])  # index 0-8 -> class 1-9
    keep = y != CONSERVATION_UNKNOWN
    if not keep.any():
        return None
    y, pred = y[keep], pred[keep]
    return {"spearman": metrics.spearman(pred.astype(np.float64), y.astype(np.float64)),
            "q3_groups": metrics.conservation_q3(y, pred), "residues": int(keep.sum())}


def choose_disorder_threshold(model: ModelLike, chains: Sequence[Chain]) -> tuple[float, float]:
    """The P(disordered) cut with the best MCC on validation chains, by ``metrics.best_mcc_threshold``.

    A training run stores it as ``header["thresholds"] = {"disorder": threshold}``; ``evaluate`` then scores
    the MCC of test sets at it.

    Parameters
    ----------
    model : Model, Predictor, str, os.PathLike or None
        A model with a disorder head, as ``evaluate`` takes one.
    chains : sequence of Chain
        Validation chains with disorder labels.

    Returns
    -------
    threshold, mcc : float
        The best threshold and its MCC.

    Raises
    ------
    sspred.InputError
        When the model has no disorder head.
    ValueError
        When no chain has a disorder label.
    """
    m = _as_model(model)
    if "disorder" not in m.heads.names:
        raise InputError(f"model {m.name!r} has no disorder head (its heads: {', '.join(m.heads.names)})")
    y, s = _disorder_scores(predict_labelled_heads(m, chains), chains) if chains else (np.zeros(0), np.zeros(0))
    return metrics.best_mcc_threshold(y, s)


def evaluate_model(model: Model | Session, chains: Sequence[Chain], rng: np.random.Generator | None = None,
                   n_boot: int = N_BOOTSTRAP) -> dict:
    """The field's scores of ``model`` on labelled ``chains``.

    Always: Q3 pooled over residues and averaged per chain, per-class precision,
    recall and MCC, the confusion matrix, SOV'99 and SOV_refine (chain means),
    calibration (reliability bins, ECE, accuracy by .horiz confidence digit).
    With an 8-state model and chains that carry 8-state labels: the same for the
    8 states (``q8`` ...). 3-state predictions of an 8-state model are the 8-to-3
    reduction of its argmax. Calibration is scored on the states the model
    outputs when the chains have those labels, else on its probabilities summed
    into H/E/C. With ``rng``: 95% bootstrap intervals over chains (``ci``).

    Extra heads (one pass of the network gives them all): a 3-state model's ss8
    head gives ``q8`` (and ``eight_state``, ``q8_head`` = "ss8") on chains with
    8-state labels; a disorder head gives ``disorder`` on chains with disorder
    labels ({"auc", "mcc", "threshold", "threshold_source", "residues",
    "disordered"}; see ``disorder_threshold``); a conservation head gives
    ``conservation`` on chains with conservation classes ({"spearman",
    "q3_groups", "residues"}). Chains without secondary-structure labels (the
    conservation set) give ``residues`` 0 and None for Q3, MCC, SOV and ECE,
    and no intervals.

    Parameters
    ----------
    model : Model
        The model.
    chains : sequence of Chain
        The labelled chains.
    rng : numpy.random.Generator, optional
        The source of the bootstrap resamples; None for no intervals.
    n_boot : int, default 1000
        The number of resamples.

    Returns
    -------
    dict
        The report, plain data (NaN written as None), ready for JSON.
    """
    outs = predict_labelled_heads(model, chains)
    names = model.heads.names
    probs = [o[names[0]] for o in outs]
    eight = model.state_order == STATES8
    pred_native = [p.argmax(axis=1) for p in probs]
    pred3 = [EIGHT_TO_THREE[p] for p in pred_native] if eight else pred_native
    y3 = [c.y3 for c in chains]
    part3, chains3 = _state_block(y3, pred3, STATES3)
    report = {"model": model.name, "state_order": model.state_order, "states": model.state_order, "chains": len(chains), "residues": part3["residues"],
              "q3": part3["accuracy"], "q3_chain_mean": part3["accuracy_chain_mean"],
              "confusion": part3["confusion"], "per_class": part3["per_class"],
              "sov99": part3["sov99"], "sov_refine": part3["sov_refine"]}
    per_chain = {f"q3:{k}": v for k, v in chains3.items()}
    labels8 = all(c.y8 is not None for c in chains)
    has8 = eight and labels8
    # Q8 from the states head of an 8-state model, else from the ss8 head of a 3-state one.
    pred8 = pred_native if has8 else \
        [o["ss8"].argmax(axis=1) for o in outs] if labels8 and chains and "ss8" in names else None
    if pred8 is not None:
        y8 = [c.y8 for c in chains if c.y8 is not None]  # every chain has them (labels8)
        part8, chains8 = _state_block(y8, pred8, STATES8)
        report["q8"] = part8["accuracy"]
        report["q8_chain_mean"] = part8["accuracy_chain_mean"]
        report["eight_state"] = part8
        if not has8:
            report["q8_head"] = "ss8"
        per_chain.update({f"q8:{k}": v for k, v in chains8.items()})
    if has8:
        cal, cal_chains = _calibration(probs, y8, STATES8)
    else:
        probs3 = [p @ EIGHT_TO_THREE_MATRIX for p in probs] if eight else probs  # (L, 8) @ (8, 3) -> (L, 3)
        cal, cal_chains = _calibration(probs3, y3, STATES3)
    report["calibration"] = cal
    if "disorder" in names:
        block = _disorder_block(outs, chains, model) if chains else None
        if block is not None:
            report["disorder"] = block
    if "conservation" in names:
        block = _conservation_block(outs, chains) if chains else None
        if block is not None:
            report["conservation"] = block
    # Without a residue labelled H/E/C every resample's Q3 is undefined: no intervals rather than [NaN, NaN].
    if rng is not None and n_boot > 0 and chains and part3["residues"]:
        stats = {"q3": ("q3:", "accuracy"), "q3_chain_mean": ("q3:", "accuracy_chain_mean"),
                 "sov99": ("q3:", "sov99"), "sov_refine": ("q3:", "sov_refine")}
        if pred8 is not None:
            stats.update({"q8": ("q8:", "accuracy"), "q8_chain_mean": ("q8:", "accuracy_chain_mean"),
                          "sov99_8": ("q8:", "sov99"), "sov_refine_8": ("q8:", "sov_refine")})
        ci = {}
        for name, (prefix, stat) in stats.items():
            sub = {k[len(prefix):]: v for k, v in per_chain.items() if k.startswith(prefix)}
            ci[name] = list(metrics.bootstrap_ci(sub, BOOTSTRAP_STATS[stat], rng, n_boot, CI_LEVEL))
        ci["ece"] = list(metrics.bootstrap_ci(cal_chains, _ece_of, rng, n_boot, CI_LEVEL))
        report["ci"] = ci
        report["bootstrap"] = {"resamples": n_boot, "level": CI_LEVEL, "unit": "chain"}
    return _clean(report)


# --- the public entry point: a model and labelled data in, Scores out ------------------------------------

@dataclass
class Scores:
    """The headline numbers of one evaluation; ``report`` holds everything (``sspred evaluate --json`` writes it).

    Parameters
    ----------
    q3 : float or None
        Percent of scored residues in the right H/E/C state (an 8-state model's calls reduced 8-to-3);
        None for data without secondary-structure labels (the conservation set).
    q8 : float or None
        Percent in the right DSSP state on 8-state labels: from an 8-state model, or from a 3-state model's
        ss8 head (``report["q8_head"]``); else None.
    mcc : dict of str to float or None
        Matthews correlation per H/E/C state (None where undefined).
    sov99 : float or None
        SOV'99 over H/E/C, the mean over chains.
    chains : int
        The chains scored.
    residues : int
        The residues scored (those with an H/E/C label).
    report : dict, default {}
        The whole report of ``evaluate_model``, plain data: confusion, per-class scores, SOV, calibration,
        bootstrap intervals (``ci``), and the data's name and split.
    disorder : dict or None, default None
        A disorder head on data with disorder labels: {"auc", "mcc", "threshold", "threshold_source"
        ("model" or "default"), "residues", "disordered"}; else None.
    conservation : dict or None, default None
        A conservation head on data with conservation classes: {"spearman", "q3_groups", "residues"}; else None.

    Examples
    --------
    >>> s = Scores.from_report({"q3": 71.5, "chains": 2, "residues": 300, "sov99": {"overall": 66.0},
    ...                         "per_class": {"mcc": {"H": 0.6, "E": 0.5, "C": 0.45}}})
    >>> s.q3, s.q8, s.mcc["H"], s.sov99, s.disorder, s.conservation
    (71.5, None, 0.6, 66.0, None, None)
    >>> s.to_dict()["residues"]
    300
    """

    q3: float | None
    q8: float | None
    mcc: dict[str, float | None]
    sov99: float | None
    chains: int
    residues: int
    report: dict = field(repr=False, default_factory=dict)
    disorder: dict | None = None
    conservation: dict | None = None

    @classmethod
    def from_report(cls, report: dict) -> "Scores":
        """The Scores of a report of ``evaluate_model``.

        Parameters
        ----------
        report : dict
            The report; it keeps it whole as ``report``.

        Returns
        -------
        Scores
            Its headline numbers.

        Raises
        ------
        KeyError
            When the report lacks q3, per_class, sov99, chains or residues.
        """
        return cls(q3=report["q3"], q8=report.get("q8"), mcc=dict(report["per_class"]["mcc"]),
                   sov99=report["sov99"]["overall"], chains=report["chains"], residues=report["residues"],
                   report=report, disorder=report.get("disorder"), conservation=report.get("conservation"))

    def to_dict(self) -> dict:
        """The headline numbers as plain data (the full report is ``report``).

        Returns
        -------
        dict
            q3, q8, mcc, sov99, chains, residues; ``disorder`` and ``conservation`` only where scored.
        """
        out = {"q3": self.q3, "q8": self.q8, "mcc": dict(self.mcc), "sov99": self.sov99, "chains": self.chains,
               "residues": self.residues}
        out.update({k: dict(v) for k, v in (("disorder", self.disorder), ("conservation", self.conservation))
                    if v is not None})
        return out


def _as_model(model: ModelLike) -> Model | Session:
    """What predicts: a Model (on its own NumPy session), a Session, a Predictor's session (its device kept),
    anything else holding a Model as ``.model``, or a built-in name or file's Model."""
    if isinstance(model, (Model, Session)):
        return model
    session = getattr(model, "session", None)
    if isinstance(session, Session):
        return session
    held = getattr(model, "model", None)
    if isinstance(held, Model):
        return held
    if model is None or isinstance(model, (str, os.PathLike)):
        return load(model).model
    raise TypeError(f"expected a Model, a Predictor or a model name or path, not {type(model).__name__}")


def evaluate(model: ModelLike, data: Data, split: str = "test", *, data_dir: str | os.PathLike | None = None,
             bootstrap: int = N_BOOTSTRAP, seed: int = 0) -> Scores:
    """Score a model on labelled data, as ``sspred evaluate`` does.

    A model with extra heads also fills ``q8`` (ss8 head), ``disorder`` and ``conservation`` where the data
    has those labels (``evaluate_model``).

    Parameters
    ----------
    model : Model, Predictor, str, os.PathLike or None
        A Model, a Predictor (anything holding a Model as ``.model``), or a built-in name or model file;
        None is the default model.
    data : Data
        A set name (qs1988, netsurfp2, cb513, ts115, dssp8, conservation) and its ``split``, a labelled file
        (all of it), several of these, or a list of Chains (``sspred.io.find``).
    split : str, default "test"
        The split of a named set.
    data_dir : str or os.PathLike, optional
        The data folder; defaults to $SSPRED_DATA, then a ``shared/data`` folder above.
    bootstrap : int, default 1000
        Resamples of the chains for the 95% intervals in ``report["ci"]``; 0 for none.
    seed : int, default 0
        Seed of the resamples.

    Returns
    -------
    Scores
        The headline numbers, and the full report as ``Scores.report``.

    Raises
    ------
    sspred.InputError
        For data that cannot be found or read.
    sspred.ModelFileError
        For a model name or file that cannot be loaded.
    sspred.ConfigError
        For a negative ``bootstrap``.
    TypeError
        For a ``model`` of none of the accepted kinds.

    Examples
    --------
    >>> from sspred.io.datasets import make_chain
    >>> chains = [make_chain("helix", "AEELLKKAEELLKKAEELLKK", "CHHHHHHHHHHHHHHHHHHHC", eight=False),
    ...           make_chain("strand", "KVTVKVTVEGGKVTVKVTV", "CEEEEEECCCCCEEEEEEC", eight=False)]
    >>> scores = evaluate("fast", chains, bootstrap=0)
    >>> scores.chains, scores.residues, scores.q8, sorted(scores.mcc)
    (2, 40, None, ['C', 'E', 'H'])
    >>> 0 <= scores.q3 <= 100 and scores.report["model"] == "fast"
    True
    """
    if bootstrap < 0:
        raise ConfigError("bootstrap", f"must be >= 0, got {bootstrap}")
    m = _as_model(model)
    report = evaluate_model(m, resolve_data(data, split, data_dir), rng=np.random.default_rng(seed), n_boot=bootstrap)
    # split None: a labelled file is read whole, so naming a split would mislabel it (a training file as ".../test")
    report["data"] = {"name": data_label(data), "split": data_split(data, split)}
    return Scores.from_report(report)
