"""The errors sspred raises on purpose: one family under ``SspredError``.

Each is a user's mistake or a missing piece of their machine, never a bug of ours, so the CLI turns every
``SspredError`` into one line on stderr and exit code 2 (``sspred.cli.root``), in one place. Each class also
derives from the built-in exception a caller would have caught before the family existed (``ValueError`` for
bad values, ``ImportError`` for a missing extra, ``RuntimeError`` for a failed run), so old ``except`` clauses
keep working.

>>> import sspred
>>> all(issubclass(e, sspred.SspredError) for e in (sspred.InputError, sspred.ModelFileError,
...     sspred.ConfigError, sspred.WeightsError, sspred.MissingExtra, sspred.DeviceError,
...     sspred.TrainingDiverged, sspred.OutputError))
True
"""

from __future__ import annotations

class SspredError(Exception):
    """The base of every error sspred raises on purpose; the CLI prints it as one line and exits with code 2.

    >>> import sspred
    >>> try:
    ...     sspred.load("no-such-model.npz")
    ... except sspred.SspredError as exc:
    ...     print(type(exc).__name__)
    ModelFileError
    """


class InputError(SspredError, ValueError):
    """Bad input data: a malformed file, an unknown symbol, mismatched labels.

    Parameters
    ----------
    message : str
        What is wrong.
    path, record : str, optional
        The file and the record (FASTA title, chain name) it is in.
    position : int, optional
        The 1-based residue position in the record.
    line : int, optional
        The 1-based line number in the file.

    Examples
    --------
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


class ModelFileError(SspredError, ValueError):
    """A model file that is missing, truncated, corrupt, foreign or of an unknown version.

    Examples
    --------
    >>> import sspred
    >>> try:
    ...     sspred.load("no-such-model.npz")
    ... except sspred.ModelFileError as exc:
    ...     print(str(exc).split(":")[0])
    no-such-model.npz
    """


class ConfigError(SspredError, ValueError):
    """A config field with a bad value; ``field`` is its name (the CLI turns it into the flag).

    Parameters
    ----------
    name : str
        The config field.
    message : str
        Why its value is refused.

    Examples
    --------
    >>> from sspred.config import ModelConfig
    >>> try:
    ...     ModelConfig(window=12)
    ... except ConfigError as exc:
    ...     print(exc.field, "|", exc.reason)
    window | window must be a positive odd number, got 12
    """

    def __init__(self, name: str, message: str):
        self.field, self.reason = name, message
        super().__init__(f"{name}: {message}")


class WeightsError(SspredError, ValueError):
    """Pretrained input weights (UniRep) that are missing, or other than the ones a model was trained on."""


class MissingExtra(SspredError, ImportError):
    """An optional part of sspred whose packages are not installed; the message gives the install line.

    Parameters
    ----------
    extra : str
        The extra's name in ``pip install "sspred[extra]"`` (a key of ``sspred.extras.EXTRAS``).
    purpose : str
        What needed it and what it lacks, e.g. ``"sspred plot needs matplotlib"``.

    Examples
    --------
    >>> print(MissingExtra("plot", "sspred plot needs matplotlib"))
    sspred plot needs matplotlib: pip install "sspred[plot]"
    """

    def __init__(self, extra: str, purpose: str):
        self.extra = extra
        super().__init__(f'{purpose}: pip install "sspred[{extra}]"')


class DeviceError(SspredError, ValueError):
    """A device this machine cannot give: ``cuda`` without a GPU, or a name no engine knows."""


class TrainingDiverged(SspredError, RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and batch.

    >>> import sspred
    >>> issubclass(sspred.TrainingDiverged, RuntimeError)
    True
    """


class OutputError(SspredError, ValueError):
    """An output path that cannot be written: a missing folder, a folder, no permission, or the input itself."""


class ToolError(SspredError, RuntimeError):
    """An external program (mmseqs, mkdssp) is missing or failed."""

