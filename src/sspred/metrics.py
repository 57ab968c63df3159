"""Scores of predicted against true states: pure functions of integer label arrays.

Masked residues (label < 0, ``MASKED``) are unobserved or outside the scored
segment. They are dropped before anything is counted by the residue scores
(Q3/Q8, confusion, precision/recall/MCC, calibration). The segment scores
(SOV'99, SOV_refine) keep the chain's geometry instead: a masked residue is a
gap that ends a segment in the observed *and* in the predicted string, and gaps
themselves are never scored (see ``sov``).

Every percentage is in percent (0-100); ECE and probabilities are fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from sspred.alphabet import CONSERVATION_CLASSES, CONSERVATION_UNKNOWN, MASKED


def scored(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the masked residues (label < 0) from a pair of label arrays.

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (N,)
        True state indices; negative for a masked residue.
    y_pred : numpy.ndarray of int, shape (N,)
        Predicted state indices.

    Returns
    -------
    y_true, y_pred : numpy.ndarray of int, shape (M,)
        The two arrays at the M residues where ``y_true >= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import scored
    >>> scored(np.array([0, -1, 2]), np.array([1, 1, 2]))
    (array([0, 2]), array([1, 2]))
    """
    keep = y_true >= 0
    return y_true[keep], y_pred[keep]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Confusion matrix of predicted against true states, masked residues dropped.

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (N,)
        True state indices 0..k-1; negative for a masked residue.
    y_pred : numpy.ndarray of int, shape (N,)
        Predicted state indices 0..k-1.
    k : int
        The number of states.

    Returns
    -------
    numpy.ndarray of int, shape (k, k)
        Counts: rows are true states, columns predicted states.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import confusion
    >>> confusion(np.array([0, 1, 1, -1]), np.array([0, 1, 2, 2]), 3)
    array([[1, 0, 0],
           [0, 1, 1],
           [0, 0, 0]])
    """
    t, p = scored(y_true, y_pred)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def accuracy(cm: np.ndarray) -> float:
    """Q3 (or Q8): the percent of scored residues predicted correctly.

    Parameters
    ----------
    cm : numpy.ndarray of int, shape (K, K)
        A confusion matrix (``confusion``).

    Returns
    -------
    float
        The percent (0-100) on the diagonal; NaN for an empty matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import accuracy
    >>> accuracy(np.array([[3, 1], [0, 4]]))
    87.5
    """
    total = cm.sum()
    return float(100.0 * np.trace(cm) / total) if total else float("nan")


def per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and Matthews correlation of each class against the rest (one-vs-rest).

    Parameters
    ----------
    cm : numpy.ndarray of int, shape (K, K)
        A confusion matrix (``confusion``): rows true, columns predicted.

    Returns
    -------
    dict of str to numpy.ndarray of float, shape (K,)
        "precision" and "recall" (fractions; NaN where a class is never predicted or never true) and "mcc"
        (0 where a margin is empty).

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import per_class
    >>> per_class(np.array([[3, 1], [0, 4]]))["recall"]
    array([0.75, 1.  ])
    """
    cm = cm.astype(np.float64)
    n = cm.sum()
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = n - tp - fp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        # Matthews (1975); the 1988 paper's C_alpha, C_beta, C_coil are this coefficient.
        mcc = np.where(denom > 0, (tp * tn - fp * fn) / denom, 0.0)
    return {"precision": precision, "recall": recall, "mcc": mcc}


# --- per-chain accuracy ---------------------------------------------------------------------

def chain_counts(y_true: Sequence[np.ndarray], y_pred: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Correct and scored residues of each chain.

    Parameters
    ----------
    y_true : sequence of numpy.ndarray of int, each shape (L_i,)
        True state indices per chain; negative for a masked residue.
    y_pred : sequence of numpy.ndarray of int, each shape (L_i,)
        Predicted state indices per chain.

    Returns
    -------
    correct, total : numpy.ndarray of int64, shape (n_chains,)
        Residues predicted correctly, and residues scored, in each chain.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import chain_counts
    >>> chain_counts([np.array([0, 1, -1]), np.array([2])], [np.array([0, 0, 0]), np.array([2])])
    (array([1, 1]), array([2, 1]))
    """
    correct = np.array([int(((t >= 0) & (t == p)).sum()) for t, p in zip(y_true, y_pred)], dtype=np.int64)
    total = np.array([int((t >= 0).sum()) for t in y_true], dtype=np.int64)
    return correct, total


def pooled_accuracy(correct: np.ndarray, total: np.ndarray) -> float:
    """Percent correct over all scored residues of all chains (long chains weigh more).

    Parameters
    ----------
    correct : numpy.ndarray of int, shape (n_chains,)
        Residues predicted correctly per chain (``chain_counts``).
    total : numpy.ndarray of int, shape (n_chains,)
        Residues scored per chain.

    Returns
    -------
    float
        The percent (0-100); NaN when nothing is scored.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import pooled_accuracy
    >>> pooled_accuracy(np.array([1, 1]), np.array([2, 1]))
    66.66666666666667
    """
    n = total.sum()
    return float(100.0 * correct.sum() / n) if n else float("nan")


def chain_mean_accuracy(correct: np.ndarray, total: np.ndarray) -> float:
    """Mean over chains of each chain's percent correct; chains with no scored residue are left out.

    Parameters
    ----------
    correct : numpy.ndarray of int, shape (n_chains,)
        Residues predicted correctly per chain (``chain_counts``).
    total : numpy.ndarray of int, shape (n_chains,)
        Residues scored per chain.

    Returns
    -------
    float
        The mean percent (0-100); NaN when no chain has a scored residue.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import chain_mean_accuracy
    >>> chain_mean_accuracy(np.array([1, 1, 0]), np.array([2, 1, 0]))
    75.0
    """
    keep = total > 0
    return float(100.0 * np.mean(correct[keep] / total[keep])) if keep.any() else float("nan")


# --- segment overlap: SOV'99 and SOV_refine -------------------------------------------------

#: Code of a masked residue inside ``sov``: it belongs to no state, so it ends segments and is never scored.
GAP = MASKED


def runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of equal codes.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (L,)
        State codes of one chain.

    Returns
    -------
    start, end, code : numpy.ndarray of int, shape (n_runs,)
        Each run's first and last (inclusive) index, and its code.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import runs
    >>> runs(np.array([0, 0, 1, 1, 1, 0]))
    (array([0, 2, 5]), array([1, 4, 5]), array([0, 1, 0]))
    """
    codes = np.asarray(codes)
    if codes.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change - 1, [codes.size - 1]])
    return starts, ends, codes[starts]


@dataclass
class SovScore:
    """SOV of one chain: per-state sums, so that chains and states can be combined later.

    ``numer[k]`` is the sum over overlapping pairs of (minov + delta) / maxov * len(s1)
    for state k; ``norm[k]`` is N(k). SOV(k) = 100 * numer[k] / norm[k], and the
    overall SOV = 100 * sum(numer) / sum(norm) (Zemla et al. 1999, eq. 3 and 4).

    Parameters
    ----------
    numer : numpy.ndarray of float, shape (K,)
        The numerator sum of each state.
    norm : numpy.ndarray of float, shape (K,)
        The normaliser N(k) of each state.

    Examples
    --------
    >>> from sspred.metrics import sov_strings
    >>> score = sov_strings("CHHHC", "CHHHC")
    >>> score.overall, score.per_state.tolist()
    (100.0, [100.0, 100.0, nan])
    """

    numer: np.ndarray
    norm: np.ndarray

    @property
    def overall(self) -> float:
        """The chain's overall SOV in percent (0-100); NaN when no state is observed."""
        n = self.norm.sum()
        return float(100.0 * self.numer.sum() / n) if n else float("nan")

    @property
    def per_state(self) -> np.ndarray:
        """Each state's SOV in percent, shape (K,); NaN for a state the chain does not observe."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.norm > 0, 100.0 * self.numer / np.maximum(self.norm, 1), np.nan)


def _delta_sov99(minov: np.ndarray, maxov: np.ndarray, len1: np.ndarray, len2: np.ndarray,
                 ctx: dict[str, float]) -> np.ndarray:
    # Zemla et al. (1999): delta = min(maxov - minov, minov, int(len(s1)/2), int(len(s2)/2)).
    return np.minimum.reduce([maxov - minov, minov, len1 // 2, len2 // 2]).astype(np.float64)


def _delta_refine(minov: np.ndarray, maxov: np.ndarray, len1: np.ndarray, len2: np.ndarray,
                  ctx: dict[str, float]) -> np.ndarray:
    # Liu & Wang (2018): delta = min(maxov - minov, delta_all * len(s1)/L * minov/maxov),
    # delta_all = lambda * (number of states in the reference) / sum_j (len(s_j) / L)^2
    # over every segment s_j of the reference, whatever its state.
    return np.minimum(maxov - minov, ctx["delta_all"] * (len1 / ctx["length"]) * (minov / maxov))


#: Allowance rules keyed by the name used in reports.
SOV_DELTAS: dict[str, Callable] = {"sov99": _delta_sov99, "sov_refine": _delta_refine}


def sov(y_true: np.ndarray, y_pred: np.ndarray, k: int, kind: str = "sov99", lam: float = 1.0) -> SovScore:
    """SOV'99 (Zemla et al. 1999) or SOV_refine (Liu & Wang 2018) of one chain, states 0..k-1.

    For every state i and every observed segment s1 of i, each predicted segment s2
    of i that overlaps s1 adds (minov + delta) / maxov * len(s1) to the sum, and
    len(s1) to N(i); an s1 that no s2 overlaps adds only len(s1) to N(i).

    Masked residues (y_true < 0) are gaps in both strings: a segment never spans
    one, in the observed or the predicted string, and gaps are not scored. For
    SOV_refine, L and the segments in delta_all are those of the scored residues.
    A chain without masked residues gets exactly the published definitions.

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (L,)
        Observed state indices; negative for a masked residue.
    y_pred : numpy.ndarray of int, shape (L,)
        Predicted state indices.
    k : int
        The number of states.
    kind : {"sov99", "sov_refine"}, default "sov99"
        The allowance rule (a key of ``SOV_DELTAS``).
    lam : float, default 1.0
        SOV_refine's lambda, which scales its allowance; unused by SOV'99.

    Returns
    -------
    SovScore
        The per-state sums, from which ``overall`` and ``per_state`` follow.

    Raises
    ------
    ValueError
        For an unknown ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import sov
    >>> round(sov(np.array([0, 1, 1, 1, 0]), np.array([0, 1, 1, 0, 0]), 3).overall, 1)
    90.0
    """
    if kind not in SOV_DELTAS:
        raise ValueError(f"unknown SOV kind {kind!r}; choose from {', '.join(SOV_DELTAS)}")
    t = np.asarray(y_true, dtype=np.int64)
    p = np.where(t >= 0, np.asarray(y_pred, dtype=np.int64), GAP)
    ts, te, tc = runs(t)
    ps, pe, pc = runs(p)
    observed = tc >= 0
    length = int((t >= 0).sum())
    ctx = {"length": max(length, 1)}
    if kind == "sov_refine" and length:
        seg_len = (te - ts + 1)[observed]
        n_states = np.unique(tc[observed]).size
        ctx["delta_all"] = lam * n_states / np.sum((seg_len / length) ** 2)
    numer = np.zeros(k, dtype=np.float64)
    norm = np.zeros(k, dtype=np.float64)
    for state in range(k):
        a, b = ts[tc == state], te[tc == state]  # observed segments of this state, sorted
        c, d = ps[pc == state], pe[pc == state]  # predicted segments, sorted
        if a.size == 0:
            continue
        # Segments of one string never overlap each other, so the predicted segments that
        # overlap s1 = [a, b] form one contiguous index range: end >= a and start <= b.
        lo = np.searchsorted(d, a, side="left")
        hi = np.searchsorted(c, b, side="right")
        n_pairs = np.maximum(hi - lo, 0)
        len1_all = b - a + 1
        # N(i): len(s1) once per overlapping pair, and once for an s1 with no overlap.
        norm[state] = float(np.sum(len1_all * np.maximum(n_pairs, 1)))
        if n_pairs.sum() == 0:
            continue
        i1 = np.repeat(np.arange(a.size), n_pairs)  # (P,) observed segment of each pair
        i2 = np.concatenate([np.arange(l, h) for l, h in zip(lo, hi) if h > l])  # (P,) predicted segment
        s1a, s1b, s2a, s2b = a[i1], b[i1], c[i2], d[i2]
        minov = np.minimum(s1b, s2b) - np.maximum(s1a, s2a) + 1
        maxov = np.maximum(s1b, s2b) - np.minimum(s1a, s2a) + 1
        len1, len2 = s1b - s1a + 1, s2b - s2a + 1
        delta = SOV_DELTAS[kind](minov, maxov, len1, len2, ctx)
        numer[state] = float(np.sum((minov + delta) / maxov * len1))
    return SovScore(numer, norm)


def encode_states(text: str, states: str, masked: str = "X") -> np.ndarray:
    """A state string (e.g. 'CHHHEEC') as indices into ``states``; ``masked`` letters become MASKED.

    Parameters
    ----------
    text : str
        One state letter per residue.
    states : str
        The state order, e.g. "CHE".
    masked : str, default "X"
        Letters that mark a masked (unscored) residue.

    Returns
    -------
    numpy.ndarray of int64, shape (len(text),)
        The index of each letter in ``states``, or ``sspred.alphabet.MASKED`` (-1).

    Raises
    ------
    ValueError
        For a letter that is neither a state nor a mask, naming its position.

    Examples
    --------
    >>> from sspred.metrics import encode_states
    >>> encode_states("CHXE", "CHE")
    array([ 0,  1, -1,  2])
    """
    lookup = {s: i for i, s in enumerate(states)}
    lookup.update({m: MASKED for m in masked})
    try:
        return np.array([lookup[ch] for ch in text], dtype=np.int64)
    except KeyError as exc:
        ch = exc.args[0]
        raise ValueError(f"position {text.index(ch) + 1}: state letter {ch!r} is not one of {states!r} "
                         f"or the mask {masked!r}") from None


def sov_strings(observed: str, predicted: str, states: str = "CHE", kind: str = "sov99",
                lam: float = 1.0) -> SovScore:
    """SOV of two state strings of equal length; 'X' in ``observed`` is masked.

    Parameters
    ----------
    observed : str
        The observed states, one letter per residue.
    predicted : str
        The predicted states, as long as ``observed``.
    states : str, default "CHE"
        The state order.
    kind : {"sov99", "sov_refine"}, default "sov99"
        The allowance rule (``sov``).
    lam : float, default 1.0
        SOV_refine's lambda.

    Returns
    -------
    SovScore
        As ``sov`` returns it.

    Raises
    ------
    ValueError
        When the strings differ in length or hold a letter not in ``states``.

    Examples
    --------
    >>> from sspred.metrics import sov_strings
    >>> round(sov_strings("CHHHC", "CHHCC").overall, 1)
    90.0
    """
    if len(observed) != len(predicted):
        raise ValueError(f"observed has {len(observed)} states but predicted has {len(predicted)}")
    return sov(encode_states(observed, states), encode_states(predicted, states), len(states), kind, lam)


def chain_mean_sov(scores: Sequence[SovScore], k: int) -> dict:
    """Mean over chains of the overall SOV, and of each state's SOV over the chains where that state is observed.

    Parameters
    ----------
    scores : sequence of SovScore
        One per chain (``sov``).
    k : int
        The number of states.

    Returns
    -------
    dict
        "overall": float, and "per_state": list of K floats, in percent; NaN where no chain qualifies (e.g. a
        state that no chain observes).

    Examples
    --------
    >>> from sspred.metrics import chain_mean_sov, sov_strings
    >>> chain_mean_sov([sov_strings("CHHHC", "CHHHC"), sov_strings("CCEEC", "CCCCC")], 3)
    {'overall': 64.0, 'per_state': [73.33333333333333, 100.0, 0.0]}
    """
    overall = np.array([s.overall for s in scores], dtype=np.float64)
    per_state = np.array([s.per_state for s in scores], dtype=np.float64).reshape(len(scores), k)  # (chains, K)
    with np.errstate(invalid="ignore"):
        return {"overall": float(np.nanmean(overall)) if np.isfinite(overall).any() else float("nan"),
                "per_state": [float(np.nanmean(col)) if np.isfinite(col).any() else float("nan")
                              for col in per_state.T]}


# --- bootstrap over chains --------------------------------------------------------------------

def bootstrap_ci(per_chain: dict[str, np.ndarray], statistic: Callable[[dict[str, np.ndarray]], float],
                 rng: np.random.Generator, n_boot: int = 1000, level: float = 0.95) -> tuple[float, float]:
    """Percentile confidence interval of ``statistic`` under resampling chains with replacement.

    Chains, not residues, are resampled because residues of one chain are not independent.

    Parameters
    ----------
    per_chain : dict of str to numpy.ndarray
        Arrays whose first axis is the chain, shape (n_chains, ...).
    statistic : callable
        Takes such a dict (a resample) and returns one number.
    rng : numpy.random.Generator
        The source of the resamples.
    n_boot : int, default 1000
        The number of resamples.
    level : float, default 0.95
        The coverage of the interval.

    Returns
    -------
    low, high : float
        The interval's ends; NaN for no chains or ``n_boot <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import bootstrap_ci, pooled_accuracy
    >>> counts = {"correct": np.array([8, 5, 9]), "total": np.array([10, 10, 10])}
    >>> low, high = bootstrap_ci(counts, lambda d: pooled_accuracy(d["correct"], d["total"]),
    ...                          np.random.default_rng(0), n_boot=200)
    >>> 50 <= low <= high <= 90
    True
    """
    n = len(next(iter(per_chain.values())))
    if n == 0 or n_boot <= 0:
        return float("nan"), float("nan")
    values = np.empty(n_boot, dtype=np.float64)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        values[b] = statistic({k: v[idx] for k, v in per_chain.items()})
    alpha = (1.0 - level) / 2.0
    lo, hi = np.nanquantile(values, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


# --- calibration -------------------------------------------------------------------------------

def reliability(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Reliability curve of the top-label confidence (Guo et al. 2017).

    Bin m holds residues whose top probability lies in ((m-1)/M, m/M].

    Parameters
    ----------
    probs : numpy.ndarray of float, shape (N, K)
        Probabilities; each row sums to one.
    y_true : numpy.ndarray of int, shape (N,)
        True state indices; masked residues (negative) are dropped.
    n_bins : int, default 10
        The number of bins M.

    Returns
    -------
    dict of str to numpy.ndarray
        "edges" (M+1,), and per bin (M,): "count", mean "confidence" and "accuracy" (fractions; NaN when
        empty).

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import reliability
    >>> curve = reliability(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]), n_bins=2)
    >>> curve["count"], curve["accuracy"]
    (array([0, 2]), array([nan, 0.5]))
    """
    keep = y_true >= 0
    p, y = probs[keep], y_true[keep]
    conf = p.max(axis=1)  # (N,)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Right-closed bins found against the same edges that are reported (not ceil(conf * M), where
    # 0.3 * 10 = 3.0000000000000004 would put 0.3 into (0.3, 0.4]).
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, weights=conf, minlength=n_bins) / count
        acc = np.bincount(which, weights=correct, minlength=n_bins) / count
    return {"edges": edges, "count": count, "confidence": mean_conf, "accuracy": acc}


def expected_calibration_error(curve: dict[str, np.ndarray]) -> float:
    """ECE: the sum over bins of (n_b / N) * abs(accuracy_b - confidence_b) (Naeini et al. 2015).

    Parameters
    ----------
    curve : dict of str to numpy.ndarray
        A reliability curve (``reliability``).

    Returns
    -------
    float
        The ECE as a fraction; NaN for an empty curve.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import expected_calibration_error, reliability
    >>> round(expected_calibration_error(reliability(np.array([[0.9, 0.1], [0.6, 0.4]]), np.array([0, 1]))), 3)
    0.35
    """
    count = curve["count"]
    n = count.sum()
    if n == 0:
        return float("nan")
    used = count > 0
    return float(np.sum(count[used] / n * np.abs(curve["accuracy"][used] - curve["confidence"][used])))


def accuracy_by_level(levels: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n_levels: int) -> dict[str, np.ndarray]:
    """Residue count and percent correct at each integer level 0..n_levels-1 (e.g. the .horiz confidence digit).

    Parameters
    ----------
    levels : numpy.ndarray of int, shape (N,)
        The level of each residue.
    y_true : numpy.ndarray of int, shape (N,)
        True state indices; masked residues (negative) are dropped.
    y_pred : numpy.ndarray of int, shape (N,)
        Predicted state indices.
    n_levels : int
        The number of levels.

    Returns
    -------
    dict of str to numpy.ndarray, shape (n_levels,)
        "count" (int) and "accuracy" (percent; NaN at an empty level).

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import accuracy_by_level
    >>> accuracy_by_level(np.array([0, 1, 1]), np.array([0, 1, 2]), np.array([1, 1, 1]), 2)["accuracy"]
    array([ 0., 50.])
    """
    keep = y_true >= 0
    lv, ok = levels[keep], (y_true[keep] == y_pred[keep]).astype(np.float64)
    count = np.bincount(lv, minlength=n_levels)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = 100.0 * np.bincount(lv, weights=ok, minlength=n_levels) / count
    return {"count": count, "accuracy": acc}


# --- per-residue scores of the extra targets: disorder (binary) and conservation (classes 1-9) ---------------
#
# Disorder targets are 1 (disordered, the positive class), 0, or negative (unknown: dropped, as MASKED is above).
# AUC, MCC and Spearman's rho are fractions in [-1, 1] or [0, 1]; the conservation accuracy is in percent.

def average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of the ranks they span (scipy's "average").

    Parameters
    ----------
    x : numpy.ndarray, shape (N,)
        The values to rank.

    Returns
    -------
    numpy.ndarray of float64, shape (N,)
        The rank of each value.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import average_ranks
    >>> average_ranks(np.array([10, 20, 10, 30]))
    array([1.5, 3. , 1.5, 4. ])
    """
    x = np.asarray(x)
    order = np.argsort(x, kind="mergesort")
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)  # tie groups, ascending
    # A group starting at sorted position f (0-based) with c members spans ranks f+1 .. f+c: mean f + (c+1)/2.
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    return ranks


def _binary(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Known residues only: positives (y_true == 1) as booleans, and their scores as float64."""
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    if y_true.shape != scores.shape:
        raise ValueError(f"labels {y_true.shape} and scores {scores.shape} differ in shape")
    keep = y_true >= 0
    return y_true[keep] == 1, scores[keep]


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` (higher = more likely positive) for binary ``y_true``.

    Rank form (Mann-Whitney U / (n_pos n_neg)): the chance that a random positive
    outscores a random negative, ties counting one half through averaged ranks.

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (N,)
        1 for a positive, 0 for a negative, negative for unknown (dropped).
    scores : numpy.ndarray of float, shape (N,)
        The score of each residue.

    Returns
    -------
    float
        The AUC, a fraction; NaN when only one class is present.

    Raises
    ------
    ValueError
        When the two arrays differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import roc_auc
    >>> roc_auc(np.array([1, 0, 1, 0, -1]), np.array([0.9, 0.2, 0.4, 0.5, 0.0]))
    0.75
    """
    pos, s = _binary(y_true, scores)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    u = average_ranks(s)[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _mcc(tp: ArrayLike, fp: ArrayLike, fn: ArrayLike, tn: ArrayLike) -> np.ndarray:
    """Matthews (1975) from counts (scalars or arrays); 0 where a margin is empty, as ``per_class`` does."""
    tp, fp, fn, tn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn, tn))
    denom = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, (tp * tn - fp * fn) / denom, 0.0)


def binary_mcc(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """MCC of the prediction "positive where score >= threshold" against binary ``y_true`` (unknowns dropped).

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (N,)
        1 for a positive, 0 for a negative, negative for unknown (dropped).
    scores : numpy.ndarray of float, shape (N,)
        The score of each residue.
    threshold : float
        Scores at or above it are predicted positive.

    Returns
    -------
    float
        Matthews' correlation in [-1, 1]; 0 where a margin is empty.

    Raises
    ------
    ValueError
        When the two arrays differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import binary_mcc
    >>> binary_mcc(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.4, 0.5]), 0.4)
    0.5773502691896258
    """
    pos, s = _binary(y_true, scores)
    pred = s >= threshold
    tp, fp = int((pred & pos).sum()), int((pred & ~pos).sum())
    fn, tn = int((~pred & pos).sum()), int((~pred & ~pos).sum())
    return float(_mcc(tp, fp, fn, tn))


def best_mcc_threshold(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The threshold on ``scores`` that maximises ``binary_mcc``, found on validation data.

    Every distinct score is tried as "positive where score >= t" in one pass
    over the sorted scores; of equal MCCs the highest threshold wins. Apply
    the threshold, not the MCC, to the test set.

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (N,)
        1 for a positive, 0 for a negative, negative for unknown (dropped).
    scores : numpy.ndarray of float, shape (N,)
        The score of each residue.

    Returns
    -------
    threshold, mcc : float
        The best threshold and its MCC.

    Raises
    ------
    ValueError
        When no residue has a known label, or the arrays differ in shape.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import best_mcc_threshold
    >>> best_mcc_threshold(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.6, 0.5]))
    (0.6, 1.0)
    """
    pos, s = _binary(y_true, scores)
    if s.size == 0:
        raise ValueError("no residue with a known label to choose a threshold on")
    order = np.argsort(-s, kind="mergesort")
    s_desc, pos_desc = s[order], pos[order]
    # Last index of each run of equal scores: predicting positive down to there is threshold = that score.
    ends = np.flatnonzero(np.r_[s_desc[1:] != s_desc[:-1], True])
    tp = np.cumsum(pos_desc)[ends]            # (T,) positives at or above each candidate threshold
    fp = (ends + 1) - tp                       # (T,)
    fn, tn = pos.sum() - tp, (~pos).sum() - fp
    mcc = _mcc(tp, fp, fn, tn)                 # (T,)
    k = int(np.argmax(mcc))                    # first maximum = highest threshold
    return float(s_desc[ends[k]]), float(mcc[k])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho: Pearson's correlation of the averaged ranks of ``x`` and ``y``.

    Parameters
    ----------
    x : numpy.ndarray, shape (N,)
        The first values.
    y : numpy.ndarray, shape (N,)
        The second values.

    Returns
    -------
    float
        Rho in [-1, 1]; NaN if one array is constant.

    Raises
    ------
    ValueError
        When the arrays are not 1-D of one length.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import spearman
    >>> spearman(np.array([1, 2, 3, 4]), np.array([10, 30, 20, 40]))
    0.8
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"spearman needs two 1-D arrays of one length, got {x.shape} and {y.shape}")
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else float("nan")


#: Conservation class (index 0-9) to its group: 1-3 variable (0), 4-6 intermediate (1), 7-9 conserved (2);
#: 0, unknown, maps to MASKED. This is the grouping issue 14 attributes to Marquet et al. (2021); the paper's
#: own text could not be reached to confirm it (FLIP's README defines only the 1 = very variable to 9 = very
#: conserved scale), so check it there before comparing with published three-state numbers.
CONSERVATION_GROUP = np.array([MASKED, 0, 0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int8)
assert CONSERVATION_GROUP.size == CONSERVATION_CLASSES + 1 and CONSERVATION_UNKNOWN == 0


def conservation_groups(classes: np.ndarray) -> np.ndarray:
    """Group 0/1/2 (variable, intermediate, conserved) of each conservation class 1-9; MASKED for unknown (0).

    Parameters
    ----------
    classes : numpy.ndarray of int, shape (N,)
        Conservation classes 0-9, 0 for unknown.

    Returns
    -------
    numpy.ndarray of int8, shape (N,)
        The group of each class (``CONSERVATION_GROUP``).

    Raises
    ------
    ValueError
        For a class outside 0-9.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import conservation_groups
    >>> conservation_groups(np.array([0, 1, 5, 9]))
    array([-1,  0,  1,  2], dtype=int8)
    """
    classes = np.asarray(classes)
    if classes.size and (classes.min() < 0 or classes.max() > CONSERVATION_CLASSES):
        raise ValueError(f"conservation classes run 0-{CONSERVATION_CLASSES}, got {classes.min()}..{classes.max()}")
    return CONSERVATION_GROUP[classes]


def conservation_q3(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Percent of residues with a known class whose predicted class (1-9) lies in the true class's group.

    Parameters
    ----------
    y_true : numpy.ndarray of int, shape (N,)
        True conservation classes 0-9 (0 unknown, dropped).
    y_pred : numpy.ndarray of int, shape (N,)
        Predicted classes 1-9.

    Returns
    -------
    float
        The percent (0-100); NaN when no class is known.

    Raises
    ------
    ValueError
        For a class outside 0-9.

    Examples
    --------
    >>> import numpy as np
    >>> from sspred.metrics import conservation_q3
    >>> conservation_q3(np.array([1, 5, 9, 0]), np.array([3, 7, 8, 2]))
    66.66666666666667
    """
    t, p = conservation_groups(y_true), conservation_groups(y_pred)
    keep = t >= 0
    n = int(keep.sum())
    return float(100.0 * (t[keep] == p[keep]).sum() / n) if n else float("nan")
