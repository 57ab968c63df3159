"""The named labelled sets (qs1988, netsurfp2, cb513, ts115, dssp8, conservation) and where they live.

``load(name, split)`` reads a named set's split from the data folder, or all of a labelled file.
The data folder is the first of: the folder given (``--data-dir``), ``$SSPRED_DATA``, then a
``shared/data`` folder found by walking up from the current directory and then from this package's
source (see ``data_dir``).

The chain type and the readers live in ``chain``, ``set_readers`` and ``three_line``; the names
other modules have always imported from here are imported here too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from sspred.errors import InputError
from sspred.io.chain import Chain, count_scored, disorder_from_resolved, make_chain  # noqa: F401 (re-exported)
from sspred.io.set_readers import read_conservation, read_file, read_netsurfp2, read_ps4_csv, read_uci
from sspred.io.three_line import read_three_line, three_line_record, write_three_line  # noqa: F401 (re-exported)

#: Environment variable naming the data folder.
DATA_ENV = "SSPRED_DATA"
#: Where the sets sit below a folder that holds them: a checkout lies beside (or holds) ``shared/``.
SHARED_DATA = Path("shared", "data")

#: Fraction of chains held out for validation where a set has no published validation split.
HOLDOUT_FRACTION = 0.1
#: Seed of that hold-out, fixed so every run sees the same split.
HOLDOUT_SEED = 1988

DSSP8_FILES = ("SPOT_1D_Valid.txt", "PISCES_25_valid.txt", "CB634_valid.txt", "Test2016.txt")


def _holdout(chains: list[Chain], fraction: float, seed: int) -> tuple[list[Chain], list[Chain]]:
    """A random hold-out of round(fraction * n) chains (at least one): (kept, held out), in their order.

    It stays with the registry rather than in sspred.splits: that module writes through sspred.io, so
    sspred.io importing it would close a circle between the two.
    """
    order = np.random.default_rng(seed).permutation(len(chains))
    n_out = max(1, int(round(fraction * len(chains))))
    out = set(order[:n_out].tolist())
    return [c for i, c in enumerate(chains) if i not in out], [c for i, c in enumerate(chains) if i in out]


def _qs1988(d: Path) -> dict[str, list[Chain]]:
    train = read_uci(d / "qian-sejnowski-1988/protein-secondary-structure.train", prefix="qs-train-")
    test = read_uci(d / "qian-sejnowski-1988/protein-secondary-structure.test", prefix="qs-test-")
    train, valid = _holdout(train, HOLDOUT_FRACTION, HOLDOUT_SEED)
    return {"train": train, "valid": valid, "test": test}


def _dssp8(d: Path) -> dict[str, list[Chain]]:
    chains = [c for name in DSSP8_FILES for c in read_three_line(d / "dssp8-pdb-sets" / name)]
    rest, test = _holdout(chains, HOLDOUT_FRACTION, HOLDOUT_SEED)
    train, valid = _holdout(rest, HOLDOUT_FRACTION / (1 - HOLDOUT_FRACTION), HOLDOUT_SEED + 1)
    return {"train": train, "valid": valid, "test": test}


#: Named sets: name -> function of the data directory returning {split: chains}.
DATASETS: dict[str, Callable[[Path], dict[str, list[Chain]]]] = {
    "qs1988": _qs1988,
    "netsurfp2": lambda d: read_netsurfp2(d / "netsurfp2"),
    "cb513": lambda d: {"test": read_ps4_csv(d / "cb513/CB513_HHblits.csv", use_cb513_mask=True)},
    "ts115": lambda d: {"test": read_ps4_csv(d / "ts115/TS115_HHblits.csv", use_cb513_mask=False)},
    "dssp8": _dssp8,
    "conservation": lambda d: read_conservation(d / "flip-conservation"),
}


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data folder, the first that exists of four places.

    1. ``explicit`` (the CLI's ``--data-dir``);
    2. ``$SSPRED_DATA``;
    3. a ``shared/data`` folder in the current directory or one above it;
    4. a ``shared/data`` folder above this package's source (a checkout beside ``shared/``),
       so a checkout finds its data wherever in it, or outside it, the user stands.

    Parameters
    ----------
    explicit : str or os.PathLike, optional
        The folder given by the user.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    sspred.InputError
        When the folder given by 1 or 2 does not exist, or when neither is given and 3 and 4 find none; the
        message names what was tried.

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> data_dir(folder) == folder
    True
    """
    given = [(str(explicit), "--data-dir")] if explicit else []
    given += [(os.environ[DATA_ENV], f"${DATA_ENV}")] if os.environ.get(DATA_ENV) else []
    if given:
        folder, source = Path(given[0][0]), given[0][1]
        if not folder.is_dir():
            raise InputError(f"data folder not found (given by {source})", path=str(folder))
        return folder
    starts = (Path.cwd(), Path(__file__).resolve().parent)
    for start in starts:
        for above in (start, *start.parents):
            if (above / SHARED_DATA).is_dir():
                return above / SHARED_DATA
    raise InputError(f"no data folder: --data-dir is not given, ${DATA_ENV} is not set, and there is no "
                     f"{SHARED_DATA} folder in {starts[0]}, in {starts[1]} or in any folder above them")


def load(name: str, split: str, directory: str | os.PathLike | None = None) -> list[Chain]:
    """Chains of a named set's split, or of an explicit file (all of it, for any split).

    Parameters
    ----------
    name : str
        A key of ``DATASETS`` (qs1988, netsurfp2, cb513, ts115, dssp8, conservation) or a labelled file's path.
    split : str
        "train", "valid" or "test", as the set has them; ignored for a file.
    directory : str or os.PathLike, optional
        The data folder; None finds it (``data_dir``).

    Returns
    -------
    list of Chain
        The labelled chains, in the set's order.

    Raises
    ------
    sspred.InputError
        For an unknown name, a split the set lacks, no data folder, or a malformed file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "one.txt"
    >>> _ = path.write_text(">a\\nMKVLA\\nCHHHC\\n")
    >>> [c.id for c in load(str(path), "test")]
    ['a']
    """
    if name not in DATASETS:
        if Path(name).exists():
            return read_file(name)
        raise InputError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)} or give a file path")
    splits = DATASETS[name](data_dir(directory))
    if split not in splits:
        raise InputError(f"set {name!r} has no {split!r} split; it has {', '.join(splits)}")
    return splits[split]
