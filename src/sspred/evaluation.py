"""Score a model on labelled chains: plain data in, a report dict out."""

from __future__ import annotations

import numpy as np

from sspred import metrics
from sspred.alphabet import EIGHT_TO_THREE, STATES3, STATES8
from sspred.model import Model
from sspred.predict import predict_chains


def evaluate_model(model: Model, chains) -> dict:
    """Q3 (and Q8 for 8-state models), per-class precision/recall/MCC and the confusion matrix."""
    probs = predict_chains(model, chains)
    pred = np.concatenate([p.argmax(axis=1) for p in probs]) if probs else np.zeros(0, int)
    report = {"model": model.name, "chains": len(chains)}
    if model.states == STATES8:
        y8 = np.concatenate([c.labels("8") for c in chains])
        cm8 = metrics.confusion(y8, pred, 8)
        report["q8"] = metrics.accuracy(cm8)
        report["confusion8"] = cm8.tolist()
        pred = EIGHT_TO_THREE[pred]
    y3 = np.concatenate([c.y3 for c in chains])
    cm = metrics.confusion(y3, pred, 3)
    report.update(residues=int(cm.sum()), q3=metrics.accuracy(cm), confusion=cm.tolist(),
                  per_class={k: dict(zip(STATES3, v.tolist())) for k, v in metrics.per_class(cm).items()})
    return report
