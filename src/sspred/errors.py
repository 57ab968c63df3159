"""The error type for bad input.

Every problem with a user's file is an ``InputError``: a ``ValueError`` whose
message names the file, the record and the position, so the CLI can print it
as one line and exit with code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input data: a malformed file, an unknown symbol, mismatched labels.

    >>> import sspred
    >>> try:
    ...     sspred.load("fast").predict("MKV1")
    ... except sspred.InputError as exc:
    ...     print(exc.record, exc.position, "|", exc)
    seq1 4 | record 'seq1', position 4: unknown residue symbol '1'
    """

    def __init__(self, message: str, *, path: str | None = None, record: str | None = None,
                 position: int | None = None, line: int | None = None):
        self.path, self.record, self.position, self.line = path, record, position, line
        where = []
        if path is not None:
            where.append(str(path))
        if line is not None:
            where.append(f"line {line}")
        if record is not None:
            where.append(f"record {record!r}")
        if position is not None:
            where.append(f"position {position}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class ModelFileError(ValueError):
    """A model file that is missing, truncated, corrupt, foreign or of an unknown version.

    >>> import sspred
    >>> try:
    ...     sspred.load("no-such-model.npz")
    ... except sspred.ModelFileError as exc:
    ...     print(str(exc).split(":")[0])
    no-such-model.npz
    """


class ToolError(RuntimeError):
    """An external program (mmseqs, mkdssp) is missing or failed."""
