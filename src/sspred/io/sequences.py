"""Sequences handed to the Python API, in every form a caller has them, as validated Records.

``records(sequences)`` accepts one residue string, an iterable of strings, a
dict of id -> sequence, Biopython SeqRecords (anything with ``.id`` and
``.seq``), or a ``pathlib.Path`` to a (multi-)FASTA file, plain or gzipped.
Every kind goes through the checks ``sspred predict`` applies to a FASTA record
(``fasta.clean``, then ``features.encode``), so a bad sequence raises the same
``InputError`` naming the record and the 1-based position.

A ``str`` is always a sequence, never a file name: only a path object is read
as a file, so a typo can never turn into reading some other file.

>>> [(r.id, r.sequence) for r in records(["MKV", "gslA*"])]
[('seq1', 'MKV'), ('seq2', 'gslA')]
>>> list(records({"a": "MK1V"}))
Traceback (most recent call last):
...
sspred.errors.InputError: record 'a', position 3: unknown residue symbol '1'
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol, TypeGuard, Union

from sspred.errors import InputError
from sspred.features import encode
from sspred.io.fasta import GAP_CHARS, Record, clean, parse_fasta

#: Id of the i-th (1-based) bare string, as the contract promises: seq1, seq2, ...
PLAIN_ID = "seq{}"
#: Characters of file names that no sequence keeps: gaps (removed) and path separators (rejected).
_PATH_CHARS = GAP_CHARS + "/" + os.sep
#: Whitespace inside a residue string is dropped, as it is inside a FASTA file's sequence lines.
_WHITESPACE = re.compile(r"\s+")
#: Letters of nucleotide sequences. A, C, G, T and N are amino-acid letters too, so DNA passes as "protein";
#: a sequence made almost only of these is worth a warning.
NUCLEOTIDES = "ACGTUN"
#: Share of nucleotide letters from which a sequence of at least NUCLEOTIDE_MIN_LENGTH residues is flagged:
#: proteins average about 28% A+C+G+T+N (UniProt composition); none of the 9,712 netsurfp2 training chains is flagged.
NUCLEOTIDE_SHARE, NUCLEOTIDE_MIN_LENGTH = 0.9, 20
#: An id is written as the first word of output headers (FASTA '>', TSV column), so it must be one printable word.
_BAD_ID = re.compile(r"[\s\x00-\x1f\x7f]")


class SeqRecordLike(Protocol):
    """What the API reads of a Biopython ``SeqRecord``: an ``id`` (str) and a ``seq`` (str or ``Bio.Seq.Seq``)."""

    @property
    def id(self) -> object:
        """The record's id, a str."""

    @property
    def seq(self) -> object:
        """The residues: a str, or a Biopython ``Seq``."""


#: Every form of ``sequences`` the Python API takes (``records``; ``Predictor.predict``, ``predict_iter``): one
#: residue string, an iterable of strings, a dict id -> sequence, one or more SeqRecords, or a path object to a
#: (multi-)FASTA file.
Sequences = Union[str, os.PathLike[str], Mapping[str, object], SeqRecordLike, Iterable[Union[str, SeqRecordLike]]]


def _warn(message: str) -> None:
    # Library code does not print: a removed gap reaches the caller as a Python warning they can filter.
    warnings.warn(message, UserWarning, stacklevel=2)


def records(sequences: Sequences) -> Iterator[Record]:
    """Validated Records of ``sequences`` (see the module docstring), lazily, in input order.

    A file is read record by record, so memory stays bounded by the longest record.

    Parameters
    ----------
    sequences : Sequences
        One residue string (id "seq1"), an iterable of strings (ids "seq1", "seq2", ...), a dict
        id -> sequence, Biopython SeqRecords, or a ``pathlib.Path`` to a (multi-)FASTA file, plain or gzipped.

    Returns
    -------
    iterator of Record
        One validated record per sequence.

    Raises
    ------
    sspred.InputError
        For a bad record (naming it and the position) and for input with no sequence at all.
    TypeError
        For an object that is none of the accepted kinds.

    Examples
    --------
    >>> [(r.id, r.sequence) for r in records({"a": "MKV", "b": "gsl*"})]
    [('a', 'MKV'), ('b', 'gsl')]
    """
    if isinstance(sequences, os.PathLike):
        return _nonempty(parse_fasta(sequences, warn=_warn))
    if isinstance(sequences, str):
        return _lone_string(sequences)
    return _nonempty(_record(rec_id, raw) for rec_id, raw in _pairs(sequences))


def _nonempty(recs: Iterator[Record]) -> Iterator[Record]:
    empty = True
    for rec in recs:
        empty = False
        yield rec
    if empty:
        raise InputError("empty input: no sequence given")


def _lone_string(text: str) -> Iterator[Record]:
    rec_id = PLAIN_ID.format(1)
    if not text.strip():
        raise InputError("empty input: no sequence given")
    # "in.fa" is "INFA" once the gap '.' is removed: a file's name must not pass silently as its contents.
    if any(c in text for c in _PATH_CHARS) and os.path.exists(text):
        raise InputError(f"{text!r} is a file name, not a sequence: a str is always a sequence; "
                         f"to read the file, pass pathlib.Path({text!r})", record=rec_id)
    yield _record(rec_id, text)


def _pairs(sequences: object) -> Iterator[tuple[object, object]]:
    """(id, raw sequence) of each item; bare strings are numbered seq1, seq2, ... by position."""
    if _is_seqrecord(sequences):
        sequences = [sequences]
    if isinstance(sequences, Mapping):
        yield from sequences.items()
        return
    if isinstance(sequences, (bytes, bytearray)) or not isinstance(sequences, Iterable):
        raise TypeError(f"sequences must be a str, an iterable of str, a dict id -> sequence, SeqRecords or a "
                        f"pathlib.Path to a FASTA file, not {type(sequences).__name__}")
    for i, item in enumerate(sequences, start=1):
        if isinstance(item, str):
            yield PLAIN_ID.format(i), item
        elif _is_seqrecord(item):
            yield item.id, item.seq
        else:
            raise TypeError(f"item {i} of sequences is a {type(item).__name__}; expected a str or a SeqRecord")


def _is_seqrecord(obj: object) -> TypeGuard[SeqRecordLike]:
    # Duck-typed, so Biopython stays optional: a SeqRecord is what has an id and a seq.
    return hasattr(obj, "id") and hasattr(obj, "seq")


def _text(rec_id: str, raw: object) -> str:
    """The residue string of a str or a Biopython Seq (its str() is its letters)."""
    if isinstance(raw, str):
        return raw
    if type(raw).__module__.split(".")[0] == "Bio":
        return str(raw)
    raise TypeError(f"sequence of record {rec_id!r} is a {type(raw).__name__}; expected a str")


def _record(rec_id: object, raw: object) -> Record:
    if not isinstance(rec_id, str):
        raise TypeError(f"record ids must be str, got {type(rec_id).__name__} {rec_id!r}")
    if not rec_id:
        raise InputError("empty record id")
    bad = _BAD_ID.search(rec_id)
    if bad:
        raise InputError(f"record id must be one printable word; {bad.group()!r} at column {bad.start() + 1}",
                         record=rec_id)
    # clean() starts its warning with the file name; there is no file here.
    return sequence_record(rec_id, _text(rec_id, raw), warn=lambda m: _warn(m.removeprefix("None: ")))


def sequence_record(rec_id: str, text: str, *, path: str | None = None,
                    warn: Callable[[str], None] | None = None) -> Record:
    """The Record of one (id, residue string) pair, checked as ``sspred predict`` checks a FASTA record.

    Whitespace is dropped, then ``fasta.clean`` (gaps, a trailing '*') and ``features.encode`` run. The one
    normalisation of a sequence that arrives without a FASTA file (this module, the web service's JSON).

    Parameters
    ----------
    rec_id : str
        The record's id.
    text : str
        Its residues as given.
    path : str, optional
        Where it came from, for messages.
    warn : callable, optional
        Called with one line when gaps are removed.

    Returns
    -------
    Record
        The validated record.

    Raises
    ------
    sspred.InputError
        For an empty or bad sequence, naming ``path`` (where given), the record and the position.

    Examples
    --------
    >>> sequence_record("x", "MK V-L*").sequence
    'MKVL'
    """
    seq = clean(_WHITESPACE.sub("", text), path=path, record=rec_id, warn=warn)
    if not seq:
        raise InputError("empty sequence", path=path, record=rec_id)
    return Record(rec_id, rec_id, seq, encode(seq, path=path, record=rec_id))


def nucleotide_warning(rec: Record) -> str | None:
    """The warning for a record that looks like DNA or RNA rather than protein, or None.

    The one test behind the CLI's ``sspred: warning: FILE: ...`` and the web service's ``warnings``. Such a record is still predicted (every letter of ACGTUN but U is an amino acid), so the caller warns.

    Parameters
    ----------
    rec : Record
        A validated record (``parse_fasta``, ``sequence_record``).

    Returns
    -------
    str or None
        "record 'ID' looks like DNA/RNA (...)" when at least ``NUCLEOTIDE_SHARE`` of a record of at least
        ``NUCLEOTIDE_MIN_LENGTH`` residues are A, C, G, T, U or N; None otherwise.

    Examples
    --------
    >>> nucleotide_warning(sequence_record("cds", "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGG"))
    "record 'cds' looks like DNA/RNA (100% A, C, G, T, U, N); sspred predicts from protein sequence, so translate it first"
    >>> nucleotide_warning(sequence_record("ubq", "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQ")) is None
    True
    """
    seq = rec.sequence.upper()
    if len(seq) < NUCLEOTIDE_MIN_LENGTH:
        return None
    share = sum(seq.count(n) for n in NUCLEOTIDES) / len(seq)
    if share < NUCLEOTIDE_SHARE:
        return None
    return (f"record {rec.id!r} looks like DNA/RNA ({100 * share:.0f}% A, C, G, T, U, N); sspred predicts from "
            f"protein sequence, so translate it first")
