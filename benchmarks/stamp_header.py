"""Set one entry of a model file's JSON header, every weight member copied byte for byte.

    python benchmarks/stamp_header.py src/sspred/models/default.npz trained_on "netsurfp2 ..."

The container's checksum covers the arrays alone (``sspred.container.checksum``), so it stays valid; the script
checks that it does and that every array member is unchanged before it replaces the file. Used to record
``trained_on`` in the built-in models that are ensembles (their members' ``train`` entries say it per member).
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

from sspred import modelfile
from sspred.container import HEADER_KEY
from sspred.io.textfile import atomic_output

MEMBER = HEADER_KEY + ".npy"


def stamp(path: Path, key: str, value: str) -> None:
    """Rewrite ``path`` with ``header[key] = value``; every other zip member keeps its bytes and metadata."""
    header, arrays = modelfile.load(path)
    header[key] = value
    npy = io.BytesIO()
    # the container's own encoding of the header (container.write): sorted-key JSON as a uint8 array
    np.lib.format.write_array(npy, np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8))
    with zipfile.ZipFile(path) as old, atomic_output(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w") as new:
            for info in old.infolist():
                new.writestr(info, npy.getvalue() if info.filename == MEMBER else old.read(info.filename))
    again, arrays_again = modelfile.load(path)  # checksum verified on read
    assert again[key] == value and again["checksum"] == header["checksum"]
    assert arrays_again.keys() == arrays.keys()
    assert all(np.array_equal(arrays[k], arrays_again[k]) and arrays[k].dtype == arrays_again[k].dtype for k in arrays)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    stamp(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
