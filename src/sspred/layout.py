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
from typing import Any

import numpy as np

from sspred.alphabet import MASKED, SPACER
from sspred.heads import TARGETS, Heads, present


@dataclass
class Layout:
    """Chains end to end: ``codes`` (N,) uint8 with spacer gaps, ``valid`` (N,) bool, ``labels`` (N,)
    int64 (MASKED on gaps and unscored residues), and each chain's first row in ``starts``. ``extra``:
    per-row input features beside one-hot (N, D) float32, zero on gap rows (a language model's states,
    sspred.unirep), or None."""

    codes: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    extra: np.ndarray | None = None

    def split(self, rows: np.ndarray) -> list[np.ndarray]:
        """Per-chain slices of per-row outputs (N, ...) -> [(L_i, ...)]."""
        return [rows[s:s + n] for s, n in zip(self.starts, self.lengths)]

    @property
    def gap_rows(self) -> int:
        """The spacer rows before the first chain (and between and after chains): ``lay_out``'s gap."""
        return int(self.starts[0]) if self.starts.size else int(self.codes.size)

    def target_counts(self, every_residue: bool = False) -> np.ndarray:
        """(C,) target rows of each chain: its scored residues (labels >= 0), or with ``every_residue`` all its
        residues (a multi-task batch's targets, one per valid row)."""
        which = self.valid if every_residue else self.labels >= 0  # (N,)
        return np.array([int(which[s:s + n].sum()) for s, n in zip(self.starts, self.lengths)], dtype=np.int64)

    def chains(self, which: np.ndarray) -> "Layout":
        """The layout of chains ``which`` (indices, in that order) alone, the same gap apart, labels kept."""
        def rows(a: np.ndarray) -> list[np.ndarray]:
            return [a[self.starts[k]:self.starts[k] + self.lengths[k]] for k in which]

        return lay_out(rows(self.codes), self.gap_rows, rows(self.labels),
                       rows(self.extra) if self.extra is not None else None)


def chain_rows(counts: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Indices of chains ``which``'s rows in an array of per-chain blocks laid end to end, ``counts`` (C,) rows
    each (targets or predictions in row order, ``Layout.target_counts``): (sum of counts[which],)."""
    offsets = np.concatenate([[0], np.cumsum(counts)])  # (C + 1,)
    parts = [np.arange(offsets[k], offsets[k + 1]) for k in which]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)


def lay_out(codes: list[np.ndarray], gap_rows: int, labels: list[np.ndarray] | None = None,
            extra: list[np.ndarray] | None = None) -> Layout:
    """Chains ``codes`` [(L_i,)] end to end with ``gap_rows`` spacers before, between and after them;
    ``extra`` [(L_i, D)]: each chain's input features, laid out the same way (float32, zeros on gaps)."""
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
    feats = None
    if extra is not None:
        # The features' own type (float16 from a cache), so a batch is copied once; the learners convert.
        feats = np.zeros((n, extra[0].shape[1] if extra else 0), dtype=extra[0].dtype if extra else np.float32)
        for s, f in zip(starts, extra):
            feats[s:s + f.shape[0]] = f
    return Layout(out, valid, y, starts, lengths, feats)


def group_by_rows(lengths: np.ndarray, max_rows: int, order: np.ndarray | None = None) -> list[np.ndarray]:
    """Chain indices grouped in ``order`` so that each group holds at most ``max_rows`` rows
    (``lengths`` (C,) rows per chain; a longer chain goes alone)."""
    order = np.arange(lengths.size) if order is None else order
    groups: list[np.ndarray] = []
    current: list[int | np.integer] = []
    rows = 0
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

    With ``heads`` of more than one head (a multi-task network, sspred.heads) the targets are a dict,
    head name -> one target per residue row of the layout (``layout.valid``), ABSENT where that residue
    has no label for that head, so a chain counts if any head has a label for it. With a teacher as
    well, the first head's targets become distributions, and a chain without any of that head's labels
    (an unlabelled chain) takes the teacher's probabilities on every residue.
    """

    def __init__(self, chains, gap_rows: int, states: str = "3", teacher: list[np.ndarray] | None = None,
                 teacher_weight: float = 0.5, heads: Heads | None = None, features: list[np.ndarray] | None = None):
        if isinstance(gap_rows, bool) or not isinstance(gap_rows, (int, np.integer)) or gap_rows < 0:
            raise TypeError(f"gap_rows must be a non-negative int (engines.spec.gap of the layers), got {gap_rows!r}")
        if not 0 <= teacher_weight <= 1:
            raise ValueError(f"teacher weight must lie in [0, 1], got {teacher_weight}")
        self.gap = int(gap_rows)
        self.heads = heads if heads is not None and len(heads.names) > 1 else None
        per_head = [self._head_targets(c) for c in chains] if self.heads is not None else []
        # A multi-task pool mixes sets: a chain without the states head's labels (netsurfp2's in an 8-state
        # model) has that head absent rather than failing as Chain.labels does.
        labels = ([t[self.heads.names[0]] for t in per_head] if self.heads is not None
                  else [c.labels(states) for c in chains])
        if teacher is not None:
            teacher = [self._teacher(c, i, teacher, y) for i, (c, y) in enumerate(zip(chains, labels))]
        if self.heads is None:
            keep = [i for i, y in enumerate(labels) if (y >= 0).any()]
        else:
            keep = [i for i, t in enumerate(per_head) if teacher is not None or any(present(y).any() for y in t.values())]
        # A chain with no scored residue would give a batch of its own nothing to learn from (a NaN mean).
        self.codes = [chains[i].codes for i in keep]
        self.labels = [labels[i] for i in keep]
        #: Each chain's (L, D) input features beside one-hot (e.g. memory-mapped float16 UniRep states), or None.
        self.features = None
        if features is not None:
            if len(features) != len(chains):
                raise ValueError(f"features for {len(features)} chains, not {len(chains)}")
            for c, f in zip(chains, features):
                if f.shape[0] != c.codes.size:
                    raise ValueError(f"features for chain {c.id!r} have {f.shape[0]} rows, not {c.codes.size}")
            self.features = [features[i] for i in keep]
        self.lengths = np.array([c.size for c in self.codes], dtype=np.int64)
        self.targets: list[Any] | None = None  # per chain: a dict of head targets, or teacher distributions
        if self.heads is not None:
            first = self.heads.names[0]
            if teacher is not None:
                for i in keep:
                    per_head[i][first] = self._blend(teacher[i], labels[i], teacher_weight, whole=True)
            self.targets = [per_head[i] for i in keep]
        elif teacher is not None:
            self.targets = [self._blend(teacher[i], labels[i], teacher_weight, whole=False) for i in keep]

    def _head_targets(self, chain) -> dict[str, np.ndarray]:
        assert self.heads is not None  # called only with several heads
        return {name: np.asarray(TARGETS[name](chain), dtype=np.int64) for name in self.heads.names}

    @staticmethod
    def _teacher(chain, i: int, teacher: list[np.ndarray], y: np.ndarray) -> np.ndarray:
        probs = np.asarray(teacher[i], dtype=np.float32)  # (L, K)
        if probs.shape[0] != y.size:
            raise ValueError(f"teacher probabilities for chain {chain.id!r} (number {i}) have "
                             f"{probs.shape[0]} rows, not {y.size}")
        return probs

    @staticmethod
    def _blend(probs: np.ndarray, y: np.ndarray, weight: float, whole: bool) -> np.ndarray:
        """Targets of one chain from its teacher's (L, K) and its labels (L,): the scored rows' mix (scored, K),
        or with ``whole`` every row's (L, K), zero rows where unscored, or the teacher's alone for a chain
        without a label."""
        scored = y >= 0
        if whole and not scored.any():
            return probs
        onehot = np.eye(probs.shape[1], dtype=np.float32)[y[scored]]  # (scored, K)
        mixed = weight * probs[scored] + (1 - weight) * onehot  # (scored, K)
        if not whole:
            return mixed
        out = np.zeros_like(probs)  # (L, K)
        out[scored] = mixed
        return out

    def __len__(self) -> int:
        return len(self.codes)

    def labelled(self, rows) -> tuple[Layout, np.ndarray]:
        """The layout of chains ``rows`` and the labels of its scored rows, in row order."""
        extra = [self.features[i] for i in rows] if self.features is not None else None
        layout = lay_out([self.codes[i] for i in rows], self.gap, [self.labels[i] for i in rows], extra)
        return layout, layout.labels[layout.labels >= 0]

    def examples(self, rows: np.ndarray) -> tuple[Layout, np.ndarray | dict[str, np.ndarray]]:
        """What a learner steps on: ``labelled(rows)``, or with a teacher the (n, K) distributions, or for
        several heads name -> targets of every residue row, in row order."""
        layout, labels = self.labelled(rows)
        if self.heads is not None:
            assert self.targets is not None  # set with the heads
            return layout, {name: np.concatenate([self.targets[i][name] for i in rows]) for name in self.heads.names}
        if self.targets is not None:
            return layout, np.concatenate([self.targets[i] for i in rows])
        return layout, labels

    def eval_batches(self, size: int):
        """(layout, labels) over every chain in order, about ``size`` residues at a time (labels, not a teacher's)."""
        for group in group_by_rows(self.lengths, size):
            yield self.labelled(group)
