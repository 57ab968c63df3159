"""How a recipe chooses its members: the greedy step on validation, as a pure function of probabilities."""

from __future__ import annotations

import numpy as np


def ensemble_accuracy(probs: dict[str, np.ndarray], y: np.ndarray, members: list[str]) -> float:
    """Accuracy in % of the members' averaged probabilities: ``probs[m]`` (n, K) on the n scored residues,
    labels ``y`` (n,) as indices into the K states.

    Examples
    --------
    >>> p = {"a": np.array([[0.9, 0.1], [0.6, 0.4]]), "b": np.array([[0.2, 0.8], [0.1, 0.9]])}
    >>> ensemble_accuracy(p, np.array([0, 1]), ["a"]), ensemble_accuracy(p, np.array([0, 1]), ["a", "b"])
    (50.0, 100.0)
    """
    mean = np.mean([probs[m] for m in members], axis=0)  # (n, K)
    return float((mean.argmax(axis=1) == y).mean() * 100)


def greedy(probs: dict[str, np.ndarray], y: np.ndarray, members: int,
           min_gain: float = 0.0) -> list[tuple[list[str], float]]:
    """Greedy ensemble steps on validation accuracy, [(members so far, their accuracy)].

    The first step takes the best single candidate. Each later step adds the candidate that most raises the
    average's accuracy, and is kept only when it raises it by at least ``min_gain`` points; the walk ends at the
    first step that does not, or at ``members`` members. Ties go to the candidate listed first, so the result is
    a function of the recipe's order.

    Parameters
    ----------
    probs : dict of str to numpy.ndarray, each (n, K)
        Each candidate's probabilities on the n scored validation residues.
    y : numpy.ndarray of int, shape (n,)
        Their labels.
    members : int
        At most this many members.
    min_gain : float, default 0.0
        Points a step must add to be kept.

    Returns
    -------
    list of (list of str, float)
        The kept steps, the last one the choice.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> p = {"a": np.eye(2)[[0, 0, 1, 0]], "b": np.eye(2)[[0, 1, 1, 1]], "c": np.eye(2)[[1, 0, 1, 1]] * 0.9}
    >>> greedy(p, y, 3)
    [(['a'], 75.0), (['a', 'b'], 75.0), (['a', 'b', 'c'], 100.0)]
    >>> greedy(p, y, 3, min_gain=1.0)
    [(['a'], 75.0)]
    """
    steps: list[tuple[list[str], float]] = []
    chosen: list[str] = []
    while len(chosen) < min(members, len(probs)):
        rest = [m for m in probs if m not in chosen]
        scores = [ensemble_accuracy(probs, y, chosen + [m]) for m in rest]
        best = int(np.argmax(scores))  # first of the best: ties go to the earlier candidate
        if steps and scores[best] < steps[-1][1] + min_gain:
            break
        chosen.append(rest[best])
        steps.append((list(chosen), scores[best]))
    return steps
