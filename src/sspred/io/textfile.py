"""Open text files the way users hand them to us: plain or gzipped, any line ending."""

from __future__ import annotations

import contextlib
import glob
import gzip
import io
import os
import socket
import sys
import tempfile
import zlib
from pathlib import Path
from typing import IO, Iterator, Sequence

from sspred.errors import InputError, OutputError

GZIP_MAGIC = b"\x1f\x8b"


@contextlib.contextmanager
def open_text(path: str | os.PathLike | IO, errors: str = "strict") -> Iterator[IO[str]]:
    """Open a path ("-" is stdin) as text, gunzipping by content, not by name.

    Universal newlines turn CRLF and lone CR into "\\n"; a UTF-8 byte-order mark is dropped.
    Bytes that are not UTF-8 raise an InputError when they are read; with
    ``errors="surrogateescape"`` they arrive as lone surrogates instead, for a
    reader that reports them with their line (decoding runs ahead in 8 kB chunks,
    so a strict decoder cannot say which line held the byte).

    Parameters
    ----------
    path : str, os.PathLike or file
        A path, "-" for stdin, or an open handle (used as it is).
    errors : str, default "strict"
        The decoder's error handler.

    Yields
    ------
    text file
        The open text handle, closed on leaving the block.

    Raises
    ------
    sspred.InputError
        When the file cannot be opened, is not UTF-8 (strict), or is a corrupt gzip stream.

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(gzip.compress(b"one\\r\\ntwo\\r\\n"))
    >>> with open_text(path) as handle:
    ...     handle.read()
    'one\\ntwo\\n'
    """
    if not isinstance(path, (str, os.PathLike)):
        # A binary handle (e.g. one whose tell() drives a progress bar) is decoded like a path's
        # bytes but left for its owner to close; a text handle is used as it is.
        yield _decode(path, errors) if isinstance(path, (io.RawIOBase, io.BufferedIOBase)) else path
        return
    if str(path) == "-":
        raw = sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror}", path=str(path)) from None
    try:
        yield _decode(raw, errors)
    # Readers that do not report these themselves (with a line number) still give an InputError naming the file.
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r})", path=str(path)) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"corrupt or truncated gzip data ({exc})", path=str(path)) from None
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _decode(raw: IO[bytes], errors: str) -> IO[str]:
    # BufferedReader wraps any binary stream with readinto; the stub asks for a RawIOBase.
    buffered = io.BufferedReader(raw) if not hasattr(raw, "peek") else raw  # type: ignore[type-var]
    binary = gzip.GzipFile(fileobj=buffered) if buffered.peek(2)[:2] == GZIP_MAGIC else buffered
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors=errors, newline=None)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any exception (or KeyboardInterrupt, or SIGTERM through the CLI) the
    temporary file is removed, so a truncated file never appears under the final
    name. Only SIGKILL or a power cut can leave the hidden temporary file
    ``.NAME.HOST.PID.XXXXXXXX.part`` behind; the next write to the same name on
    the same host removes it once no process PID is running.

    Parameters
    ----------
    path : str or os.PathLike
        The final file.
    mode : str, default "w"
        The open mode, "w" or "wb".

    Yields
    ------
    file
        The temporary file's handle.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_output(path) as handle:
    ...     _ = handle.write("done\\n")
    >>> path.read_text()
    'done\\n'
    """
    path = Path(path)
    _remove_stale_parts(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_HOST}.{os.getpid()}.", suffix=".part", dir=path.parent or ".")
    # mkstemp creates the file 0600; give the result the permissions a plain open() would.
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


#: Written into temporary names so a later run can tell its own host's dead writers from live ones.
_HOST = socket.gethostname().replace(".", "_") or "host"


def _remove_stale_parts(path: Path) -> None:
    """Remove temporary files of earlier writes to ``path`` whose process (on this host) has died."""
    prefix = f".{path.name}.{_HOST}."
    for stale in glob.glob(os.path.join(glob.escape(str(path.parent or ".")), glob.escape(prefix) + "*.part")):
        pid = os.path.basename(stale)[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(stale)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def check_output(path: str | os.PathLike, inputs: Sequence[str | os.PathLike] = ()) -> None:
    """Refuse an output file that cannot be written, before any work is done.

    This is the one check of every output path of sspred (``sspred predict -o``, ``train --out``,
    ``export --onnx``, ``label -o``, ``plot -o``, ...).

    ``"-"`` (stdout) always passes. A file is refused when its folder is missing, when it names a folder,
    when its folder takes no new file (permissions, a read-only file system; tried by creating a nameless
    file there, so the answer is the system's own, root's included), or when it is one of ``inputs`` (the
    same file, also through a link), which writing would destroy.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    inputs : sequence of str or os.PathLike
        Files the same run reads; "-" and names that do not exist are ignored.

    Raises
    ------
    OutputError
        Naming the path and what is wrong with it.

    Examples
    --------
    >>> check_output("-")
    >>> try:
    ...     check_output("/no/such/folder/out.ss2")
    ... except OutputError as exc:
    ...     print(exc)
    /no/such/folder/out.ss2: cannot write: folder /no/such/folder does not exist
    """
    if str(path) == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"{path}: cannot write: it is a folder; give a file name")
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(f"{path}: cannot write: folder {folder} {what}")
    for source in inputs:
        if str(source) != "-" and _same_file(target, Path(source)):
            raise OutputError(f"{path}: cannot write: it is the input file {source}; writing would destroy it")
    _check_writable_folder(folder, str(path))


def check_output_folder(path: str | os.PathLike) -> None:
    """Refuse an output folder that cannot be made or written, before any work is done.

    The folder may be missing (commands create it), but not a file, and the nearest folder that exists on its
    way must take new files.

    Parameters
    ----------
    path : str or os.PathLike
        The output folder.

    Raises
    ------
    OutputError
        Naming the path and what is wrong with it.

    Examples
    --------
    >>> try:
    ...     check_output_folder(__file__)
    ... except OutputError as exc:
    ...     print(str(exc).endswith("is a file, not a folder"))
    True
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{path}: cannot write: it is a file, not a folder")
    existing = target
    while not existing.exists():
        if not existing.parent.is_dir() and existing.parent.exists():
            raise OutputError(f"{path}: cannot write: {existing.parent} is not a folder")
        existing = existing.parent
    _check_writable_folder(existing, str(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where the names lead
        return a.resolve() == b.resolve()


def _check_writable_folder(folder: Path, shown: str) -> None:
    # os.access answers yes to root for any folder; creating a nameless file asks the file system itself.
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise OutputError(f"{shown}: cannot write in folder {folder}: {exc.strerror or exc}") from None
