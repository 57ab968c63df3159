"""Epoch time of the NumPy engine against scikit-learn's MLPClassifier on netsurfp2, in one run.

Same architecture (window 13, 40 logistic hidden units, 3 softmax outputs), Adam at
lr 1e-3, batch 200, no weight decay, the same training windows and the same
validation set (netsurfp2's validation split, full). The NumPy engine trains from
window codes (WindowIndex); scikit-learn needs the one-hot matrix materialised
(residues x 273 float32), built once and not counted in its epoch time. Each
scikit-learn epoch is one ``partial_fit`` pass (it shuffles, like the NumPy loop).

    nice -n 10 python benchmarks/train_speed.py [--epochs 5] [--train-chains N] [--blas-threads 1]

BLAS threads are pinned (default 1) for both: at 200-row batches on a shared
2-core machine a second BLAS thread spends more time spinning than computing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from sspred.config import ModelConfig, TrainConfig  # noqa: E402
from sspred.engines.numpy.learner import NumpyLearner  # noqa: E402
from sspred.features import WindowIndex, one_hot  # noqa: E402
from sspred.io import datasets  # noqa: E402
from sspred.training import fit, learner_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--train-chains", type=int, default=0, help="first N training chains (0: all)")
    ap.add_argument("--blas-threads", type=int, default=1)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    train_chains = datasets.load("netsurfp2", "train", args.data_dir)
    if args.train_chains:
        train_chains = train_chains[:args.train_chains]
    valid_chains = datasets.load("netsurfp2", "valid", args.data_dir)
    cfg = ModelConfig(window=13, hidden=[40], activation="sigmoid")
    tcfg = TrainConfig(optimizer="adam", lr=1e-3, batch_size=200, epochs=args.epochs, patience=0, seed=args.seed)
    train, valid = WindowIndex(train_chains, 13), WindowIndex(valid_chains, 13)
    print(f"netsurfp2: {len(train):,} training windows ({len(train_chains)} chains), {len(valid):,} validation windows; "
          f"batch {tcfg.batch_size}, BLAS threads {args.blas_threads}")

    # The fit loop itself, not sspred.train: this times the learner's steps (a batch callback marks the end of
    # each epoch's training, before validation) after a warm-up step that loads the compiled kernel.
    with threadpool_limits(args.blas_threads, user_api="blas"):
        learner = NumpyLearner(cfg.layers(), learner_settings(tcfg), np.random.default_rng(args.seed))
        t = time.perf_counter()
        learner.step(train.batch(np.arange(200)), train.labels[:200])  # compile (or load the numba cache)
        learner = NumpyLearner(cfg.layers(), learner_settings(tcfg), np.random.default_rng(args.seed))
        warm = time.perf_counter() - t
        ours = []

        def record(stats):
            ours.append(stats)

        epoch_train_seconds = []
        start = [time.perf_counter()]

        def per_batch(b, n):
            if b == n:
                epoch_train_seconds.append(time.perf_counter() - start[0])

        def record_and_reset(stats):
            record(stats)
            start[0] = time.perf_counter()

        fit(learner, train, valid, tcfg, callback=record_and_reset, batch_callback=per_batch)
        print(f"numpy engine ({'compiled index step' if learner.fused is not None else 'one-hot step'}; "
              f"first-step compile/cache load {warm:.2f} s):")
        for s, tr in zip(ours, epoch_train_seconds):
            print(f"  epoch {s['epoch']}: train {tr:6.2f} s  valid Q3 {s['valid_accuracy']:.2f}")

        from sklearn.neural_network import MLPClassifier

        t = time.perf_counter()
        x_train = one_hot(train.batch(np.arange(len(train))))  # (N, 273) float32, materialised
        x_valid = one_hot(valid.batch(np.arange(len(valid))))
        print(f"scikit-learn: one-hot matrices built in {time.perf_counter() - t:.1f} s "
              f"({(x_train.nbytes + x_valid.nbytes) / 2**30:.2f} GiB)")
        clf = MLPClassifier(hidden_layer_sizes=(40,), activation="logistic", solver="adam", learning_rate_init=1e-3,
                            batch_size=200, alpha=0.0, shuffle=True, random_state=args.seed)
        theirs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(1, args.epochs + 1):
                t = time.perf_counter()
                clf.partial_fit(x_train, train.labels, classes=np.arange(3))
                sec = time.perf_counter() - t
                q3 = float((clf.predict(x_valid) == valid.labels).mean() * 100)
                theirs.append((sec, q3))
                print(f"  epoch {epoch}: train {sec:6.2f} s  valid Q3 {q3:.2f}")

    ours_med = statistics.median(epoch_train_seconds)
    theirs_med = statistics.median(s for s, _ in theirs)
    print(f"median epoch: numpy engine {ours_med:.2f} s, scikit-learn {theirs_med:.2f} s: {theirs_med / ours_med:.1f}x faster; "
          f"valid Q3 after {args.epochs} epochs: {ours[-1]['valid_accuracy']:.2f} vs {theirs[-1][1]:.2f} "
          f"(difference {ours[-1]['valid_accuracy'] - theirs[-1][1]:+.2f} points)")


if __name__ == "__main__":
    main()
