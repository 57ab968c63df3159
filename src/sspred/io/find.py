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
    """The labelled chains of a named set's split, or all of a labelled file's.

    Parameters
    ----------
    name : str or os.PathLike
        A named set (qs1988, netsurfp2, cb513, ts115, dssp8, conservation) or a labelled file (three-line
        FASTA-like, UCI, CSV; ``sspred.io.set_readers.read_file``).
    split : str
        "train", "valid" or "test", as the set has them; ignored for a file.
    data_dir : str or os.PathLike, optional
        The data folder; defaults to $SSPRED_DATA, then a ``shared/data`` folder above
        (``sspred.io.datasets.data_dir``).

    Returns
    -------
    list of sspred.io.chain.Chain
        The chains, in the set's order.

    Raises
    ------
    sspred.InputError
        For an unknown set or split, no data folder, or a malformed file.

    Examples
    --------
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
    """The set names or files ``data`` gives (one, or several for a multi-task pool), or None for chains.

    Parameters
    ----------
    data : Data
        A set name or file, a list of them, or a list of chains.

    Returns
    -------
    list of str or None
        The names, or None when ``data`` is chains.

    Examples
    --------
    >>> data_names("qs1988"), data_names(["cb513", "ts115"]), data_names([])
    (['qs1988'], ['cb513', 'ts115'], None)
    """
    if isinstance(data, (str, os.PathLike)):  # _is_named, spelt out for the type checker
        return [str(data)]
    items: list = list(data)
    if items and all(_is_named(d) for d in items):
        return [str(d) for d in items]
    return None


def data_label(data: Data) -> str:
    """What a model file, checkpoint or report records as the data.

    Parameters
    ----------
    data : Data
        A set name or file, a list of them, or a list of chains.

    Returns
    -------
    str
        The set names or paths joined by '+', or a count of chains.

    Examples
    --------
    >>> data_label(["cb513", "ts115"]), data_label([])
    ('cb513+ts115', '<0 chains>')
    """
    names = data_names(data)
    return "+".join(names) if names is not None else f"<{len(cast(Sequence[Chain], data))} chains>"


def data_split(data: Data, split: str) -> str | None:
    """The split a report may name for ``data``: the split of named sets, None for a file or chains.

    A labelled file is read whole, whatever the split, so naming one would mislabel it.

    Parameters
    ----------
    data : str, os.PathLike, sequence of them, or sequence of Chain
        Set names, labelled files or chains, as ``sspred.evaluate`` takes them.
    split : str
        The split asked for ("test", "valid", "train").

    Returns
    -------
    str or None
        ``split`` when every part of ``data`` is a named set, else None.

    Examples
    --------
    >>> data_split("netsurfp2", "test"), data_split("mytrain.txt", "test")
    ('test', None)
    """
    names = data_names(data)
    return split if names is not None and all(n in datasets.DATASETS for n in names) else None


def split_label(data: Data, split: str) -> str:
    """How a report names the data it scored: "<set>/<split>" for a named set, else the file or chain count.

    A labelled file is named as given ("mytrain.txt", never "mytrain.txt/test": its whole content is read).

    Parameters
    ----------
    data : str, os.PathLike, sequence of them, or sequence of Chain
        Set names, labelled files or chains, as ``sspred.evaluate`` takes them.
    split : str
        The split asked for.

    Returns
    -------
    str
        The label ``sspred evaluate`` prints.

    Examples
    --------
    >>> split_label("cb513", "test"), split_label("runs/mytrain.txt", "test")
    ('cb513/test', 'runs/mytrain.txt')
    """
    part = data_split(data, split)
    return data_label(data) + (f"/{part}" if part else "")


def data_parts(data: Data, split: str, data_dir: str | os.PathLike | None = None
               ) -> list[tuple[str | None, list[Chain]]]:
    """The (name, chains) of each part ``data`` stands for.

    A named set's ``split`` or all of a labelled file, by its name, each of several names in turn; or
    (None, the chains given).

    Parameters
    ----------
    data : Data
        A set name or file, a list of them, or a list of chains.
    split : str
        The split of a named set.
    data_dir : str or os.PathLike, optional
        The data folder (``load_data``).

    Returns
    -------
    list of (str or None, list of Chain)
        One pair per part, in order.

    Raises
    ------
    sspred.InputError
        As ``load_data`` raises.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "one.txt"
    >>> _ = path.write_text(">a\\nMKVLA\\nCHHHC\\n")
    >>> [(name == str(path), len(chains)) for name, chains in data_parts([path], "test")]
    [(True, 1)]
    """
    names = data_names(data)
    if names is None:
        return [(None, list(cast(Sequence[Chain], data)))]
    return [(name, load_data(name, split, data_dir)) for name in names]


def resolve_data(data: Data, split: str, data_dir: str | os.PathLike | None = None) -> list[Chain]:
    """The chains ``data`` stands for, every part's in turn (``data_parts``).

    Parameters
    ----------
    data : Data
        A set name or file, a list of them, or a list of chains.
    split : str
        The split of a named set.
    data_dir : str or os.PathLike, optional
        The data folder (``load_data``).

    Returns
    -------
    list of Chain
        The chains of every part, concatenated.

    Raises
    ------
    sspred.InputError
        As ``load_data`` raises.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "one.txt"
    >>> _ = path.write_text(">a\\nMKVLA\\nCHHHC\\n")
    >>> [c.id for c in resolve_data(str(path), "test")]
    ['a']
    """
    return [c for _, chains in data_parts(data, split, data_dir) for c in chains]
