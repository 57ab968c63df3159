"""The one file container of sspred: an npz of plain arrays with a JSON header, nothing executable.

Model files (modelfile.py) and training checkpoints (checkpoint.py) are both this container, with
their own format name in the header.

Layout: an uncompressed NumPy ``.npz`` (a zip of ``.npy`` arrays) read with ``allow_pickle=False``.
The member ``__header__`` is UTF-8 JSON as a uint8 array; every other member is a named array. The
header carries the format name and version and a SHA-256 checksum of the arrays, so a truncated,
bit-flipped or foreign file is refused before any array is used.

Before NumPy reads anything, every member is checked against the file itself: it must be stored
uncompressed (as ``write`` writes it, so no member can inflate beyond the file), be an ``.npy`` array
of a plain (non-object) dtype, and declare no more bytes than it holds. A hostile file therefore
cannot make ``read`` allocate more memory than its own size, nor run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tokenize
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from sspred.io.textfile import atomic_output

HEADER_KEY = "__header__"
#: First bytes of a pickle stream (protocol 2+), refused outright.
PICKLE_MAGIC = b"\x80"
#: What a corrupt archive can raise from zipfile, zlib, the .npy reader or the JSON parser; all become ``Kind.error``.
_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            IndexError, AttributeError, NotImplementedError, RuntimeError, RecursionError, OverflowError,
            MemoryError, struct.error, zlib.error,
            # NumPy's .npy header parser tokenizes the header as Python: a stray NUL gives TokenError (found by
            # tests/test_properties.py), malformed literals SyntaxError.
            tokenize.TokenError, SyntaxError)


@dataclass(frozen=True)
class Kind:
    """What a container holds, for its header and its error messages.

    ``format``/``version``: the header's format name and the one version read; ``noun``: "model file";
    ``short``: "model" (in "model format version 2"); ``contents``: "weights" (in "weights do not match
    their checksum"); ``error(message, path)``: the exception raised, its text "<path>: <message>".
    """

    format: str
    version: int
    noun: str
    short: str
    contents: str
    error: Callable[[str, Path], Exception]


def checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the arrays, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def write(path: str | os.PathLike, kind: Kind, header: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (a crash never leaves a half-written file under ``path``); ``header`` must be JSON-serialisable."""
    full = {"format": kind.format, "version": kind.version, **header, "checksum": checksum(arrays)}
    members = {HEADER_KEY: np.frombuffer(json.dumps(full, sort_keys=True).encode(), dtype=np.uint8)}
    for name, arr in arrays.items():
        if name == HEADER_KEY:
            raise ValueError(f"array name {name!r} is reserved")
        members[name] = np.asarray(arr, order="C")  # not ascontiguousarray: that makes a 0-d array (a step count) 1-d
    with atomic_output(path, "wb") as handle:
        # The ignore: numpy's annotation lets ** fill savez's allow_pickle; no member has that name.
        np.savez(handle, **members)  # type: ignore[arg-type]


def read(path: str | os.PathLike, kind: Kind) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a container of ``kind``: (header, arrays). Any problem is ``kind.error`` naming the file."""
    path = Path(path)

    def fail(message: str) -> Exception:
        return kind.error(message, path)

    if not path.is_file():
        raise fail(f"{kind.noun} not found")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head[:1] == PICKLE_MAGIC:
        raise fail(f"this is a Python pickle, not an sspred {kind.short}; pickles are never loaded")
    if head[:2] != b"PK":
        raise fail(f"not an sspred {kind.noun} (not an .npz archive)")
    # Problems are raised after the try: the error types are ValueErrors, which _CORRUPT would catch.
    try:
        problem = _check_members(path, kind.noun)
        if problem is None:
            with np.load(path, allow_pickle=False) as npz:
                names = set(npz.files)
                if HEADER_KEY in names:
                    header = json.loads(bytes(npz[HEADER_KEY]).decode("utf-8"))
                    arrays = {n: npz[n] for n in names - {HEADER_KEY}}
                else:
                    foreign = ("a PyTorch checkpoint" if any(n.endswith("data.pkl") for n in _zip_names(path))
                               else "a foreign archive")
                    problem = f"not an sspred {kind.noun} ({foreign}: no {HEADER_KEY})"
    except _CORRUPT as exc:
        problem = f"corrupt or truncated {kind.noun} ({type(exc).__name__}: {exc})"
    if problem is not None:
        raise fail(problem)
    if not isinstance(header, dict) or header.get("format") != kind.format:
        raise fail(f"not an sspred {kind.noun} (format {header.get('format') if isinstance(header, dict) else None!r})")
    if header.get("version") != kind.version:
        raise fail(f"{kind.short} format version {header.get('version')!r}; this sspred reads version {kind.version}")
    if header.get("checksum") != checksum(arrays):
        raise fail(f"{kind.contents} do not match their checksum; the file is corrupt")
    return header, arrays


def _check_members(path: Path, noun: str) -> str | None:
    """What is wrong with the members, if anything: more bytes declared than the file holds, compression
    (so a member could inflate), Python objects, a truncated array."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if sum(i.file_size for i in infos) > size:
            return f"corrupt {noun} (members declare more bytes than the file holds)"
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED:
                return f"not an sspred {noun} (member {info.filename!r} is compressed)"
            if not info.filename.endswith(".npy"):
                continue  # reported as a foreign archive, or ignored by np.load
            with z.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member, max_header_size=10000)
                if dtype.hasobject:
                    return f"member {info.filename!r} holds Python objects; never loaded"
                if int(np.prod(shape, dtype=object)) * dtype.itemsize > info.file_size:
                    return f"corrupt {noun} (member {info.filename!r} is truncated)"
    return None


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except zipfile.BadZipFile:
        return []
