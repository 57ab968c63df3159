"""Finding labelled data: what a set name, a labelled file or a list of chains stands for.

``sspred.train`` and ``sspred.evaluate`` take their data in any of these forms; this module turns each into
chains, and names it for a model file, a checkpoint or a report. The leak filter is the training run's
business (sspred.training): this module returns each named part with its name, so the run can filter each
by its own shipped list.
"""

from __future__ import annotations

import os
from typing import Sequence, Union, cast

from sspred.io import datasets
from sspred.io.datasets import Chain

#: What ``train`` and ``evaluate`` accept as data: a set name, a labelled file path, or chains.
Data = Union[str, os.PathLike, Sequence[Chain], Sequence[Union[str, os.PathLike]]]


def load_data(name: str | os.PathLike, split: str, data_dir: str | os.PathLike | None = None) -> list[Chain]:
    """The labelled chains of a named set's split (qs1988, netsurfp2, cb513, ts115, dssp8), or all of a
    labelled file's; ``data_dir`` defaults to $SSPRED_DATA, then ../shared/data.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.txt"
    >>> _ = path.write_text(">a\\nMKVLA\\nCHHHC\\n>b\\nGGSE\\nCCEE\\n")
    >>> [(c.id, c.sequence, c.y3.tolist()) for c in load_data(path, "train")]
    [('a', 'MKVLA', [0, 1, 1, 1, 0]), ('b', 'GGSE', [0, 0, 2, 2])]
    """
    return datasets.load(str(name), split, data_dir)


def _is_named(data: Data) -> bool:
    return isinstance(data, (str, os.PathLike))


def data_names(data: Data) -> list[str] | None:
    """The set names or files ``data`` gives (one, or several for a multi-task pool), or None for chains."""
    if isinstance(data, (str, os.PathLike)):  # _is_named, spelt out for the type checker
        return [str(data)]
    items: list = list(data)
    if items and all(_is_named(d) for d in items):
        return [str(d) for d in items]
    return None


def data_label(data: Data) -> str:
    """What a model file, checkpoint or report records as the data: the set names or paths (joined by '+'),
    or a count of chains."""
    names = data_names(data)
    return "+".join(names) if names is not None else f"<{len(cast(Sequence[Chain], data))} chains>"


def data_split(data: Data, split: str) -> str | None:
    """The split a report may name for ``data``: ``split`` for named sets (their split is what is read), None
    for a labelled file (read whole, whatever the split) or chains.

    >>> data_split("netsurfp2", "test"), data_split("mytrain.txt", "test")
    ('test', None)
    """
    names = data_names(data)
    return split if names is not None and all(n in datasets.DATASETS for n in names) else None


def split_label(data: Data, split: str) -> str:
    """How a report names the data it scored: "netsurfp2/test" for a named set's split, the file as given for a
    labelled file ("mytrain.txt", never "mytrain.txt/test": its whole content is read), or a chain count.

    >>> split_label("cb513", "test"), split_label("runs/mytrain.txt", "test")
    ('cb513/test', 'runs/mytrain.txt')
    """
    part = data_split(data, split)
    return data_label(data) + (f"/{part}" if part else "")


def data_parts(data: Data, split: str, data_dir: str | os.PathLike | None = None
               ) -> list[tuple[str | None, list[Chain]]]:
    """(name, chains) of each part ``data`` stands for: a named set's ``split`` or all of a labelled file, by
    its name, each of several names in turn; or (None, the chains given)."""
    names = data_names(data)
    if names is None:
        return [(None, list(cast(Sequence[Chain], data)))]
    return [(name, load_data(name, split, data_dir)) for name in names]


def resolve_data(data: Data, split: str, data_dir: str | os.PathLike | None = None) -> list[Chain]:
    """The chains ``data`` stands for, every part's in turn (``data_parts``)."""
    return [c for _, chains in data_parts(data, split, data_dir) for c in chains]
