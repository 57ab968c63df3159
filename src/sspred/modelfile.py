"""The model file: weights plus everything needed to rebuild the network, and nothing executable.

Layout: an uncompressed NumPy ``.npz`` (a zip of ``.npy`` arrays) read with
``allow_pickle=False``. The member ``__header__`` is UTF-8 JSON as a uint8
array; every other member is a parameter named ``layers.{i}.{name}``. The
header carries the format name and version, the model config, its explicit
layer list, and a SHA-256 checksum of the parameters, so a truncated,
bit-flipped or foreign file is refused before any weight is used.

Before NumPy reads anything, every member is checked against the file itself:
it must be stored uncompressed (as ``save`` writes it, so no member can
inflate beyond the file), be an ``.npy`` array of a plain (non-object) dtype,
and declare no more bytes than it holds. A hostile file therefore cannot make
``load`` allocate more memory than its own size, nor run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from sspred.errors import ModelFileError
from sspred.io.textfile import atomic_output

FORMAT = "sspred-model"
FORMAT_VERSION = 1
HEADER_KEY = "__header__"
#: First bytes of a pickle stream (protocol 2+), refused outright.
PICKLE_MAGIC = b"\x80"
#: What a corrupt archive can raise from zipfile, zlib, the .npy reader or the JSON parser; all become ModelFileError.
_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError, TypeError,
            IndexError, AttributeError, NotImplementedError, RuntimeError, RecursionError, OverflowError,
            MemoryError, struct.error, zlib.error,
            # NumPy's .npy header parser tokenizes the header as Python: a stray NUL gives TokenError (found by
            # tests/test_properties.py), malformed literals SyntaxError.
            tokenize.TokenError, SyntaxError)


def checksum(params: dict[str, np.ndarray]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the parameters, in name order."""
    h = hashlib.sha256()
    for name in sorted(params):
        arr = np.ascontiguousarray(params[name])
        h.update(f"{name}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def save(path: str | os.PathLike, header: dict, params: dict[str, np.ndarray]) -> None:
    """Write atomically: a crash never leaves a half-written model under ``path``."""
    full = {"format": FORMAT, "version": FORMAT_VERSION, **header, "checksum": checksum(params)}
    arrays = {HEADER_KEY: np.frombuffer(json.dumps(full, sort_keys=True).encode(), dtype=np.uint8)}
    for name, arr in params.items():
        if name == HEADER_KEY:
            raise ValueError(f"parameter name {name!r} is reserved")
        arrays[name] = np.ascontiguousarray(arr)
    with atomic_output(path, "wb") as handle:
        np.savez(handle, **arrays)


def load(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file; any problem is a ModelFileError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: model file not found")
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head[:1] == PICKLE_MAGIC:
        raise ModelFileError(f"{path}: this is a Python pickle, not an sspred model; pickles are never loaded")
    if head[:2] != b"PK":
        raise ModelFileError(f"{path}: not an sspred model file (not an .npz archive)")
    try:
        _check_members(path)
        with np.load(path, allow_pickle=False) as npz:
            names = set(npz.files)
            if HEADER_KEY not in names:
                foreign = "a PyTorch checkpoint" if any(n.endswith("data.pkl") for n in _zip_names(path)) else "a foreign archive"
                raise ModelFileError(f"{path}: not an sspred model file ({foreign}: no {HEADER_KEY})")
            header = json.loads(bytes(npz[HEADER_KEY]).decode("utf-8"))
            params = {n: npz[n] for n in names - {HEADER_KEY}}
    except ModelFileError:
        raise
    except _CORRUPT as exc:
        raise ModelFileError(f"{path}: corrupt or truncated model file ({type(exc).__name__}: {exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an sspred model file (format {header.get('format') if isinstance(header, dict) else None!r})")
    if header.get("version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {header.get('version')!r}; this sspred reads version {FORMAT_VERSION}")
    if header.get("checksum") != checksum(params):
        raise ModelFileError(f"{path}: weights do not match their checksum; the file is corrupt")
    return header, params


def _check_members(path: Path) -> None:
    """Refuse members that NumPy would allocate beyond the file's own size, or could unpickle."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if sum(i.file_size for i in infos) > size:
            raise ModelFileError(f"{path}: corrupt model file (members declare more bytes than the file holds)")
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED:
                raise ModelFileError(f"{path}: not an sspred model file (member {info.filename!r} is compressed)")
            if not info.filename.endswith(".npy"):
                continue  # reported below as a foreign archive, or ignored by np.load
            with z.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member, max_header_size=10000)
                if dtype.hasobject:
                    raise ModelFileError(f"{path}: member {info.filename!r} holds Python objects; never loaded")
                if int(np.prod(shape, dtype=object)) * dtype.itemsize > info.file_size:
                    raise ModelFileError(f"{path}: corrupt model file (member {info.filename!r} is truncated)")


def _zip_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            return z.namelist()
    except zipfile.BadZipFile:
        return []
