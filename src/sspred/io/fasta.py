"""Multi-FASTA input, the way users really write it.

Accepted: wrapped lines, lower case, blank lines, CRLF or CR line endings, a
UTF-8 byte-order mark, gzip (detected by content), spaces inside sequence
lines, a trailing ``*``, and the gap characters ``-`` and ``.`` (removed, with
a warning, since they stand for no residue). Everything else is an InputError
that names the file, the record and the position.

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
_STRIP_SPACE = re.compile(r"[ \t\v\f]+")


@dataclass
class Record:
    """One input sequence: its id (first word of the header), header and symbol codes."""

    id: str
    description: str
    sequence: str
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.sequence)


def read_fasta(handle: IO[str], path: str = "<input>") -> Iterator[tuple[str, str, int]]:
    """Yield (header, raw sequence, header line number) for each record in a text handle."""
    header, chunks, header_line = None, [], 0
    lineno = 0
    try:
        for lineno, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if line.startswith(">"):
                if header is not None:
                    yield header, _STRIP_SPACE.sub("", "".join(chunks)), header_line
                header, chunks, header_line = line[1:].strip(), [], lineno
            elif header is None:
                if line.strip():
                    raise InputError(f"text before the first '>' header: {line[:40]!r}", path=path, line=lineno)
            else:
                chunks.append(line.strip())  # inner spaces go once per record, below
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r}); is this a FASTA file?",
                         path=path, line=lineno + 1) from None
    except (EOFError, OSError) as exc:  # truncated or corrupt gzip stream
        raise InputError(f"cannot read: {exc}", path=path, line=lineno + 1) from None
    if header is not None:
        yield header, _STRIP_SPACE.sub("", "".join(chunks)), header_line
    elif lineno == 0:
        raise InputError("empty file: no FASTA records", path=path)
    else:
        raise InputError("no FASTA records (no line starts with '>')", path=path)


def clean(raw: str, *, path: str, record: str, warn: Callable[[str], None] | None = None) -> str:
    """Strip a trailing stop '*' and gap characters from a raw sequence; reject an inner '*'."""
    seq = raw[:-1] if raw.endswith("*") else raw
    star = seq.find("*")
    if star >= 0:
        raise InputError("'*' (stop) inside the sequence; only a trailing '*' is allowed",
                         path=path, record=record, position=star + 1)
    if any(g in seq for g in GAP_CHARS):
        n_gaps = sum(seq.count(g) for g in GAP_CHARS)
        seq = seq.replace("-", "").replace(".", "")
        if warn is not None:
            warn(f"{path}: record {record!r}: removed {n_gaps} gap character(s) '-'/'.'")
    return seq


def parse_fasta(source: str | os.PathLike | IO[str], warn: Callable[[str], None] | None = None,
                path: str | None = None) -> Iterator[Record]:
    """Yield validated Records from a path ("-" for stdin) or a text handle, one at a time."""
    name = path or (str(source) if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "<input>"))
    with open_text(source) as handle:
        for header, raw, line in read_fasta(handle, name):
            rec_id = header.split(maxsplit=1)[0] if header.split() else ""
            if not rec_id:
                raise InputError("header has no id", path=name, line=line)
            seq = clean(raw, path=name, record=rec_id, warn=warn)
            if not seq:
                raise InputError("empty sequence", path=name, record=rec_id, line=line)
            yield Record(rec_id, header, seq, encode(seq, path=name, record=rec_id))
