"""Prediction output formats: PSIPRED .ss2 (VFORMAT) and .horiz (HFORMAT), FASTA, JSON and TSV.

Each writer streams: ``begin`` once, ``record`` per prediction, ``end`` once.
The PSIPRED layouts follow what PSIPRED's psipass2 prints (checked byte for byte against
psipass2's output in tests/test_formats.py), written in our own code:

* VFORMAT: ``# PSIPRED VFORMAT (...)``, our id line, a blank line, then per residue
  ``%4d %c %c  %6.3f %6.3f %6.3f`` (position, residue, state, P(C), P(H), P(E)).
* HFORMAT: ``# PSIPRED HFORMAT (...)``, our id line, then ``L // 60 + 1`` blocks, each a blank
  line, ``Conf: `` digits, ``Pred: `` states, ``  AA: `` residues, a ruler and one blank line;
  so blocks are two blank lines apart and a record ends with one. See ``horiz_ruler`` for the
  ruler, and note that a length that is a multiple of 60 ends in an empty block, as psipass2's does.

A record's header line is followed by ``# sspred id: <id>`` (``ID_COMMENT``), so that the blocks of a
file of several records say which record they are; readers that skip '#' lines read the rest as
PSIPRED's layout. Several records are concatenated, each with its own header.

JSON has one shape, written by ``JsonWriter`` alone, for ``sspred predict -f json``, the web service's
answers (``sspred.serve.schemas.PredictResponse``) and ``Prediction.to_dict`` (one item, ``prediction_json``)::

    {"model": {"name", "state_order", "states", "window", "checksum", "trained_on", "sspred_version"},
     "state_order": "CHE", "states": "CHE",
     "predictions": [{"id", "sequence", "states", "confidence", "probabilities"}, ...],
     "warnings": [...]}

JSON and TSV also carry the tracks of a multi-task model's extra heads (``sspred.tracks``): TSV columns
``p_disorder``, ``conservation``, then ``ss8`` (the most probable 8-state letter) and ``p_ss8_H`` ... ``p_ss8_C``
after the probability columns; JSON lists ``disorder`` and ``conservation``, the string ``ss8`` (one letter per
residue) and ``ss8_probabilities`` (L lists of 8); a writer made with no tracks writes exactly the single-head
layout.

.ss2 and .horiz are PSIPRED's 3-state layouts: they refuse a model whose states are not C, H, E (q8) with an
``OutputError`` (``check_format``), rather than write 8-state letters under a PSIPRED header; such a model writes
fasta, json or tsv. A 3-state model's ss8 head has no room in them either, as disorder and conservation have none.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import IO, Mapping, Sequence

import numpy as np

from sspred.alphabet import STATES3
from sspred.errors import OutputError
from sspred.tracks import CLASS, DISTRIBUTION, PROBABILITY, TRACKS

#: Decimals of the probabilities in the JSON and TSV outputs (and the web service's JSON): enough to rank
#: the states, since the confidence digit needs only the first.
PROB_DECIMALS = 4
#: One TSV probability column.
_TSV_PROB = f"%.{PROB_DECIMALS}f"
#: One TSV track cell, by the track's kind: P(disordered) printed as the probabilities are, a class as an integer.
_TSV_TRACK = {PROBABILITY: _TSV_PROB, CLASS: "%d"}
#: One JSON track list, by the track's kind: (L,) values -> plain floats rounded as the probabilities, or ints;
#: (L, K) -> L lists of K floats, rounded so.
_JSON_TRACK = {PROBABILITY: lambda v: np.round(v.astype(np.float64), PROB_DECIMALS).tolist(),
               CLASS: lambda v: v.astype(np.int64).tolist(),
               DISTRIBUTION: lambda v: np.round(v.astype(np.float64), PROB_DECIMALS).tolist()}
#: The JSON key of a DISTRIBUTION track's probabilities, after its key (the letters): "ss8_probabilities".
PROBABILITIES_SUFFIX = "_probabilities"
#: Residues per HFORMAT block, as PSIPRED.
HORIZ_WIDTH = 60
#: The ruler of a full block, one format operation instead of one per number.
_FULL_RULER = "%10d" * (HORIZ_WIDTH // 10)
#: The comment line after each .ss2/.horiz header that names the record (PSIPRED's files hold one record
#: and have none; '#' keeps it out of the way of readers that skip comment lines).
ID_COMMENT = "# sspred id: "


def horiz_ruler(start: int, n: int) -> str:
    """The HFORMAT ruler (after its 6-space indent) of a block of ``n`` residues numbered from ``start + 1``.

    psipass2's rule: each multiple of 10 is right-aligned under its residue, and the ruler runs
    only as far as residue ``n - 4`` of the block. So a block ending 5-9 past a multiple of ten
    ends in 1-5 spaces after the last number, one ending 0-4 past it ends at that number, and a
    block of fewer than 5 residues has an empty ruler.

    Parameters
    ----------
    start : int
        The 0-based index of the block's first residue.
    n : int
        The residues in the block, 0 to ``HORIZ_WIDTH``.

    Returns
    -------
    str
        The ruler line, without its indent or newline.

    Examples
    --------
    >>> horiz_ruler(0, 25)
    '        10        20 '
    """
    if n == HORIZ_WIDTH:
        return _FULL_RULER % tuple(range(start + 10, start + n + 1, 10))
    return "".join("%10d" % k for k in range(start + 10, start + n + 1, 10)) + " " * max(0, n % 10 - 4)


def confidence_levels(probs: np.ndarray) -> np.ndarray:
    """PSIPRED-style confidence 0-9 per residue: floor(10 * (top probability - second)), capped at 9.

    Parameters
    ----------
    probs : numpy.ndarray of float, shape (L, K)
        Probabilities per residue.

    Returns
    -------
    numpy.ndarray of int, shape (L,)
        The confidence digit of each residue.

    Examples
    --------
    >>> confidence_levels(np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25]]))
    array([8, 0])
    """
    # The top two without sorting each row (a per-row sort, or a reduction along the short
    # axis, costs more than the prediction): a running top-two over the K columns.
    top = probs[:, 0].copy()  # (L,)
    second = np.full_like(top, -np.inf) if probs.shape[1] > 1 else np.zeros_like(top)
    for k in range(1, probs.shape[1]):
        col = probs[:, k]
        np.maximum(second, np.minimum(top, col), out=second)
        np.maximum(top, col, out=top)
    # float64 and a tolerance of 1e-6 so a gap of exactly 0.5 stored in float32 gives 5, not 4
    gap = top.astype(np.float64) - second
    return np.clip(np.floor(10.0 * gap + 1e-6), 0, 9).astype(int)


def confidence_digits(probs: np.ndarray) -> str:
    """The .horiz 'Conf:' digits of ``confidence_levels``, one character per residue.

    Parameters
    ----------
    probs : numpy.ndarray of float, shape (L, K)
        Probabilities per residue.

    Returns
    -------
    str
        L digits 0-9.

    Examples
    --------
    >>> confidence_digits(np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25]]))
    '80'
    """
    digits = confidence_levels(probs).astype(np.uint8) + ord("0")
    return digits.tobytes().decode("ascii")  # one C-level pass, not a str per residue


def track_json(name: str, values: np.ndarray) -> list:
    """A track's values as JSON lists them: floats rounded as the probabilities, or classes as ints.

    A distribution's (L, K) values become L lists of K rounded floats.

    Parameters
    ----------
    name : str
        A key of ``sspred.tracks.TRACKS`` ("disorder", "conservation", "ss8").
    values : numpy.ndarray, shape (L,) or (L, K)
        The track's values per residue.

    Returns
    -------
    list of float, list of int, or list of list of float
        L plain numbers, or L lists of K.

    Examples
    --------
    >>> track_json("disorder", np.array([0.12345, 0.9], dtype=np.float32)), track_json("conservation", np.array([9, 1]))
    ([0.1235, 0.9], [9, 1])
    """
    return _JSON_TRACK[TRACKS[name].kind](np.asarray(values))


def track_items(name: str, values: np.ndarray) -> dict:
    """A track's keys in one JSON prediction.

    ``{name: track_json(...)}``, or for a distribution (ss8) the letters of its most probable states under
    ``name`` and its probabilities under ``name + "_probabilities"``.

    Parameters
    ----------
    name : str
        A key of ``sspred.tracks.TRACKS``.
    values : numpy.ndarray, shape (L,) or (L, K)
        The track's values per residue.

    Returns
    -------
    dict
        One or two keys, plain JSON types only.

    Examples
    --------
    >>> track_items("ss8", np.eye(8, dtype=np.float32)[[0, 7]])
    {'ss8': 'HC', 'ss8_probabilities': [[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]}
    """
    track = TRACKS[name]
    if track.kind == DISTRIBUTION:
        return {name: states_of(values, track.states), name + PROBABILITIES_SUFFIX: track_json(name, values)}
    return {name: track_json(name, values)}


def prediction_json(rec_id: str, sequence: str, probs: np.ndarray, states: str,
                    tracks: Mapping[str, np.ndarray] | None = None) -> dict:
    """One item of the JSON ``predictions`` list.

    Its keys: id, sequence, states (one letter per residue), confidence (the .horiz digits), probabilities
    (L lists of K floats in ``states`` order, rounded to ``PROB_DECIMALS``), then each track of ``tracks``
    (``track_json``), in ``sspred.tracks.TRACKS`` order.

    Parameters
    ----------
    rec_id : str
        The record's id.
    sequence : str
        Its residues, length L.
    probs : numpy.ndarray of float, shape (L, K)
        Its probabilities, columns in ``states`` order.
    states : str
        The state order, e.g. "CHE".
    tracks : mapping of str to numpy.ndarray, shape (L,), optional
        Track values by name.

    Returns
    -------
    dict
        The item, plain JSON types only.

    Examples
    --------
    >>> prediction_json("x", "MK", np.array([[0.9, 0.05, 0.05], [0.3, 0.6, 0.1]], dtype=np.float32), "CHE")
    {'id': 'x', 'sequence': 'MK', 'states': 'CH', 'confidence': '83', 'probabilities': [[0.9, 0.05, 0.05], [0.3, 0.6, 0.1]]}
    """
    item = {"id": rec_id, "sequence": sequence, "states": states_of(probs, states),
            "confidence": confidence_digits(probs),
            # float64 first: a float32 value is printed as the nearest JSON number, then rounded
            "probabilities": np.round(probs.astype(np.float64), PROB_DECIMALS).tolist()}
    for t in TRACKS:
        if tracks and t in tracks:
            item.update(track_items(t, tracks[t]))
    return item


def states_of(probs: np.ndarray, states: str) -> str:
    """The most probable state of each residue, as letters.

    Parameters
    ----------
    probs : numpy.ndarray of float, shape (L, K)
        Probabilities per residue.
    states : str
        The K state letters, in column order.

    Returns
    -------
    str
        L letters of ``states``.

    Examples
    --------
    >>> states_of(np.array([[0.9, 0.05, 0.05], [0.3, 0.6, 0.1]]), "CHE")
    'CH'
    """
    letters = np.frombuffer(states.encode("ascii"), dtype=np.uint8)
    return letters[probs.argmax(axis=1)].tobytes().decode("ascii")


class Writer:
    """Streaming writer protocol: ``begin`` once, ``record`` per prediction, ``end`` once.

    Formats without room for tracks (ss2, horiz, fasta) ignore them.

    Parameters
    ----------
    out : text file
        Where the text goes.
    model_name : str
        The name the headers give the model (``make_writer`` prefixes "sspred ").
    states : str, default "CHE"
        The state order of the probability columns.
    tracks : sequence of str, default ()
        The per-residue tracks (``sspred.tracks.TRACKS``) each record brings in ``record``'s ``extras``.
    model_info : mapping, optional
        The model's description for formats that carry one (JSON's "model" object:
        ``Predictor.model_info``); without it, the name and states alone.

    Attributes
    ----------
    warnings : list of str
        Notes on the input that a format with room for them (JSON) writes at the end.

    Raises
    ------
    ValueError
        For a track name ``sspred.tracks.TRACKS`` does not know.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> writer = make_writer("fasta", out, "fast", "CHE")
    >>> writer.begin(); writer.record("a", "MK", np.array([[0.9, 0.05, 0.05], [0.3, 0.6, 0.1]])); writer.end()
    >>> out.getvalue().splitlines()
    ['>a', 'CH']
    """

    def __init__(self, out: IO[str], model_name: str, states: str = STATES3, tracks: Sequence[str] = (),
                 model_info: Mapping | None = None):
        unknown = [t for t in tracks if t not in TRACKS]
        if unknown:
            raise ValueError(f"unknown tracks {unknown}; known: {', '.join(TRACKS)}")
        self.out, self.model_name, self.states = out, model_name, states
        self.tracks = tuple(t for t in TRACKS if t in tracks)  # always in TRACKS order
        self.model_info = dict(model_info) if model_info is not None else {"name": model_name, "state_order": states,
                                                                                     "states": states}
        self.warnings: list[str] = []

    def begin(self) -> None:
        """Write what comes before the first record (a header or an opening bracket; nothing for most formats)."""
        pass

    def record(self, rec_id: str, sequence: str, probs: np.ndarray,
               extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Write one record's prediction.

        Parameters
        ----------
        rec_id : str
            The record's id.
        sequence : str
            Its residues, length L.
        probs : numpy.ndarray of float, shape (L, K)
            Its probabilities, columns in the writer's ``states`` order.
        extras : mapping of str to numpy.ndarray, shape (L,), optional
            The values of the writer's tracks, by name; needed for each of ``tracks``.
        """
        raise NotImplementedError

    def _extras(self, rec_id: str, sequence: str, extras: Mapping[str, np.ndarray] | None) -> list[np.ndarray]:
        """The (L,) values of this writer's tracks for one record, in column order."""
        extras = extras or {}
        missing = [t for t in self.tracks if t not in extras]
        if missing:
            raise ValueError(f"record {rec_id!r}: no values for tracks {missing}")
        values = [np.asarray(extras[t]) for t in self.tracks]
        for t, v in zip(self.tracks, values):
            want = (len(sequence), *TRACKS[t].shape_tail)
            if v.shape != want:
                raise ValueError(f"record {rec_id!r}: track {t!r} has shape {v.shape}, expected {want}")
        return values

    def end(self) -> None:
        """Write what comes after the last record (nothing for most formats)."""
        pass


class SS2Writer(Writer):
    #: PSIPRED's VFORMAT has a column per state for C, H and E only.
    """PSIPRED's VFORMAT (.ss2): one line per residue with P(C), P(H), P(E); 3-state models only.

    Parameters
    ----------
    out : text file
        Where the text goes.
    model_name : str
        The name the headers give the model.
    states : str, default "CHE"
        The state order; anything but "CHE" is refused at ``record``.
    tracks : sequence of str, default ()
        Accepted and ignored: the format has no room for tracks.
    model_info : mapping, optional
        Unused by this format.
    """
    three_state_only = True

    def record(self, rec_id: str, sequence: str, probs: np.ndarray,
               extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Write one record as a VFORMAT block.

        Parameters
        ----------
        rec_id : str
            The record's id.
        sequence : str
            Its residues, length L.
        probs : numpy.ndarray of float, shape (L, K)
            Its probabilities, columns in the writer's ``states`` order.
        extras : mapping of str to numpy.ndarray, shape (L,), optional
            The values of the writer's tracks, by name; needed for each of ``tracks``.

        Raises
        ------
        ValueError
            When the writer's states are not "CHE".
        """
        if self.states != STATES3:
            raise ValueError("the .ss2 format holds 3-state predictions only")
        pred = states_of(probs, self.states)
        lines = [f"# PSIPRED VFORMAT ({self.model_name})\n{ID_COMMENT}{rec_id}\n\n"]
        for i, (aa, s, p) in enumerate(zip(sequence, pred, probs), start=1):
            lines.append("%4d %c %c  %6.3f %6.3f %6.3f\n" % (i, aa, s, p[0], p[1], p[2]))
        self.out.write("".join(lines))


class HorizWriter(Writer):
    """PSIPRED's HFORMAT (.horiz): blocks of 60 residues with Conf, Pred and AA lines and a ruler.

    Parameters
    ----------
    out : text file
        Where the text goes.
    model_name : str
        The name the headers give the model.
    states : str, default "CHE"
        The state order.
    tracks : sequence of str, default ()
        Accepted and ignored: the format has no room for tracks.
    model_info : mapping, optional
        Unused by this format.
    """
    #: PSIPRED's HFORMAT "Pred:" line holds C, H and E: an 8-state letter there would be read as PSIPRED's.
    three_state_only = True

    def record(self, rec_id: str, sequence: str, probs: np.ndarray,
               extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Write one record as HFORMAT blocks.

        Parameters
        ----------
        rec_id : str
            The record's id.
        sequence : str
            Its residues, length L.
        probs : numpy.ndarray of float, shape (L, K)
            Its probabilities, columns in the writer's ``states`` order.
        extras : mapping of str to numpy.ndarray, shape (L,), optional
            The values of the writer's tracks, by name; needed for each of ``tracks``.
        """
        if self.states != STATES3:
            raise ValueError("the .horiz format holds 3-state predictions only")
        pred = states_of(probs, self.states)
        conf = confidence_digits(probs)
        parts = [f"# PSIPRED HFORMAT ({self.model_name})\n{ID_COMMENT}{rec_id}\n"]
        # L // 60 + 1 blocks, as psipass2 prints: a multiple of 60 residues ends in an empty block.
        for start in range(0, len(sequence) + 1, HORIZ_WIDTH):
            stop = min(start + HORIZ_WIDTH, len(sequence))
            parts.append(f"\nConf: {conf[start:stop]}\nPred: {pred[start:stop]}\n  AA: {sequence[start:stop]}\n"
                         f"      {horiz_ruler(start, stop - start)}\n\n")
        self.out.write("".join(parts))


class FastaWriter(Writer):
    """The contract: '>' + id, then one line of predicted states, as long as the sequence.

    Parameters
    ----------
    out : text file
        Where the text goes.
    model_name : str
        Unused by this format.
    states : str, default "CHE"
        The state order.
    tracks : sequence of str, default ()
        Accepted and ignored: the format has no room for tracks.
    model_info : mapping, optional
        Unused by this format.
    """

    def record(self, rec_id: str, sequence: str, probs: np.ndarray,
               extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Write one record as a header line and a line of states.

        Parameters
        ----------
        rec_id : str
            The record's id.
        sequence : str
            Its residues, length L.
        probs : numpy.ndarray of float, shape (L, K)
            Its probabilities, columns in the writer's ``states`` order.
        extras : mapping of str to numpy.ndarray, shape (L,), optional
            The values of the writer's tracks, by name; needed for each of ``tracks``.
        """
        self.out.write(f">{rec_id}\n{states_of(probs, self.states)}\n")


class JsonWriter(Writer):
    """One JSON document in the module docstring's shape: model, state_order, states, predictions, warnings.

    ``states`` at the top level is ``state_order`` under its old name, kept beside it for one release. Each
    prediction is ``prediction_json`` of its record, one per line, and also lists its tracks (``disorder``:
    floats, ``conservation``: ints 1-9) when the writer has them.

    Parameters
    ----------
    out : text file
        Where the text goes.
    model_name : str
        The model's name.
    states : str, default "CHE"
        The state order.
    tracks : sequence of str, default ()
        The tracks each prediction lists.
    model_info : mapping, optional
        The "model" object; without it, the name and state order alone.
    """

    def begin(self) -> None:
        """Write the document's opening: the model, the state order and the start of the predictions list."""
        order = json.dumps(self.states)
        self.out.write('{"model": %s, "state_order": %s, "states": %s, "predictions": [' % (json.dumps(self.model_info),
                                                                                          order, order))
        self.first = True

    def record(self, rec_id: str, sequence: str, probs: np.ndarray,
               extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Write one record as an item of the predictions list.

        Parameters
        ----------
        rec_id : str
            The record's id.
        sequence : str
            Its residues, length L.
        probs : numpy.ndarray of float, shape (L, K)
            Its probabilities, columns in the writer's ``states`` order.
        extras : mapping of str to numpy.ndarray, shape (L,), optional
            The values of the writer's tracks, by name; needed for each of ``tracks``.

        Raises
        ------
        ValueError
            When ``extras`` lacks a track of the writer or holds one of the wrong shape.
        """
        item = prediction_json(rec_id, sequence, probs, self.states,
                               dict(zip(self.tracks, self._extras(rec_id, sequence, extras))))
        self.out.write(("\n" if self.first else ",\n") + json.dumps(item))
        self.first = False

    def end(self) -> None:
        """Close the predictions list and write the warnings."""
        self.out.write('\n], "warnings": %s}\n' % json.dumps(self.warnings))


class TsvWriter(Writer):
    """One row per residue: id, position, residue, state, one probability column per state, then the tracks.

    The track columns (``p_disorder``, ``conservation``; ``ss8`` and ``p_ss8_H`` ... ``p_ss8_C``) come only
    when the writer has them.

    Parameters
    ----------
    out : text file
        Where the text goes.
    model_name : str
        Unused by this format.
    states : str, default "CHE"
        The state order, which names the ``p_<state>`` columns.
    tracks : sequence of str, default ()
        The tracks, one column each.
    model_info : mapping, optional
        Unused by this format.
    """

    def begin(self) -> None:
        """Write the header row."""
        columns = (["id", "pos", "aa", "pred"] + [f"p_{s}" for s in self.states]
                   + [c for t in self.tracks for c in TRACKS[t].columns])
        self.out.write("\t".join(columns) + "\n")

    def record(self, rec_id: str, sequence: str, probs: np.ndarray,
               extras: Mapping[str, np.ndarray] | None = None) -> None:
        """Write one row per residue of one record.

        Parameters
        ----------
        rec_id : str
            The record's id.
        sequence : str
            Its residues, length L.
        probs : numpy.ndarray of float, shape (L, K)
            Its probabilities, columns in the writer's ``states`` order.
        extras : mapping of str to numpy.ndarray, shape (L,), optional
            The values of the writer's tracks, by name; needed for each of ``tracks``.

        Raises
        ------
        ValueError
            When ``extras`` lacks a track of the writer or holds one of the wrong shape.
        """
        pred = states_of(probs, self.states)
        # (L,) strings: each residue's track cells, each after a tab; "" per residue without tracks
        cells = [_tsv_cells(t, values) for t, values in zip(self.tracks, self._extras(rec_id, sequence, extras))]
        tails = ["".join("\t" + c for c in row) for row in zip(*cells)] if cells else [""] * len(sequence)
        rows = [f"{rec_id}\t{i}\t{aa}\t{s}\t" + "\t".join(_TSV_PROB % v for v in p) + tail + "\n"
                for i, (aa, s, p, tail) in enumerate(zip(sequence, pred, probs, tails), start=1)]
        self.out.write("".join(rows))


def _tsv_cells(name: str, values: np.ndarray) -> list[str]:
    """(L,) strings: each residue's cells of one track, tab-joined (a distribution's letter, then its K columns)."""
    track = TRACKS[name]
    if track.kind == DISTRIBUTION:
        letters = states_of(values, track.states)
        return [f"{s}\t" + "\t".join(_TSV_PROB % v for v in row) for s, row in zip(letters, values)]  # (L, K) rows
    return [_TSV_TRACK[track.kind] % v for v in values]


#: Writers keyed by the --format name.
WRITERS: dict[str, type[Writer]] = {
    "ss2": SS2Writer,
    "horiz": HorizWriter,
    "fasta": FastaWriter,
    "json": JsonWriter,
    "tsv": TsvWriter,
}


#: The format written when neither a format nor a known file extension names one: PSIPRED's HFORMAT.
DEFAULT_FORMAT = "horiz"
#: The same for a model of more than 3 states, which HFORMAT cannot hold: one line of states per record.
DEFAULT_FORMAT_MANY_STATES = "fasta"
#: Formats by output file extension (compared in lower case), for ``-o FILE`` without ``--format``.
EXTENSIONS: dict[str, str] = {".ss2": "ss2", ".horiz": "horiz", ".json": "json", ".tsv": "tsv",
                              ".fa": "fasta", ".fasta": "fasta"}


def output_format(fmt: str | None, path: str | os.PathLike | None = None, state_order: str = "CHE") -> str:
    """The format to write: ``fmt`` when given, else the one ``path``'s extension names, else the default.

    ``fmt`` is taken in lower case; an extension is looked up in ``EXTENSIONS``; the default is
    ``DEFAULT_FORMAT``, or ``DEFAULT_FORMAT_MANY_STATES`` for a model of more than 3 states. An unknown ``fmt``
    is returned as it is, for ``format_problem`` to name.

    Parameters
    ----------
    fmt : str or None
        The format asked for (``--format``), any case; None when not given.
    path : str or os.PathLike, optional
        The output file; None or "-" for stdout.
    state_order : str, default "CHE"
        The model's states, which pick the default.

    Returns
    -------
    str
        A format name (a key of ``WRITERS`` unless ``fmt`` is unknown).

    Raises
    ------
    OutputError
        When ``fmt`` contradicts the known extension of ``path`` (``-f json -o x.ss2``).

    Examples
    --------
    >>> output_format(None, "out.SS2"), output_format("JSON", "out.txt"), output_format(None, None)
    ('ss2', 'json', 'horiz')
    >>> output_format(None, None, "HGIEBTSC")
    'fasta'
    >>> output_format("json", "out.ss2")
    Traceback (most recent call last):
    ...
    sspred.errors.OutputError: out.ss2: the extension .ss2 means the ss2 format, not json
    """
    suffix = PurePath(path).suffix.lower() if path is not None and str(path) != "-" else ""
    implied = EXTENSIONS.get(suffix)
    if fmt is None:
        return implied or (DEFAULT_FORMAT if len(state_order) == 3 else DEFAULT_FORMAT_MANY_STATES)
    fmt = fmt.lower()
    if implied is not None and fmt != implied:
        raise OutputError(f"{path}: the extension {suffix} means the {implied} format, not {fmt}")
    return fmt


def make_writer(fmt: str, handle: IO[str], model_name: str, states: str, tracks: Sequence[str] = (),
                model_info: Mapping | None = None) -> Writer:
    """The ``fmt`` writer on ``handle`` for one model's predictions.

    Its headers name the model as every sspred output does ("# PSIPRED HFORMAT (sspred default)").

    Parameters
    ----------
    fmt : str
        A key of ``WRITERS``: ss2, horiz, fasta, json or tsv.
    handle : text file
        Where the text goes.
    model_name : str
        The model's name.
    states : str
        The state order of the probability columns.
    tracks : sequence of str, default ()
        The model's tracks (``sspred.tracks.track_names`` of its heads).
    model_info : mapping, optional
        JSON's "model" object (``Predictor.model_info``).

    Returns
    -------
    Writer
        The writer, not yet begun.

    Raises
    ------
    KeyError
        For a format not in ``WRITERS`` (``format_problem`` says why first).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> writer = make_writer("horiz", out, "default", "CHE")
    >>> writer.record("a", "MK", np.array([[0.9, 0.05, 0.05], [0.3, 0.6, 0.1]]))
    >>> out.getvalue().splitlines()[:4]
    ['# PSIPRED HFORMAT (sspred default)', '# sspred id: a', '', 'Conf: 83']
    """
    return WRITERS[fmt](handle, model_name=f"sspred {model_name}", states=states, tracks=tracks,
                        model_info=model_info if model_info is not None else {"name": model_name, "state_order": states,
                                                                              "states": states})


def format_problem(fmt: str, states: str, model_name: str, offered: Sequence[str] = tuple(WRITERS)) -> str | None:
    """Why format ``fmt`` cannot hold one model's predictions, or None.

    The one check behind ``sspred predict --format``, ``sspred.write`` and the web service, which
    ``offered`` fewer formats (the advice names only those).

    Parameters
    ----------
    fmt : str
        The format asked for.
    states : str
        The model's state order.
    model_name : str
        The model's name, for the message.
    offered : sequence of str, default all of ``WRITERS``
        The formats the caller offers.

    Returns
    -------
    str or None
        The reason, or None when the format fits.

    Examples
    --------
    >>> format_problem("ss2", "HGIEBTSC", "q8")
    "the ss2 format holds 3-state predictions; model 'q8' predicts 8 states (use fasta, json or tsv)"
    >>> format_problem("ss2", "HGIEBTSC", "q8", offered=("json", "ss2", "horiz"))
    "the ss2 format holds 3-state predictions; model 'q8' predicts 8 states (use json)"
    >>> format_problem("horiz", "HGIEBTSC", "q8")
    "the horiz format holds 3-state predictions; model 'q8' predicts 8 states (use fasta, json or tsv)"
    >>> format_problem("tsv", "HGIEBTSC", "q8") is None
    True
    """
    if fmt not in WRITERS or fmt not in offered:
        return f"unknown format {fmt!r}; choose from {', '.join(offered)}"
    if getattr(WRITERS[fmt], "three_state_only", False) and len(states) != len(STATES3):
        others = [name for name in offered if not getattr(WRITERS[name], "three_state_only", False)]
        use = f"{', '.join(others[:-1])} or {others[-1]}" if len(others) > 1 else others[0]
        return (f"the {fmt} format holds 3-state predictions; model {model_name!r} predicts {len(states)} states "
                f"(use {use})")
    return None


def check_format(fmt: str, states: str, model_name: str, offered: Sequence[str] = tuple(WRITERS)) -> None:
    """Raise ``OutputError`` (one line, exit code 2 in the CLI) with ``format_problem``'s reason, if any.

    Parameters
    ----------
    fmt : str
        The format asked for.
    states : str
        The model's state order.
    model_name : str
        The model's name, for the message.
    offered : sequence of str, default all of ``WRITERS``
        The formats the caller offers.

    Raises
    ------
    OutputError
        When ``fmt`` is unknown or cannot hold the predictions of a model over ``states`` (ss2 and horiz
        hold C, H, E only).

    >>> check_format("horiz", "HGIEBTSC", "q8")
    Traceback (most recent call last):
    ...
    sspred.errors.OutputError: the horiz format holds 3-state predictions; model 'q8' predicts 8 states (use fasta, json or tsv)
    """
    problem = format_problem(fmt, states, model_name, offered)
    if problem:
        raise OutputError(problem)
