"""Multi-FASTA input, the way users really write it.

Accepted: wrapped lines, lower case, blank lines, CRLF or CR line endings, a
UTF-8 byte-order mark, gzip (detected by content), spaces inside sequence
lines, a trailing ``*``, and the gap characters ``-`` and ``.`` (removed, with
a warning, since they stand for no residue), and a bare sequence: input with no
'>' anywhere is one record named ``BARE_ID`` ("query"), as a sequence pasted into
the web page is. Everything else is an InputError
that names the file, the record and the position. docs/input-policy.md is the
full table of what is accepted, warned about and rejected.

Errors come in two kinds. A bad *record* (no id, a control character in its
header, no residues, an unknown symbol, an inner ``*``) can be skipped: pass
``on_error`` and parsing goes on with the next record. A bad *file* (empty, no
header, text before the first header, binary data, bytes that are not UTF-8, a
broken gzip stream) always raises, since nothing after the fault can be trusted.

``read_fasta`` is the lowest layer: it yields (header, sequence) tuples from a
text handle, so it tests easily with ``io.StringIO``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import IO, Callable, Iterator

import numpy as np

from sspred.errors import InputError
from sspred.features import encode
from sspred.io.textfile import open_text

#: Characters that stand for an alignment gap, not a residue.
GAP_CHARS = "-."
#: Id of the one record of a bare sequence: input with no '>' header anywhere (the CLI's file, the service's text).
BARE_ID = "query"
_STRIP_SPACE = re.compile(r"[ \t\v\f]+")
#: C0 control characters other than tab, and DEL: never part of a real header, and unsafe to echo into outputs.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: How open_text(errors="surrogateescape") hands over a byte that is not UTF-8.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


@dataclass
class Record:
    """One input sequence: its id (first word of the header), header and symbol codes.

    Parameters
    ----------
    id : str
        The first whitespace-separated word of the header.
    description : str
        The whole header, without the ">".
    sequence : str
        The cleaned residues, length L.
    codes : numpy.ndarray of int, shape (L,)
        Residue symbol codes (``sspred.features.encode``).

    Examples
    --------
    >>> import io
    >>> from sspred.io.fasta import parse_fasta
    >>> rec = next(parse_fasta(io.StringIO(">ubq human\\nMQIFV\\n")))
    >>> rec.id, rec.description, rec.sequence, len(rec)
    ('ubq', 'ubq human', 'MQIFV', 5)
    """

    id: str
    description: str
    sequence: str
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.sequence)


def read_fasta(handle: IO[str], path: str = "<input>") -> Iterator[tuple[str, str, int]]:
    """Yield (header, raw sequence, header line number) for each record in a text handle.

    Input with no '>' line at all is one bare sequence, yielded as ``(BARE_ID, raw, first line)``; text
    before the first '>' of a file that has one is an InputError naming that text's first line.

    Parameters
    ----------
    handle : text file
        An open text handle (a file, ``io.StringIO``, stdin).
    path : str, default "<input>"
        The name errors give the file.

    Yields
    ------
    header : str
        The header line without ">", stripped.
    sequence : str
        The record's lines joined, spaces removed; not yet validated.
    line : int
        The 1-based line number of the header.

    Raises
    ------
    sspred.InputError
        For a bad file: empty, only blank lines, text before the first header of a file that has one, a NUL
        byte, bytes that are not UTF-8, or a broken gzip stream.

    Examples
    --------
    >>> import io
    >>> from sspred.io.fasta import read_fasta
    >>> list(read_fasta(io.StringIO(">a one\\nMKV\\nLA\\n>b\\nGS\\n")))
    [('a one', 'MKVLA', 1), ('b', 'GS', 4)]
    >>> list(read_fasta(io.StringIO("MKV\\nLLE\\n")))
    [('query', 'MKVLLE', 1)]
    >>> list(read_fasta(io.StringIO("MKV\\n>a\\nLLE\\n")))
    Traceback (most recent call last):
    ...
    sspred.errors.InputError: <input>, line 1: text before the first '>' header: 'MKV'
    """
    header, header_line = None, 0
    chunks: list[str] = []
    lineno = 0
    # The first non-blank line before any header, (line number, text): a bare sequence unless a '>' follows.
    bare: tuple[int, str] | None = None
    try:
        for lineno, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if "\x00" in line:
                raise InputError("binary data (a NUL byte), not a FASTA file", path=path, line=lineno)
            if not line.isascii() and (bad := _UNDECODABLE.search(line)):
                byte = bytes([ord(bad.group()) - 0xDC00])
                raise InputError(f"not UTF-8 text (byte {byte!r}, column {bad.start() + 1}); is this a FASTA file?",
                                 path=path, line=lineno)
            if line.startswith(">"):
                if bare is not None:
                    raise InputError(f"text before the first '>' header: {bare[1][:40]!r}", path=path, line=bare[0])
                if header is not None:
                    yield header, _STRIP_SPACE.sub("", "".join(chunks)), header_line
                header, chunks, header_line = line[1:].strip(), [], lineno
            elif header is None:
                # Held as a record's lines are (memory: one record), until a '>' or the end decides what it is.
                if bare is None and line.strip():
                    bare = (lineno, line)
                if bare is not None:
                    chunks.append(line.strip())
            else:
                chunks.append(line.strip())  # inner spaces go once per record, below
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r}); is this a FASTA file?",
                         path=path, line=lineno + 1) from None
    except (EOFError, OSError) as exc:  # truncated or corrupt gzip stream
        raise InputError(f"cannot read: {exc}", path=path, line=lineno + 1) from None
    if header is not None:
        yield header, _STRIP_SPACE.sub("", "".join(chunks)), header_line
    elif bare is not None:
        yield BARE_ID, _STRIP_SPACE.sub("", "".join(chunks)), bare[0]
    elif lineno == 0:
        raise InputError("empty file: no FASTA records", path=path)
    else:
        raise InputError("no FASTA records (no line starts with '>')", path=path)


def clean(raw: str, *, path: str | None, record: str, warn: Callable[[str], None] | None = None) -> str:
    """Remove gap characters and a trailing stop '*' from a raw sequence; reject an inner '*'.

    Gaps go first, so every position reported later is a position in the cleaned
    sequence: the numbering of the predictions.

    Parameters
    ----------
    raw : str
        The record's residues as read.
    path : str or None
        The file, for messages.
    record : str
        The record's id, for messages.
    warn : callable, optional
        Called with one line when gaps are removed.

    Returns
    -------
    str
        The sequence without gaps or a trailing '*'.

    Raises
    ------
    sspred.InputError
        For a '*' inside the sequence, naming its position.

    Examples
    --------
    >>> from sspred.io.fasta import clean
    >>> clean("MK-V.L*", path=None, record="a")
    'MKVL'
    """
    seq = raw
    if any(g in seq for g in GAP_CHARS):
        n_gaps = sum(seq.count(g) for g in GAP_CHARS)
        seq = seq.replace("-", "").replace(".", "")
        if warn is not None:
            warn(f"{path}: record {record!r}: removed {n_gaps} gap character(s) '-'/'.'")
    seq = seq[:-1] if seq.endswith("*") else seq
    star = seq.find("*")
    if star >= 0:
        raise InputError("'*' (stop) inside the sequence; only a trailing '*' is allowed",
                         path=path, record=record, position=star + 1)
    return seq


def parse_fasta(source: str | os.PathLike | IO[str], warn: Callable[[str], None] | None = None,
                path: str | None = None, on_error: Callable[[InputError], None] | None = None) -> Iterator[Record]:
    """Yield validated Records from a path ("-" for stdin) or a text handle, one at a time.

    The id is the first whitespace-separated word of the header, however long the header.
    With ``on_error``, a bad record is handed to it and skipped; without, it raises.
    File-level errors always raise.

    Parameters
    ----------
    source : str, os.PathLike or text file
        A (multi-)FASTA file's path, plain or gzipped, "-" for stdin, or an open text handle.
    warn : callable, optional
        Called with one line for each thing accepted with a warning (removed gaps).
    path : str, optional
        The name errors give the input; defaults to the path or the handle's name.
    on_error : callable, optional
        Called with the ``sspred.InputError`` of each bad record, which is then skipped.

    Yields
    ------
    Record
        Each valid record, in file order.

    Raises
    ------
    sspred.InputError
        For a bad file (see ``read_fasta``), and for a bad record when ``on_error`` is None.

    Examples
    --------
    >>> import io
    >>> from sspred.io.fasta import parse_fasta
    >>> skipped = []
    >>> [r.id for r in parse_fasta(io.StringIO(">a\\nMKV\\n>b\\nMK1\\n>c\\nGS\\n"), on_error=skipped.append)]
    ['a', 'c']
    >>> print(skipped[0])
    <input>, record 'b', position 3: unknown residue symbol '1'
    """
    name = path or (str(source) if isinstance(source, (str, os.PathLike)) else str(getattr(source, "name", "<input>")))
    with open_text(source, errors="surrogateescape") as handle:
        for header, raw, line in read_fasta(handle, name):
            try:
                yield _record(header, raw, line, name, warn)
            except InputError as exc:
                if on_error is None:
                    raise
                on_error(exc)


def _record(header: str, raw: str, line: int, name: str, warn: Callable[[str], None] | None) -> Record:
    words = header.split(maxsplit=1)
    rec_id = words[0] if words else ""
    if not rec_id:
        raise InputError("header has no id", path=name, line=line)
    control = _CONTROL.search(header)
    if control:
        raise InputError(f"control character {control.group()!r} in the header, column {control.start() + 1}",
                         path=name, line=line, record=rec_id)
    seq = clean(raw, path=name, record=rec_id, warn=warn)
    if not seq:
        raise InputError("empty sequence", path=name, record=rec_id, line=line)
    return Record(rec_id, header, seq, encode(seq, path=name, record=rec_id))
