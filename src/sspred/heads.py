"""Output heads of a multi-task network: which named targets its last layer predicts, and where.

Issue 14 asks for one shared trunk and several heads (3-state, 8-state, disorder, conservation).
The network stays a flat layer list; its last linear layer outputs the logits of every head side by
side, ``width`` = sum of K_h columns, in the order given here. A head's targets are (N,) int64
class indices, ``ABSENT`` (-1) where that residue has no label for that head, so a set without
8-state, disorder or conservation labels still trains the other heads (the losses in both engines
count each head only over its present rows).

Features-level: imports no engine, so both engines and a future model header can share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sspred.alphabet import (CONSERVATION_CLASSES, CONSERVATION_UNKNOWN, DISORDER_UNKNOWN, DISORDERED, MASKED,
                             ORDERED, STATE_SETS, STATES3, STATES8)

#: Target value of a residue that has no label for a head (the datasets' MASKED, so y3/y8 pass through as they are).
ABSENT = MASKED
#: Fewest classes a head may have: a softmax over one class is constant and learns nothing.
MIN_CLASSES = 2


@dataclass(frozen=True)
class Heads:
    """An ordered tuple of (name, K) pairs; head h owns logit columns ``slices()[name]``.

    >>> heads = Heads((("ss3", 3), ("disorder", 2)))
    >>> heads.width, heads.slices()["disorder"]
    (5, slice(3, 5, None))
    """

    heads: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        pairs = tuple(self.heads)
        if not pairs:
            raise ValueError("a network needs at least one head")
        seen: set[str] = set()
        for i, pair in enumerate(pairs):
            # A list is a pair too: that is how JSON gives one back.
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"head {i}: expected a (name, classes) pair, got {pair!r}")
            name, k = pair
            if not isinstance(name, str) or not name:
                raise ValueError(f"head {i}: name must be a non-empty string, got {name!r}")
            if name in seen:
                raise ValueError(f"head {i}: name {name!r} is used twice")
            # bool is an int subclass; True classes is a mistake, not 1.
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < MIN_CLASSES:
                raise ValueError(f"head {name!r}: classes must be an integer >= {MIN_CLASSES}, got {k!r}")
            seen.add(name)
        object.__setattr__(self, "heads", tuple((name, int(k)) for name, k in pairs))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.heads)

    @property
    def width(self) -> int:
        """Columns of the last layer: the sum of every head's K."""
        return sum(k for _, k in self.heads)

    def classes(self, name: str) -> int:
        return dict(self.heads)[name]

    def slices(self) -> dict[str, slice]:
        """name -> its columns of the concatenated logits, in head order."""
        out, start = {}, 0
        for name, k in self.heads:
            out[name] = slice(start, start + k)
            start += k
        return out

    def split(self, logits):
        """name -> (N, K_h) view of logits (N, width); works on NumPy arrays and torch tensors alike."""
        if logits.ndim != 2 or logits.shape[1] != self.width:
            raise ValueError(f"logits of shape {tuple(logits.shape)} do not fit heads {self.names} "
                             f"(expected (N, {self.width}))")
        return {name: logits[:, s] for name, s in self.slices().items()}  # (N, width) -> (N, K_h) views

    def to_dict(self) -> dict:
        """JSON-able form, for a model file's header."""
        return {"heads": [{"name": name, "classes": k} for name, k in self.heads]}

    @classmethod
    def from_dict(cls, d: Mapping) -> Heads:
        try:
            return cls(tuple((h["name"], h["classes"]) for h in d["heads"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a heads description (want {{'heads': [{{'name', 'classes'}}, ...]}}): {d!r}") \
                from exc

    def weights(self, weights: Mapping[str, float] | None = None) -> dict[str, float]:
        """Every head's loss weight: 1.0 unless ``weights`` names it; unknown names and negative or
        non-finite weights are errors."""
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(self.names))
        if unknown:
            raise ValueError(f"weights for unknown heads {unknown}; the heads are {list(self.names)}")
        out = {name: float(weights.get(name, 1.0)) for name in self.names}
        for name, w in out.items():
            if not np.isfinite(w) or w < 0:
                raise ValueError(f"head {name!r}: weight must be finite and >= 0, got {w!r}")
        return out

    def check_targets(self, targets: Mapping, n: int) -> None:
        """Raise unless ``targets`` has exactly this model's heads, each (n,) integers in [-1, K_h).

        Duck-typed, so NumPy arrays and torch tensors pass the same checks.
        """
        missing = [name for name in self.names if name not in targets]
        extra = sorted(set(targets) - set(self.names))
        if missing or extra:
            raise ValueError(f"targets for heads {sorted(targets)}, but the heads are {list(self.names)}")
        for name, k in self.heads:
            y = targets[name]
            if y.ndim == 2:
                # A teacher's distributions (distillation): (n, K_h) non-negative rows, all-zero where absent.
                if tuple(y.shape) != (n, k) or _is_integer(y.dtype):
                    raise ValueError(f"head {name!r}: soft targets must be ({n}, {k}) floats, got "
                                     f"{tuple(y.shape)} {y.dtype}")
                if not bool((y >= 0).all()):
                    raise ValueError(f"head {name!r}: soft targets must be non-negative")
                continue
            if tuple(y.shape) != (n,):
                raise ValueError(f"head {name!r}: targets of shape {tuple(y.shape)}, expected ({n},)")
            if not _is_integer(y.dtype):
                raise ValueError(f"head {name!r}: targets must be integer class indices, got {y.dtype}")
            bad = (y < ABSENT) | (y >= k)
            if bool(bad.any()):
                i = int(bad.nonzero()[0][0])
                raise ValueError(f"head {name!r}: row {i} has class {int(y[i])}, outside 0..{k - 1} "
                                 f"(or {ABSENT} for absent)")


def present(y):
    """(n,) bool: the rows of a head's targets that carry a label: class >= 0 of (n,) indices, or a row of
    (n, K) distributions with any mass. Duck-typed, so NumPy arrays and torch tensors give their own kind."""
    return y.sum(1) > 0 if y.ndim == 2 else y >= 0


def hard(y):
    """(n,) classes of a head's targets, ABSENT where ``present`` is False: (n,) indices as they are,
    (n, K) distributions by their top class (NumPy)."""
    if y.ndim == 1:
        return y
    return np.where(present(y), y.argmax(axis=1), ABSENT)


def _is_integer(dtype) -> bool:
    """True for an integer NumPy dtype or torch dtype (torch's have no ``kind``)."""
    if hasattr(dtype, "is_floating_point"):
        return not (dtype.is_floating_point or dtype.is_complex)
    return dtype.kind in "iu"


def _y8(chain) -> np.ndarray:
    # A set without 8-state labels leaves the 8-state head absent, rather than failing as chain.labels("8") does.
    return np.full(len(chain.sequence), ABSENT) if chain.y8 is None else chain.y8


def _disorder(chain) -> np.ndarray:
    d = chain.disorder.astype(np.int64)
    return np.where(d == DISORDER_UNKNOWN, ABSENT, d)


def _conservation(chain) -> np.ndarray:
    # ConSurf classes 1..9 become indices 0..8; CONSERVATION_UNKNOWN (0) becomes absent.
    c = chain.conservation.astype(np.int64)
    return np.where(c == CONSERVATION_UNKNOWN, ABSENT, c - 1)


#: The heads issue 14 names, with their classes from alphabet.py (disorder: ORDERED, DISORDERED).
STANDARD_HEADS = Heads((("ss3", len(STATES3)), ("ss8", len(STATES8)), ("disorder", 2),
                        ("conservation", CONSERVATION_CLASSES)))
assert {ORDERED, DISORDERED} == set(range(STANDARD_HEADS.classes("disorder")))

def primary_head(states: str) -> str:
    """The head a model's ``states`` name: ss3 or ss8, first in its logits."""
    return f"ss{states}"


def entry_n_states(model: Mapping) -> int:
    """The number of states (3 or 8) a model file's ``model`` entry names: ``n_states``, or ``states`` ("3" or
    "8") in files written before sspred 0.x named it so. Files are data, so the old key reads without a warning.

    >>> entry_n_states({"n_states": 8}), entry_n_states({"states": "3"}), entry_n_states({})
    (8, 3, 3)
    """
    return int(model.get("n_states", model.get("states", 3)))


def model_heads(model: Mapping) -> Heads:
    """The heads of a model file's ``model`` entry (ConvConfig.to_dict or ModelConfig.to_dict): its states head
    first, then the extra ``heads`` it names, in that order (STANDARD_HEADS gives their classes)."""
    states = str(entry_n_states(model))
    first = primary_head(states)
    extra = list(model.get("heads", []))
    unknown = [h for h in extra if h not in STANDARD_HEADS.names or h == first]
    if unknown:
        raise ValueError(f"unknown or repeated heads {unknown}; extra heads are {', '.join(STANDARD_HEADS.names)} "
                         f"other than {first}")
    return Heads(((first, len(STATE_SETS[states])), *((h, STANDARD_HEADS.classes(h)) for h in extra)))


#: Per-residue targets of a head, keyed by head name: a datasets.Chain -> (L,) labels with ABSENT where unknown.
TARGETS: dict[str, Callable[[Any], np.ndarray]] = {
    "ss3": lambda chain: chain.y3,
    "ss8": _y8,
    "disorder": _disorder,
    "conservation": _conservation,
}


def chain_targets(heads: Heads, chains: Iterable) -> dict[str, np.ndarray]:
    """name -> (N,) int64 targets of ``chains`` end to end (N = total residues), in the chains' order."""
    chains = list(chains)
    unknown = [name for name in heads.names if name not in TARGETS]
    if unknown:
        raise ValueError(f"no per-residue targets are known for heads {unknown}; known: {', '.join(TARGETS)}")
    if not chains:
        return {name: np.zeros(0, dtype=np.int64) for name in heads.names}
    return {name: np.concatenate([np.asarray(TARGETS[name](c), dtype=np.int64) for c in chains])
            for name in heads.names}
