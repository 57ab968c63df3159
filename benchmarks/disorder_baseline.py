"""The disorder baseline that needs no model: how close a residue is to its chain's nearest end.

    python benchmarks/disorder_baseline.py

Unresolved residues (the ``disorder`` column of the CB513 and TS115 CSVs, 0 =
unobserved, the label NetSurfP-2.0 trained its disorder output on) bunch at
chain ends, so the score -min(i, L - 1 - i) (0 at either end, falling inward)
already separates them. Prints the ROC AUC of that score over every residue of
each set, pooled; for CB513 also over its distinct chains only, because the
same chain fills several rows there (with different CB513 masks but the same
disorder column). The MCC column thresholds the score where it maximises MCC
on netsurfp2's validation split (mask.fasta 0 = disordered), as a trained
disorder output would be thresholded, and applies that threshold unchanged.
"""

from __future__ import annotations

import argparse

import numpy as np

from sspred import metrics
from sspred.io import datasets


def end_distance_score(length: int) -> np.ndarray:
    """-(distance to the nearest chain end) per residue, shape (L,): higher = nearer an end = more disordered."""
    i = np.arange(length)
    return -np.minimum(i, length - 1 - i).astype(np.float64)


def pooled(chains: list) -> tuple[np.ndarray, np.ndarray]:
    """Disorder targets and baseline scores of all residues of ``chains``, concatenated, (N,) each."""
    y = np.concatenate([c.disorder for c in chains])
    s = np.concatenate([end_distance_score(len(c.sequence)) for c in chains])
    return y, s


def distinct(chains: list) -> list:
    """The first row of each distinct (sequence, disorder) pair."""
    seen, out = set(), []
    for c in chains:
        key = (c.sequence, c.disorder.tobytes())
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    d = datasets.data_dir(args.data_dir)
    threshold, valid_mcc = metrics.best_mcc_threshold(*pooled(datasets.load("netsurfp2", "valid", d)))
    print(f"threshold chosen on netsurfp2 valid: disordered within {-threshold:.0f} residues of an end "
          f"(MCC there {valid_mcc:.3f})\n")
    print("| set | chains | residues | disordered | AUC of -distance to nearest end | MCC at that threshold |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, chains in (("CB513 (all 511 rows)", datasets.load("cb513", "test", d)),
                          ("CB513 (distinct chains)", distinct(datasets.load("cb513", "test", d))),
                          ("TS115", datasets.load("ts115", "test", d))):
        y, s = pooled(chains)
        n_dis = int((y == 1).sum())
        print(f"| {label} | {len(chains)} | {y.size} | {n_dis} ({100 * n_dis / y.size:.1f}%) | "
              f"{metrics.roc_auc(y, s):.3f} | {metrics.binary_mcc(y, s, threshold):.3f} |")


if __name__ == "__main__":
    main()
