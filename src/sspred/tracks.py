"""Per-residue tracks: what a multi-task model's extra heads add to every output (Prediction, TSV, JSON, web page).

Each extra head's (L, K_h) probabilities become per-residue values: the disorder head gives P(disordered),
the conservation head its most probable ConSurf class 1-9, and the 8-state head of a 3-state model its whole
(L, 8) distribution over the DSSP states (written as the most probable letter and the 8 probabilities). The
states head itself is no track: it is the prediction's ``probabilities``, so an 8-state model (q8) has no ss8
track. The one home of the track names, their TSV columns and their kind, so the predictor, the writers, the
readers and the web service agree.

Features-level: imports only the alphabet, so io.formats, the predictor and the service can all share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sspred.alphabet import DISORDERED, STATES8

#: A track's kind decides how the writers print it: a probability with the probabilities' decimals,
#: a class as an integer, a distribution over ``Track.states`` as its most probable letter and one probability
#: per state.
PROBABILITY, CLASS, DISTRIBUTION = "probability", "class", "distribution"
#: Conservation classes are numbered from 1 (ConSurf's grades); the head's class indices from 0.
FIRST_CONSERVATION_CLASS = 1


@dataclass(frozen=True)
class Track:
    """One head's per-residue output: ``name`` (the head's name, the JSON key and the Prediction field),
    ``column`` (the TSV column), ``kind`` (PROBABILITY, CLASS or DISTRIBUTION), ``reduce`` ((L, K_h) -> (L,),
    or (L, K_h) float32 for a DISTRIBUTION) and, for a DISTRIBUTION, ``states`` (the letters of its columns).

    >>> TRACKS["ss8"].columns[:3], len(TRACKS["ss8"].columns), TRACKS["disorder"].columns
    (('ss8', 'p_ss8_H', 'p_ss8_G'), 9, ('p_disorder',))
    """

    name: str
    column: str
    kind: str
    reduce: Callable[[np.ndarray], np.ndarray]
    states: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Its TSV columns: ``column`` alone, or for a DISTRIBUTION ``column`` (the letter) then
        ``p_<column>_<state>`` per state."""
        if self.kind == DISTRIBUTION:
            return (self.column, *(f"p_{self.column}_{s}" for s in self.states))
        return (self.column,)

    @property
    def shape_tail(self) -> tuple[int, ...]:
        """A chain's values have shape (L, *shape_tail): () per residue, or (K,) for a DISTRIBUTION."""
        return (len(self.states),) if self.kind == DISTRIBUTION else ()


def _p_disordered(probs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(probs[:, DISORDERED], dtype=np.float32)  # (L, 2) -> (L,)


def _conservation_class(probs: np.ndarray) -> np.ndarray:
    return probs.argmax(axis=1).astype(np.int64) + FIRST_CONSERVATION_CLASS  # (L, 9) -> (L,) classes 1-9


def _distribution(probs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(probs, dtype=np.float32)  # (L, K) as it is


#: Tracks keyed by head name, in the order their columns follow the probability columns. ss8 comes last, so the
#: columns of the tracks before it keep their places.
TRACKS: dict[str, Track] = {
    "disorder": Track("disorder", "p_disorder", PROBABILITY, _p_disordered),
    "conservation": Track("conservation", "conservation", CLASS, _conservation_class),
    "ss8": Track("ss8", "ss8", DISTRIBUTION, _distribution, STATES8),
}


def track_names(heads: Iterable[str]) -> tuple[str, ...]:
    """The tracks a model with these head names (its states head first) has, in TRACKS order: its extra heads'.

    >>> track_names(["ss3", "conservation", "disorder", "ss8"])
    ('disorder', 'conservation', 'ss8')
    >>> track_names(["ss8"])
    ()
    """
    extra = set(list(heads)[1:])  # the states head is the prediction itself
    return tuple(name for name in TRACKS if name in extra)


def track_values(head_probs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """name -> (L,) (or (L, K) for a DISTRIBUTION) values of every track of one chain's head probabilities
    ({head: (L, K_h)}, states head first, as ``Model.predict_heads`` gives them); {} for a model with none.

    >>> import numpy as np
    >>> out = track_values({"ss3": np.full((2, 3), 1 / 3), "disorder": np.array([[0.9, 0.1], [0.2, 0.8]]),
    ...                     "conservation": np.eye(9)[[8, 0]]})
    >>> out["disorder"].dtype, bool(np.allclose(out["disorder"], [0.1, 0.8])), out["conservation"].tolist()
    (dtype('float32'), True, [9, 1])
    """
    return {name: TRACKS[name].reduce(head_probs[name]) for name in track_names(head_probs)}
