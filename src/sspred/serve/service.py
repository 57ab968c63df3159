"""What the web service does, without the web: parse a request, check its limits, predict, render.

Plain functions over plain data, so they test without a server and run in a
worker thread, off the event loop. Validation is the library's (``parse_fasta``,
``sequence_record``); this module only turns its ``InputError`` into words for people
who paste sequences into a page, and enforces the per-request limits. Prediction and
output are the library's too: a request's records go through ``Predictor.predict_batches``
in one batched pass, as ``sspred predict`` does, and every answer is written by
``sspred.io.formats``' writers, so the service's JSON is the CLI's, number for number.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from sspred.errors import InputError
from sspred.io.fasta import BARE_ID, Record, parse_fasta
from sspred.io.sequences import nucleotide_warning, sequence_record
from sspred.model import feature_residues
from sspred.predict.api import Prediction, Predictor
from sspred.predict.writing import write_predictions

#: Name used for the "file" in error messages about a request body.
SOURCE = "input"
#: Record id given to a pasted sequence that has no FASTA header: the library's, as the CLI names it.
PLAIN_ID = BARE_ID


@dataclass(frozen=True)
class Limits:
    """Per-request limits. Each bounds one resource a single request could exhaust."""

    #: Bytes in a request body, checked before anything is parsed: bounds memory per request.
    max_request_bytes: int = 1_048_576
    #: Residues summed over a request's sequences: bounds the prediction time, the JSON answer (about 35 bytes
    #: per residue) and the prediction's memory of one request. That memory is linear in the longest chain for
    #: every model (whole-chain attention goes in blocks of query rows, engines.spec.ATTENTION_SCORES), so one
    #: chain of this many residues is bounded too; BENCHMARKS.md measures each built-in model on one. A model
    #: with UniRep input holds a chain's states whole and takes fewer (``limits_for``).
    max_residues: int = 100_000
    #: Sequences per request: bounds per-record overhead (headers, ids) of one request.
    max_sequences: int = 1000

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def limits_for(predictor: Predictor, limits: Limits | None = None) -> Limits:
    """The limits a service of ``predictor``'s model keeps: ``limits`` (default ``Limits()``), with
    ``max_residues`` lowered for a model that reads language-model states beside one-hot.

    Such a model holds a chain's states whole (UniRep's mLSTM reads the chain in order; 1900 float32 channels
    are 7.6 kB a residue), so one chain of 100,000 residues would hold 760 MB of states per request, with
    two or more requests predicted at once (``sspred.serve.app.PREDICT_SLOTS``). Its requests are held to the residues whose states fit
    ``sspred.model.FEATURE_BYTES`` (``sspred.model.feature_residues``: 35,320 at 1900 channels, titin's 34,350
    included), the budget its many-chain requests are predicted in anyway.

    Parameters
    ----------
    predictor : Predictor
        The model served.
    limits : Limits, optional
        The limits asked for.

    Returns
    -------
    Limits
        ``limits``, with ``max_residues`` at most ``feature_residues(width)`` for a model with states input.
    """
    limits = limits or Limits()
    widths = [ext.spec.width for ext in predictor.session.feature_extractors().values()]
    if not widths:
        return limits
    return dataclasses.replace(limits, max_residues=min(limits.max_residues, feature_residues(max(widths))))


class LimitExceeded(Exception):
    """A request past one of the Limits; the service answers 413 naming the limit."""

    def __init__(self, limit: str, maximum: int, actual: int | None, message: str):
        super().__init__(message)
        self.limit, self.maximum, self.actual, self.message = limit, maximum, actual, message

    def to_dict(self) -> dict:
        return {"type": "limit_exceeded", "limit": self.limit, "maximum": self.maximum,
                "actual": self.actual, "message": self.message}


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


def _upper(rec: Record) -> Record:
    """The record with its residues in upper case: the service answers with the residues it predicted, cleaned."""
    return rec if rec.sequence.isupper() else dataclasses.replace(rec, sequence=rec.sequence.upper())


def records_from_text(text: str, limits: Limits) -> tuple[list[Record], list[str]]:
    """Records of a FASTA text, or of one bare pasted sequence (no '>' anywhere: one record ``PLAIN_ID``, as
    ``parse_fasta`` reads it for the CLI too), and any warnings."""
    warnings: list[str] = []
    if not text.strip():
        raise InputError("empty input: no sequence given", path=SOURCE)
    counter = _Counter(limits)
    records = []
    # newline=None turns CRLF and lone CR into "\n", as files are read.
    for rec in parse_fasta(io.StringIO(text, newline=None), warn=warnings.append, path=SOURCE):
        counter.add(len(rec))
        records.append(_upper(rec))
    return records, [w.removeprefix(f"{SOURCE}: ") for w in warnings]


def records_from_pairs(pairs: Iterable[tuple[str, str]], limits: Limits) -> list[Record]:
    """Records from (id, sequence) pairs, as JSON requests give them; whitespace inside a sequence is dropped."""
    counter = _Counter(limits)
    records = []
    for rec_id, raw in pairs:
        rec = sequence_record(rec_id, raw, path=SOURCE)
        counter.add(len(rec))
        records.append(_upper(rec))
    return records


def nucleotide_warnings(records: list[Record]) -> list[str]:
    """A warning for each record that looks like DNA or RNA rather than protein (the library's
    ``nucleotide_warning``, which the CLI prints too)."""
    return [note for note in map(nucleotide_warning, records) if note is not None]


def predict(predictor: Predictor, records: list[Record]) -> list[Prediction]:
    """A request's predictions, in order: its records in one batched pass (``Predictor.predict_batches``,
    the path of ``sspred predict``; a request past ``BATCH_RESIDUES`` residues takes several), every head at once."""
    return [pred for batch in predictor.predict_batches(records) for pred in batch]


def render(fmt: str, predictor: Predictor, predictions: list[Prediction], warnings: Sequence[str] = ()) -> bytes:
    """The answer's body in ``fmt`` (json, ss2 or horiz), written by the writer loop of ``sspred predict`` and ``sspred.write``; JSON
    also carries ``warnings``, notes on the input."""
    out = io.StringIO()
    write_predictions(predictions, out, fmt, model_name=predictor.model_name, states=predictor.state_order,
                      tracks=predictor.track_names, model_info=predictor.model_info, warnings=warnings)
    return out.getvalue().encode()
