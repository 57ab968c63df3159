"""What the web service does, without the web: parse a request, check its limits, predict, render.

Plain functions over plain data, so they test without a server and run in a
worker thread, off the event loop. Validation is the library's (``parse_fasta``,
``sequence_record``); this module only turns its ``InputError`` into words for people
who paste sequences into a page, and enforces the per-request limits.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Protocol, cast

import numpy as np

from sspred import __version__
from sspred.errors import InputError
from sspred.io.fasta import Record, parse_fasta
from sspred.io.sequences import sequence_record
from sspred.io.formats import PROB_DECIMALS, confidence_digits, make_writer, states_of, track_json
from sspred.alphabet import STATES3
from sspred.tracks import track_names, track_values

#: Name used for the "file" in error messages about a request body.
SOURCE = "input"
#: Record id given to a pasted sequence that has no FASTA header.
PLAIN_ID = "query"
#: Letters of nucleotide sequences. A, C, G, T and N are amino-acid letters too, so DNA passes as "protein";
#: a sequence made almost only of these is worth a warning.
NUCLEOTIDES = "ACGTUN"
#: Share of nucleotide letters from which a sequence of at least NUCLEOTIDE_MIN_LENGTH residues is flagged:
#: proteins average about 28% A+C+G+T+N (UniProt composition); none of the 9,712 netsurfp2 training chains is flagged.
NUCLEOTIDE_SHARE, NUCLEOTIDE_MIN_LENGTH = 0.9, 20


@dataclass(frozen=True)
class Limits:
    """Per-request limits. Each bounds one resource a single request could exhaust."""

    #: Bytes in a request body, checked before anything is parsed: bounds memory per request.
    max_request_bytes: int = 1_048_576
    #: Residues summed over a request's sequences: bounds the prediction time and the JSON answer
    #: (about 35 bytes per residue) of one request.
    max_residues: int = 100_000
    #: Sequences per request: bounds per-record overhead (headers, ids) of one request.
    max_sequences: int = 1000

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class LimitExceeded(Exception):
    """A request past one of the Limits; the service answers 413 naming the limit."""

    def __init__(self, limit: str, maximum: int, actual: int | None, message: str):
        super().__init__(message)
        self.limit, self.maximum, self.actual, self.message = limit, maximum, actual, message

    def to_dict(self) -> dict:
        return {"type": "limit_exceeded", "limit": self.limit, "maximum": self.maximum,
                "actual": self.actual, "message": self.message}


class ServedModel(Protocol):
    """What the service needs of a model (sspred.model.Model has it). A model that also has ``heads`` and
    ``predict_heads`` (sspred.model.Model does) serves the tracks of its extra heads (``sspred.tracks``)."""

    @property
    def name(self) -> str: ...

    @property
    def states(self) -> str: ...

    @property
    def header(self) -> dict: ...

    def predict_proba(self, codes: np.ndarray) -> np.ndarray: ...


#: Plain-words advice for each library input error, keyed by the start of its message.
HINTS = {
    "empty input": "Paste a protein sequence or upload a FASTA file.",
    "empty file": "Paste a protein sequence or upload a FASTA file.",
    "empty sequence": "This entry has a header line ('>...') but no residues under it.",
    "unknown residue symbol": "Use one-letter amino-acid codes (ACDEFGHIKLMNPQRSTVWY, or X for an unknown residue); "
                              "DNA/RNA, numbers and punctuation are not protein sequence.",
    "text before the first '>'": "In FASTA each sequence starts with a header line beginning with '>', "
                                 "for example '>my_protein'.",
    "'*' (stop) inside": "'*' marks a stop; only one '*' at the very end of a sequence is allowed.",
    "header has no id": "Write a name right after '>', for example '>my_protein'.",
    "not UTF-8": "Save the file as plain text (FASTA), not as a word-processor document.",
}


def explain(exc: InputError) -> str:
    """One sentence or two a biologist can act on: where the problem is, what it is, what to do."""
    full = str(exc)
    bare = full.split(": ", 1)[1] if exc.path is not None and ": " in full else full
    where = []
    if exc.record is not None:
        where.append(f"sequence {exc.record!r}")
    if exc.position is not None:
        where.append(f"residue {exc.position}")
    elif exc.line is not None and exc.record is None:
        where.append(f"line {exc.line}")
    hint = next((text for key, text in HINTS.items() if bare.startswith(key)), "")
    if where:
        return f"In {', '.join(where)}: {bare}. {hint}".strip()
    return f"{bare[:1].upper()}{bare[1:]}. {hint}".strip()


def error_body(exc: InputError) -> dict:
    return {"type": "invalid_input", "message": explain(exc), "record": exc.record,
            "position": exc.position, "line": exc.line}


class _Counter:
    """Counts sequences and residues as records arrive; raises LimitExceeded at the first one past a limit."""

    def __init__(self, limits: Limits):
        self.limits, self.sequences, self.residues = limits, 0, 0

    def add(self, length: int) -> None:
        self.sequences += 1
        self.residues += length
        lim = self.limits
        if self.sequences > lim.max_sequences:
            raise LimitExceeded("max_sequences", lim.max_sequences, None,
                                f"This request has more than {lim.max_sequences:,} sequences, the most this server "
                                f"predicts at once (max_sequences). Split the input into smaller batches.")
        if self.residues > lim.max_residues:
            raise LimitExceeded("max_residues", lim.max_residues, self.residues,
                                f"This request has at least {self.residues:,} residues; this server predicts at most "
                                f"{lim.max_residues:,} residues at once (max_residues). Split the input into "
                                f"smaller batches.")


def check_body_size(size: int, limits: Limits) -> None:
    if size > limits.max_request_bytes:
        raise LimitExceeded("max_request_bytes", limits.max_request_bytes, size,
                            f"The input is {size:,} bytes; this server accepts at most "
                            f"{limits.max_request_bytes:,} bytes per request (max_request_bytes). "
                            f"Split the input into smaller batches.")


def records_from_text(text: str, limits: Limits) -> tuple[list[Record], list[str]]:
    """Records of a FASTA text, or of one bare pasted sequence (no '>' anywhere), and any warnings."""
    warnings: list[str] = []
    if not text.strip():
        raise InputError("empty input: no sequence given", path=SOURCE)
    if ">" not in text:
        return records_from_pairs([(PLAIN_ID, text)], limits), warnings
    counter = _Counter(limits)
    records = []
    # newline=None turns CRLF and lone CR into "\n", as files are read.
    for rec in parse_fasta(io.StringIO(text, newline=None), warn=warnings.append, path=SOURCE):
        counter.add(len(rec))
        records.append(rec)
    return records, [w.removeprefix(f"{SOURCE}: ") for w in warnings]


def records_from_pairs(pairs: Iterable[tuple[str, str]], limits: Limits) -> list[Record]:
    """Records from (id, sequence) pairs, as JSON requests give them; whitespace inside a sequence is dropped."""
    counter = _Counter(limits)
    records = []
    for rec_id, raw in pairs:
        rec = sequence_record(rec_id, raw, path=SOURCE)
        counter.add(len(rec))
        records.append(rec)
    return records


def nucleotide_warnings(records: list[Record]) -> list[str]:
    """A warning for each record that looks like DNA or RNA rather than protein."""
    out = []
    for rec in records:
        seq = rec.sequence.upper()
        share = sum(seq.count(n) for n in NUCLEOTIDES) / len(seq)
        if len(seq) >= NUCLEOTIDE_MIN_LENGTH and share >= NUCLEOTIDE_SHARE:
            out.append(f"sequence {rec.id!r} looks like DNA/RNA ({100 * share:.0f}% A, C, G, T, U, N); sspred "
                       f"predicts from protein sequence, so translate it first")
    return out


def model_info(model: ServedModel) -> dict:
    header = model.header
    return {"name": model.name, "states": model.states, "window": int(header["model"]["window"]),
            "checksum": header.get("checksum", ""), "trained_on": header.get("train", {}).get("data"),
            "sspred_version": __version__}


def served_tracks(model: ServedModel) -> tuple[str, ...]:
    """The tracks the model's extra heads give (``sspred.tracks.track_names``); () for a single-head model, or
    one that offers only ``predict_proba``."""
    heads = getattr(model, "heads", None)
    return track_names(heads.names) if heads is not None else ()


def predict(model: ServedModel, records: list[Record]) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Per record: its (L, K) states probabilities and its tracks' (L,) values ({} without extra heads).

    A model with tracks runs once over all records (``predict_heads``: every head from one pass); one
    without runs per record through ``predict_proba``, as the service always has."""
    if not served_tracks(model):
        return [(model.predict_proba(rec.codes), {}) for rec in records]
    multi = cast(Any, model)  # served_tracks: it has heads and predict_heads
    first = multi.heads.names[0]  # the states head
    return [(out[first], track_values(out)) for out in multi.predict_heads([rec.codes for rec in records])]


def render_json(model: ServedModel, records: list[Record], predicted: list[tuple[np.ndarray, dict]],
                warnings: list[str]) -> bytes:
    preds = []
    for rec, (p, tracks) in zip(records, predicted):
        item = {"id": rec.id, "sequence": rec.sequence.upper(), "states": states_of(p, model.states),
                "confidence": confidence_digits(p),
                "probabilities": np.round(p.astype(np.float64), PROB_DECIMALS).tolist()}
        item.update({name: track_json(name, values) for name, values in tracks.items()})
        preds.append(item)
    return json.dumps({"model": model_info(model), "states": model.states, "predictions": preds,
                       "warnings": warnings}, separators=(",", ":")).encode()


def render_text(fmt: str, model: ServedModel, records: list[Record],
                predicted: list[tuple[np.ndarray, dict]]) -> bytes:
    out = io.StringIO()
    writer = make_writer(fmt, out, model.name, model.states, served_tracks(model))
    writer.begin()
    for rec, (p, tracks) in zip(records, predicted):
        writer.record(rec.id, rec.sequence.upper(), p, tracks)
    writer.end()
    return out.getvalue().encode()


def format_problem(fmt: str, model: ServedModel) -> str | None:
    """Why ``fmt`` cannot hold this model's predictions, or None."""
    if fmt == "ss2" and model.states != STATES3:
        return (f"The .ss2 format holds 3-state (H/E/C) predictions only, and this server's model predicts "
                f"{len(model.states)} states. Ask for horiz or json instead.")
    return None
