# Study run at commit 980ab46 (its last change; in benchmarks/ until 383da78). Results: BENCHMARKS.md,
# "The 1988 reproduction".
"""Reproduce Qian & Sejnowski (1988): window 13, 40 sigmoid hidden units, UCI train -> UCI test.

Reports Q3 and the Matthews correlations C_alpha, C_beta, C_coil on the UCI test set, beside the
paper's 64.3%, 0.41, 0.31, 0.41; also 0 hidden units and the majority-class baseline. Several seeds,
since 17 test chains (3,520 residues) make single runs noisy.

    python docs/experiments/qs1988.py [--data-dir DIR] [--seeds 5]
"""

from __future__ import annotations

import argparse

import numpy as np

from sspred import metrics
from sspred.alphabet import STATES3
from sspred.config import ModelConfig, TrainConfig
from sspred.evaluation import evaluate
from sspred.io import datasets
from sspred.training import train

PAPER = {"q3": 64.3, "H": 0.41, "E": 0.31, "C": 0.41}


def run(hidden, optimizer, lr, seed, d):
    cfg = TrainConfig(model=ModelConfig(window=13, hidden=hidden, activation="sigmoid"), optimizer=optimizer, lr=lr,
                      epochs=60, patience=8, seed=seed, batch_size=32, name="qs")
    model = train(cfg, "qs1988", data_dir=d)  # early-stopped on the set's own valid split
    scores = evaluate(model, "qs1988", data_dir=d, bootstrap=0)
    return scores.q3, [scores.mcc[s] for s in "HEC"], model.header["train"]["history"]["best_epoch"]


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
