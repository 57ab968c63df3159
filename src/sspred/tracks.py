"""Per-residue tracks: what a multi-task model's extra heads add to every output (Prediction, TSV, JSON, web page).

Each extra head's (L, K_h) probabilities become one value per residue: the disorder head gives P(disordered),
the conservation head its most probable ConSurf class 1-9. A head without a track here (an 8-state head on a
3-state model) is left out of the outputs. The one home of the track names, their TSV columns and their kind,
so the predictor, the writers and the web service agree.

Features-level: imports only the alphabet, so io.formats, the predictor and the service can all share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sspred.alphabet import DISORDERED

#: A track's kind decides how the writers print it: a probability with the probabilities' decimals,
#: a class as an integer.
PROBABILITY, CLASS = "probability", "class"
#: Conservation classes are numbered from 1 (ConSurf's grades); the head's class indices from 0.
FIRST_CONSERVATION_CLASS = 1


@dataclass(frozen=True)
class Track:
    """One head's per-residue output: ``name`` (the head's name, the JSON key and the Prediction field),
    ``column`` (the TSV column), ``kind`` (PROBABILITY or CLASS) and ``reduce`` ((L, K_h) -> (L,))."""

    name: str
    column: str
    kind: str
    reduce: Callable[[np.ndarray], np.ndarray]


def _p_disordered(probs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(probs[:, DISORDERED], dtype=np.float32)  # (L, 2) -> (L,)


def _conservation_class(probs: np.ndarray) -> np.ndarray:
    return probs.argmax(axis=1).astype(np.int64) + FIRST_CONSERVATION_CLASS  # (L, 9) -> (L,) classes 1-9


#: Tracks keyed by head name, in the order their columns follow the probability columns.
TRACKS: dict[str, Track] = {
    "disorder": Track("disorder", "p_disorder", PROBABILITY, _p_disordered),
    "conservation": Track("conservation", "conservation", CLASS, _conservation_class),
}


def track_names(heads: Iterable[str]) -> tuple[str, ...]:
    """The tracks a model with these head names has, in TRACKS order.

    >>> track_names(["ss3", "conservation", "disorder"])
    ('disorder', 'conservation')
    >>> track_names(["ss8"])
    ()
    """
    heads = set(heads)
    return tuple(name for name in TRACKS if name in heads)


def track_values(head_probs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """name -> (L,) values of every track of one chain's head probabilities ({head: (L, K_h)}, as
    ``Model.predict_heads`` gives them); {} for a model with none.

    >>> import numpy as np
    >>> out = track_values({"ss3": np.full((2, 3), 1 / 3), "disorder": np.array([[0.9, 0.1], [0.2, 0.8]]),
    ...                     "conservation": np.eye(9)[[8, 0]]})
    >>> out["disorder"].dtype, bool(np.allclose(out["disorder"], [0.1, 0.8])), out["conservation"].tolist()
    (dtype('float32'), True, [9, 1])
    """
    return {name: TRACKS[name].reduce(head_probs[name]) for name in track_names(head_probs)}
