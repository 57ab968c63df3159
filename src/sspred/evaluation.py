"""Score a model on labelled chains: plain data in, a report dict out.

The report holds the field's numbers (see ``evaluate_model``); every value is a
plain float, int, string or list, so it can be written as JSON as it stands.
"""

from __future__ import annotations

import math

import numpy as np

from sspred import metrics
from sspred.alphabet import EIGHT_TO_THREE, STATES3, STATES8
from sspred.io.formats import confidence_levels
from sspred.model import Model
from sspred.predict import predict_labelled

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


def _clean(x):
    """NaN to None, so the JSON report holds null rather than the non-standard NaN."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def _named(values, states: str) -> dict:
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
    part = {"states": states, "ece": metrics.expected_calibration_error(curve),
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


def evaluate_model(model: Model, chains, rng: np.random.Generator | None = None,
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
    """
    probs = predict_labelled(model, chains)
    eight = model.states == STATES8
    pred_native = [p.argmax(axis=1) for p in probs]
    pred3 = [EIGHT_TO_THREE[p] for p in pred_native] if eight else pred_native
    y3 = [c.y3 for c in chains]
    part3, chains3 = _state_block(y3, pred3, STATES3)
    report = {"model": model.name, "states": model.states, "chains": len(chains), "residues": part3["residues"],
              "q3": part3["accuracy"], "q3_chain_mean": part3["accuracy_chain_mean"],
              "confusion": part3["confusion"], "per_class": part3["per_class"],
              "sov99": part3["sov99"], "sov_refine": part3["sov_refine"]}
    per_chain = {f"q3:{k}": v for k, v in chains3.items()}
    has8 = eight and all(c.y8 is not None for c in chains)
    if has8:
        y8 = [c.y8 for c in chains]
        part8, chains8 = _state_block(y8, pred_native, STATES8)
        report["q8"] = part8["accuracy"]
        report["q8_chain_mean"] = part8["accuracy_chain_mean"]
        report["eight_state"] = part8
        per_chain.update({f"q8:{k}": v for k, v in chains8.items()})
        cal, cal_chains = _calibration(probs, y8, STATES8)
    else:
        probs3 = [p @ EIGHT_TO_THREE_MATRIX for p in probs] if eight else probs  # (L, 8) @ (8, 3) -> (L, 3)
        cal, cal_chains = _calibration(probs3, y3, STATES3)
    report["calibration"] = cal
    if rng is not None and n_boot > 0 and chains:
        stats = {"q3": ("q3:", "accuracy"), "q3_chain_mean": ("q3:", "accuracy_chain_mean"),
                 "sov99": ("q3:", "sov99"), "sov_refine": ("q3:", "sov_refine")}
        if has8:
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
