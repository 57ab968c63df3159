"""Epoch time of the NumPy engine against scikit-learn's MLPClassifier on netsurfp2, in one run.

Same architecture (window 13, 40 logistic hidden units, 3 softmax outputs), Adam at
lr 1e-3, batch 200, no weight decay, the same training windows and the same
validation set (netsurfp2's validation split, full). The NumPy engine trains from
window codes (WindowIndex); scikit-learn needs the one-hot matrix materialised
(residues x 273 float32), built once and not counted in its epoch time. Each
scikit-learn epoch is one ``partial_fit`` pass (it shuffles, like the NumPy loop).

    nice -n 10 python benchmarks/train_speed.py [--epochs 5] [--train-chains N] [--blas-threads 1]
    nice -n 10 python benchmarks/run.py train_speed --out results.json

BLAS threads are pinned (default 1) for both: at 200-row batches on a shared
2-core machine a second BLAS thread spends more time spinning than computing.
Prints the figures as JSON; ``measure`` returns them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from typing import Any

import numpy as np

from sspred.config import ModelConfig, TrainConfig
from sspred.engines.numpy.learner import NumpyLearner
from sspred.extras import require
from sspred.features import WindowIndex, one_hot
from sspred.io import datasets
from sspred.training import fit, learner_settings


def measure(quick: bool = False, epochs: int = 5, train_chains: int = 0, valid_chains: int = 0,
            blas_threads: int = 1, data_dir: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Seconds per training epoch of both, and their validation Q3; ``quick``: 20 + 20 chains, one epoch."""
    if quick:
        epochs, train_chains, valid_chains = 1, 20, 20
    threadpool_limits = require("threadpoolctl", "serve", "benchmarks/train_speed.py").threadpool_limits
    from sklearn.neural_network import MLPClassifier  # the reference (scikit-learn is in the test extra)

    train_set = datasets.load("netsurfp2", "train", data_dir)
    valid_set = datasets.load("netsurfp2", "valid", data_dir)
    train_set = train_set[:train_chains] if train_chains else train_set
    valid_set = valid_set[:valid_chains] if valid_chains else valid_set
    cfg = ModelConfig(window=13, hidden=[40], activation="sigmoid")
    tcfg = TrainConfig(optimizer="adam", lr=1e-3, batch_size=200, epochs=epochs, patience=0, seed=seed)
    train, valid = WindowIndex(train_set, 13), WindowIndex(valid_set, 13)
    result: dict[str, Any] = {"train_windows": len(train), "train_chains": len(train_set),
                              "valid_windows": len(valid), "batch": tcfg.batch_size, "blas_threads": blas_threads}

    # The fit loop itself, not sspred.train: this times the learner's steps (a batch callback marks the end of
    # each epoch's training, before validation) after a warm-up step that loads the compiled kernel.
    with threadpool_limits(blas_threads, user_api="blas"):
        learner = NumpyLearner(cfg.layers(), learner_settings(tcfg), np.random.default_rng(seed))
        t = time.perf_counter()
        learner.step(train.batch(np.arange(200)), train.labels[:200])  # compile (or load the numba cache)
        learner = NumpyLearner(cfg.layers(), learner_settings(tcfg), np.random.default_rng(seed))
        warm = time.perf_counter() - t
        ours: list[dict] = []
        epoch_train_seconds: list[float] = []
        start = [time.perf_counter()]

        def per_batch(b: int, n: int) -> None:
            if b == n:
                epoch_train_seconds.append(time.perf_counter() - start[0])

        def record_and_reset(stats: dict) -> None:
            ours.append(stats)
            start[0] = time.perf_counter()

        fit(learner, train, valid, tcfg, callback=record_and_reset, batch_callback=per_batch)
        result["numpy"] = {"step": "compiled index step" if learner.fused is not None else "one-hot step",
                           "first_step_seconds": round(warm, 3),
                           "epochs": [{"epoch": s["epoch"], "train_seconds": round(tr, 3),
                                       "valid_q3": round(s["valid_accuracy"], 2)}
                                      for s, tr in zip(ours, epoch_train_seconds)]}

        t = time.perf_counter()
        x_train = one_hot(train.batch(np.arange(len(train))))  # (N, 273) float32, materialised
        x_valid = one_hot(valid.batch(np.arange(len(valid))))
        result["sklearn_one_hot"] = {"seconds": round(time.perf_counter() - t, 3),
                                     "gib": round((x_train.nbytes + x_valid.nbytes) / 2**30, 3)}
        clf = MLPClassifier(hidden_layer_sizes=(40,), activation="logistic", solver="adam", learning_rate_init=1e-3,
                            batch_size=200, alpha=0.0, shuffle=True, random_state=seed)
        theirs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(1, epochs + 1):
                t = time.perf_counter()
                clf.partial_fit(x_train, train.labels, classes=np.arange(3))
                sec = time.perf_counter() - t
                q3 = float((clf.predict(x_valid) == valid.labels).mean() * 100)
                theirs.append({"epoch": epoch, "train_seconds": round(sec, 3), "valid_q3": round(q3, 2)})
        result["sklearn"] = {"epochs": theirs}

    ours_med = statistics.median(epoch_train_seconds)
    theirs_med = statistics.median(e["train_seconds"] for e in theirs)
    result["median_epoch_seconds"] = {"numpy": round(ours_med, 3), "sklearn": round(theirs_med, 3)}
    result["speedup"] = round(theirs_med / ours_med, 2)
    result["train_residues_per_s"] = {"numpy": round(len(train) / ours_med), "sklearn": round(len(train) / theirs_med)}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20 training and 20 validation chains, one epoch")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train-chains", type=int, default=0, help="first N training chains (0: all)")
    ap.add_argument("--valid-chains", type=int, default=0, help="first N validation chains (0: all)")
    ap.add_argument("--blas-threads", type=int, default=1)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    print(json.dumps(measure(**vars(ap.parse_args())), indent=1))


if __name__ == "__main__":
    main()
