"""The one writer loop: predictions in, one output file (or text handle) in a format out.

``sspred.write``, ``sspred predict`` and the web service's answers all write through ``write_predictions``,
so the three agree byte for byte; the format's layout is the writer's (``sspred.io.formats``).
"""

from __future__ import annotations

from typing import IO, Iterable, Mapping, Protocol, Sequence

import numpy as np

from sspred.errors import InputError, OutputError
from sspred.io.formats import format_problem, make_writer


class Prediction(Protocol):
    """What the loop reads of a ``sspred.Prediction`` (a Protocol: this module sits below the one defining it)."""

    # read-only, as the frozen dataclass's fields are
    @property
    def id(self) -> str: ...
    @property
    def sequence(self) -> str: ...
    @property
    def probabilities(self) -> np.ndarray: ...
    @property
    def state_order(self) -> str: ...
    @property
    def model_name(self) -> str: ...
    @property
    def tracks(self) -> Mapping[str, np.ndarray]: ...


def write_predictions(predictions: Iterable[Prediction], handle: IO[str], fmt: str, *, model_name: str,
                      states: str, tracks: Sequence[str] = (), model_info: Mapping | None = None,
                      warnings: Sequence[str] = ()) -> int:
    """Write ``predictions`` of one model to ``handle`` in format ``fmt``, as they arrive.

    Parameters
    ----------
    predictions : iterable of Prediction
        Read once, as written: a generator keeps memory bounded. Each must come from the model described by
        the keyword arguments.
    handle : text file
        Where the output goes.
    fmt : str
        A format of ``sspred.io.formats.WRITERS``.
    model_name, states, tracks, model_info
        The model the file is of: its name, state order, per-residue tracks and JSON description
        (``Predictor.model_name``, ``state_order``, ``track_names``, ``model_info``); an empty input still
        gets the format's header and footer.
    warnings : sequence of str
        Notes on the input, for a format with room for them (JSON).

    Returns
    -------
    int
        The number of predictions written.

    Raises
    ------
    OutputError
        When ``fmt`` is unknown or cannot hold the model's states.
    InputError
        When a prediction comes from another model than the one described.

    Examples
    --------
    >>> import sys, sspred
    >>> p = sspred.load("fast")
    >>> write_predictions(p.predict_iter({"a": "MKV"}), sys.stdout, "fasta", model_name=p.model_name,
    ...                   states=p.state_order)
    >a
    CCC
    1
    """
    problem = format_problem(fmt, states, model_name)
    if problem:
        raise OutputError(problem)
    writer = make_writer(fmt, handle, model_name, states, tracks, model_info)
    writer.warnings.extend(warnings)
    expected = (states, model_name, writer.tracks)
    writer.begin()
    count = 0
    for pred in predictions:
        if (pred.state_order, pred.model_name, tuple(pred.tracks)) != expected:
            raise InputError(f"prediction {pred.id!r} is from model {pred.model_name!r} ({pred.state_order}); "
                             f"one file holds predictions of one model ({model_name!r})")
        writer.record(pred.id, pred.sequence, pred.probabilities, pred.tracks)
        count += 1
    writer.end()
    return count
