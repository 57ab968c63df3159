"""Reproduce Qian & Sejnowski (1988): window 13, 40 sigmoid hidden units, UCI train -> UCI test.

Reports Q3 and the Matthews correlations C_alpha, C_beta, C_coil on the UCI test set, beside the
paper's 64.3%, 0.41, 0.31, 0.41; also 0 hidden units and the majority-class baseline. Several seeds,
since 17 test chains (3,520 residues) make single runs noisy.

    python benchmarks/qs1988.py [--data-dir DIR] [--seeds 5]
"""

from __future__ import annotations

import argparse

import numpy as np

from sspred import metrics
from sspred.alphabet import STATES3
from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.evaluation import evaluate_model
from sspred.features import WindowIndex
from sspred.io import datasets
from sspred.model import Model, build_header
from sspred.train import fit

PAPER = {"q3": 64.3, "H": 0.41, "E": 0.31, "C": 0.41}


def run(hidden, optimizer, lr, seed, d):
    train = datasets.load("qs1988", "train", d)
    valid = datasets.load("qs1988", "valid", d)
    test = datasets.load("qs1988", "test", d)
    mcfg = ModelConfig(window=13, hidden=hidden, activation="sigmoid")
    tcfg = TrainConfig(optimizer=optimizer, lr=lr, epochs=60, patience=8, seed=seed, batch_size=32)
    learner = NumpyLearner(mcfg.layers(), tcfg, np.random.default_rng(seed))
    hist = fit(learner, WindowIndex(train, 13), WindowIndex(valid, 13), tcfg)
    model = Model(build_header(mcfg, "qs"), learner.get_params())
    r = evaluate_model(model, test)
    return r["q3"], [r["per_class"]["mcc"][s] for s in "HEC"], hist.best_epoch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    d = datasets.data_dir(args.data_dir)
    print("| setup | optimizer | Q3 (%) mean ± sd | C_alpha | C_beta | C_coil | best epochs |")
    print("|---|---|---|---|---|---|---|")
    print(f"| Qian & Sejnowski 1988 (paper) | SGD | {PAPER['q3']} | {PAPER['H']} | {PAPER['E']} | {PAPER['C']} | |")
    for hidden, opt, lr in [([40], "adam", 1e-3), ([40], "sgd", 0.05), ([], "adam", 1e-3)]:
        rows = [run(hidden, opt, lr, s, d) for s in range(args.seeds)]
        q = np.array([r[0] for r in rows])
        c = np.array([r[1] for r in rows]).mean(axis=0)
        name = f"w13, {hidden[0] if hidden else 0} hidden"
        print(f"| {name} | {opt} lr {lr} | {q.mean():.2f} ± {q.std(ddof=1):.2f} | {c[0]:.2f} | {c[1]:.2f} | {c[2]:.2f} "
              f"| {', '.join(str(r[2]) for r in rows)} |")
    test = datasets.load("qs1988", "test", d)
    y = np.concatenate([ch.y3 for ch in test])
    majority = np.bincount(np.concatenate([ch.y3 for ch in datasets.load("qs1988", "train", d)])).argmax()
    cm = metrics.confusion(y, np.full_like(y, majority), 3)
    print(f"| majority class ({STATES3[majority]}) | none | {metrics.accuracy(cm):.2f} | 0 | 0 | 0 | |")


if __name__ == "__main__":
    main()
