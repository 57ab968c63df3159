"""Readers for the prediction formats that ``formats.py`` writes: .ss2, .horiz, JSON and TSV.

They read exactly the layouts written there (FASTA output reads back with
``fasta.read_fasta``), so every writer round-trips, and they let other tools'
PSIPRED-style files be checked. Each returns a list of ``PredictionRecord``; a line
that does not fit the layout is an InputError naming the file and line. In .ss2 and
.horiz files the ``# sspred id:`` line gives the record's id, and other '#' lines are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any, Callable, Sequence

import numpy as np

from sspred.errors import InputError
from sspred.io.formats import ID_COMMENT, PROBABILITIES_SUFFIX
from sspred.tracks import CLASS, DISTRIBUTION, TRACKS

VFORMAT = "# PSIPRED VFORMAT"
HFORMAT = "# PSIPRED HFORMAT"


@dataclass
class PredictionRecord:
    """One record of a prediction file, as the file has it; fields a format does not carry are None.

    Not ``sspred.Prediction``: that one derives its letters and confidence from its probabilities,
    while a file may carry letters alone (.horiz), or letters that are not the most probable state
    (PSIPRED's own .ss2, after its second pass).

    Parameters
    ----------
    id : str or None
        The record's id; None where the file names none (PSIPRED's own files).
    sequence : str
        The residues, length L.
    prediction : str
        One state letter per residue.
    probabilities : numpy.ndarray of float64, shape (L, K), optional
        The state probabilities (.ss2, JSON, TSV).
    confidence : str, optional
        The confidence digits (.horiz, JSON).
    model : str, optional
        The model's name as the file gives it.
    disorder : numpy.ndarray of float64, shape (L,), optional
        P(disordered), where the file carries it (JSON, TSV).
    conservation : numpy.ndarray of int64, shape (L,), optional
        Conservation classes 1-9, where the file carries them (JSON, TSV).
    ss8 : numpy.ndarray of float64, shape (L, 8), optional
        The ss8 head's probabilities in HGIEBTSC order, where the file carries them (JSON, TSV).

    Examples
    --------
    >>> import io, sspred
    >>> text = io.StringIO()
    >>> _ = sspred.write(sspred.load("fast").predict({"a": "MKV"}), text, format="ss2")
    >>> rec = read_ss2(io.StringIO(text.getvalue()))[0]
    >>> rec.id, rec.sequence, rec.probabilities.shape, rec.confidence
    ('a', 'MKV', (3, 3), None)
    """

    id: str | None
    sequence: str
    prediction: str
    probabilities: np.ndarray | None = None  # (L, K)
    confidence: str | None = None
    model: str | None = None
    #: (L,) P(disordered), (L,) conservation classes 1-9 and (L, 8) ss8 probabilities, where the file carries
    #: them (JSON, TSV).
    disorder: np.ndarray | None = None
    conservation: np.ndarray | None = None
    ss8: np.ndarray | None = None


def _model_name(line: str, tag: str) -> str:
    rest = line[len(tag):].strip()
    return rest[1:-1] if rest.startswith("(") and rest.endswith(")") else rest


def read_ss2(handle: IO[str], path: str = "<input>") -> list[PredictionRecord]:
    """Read VFORMAT: a header per record, then '%4d %c %c  %6.3f %6.3f %6.3f' per residue (P(C), P(H), P(E)).

    Parameters
    ----------
    handle : text file
        An open text handle on the file.
    path : str, default "<input>"
        The name errors give the file.

    Returns
    -------
    list of PredictionRecord
        One per record, in file order.

    Raises
    ------
    sspred.InputError
        When the text is not of this format, naming the line where it can.

    Examples
    --------
    >>> import io
    >>> text = "# PSIPRED VFORMAT (x)\\n\\n   1 M C   0.900  0.050  0.050\\n   2 K H   0.300  0.600  0.100\\n"
    >>> rec = read_ss2(io.StringIO(text))[0]
    >>> rec.sequence, rec.prediction, rec.probabilities[1].tolist()
    ('MK', 'CH', [0.3, 0.6, 0.1])
    """
    out: list[PredictionRecord] = []
    rows: list[tuple[str, str, list[float]]] = []
    model = rec_id = None

    def flush() -> None:
        if model is not None:
            probs = np.array([r[2] for r in rows], dtype=np.float64).reshape(len(rows), 3)  # (L, 3)
            out.append(PredictionRecord(rec_id, "".join(r[0] for r in rows), "".join(r[1] for r in rows), probs,
                                        model=model))

    for lineno, line in enumerate(handle, start=1):
        if line.startswith(VFORMAT):
            flush()
            model, rec_id, rows = _model_name(line, VFORMAT), None, []
            continue
        if model is not None and line.startswith(ID_COMMENT):
            rec_id = line[len(ID_COMMENT):].rstrip("\r\n")
            continue
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if model is None or len(parts) != 6 or len(parts[1]) != 1 or len(parts[2]) != 1:
            raise InputError(f"not a VFORMAT residue line: {line.rstrip()[:40]!r}", path=path, line=lineno)
        try:
            pos, probs = int(parts[0]), [float(v) for v in parts[3:]]
        except ValueError:
            raise InputError(f"bad number in {line.rstrip()[:40]!r}", path=path, line=lineno) from None
        if pos != len(rows) + 1:
            raise InputError(f"residue number {pos}, expected {len(rows) + 1}", path=path, line=lineno)
        rows.append((parts[1], parts[2], probs))
    flush()
    return out


def read_horiz(handle: IO[str], path: str = "<input>") -> list[PredictionRecord]:
    """Read HFORMAT: a header per record, then blocks of 'Conf:', 'Pred:', '  AA:' lines and a ruler.

    Parameters
    ----------
    handle : text file
        An open text handle on the file.
    path : str, default "<input>"
        The name errors give the file.

    Returns
    -------
    list of PredictionRecord
        One per record, in file order.

    Raises
    ------
    sspred.InputError
        When the text is not of this format, naming the line where it can.

    Examples
    --------
    >>> import io
    >>> text = "# PSIPRED HFORMAT (x)\\n\\nConf: 83\\nPred: CH\\n  AA: MK\\n      \\n\\n"
    >>> rec = read_horiz(io.StringIO(text))[0]
    >>> rec.sequence, rec.prediction, rec.confidence, rec.probabilities
    ('MK', 'CH', '83', None)
    """
    out: list[PredictionRecord] = []
    fields: dict[str, list[str]] = {}
    model = rec_id = None
    tags = {"Conf:": "conf", "Pred:": "pred", "  AA:": "aa"}

    def flush() -> None:
        if model is not None:
            conf, pred, aa = ("".join(fields[k]) for k in ("conf", "pred", "aa"))
            if not len(conf) == len(pred) == len(aa):
                raise InputError(f"Conf, Pred and AA lengths differ ({len(conf)}, {len(pred)}, {len(aa)})",
                                 path=path, record=model)
            out.append(PredictionRecord(rec_id, aa, pred, confidence=conf, model=model))

    for lineno, line in enumerate(handle, start=1):
        text = line.rstrip("\n")
        if text.startswith(HFORMAT):
            flush()
            model, rec_id, fields = _model_name(text, HFORMAT), None, {"conf": [], "pred": [], "aa": []}
        elif model is not None and text.startswith(ID_COMMENT):
            rec_id = text[len(ID_COMMENT):].rstrip("\r")
        elif text.startswith("#"):
            continue
        elif text[:5] in tags and model is not None:
            fields[tags[text[:5]]].append(text[6:] if text[5:6] == " " else text[5:])
        elif text.strip() and not (model is not None and text.strip().replace(" ", "").isdigit()):
            raise InputError(f"not an HFORMAT line: {text[:40]!r}", path=path, line=lineno)
    flush()
    return out


def read_json(handle: IO[str], path: str = "<input>") -> list[PredictionRecord]:
    """Read the JSON document of ``JsonWriter`` and of the web service.

    Its shape: {"model": {"name", ...}, "state_order" (older files: "states"), "predictions": [{id, sequence,
    states, confidence, probabilities, and any tracks}], "warnings"}.

    Parameters
    ----------
    handle : text file
        An open text handle on the file.
    path : str, default "<input>"
        The name errors give the file.

    Returns
    -------
    list of PredictionRecord
        One per record, in file order.

    Raises
    ------
    sspred.InputError
        When the text is not of this format, naming the line where it can.

    Examples
    --------
    >>> import io, sspred
    >>> text = io.StringIO()
    >>> _ = sspred.write(sspred.load("fast").predict({"a": "MKV"}), text, format="json")
    >>> rec = read_json(io.StringIO(text.getvalue()))[0]
    >>> rec.id, rec.model, rec.probabilities.shape
    ('a', 'fast', (3, 3))
    """
    try:
        doc = json.load(handle)
        model = doc["model"]["name"]
        return [PredictionRecord(p["id"], p["sequence"], p["states"],
                           np.array(p["probabilities"], dtype=np.float64).reshape(len(p["sequence"]), len(doc.get("state_order", doc.get("states")))),
                           p["confidence"], model=model, **{name: _track(name, _json_values(name, p), len(p["sequence"]))
                                                            for name in TRACKS if name in p})
                for p in doc["predictions"]]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as exc:
        raise InputError(f"not an sspred JSON prediction file ({type(exc).__name__}: {exc})", path=path) from None


def _json_values(name: str, item: dict) -> Any:
    """A track's values in one JSON prediction: its key's list, or a distribution's ``<name>_probabilities``."""
    return item[name + PROBABILITIES_SUFFIX] if TRACKS[name].kind == DISTRIBUTION else item[name]


def _track(name: str, values: Sequence, n: int) -> np.ndarray:
    """A track's values as read back: (n,) float64 probabilities or int64 classes, or (n, K) float64."""
    track = TRACKS[name]
    out = np.array(values, dtype=np.int64 if track.kind == CLASS else np.float64)
    if out.shape != (n, *track.shape_tail):
        raise ValueError(f"track {name!r} has {out.size} values for {n} residues")
    return out


def read_tsv(handle: IO[str], path: str = "<input>") -> list[PredictionRecord]:
    """Read ``TsvWriter`` rows: id, pos, aa, pred, p_<state>..., then any track columns.

    The track columns are p_disorder, conservation, ss8 and p_ss8_<state>...; a record starts where pos
    restarts at 1.

    Parameters
    ----------
    handle : text file
        An open text handle on the file.
    path : str, default "<input>"
        The name errors give the file.

    Returns
    -------
    list of PredictionRecord
        One per record, in file order.

    Raises
    ------
    sspred.InputError
        When the text is not of this format, naming the line where it can.

    Examples
    --------
    >>> import io
    >>> text = "id\\tpos\\taa\\tpred\\tp_C\\tp_H\\tp_E\\na\\t1\\tM\\tC\\t0.9\\t0.05\\t0.05\\na\\t2\\tK\\tH\\t0.3\\t0.6\\t0.1\\n"
    >>> rec = read_tsv(io.StringIO(text))[0]
    >>> rec.id, rec.sequence, rec.prediction, rec.probabilities.shape
    ('a', 'MK', 'CH', (2, 3))
    """
    header = handle.readline().rstrip("\n").split("\t")
    by_column = {t.column: name for name, t in TRACKS.items()}
    first_track = next((i for i in range(4, len(header)) if header[i] in by_column), len(header))
    state_cols = header[4:first_track]
    names = [by_column[c] for c in header[first_track:] if c in by_column]
    if (header[:4] != ["id", "pos", "aa", "pred"] or not state_cols or not all(h.startswith("p_") for h in state_cols)
            or names != [t for t in TRACKS if t in names]
            or header[first_track:] != [c for t in names for c in TRACKS[t].columns]):
        raise InputError("not an sspred TSV prediction file (header)", path=path, line=1)
    n_states = len(state_cols)
    # each track's columns (a distribution's letter column is derived from its probabilities: not read back)
    spans, start = {}, first_track
    for t in names:
        n_cols = len(TRACKS[t].columns)
        spans[t] = slice(start + 1, start + n_cols) if TRACKS[t].kind == DISTRIBUTION else slice(start, start + 1)
        start += n_cols
    letter_cols = {s.start - 1 for t, s in spans.items() if TRACKS[t].kind == DISTRIBUTION}
    out: list[PredictionRecord] = []
    cur: list[list[str]] = []

    def flush() -> None:
        if cur:
            probs = np.array([[float(v) for v in r[4:4 + n_states]] for r in cur],
                             dtype=np.float64).reshape(len(cur), n_states)  # (L, K)
            tracks: dict[str, Any] = {
                t: _track(t, [[float(v) for v in r[span]] if TRACKS[t].kind == DISTRIBUTION else float(r[span][0])
                              for r in cur], len(cur))
                for t, span in spans.items()}
            out.append(PredictionRecord(cur[0][0], "".join(r[2] for r in cur), "".join(r[3] for r in cur), probs,
                                  **tracks))

    for lineno, line in enumerate(handle, start=2):
        row = line.rstrip("\n").split("\t")
        try:
            pos = int(row[1]) if len(row) == len(header) else -1
            [float(v) for j, v in enumerate(row[4:], start=4) if j not in letter_cols]
        except ValueError:
            pos = -1
        if pos < 1 or len(row[2]) != 1 or len(row[3]) != 1 or (pos > 1 and (not cur or row[0] != cur[0][0]
                                                                                or pos != len(cur) + 1)):
            raise InputError(f"not an sspred TSV row: {line.rstrip()[:40]!r}", path=path, line=lineno)
        if pos == 1:
            flush()
            cur = []
        cur.append(row)
    flush()
    return out


#: Readers keyed by the --format name of the writer they read.
READERS: dict[str, Callable[[IO[str], str], list[PredictionRecord]]] = {
    "ss2": read_ss2,
    "horiz": read_horiz,
    "json": read_json,
    "tsv": read_tsv,
}
