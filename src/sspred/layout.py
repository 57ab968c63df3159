"""Whole chains as network inputs, for the conv layers: chains end to end, with gaps between them.

A window network reads one window per residue (features.WindowIndex). A stack of conv layers
reads whole chains instead: several chains are laid in one array of rows with ``gap`` spacer rows
before, between and after them, and ``valid`` marks the residue rows. With ``gap`` at least the
widest layer's half-width (``sspred.engines.spec.gap`` of the layer list), no residue ever reads a
neighbouring chain, so a chain's outputs are the same alone or in any batch (tests/test_conv.py
holds this). This module knows rows and codes only, never layers: callers pass the gap width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sspred.alphabet import MASKED, SPACER


@dataclass
class Layout:
    """Chains end to end: ``codes`` (N,) uint8 with spacer gaps, ``valid`` (N,) bool, ``labels`` (N,)
    int64 (MASKED on gaps and unscored residues), and each chain's first row in ``starts``."""

    codes: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    def split(self, rows: np.ndarray) -> list[np.ndarray]:
        """Per-chain slices of per-row outputs (N, ...) -> [(L_i, ...)]."""
        return [rows[s:s + n] for s, n in zip(self.starts, self.lengths)]


def lay_out(codes: list[np.ndarray], gap_rows: int, labels: list[np.ndarray] | None = None) -> Layout:
    """Chains ``codes`` [(L_i,)] end to end with ``gap_rows`` spacers before, between and after them."""
    lengths = np.array([c.size for c in codes], dtype=np.int64)
    starts = gap_rows + np.concatenate([[0], np.cumsum(lengths + gap_rows)[:-1]]).astype(np.int64)
    n = int(lengths.sum() + gap_rows * (len(codes) + 1))  # N rows: every residue and C + 1 gaps
    out = np.full(n, SPACER, dtype=np.uint8)  # (N,)
    valid = np.zeros(n, dtype=bool)  # (N,)
    y = np.full(n, MASKED, dtype=np.int64)  # (N,)
    for i, (s, c) in enumerate(zip(starts, codes)):
        out[s:s + c.size] = c
        valid[s:s + c.size] = True
        if labels is not None:
            y[s:s + c.size] = labels[i]
    return Layout(out, valid, y, starts, lengths)


def group_by_rows(lengths: np.ndarray, max_rows: int, order: np.ndarray | None = None) -> list[np.ndarray]:
    """Chain indices grouped in ``order`` so that each group holds at most ``max_rows`` rows
    (``lengths`` (C,) rows per chain; a longer chain goes alone)."""
    order = np.arange(lengths.size) if order is None else order
    groups, current, rows = [], [], 0
    for i in order:
        if current and rows + lengths[i] > max_rows:
            groups.append(np.array(current))
            current, rows = [], 0
        current.append(i)
        rows += int(lengths[i])
    if current:
        groups.append(np.array(current))
    return groups


class ChainIndex:
    """Labelled chains as training examples for a conv network: ``examples(rows)`` lays out the
    chains ``rows`` (the fit loop's batch size is then chains per step), ``gap_rows`` spacers apart
    (``sspred.engines.spec.gap(layers)``).

    With ``teacher`` (each chain's (L, K) probabilities from another model) the targets are
    distributions, ``teacher_weight`` of the teacher's and the rest the one-hot label: distillation
    (Hinton et al. 2015) at temperature 1.
    """

    def __init__(self, chains, gap_rows: int, states: str = "3", teacher: list[np.ndarray] | None = None,
                 teacher_weight: float = 0.5):
        if isinstance(gap_rows, bool) or not isinstance(gap_rows, (int, np.integer)) or gap_rows < 0:
            raise TypeError(f"gap_rows must be a non-negative int (engines.spec.gap of the layers), got {gap_rows!r}")
        self.gap = int(gap_rows)
        keep = [i for i, c in enumerate(chains) if (c.labels(states) >= 0).any()]
        # A chain with no scored residue would give a batch of its own nothing to learn from (a NaN mean).
        chains = [chains[i] for i in keep]
        self.codes = [c.codes for c in chains]
        self.labels = [c.labels(states) for c in chains]
        self.lengths = np.array([c.size for c in self.codes], dtype=np.int64)
        self.targets = None
        if teacher is not None:
            if not 0 <= teacher_weight <= 1:
                raise ValueError(f"teacher weight must lie in [0, 1], got {teacher_weight}")
            self.targets = []
            for i, chain, y in zip(keep, chains, self.labels):
                probs = np.asarray(teacher[i], dtype=np.float32)  # (L, K)
                if probs.shape[0] != y.size:
                    raise ValueError(f"teacher probabilities for chain {chain.id!r} (number {i}) have "
                                     f"{probs.shape[0]} rows, not {y.size}")
                scored = y >= 0
                onehot = np.eye(probs.shape[1], dtype=np.float32)[y[scored]]  # (scored, K)
                self.targets.append(teacher_weight * probs[scored] + (1 - teacher_weight) * onehot)  # (scored, K)

    def __len__(self) -> int:
        return len(self.codes)

    def labelled(self, rows) -> tuple[Layout, np.ndarray]:
        """The layout of chains ``rows`` and the labels of its scored rows, in row order."""
        layout = lay_out([self.codes[i] for i in rows], self.gap, [self.labels[i] for i in rows])
        return layout, layout.labels[layout.labels >= 0]

    def examples(self, rows: np.ndarray) -> tuple[Layout, np.ndarray]:
        """What a learner steps on: ``labelled(rows)``, or with a teacher the (n, K) distributions."""
        layout, labels = self.labelled(rows)
        if self.targets is not None:
            return layout, np.concatenate([self.targets[i] for i in rows])
        return layout, labels

    def eval_batches(self, size: int):
        """(layout, labels) over every chain in order, about ``size`` residues at a time (labels, not a teacher's)."""
        for group in group_by_rows(self.lengths, size):
            yield self.labelled(group)
