"""sspred predict: FASTA in, predictions out, streamed batch by batch."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import Optional

import typer

from sspred.cli.root import app, fail
from sspred.cli.common import SkippedRecords, output, warn
from sspred.extras import require
from sspred.cli.progress import progress
from sspred.io.fasta import parse_fasta
from sspred.io.formats import DEFAULT_FORMAT, DEFAULT_FORMAT_MANY_STATES, EXTENSIONS, WRITERS, check_format, format_problem, output_format
from sspred.io.seen import SeenIds
from sspred.io.sequences import nucleotide_warning
from sspred.io.textfile import check_output
from sspred.model import BUILTIN
from sspred.predict.api import load
from sspred.predict.batch import BATCH_RESIDUES
from sspred.predict.writing import write_predictions


#: Duplicate-id warnings printed before the rest are only counted.
MAX_DUPLICATE_WARNINGS = 10


@contextlib.contextmanager
def _input(path: str):
    """(source for parse_fasta, size in bytes or None, position function or None).

    A regular file is opened here, in binary, so the progress bar can read how far into
    it (compressed bytes, for gzip) the parser has got; stdin and pipes have no size.
    """
    if path != "-":
        try:
            st = os.stat(path)
        except OSError:
            st = None
        if st is not None and stat.S_ISREG(st.st_mode):
            with open(path, "rb") as raw:
                # The parser's text wrapper closes the file when it is done with it: all read.
                yield raw, st.st_size, lambda: st.st_size if raw.closed else raw.tell()
            return
    yield path, None, None


@app.command()
def predict(
    input: str = typer.Argument(..., help="Multi-FASTA file (plain or gzipped); '-' reads stdin."),
    model: Optional[str] = typer.Option(None, "-m", "--model", help=f"Built-in model name ({', '.join(BUILTIN)}) or a model file."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help=f"Output format: {', '.join(WRITERS)}, any case "
                                         f"(default: the one -o's extension names, {', '.join(EXTENSIONS)}; "
                                         f"else {DEFAULT_FORMAT}, or {DEFAULT_FORMAT_MANY_STATES} for an 8-state model)."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output file (default stdout); checked before any "
                                       "work, written atomically, never the input file."),
    show_progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                                 help="Progress on stderr (default: only when stderr is a terminal)."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", metavar="ADDRESS",
                                                 help="Shard over a Dask cluster: scheduler address or scheduler JSON file "
                                                      '(needs pip install "sspred[dask]").'),
    dask_local: Optional[int] = typer.Option(None, "--dask-local", metavar="N", min=1,
                                             help="Shard over a new local Dask cluster of N worker processes "
                                                  '(needs pip install "sspred[dask]").'),
    batch_residues: int = typer.Option(BATCH_RESIDUES, "--batch-residues", min=1,
                                       help="Residues predicted per pass (and per Dask shard); records are never split."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Skip bad records, write every good one, list the bad "
                                    "ones on stderr at the end; exit code 2 if any was bad."),
    device: Optional[str] = typer.Option(None, "--device", metavar="cpu|cuda",
                                         help="Predict with the torch engine on this device, UniRep states included "
                                              '(default: the NumPy engine, no torch needed; needs pip install '
                                              '"sspred[torch]").'),
) -> None:
    """Predict secondary structure for every record of a FASTA file.

    Extras: -m unirep needs pip install "sspred[unirep]"; --dask-scheduler and --dask-local need
    pip install "sspred[dask]"; --device needs pip install "sspred[torch]".
    """
    # Everything the flags alone decide is checked before the model loads and any record is read.
    fmt = output_format(format, out)
    if fmt not in WRITERS:
        problem = format_problem(fmt, "", "")
        assert problem is not None  # an unknown format always is one
        raise typer.BadParameter(problem, param_hint="--format")
    if dask_scheduler and dask_local:
        fail("give --dask-scheduler or --dask-local, not both")
    if out is not None:
        check_output(out, inputs=[input])
    if dask_scheduler or dask_local:
        require("dask.distributed", "dask", "sspred predict --dask-scheduler/--dask-local")
    predictor = load(model, device=device)
    fmt = output_format(format, out, predictor.state_order)  # the default for an 8-state model is fasta
    # OutputError: one line, exit 2; ss2 and horiz hold 3 states, so q8 writes fasta, json or tsv
    check_format(fmt, predictor.state_order, predictor.model_name)
    seen = SeenIds()  # bounded memory on a million-record file (docs/input-policy.md)
    skipped = SkippedRecords()
    duplicates = [0]

    with contextlib.ExitStack() as stack:
        source, size, position = stack.enter_context(_input(input))

        def records():
            told_full = False
            for rec in parse_fasta(source, warn=warn, path=input, on_error=skipped.add if keep_going else None):
                if seen.add(rec.id):
                    duplicates[0] += 1
                    if duplicates[0] <= MAX_DUPLICATE_WARNINGS:
                        warn(f"{input}: duplicate record id {rec.id!r}; both are predicted")
                elif seen.saturated and not told_full:
                    told_full = True
                    warn(f"{input}: more than {seen.size} records; later ids are not checked for duplicates")
                note = nucleotide_warning(rec)  # the service's warning too
                if note:
                    warn(f"{input}: {note}")
                yield rec
            if duplicates[0] > MAX_DUPLICATE_WARNINGS:
                warn(f"{input}: {duplicates[0]} duplicate record ids in all; only the first "
                     f"{MAX_DUPLICATE_WARNINGS} are named")

        client = None
        if dask_scheduler or dask_local:
            from sspred.predict.dask import connect

            client = stack.enter_context(connect(dask_scheduler, dask_local))
        stream = predictor.predict_batches(records(), batch_residues, client)
        enabled = sys.stderr.isatty() if show_progress is None else show_progress
        handle = stack.enter_context(output(out))
        bar = stack.enter_context(progress(enabled, size, position))

        def predictions():
            for batch in stream:
                yield from batch
                bar.update(len(batch), sum(len(pred) for pred in batch))  # once the batch is written

        write_predictions(predictions(), handle, fmt, model_name=predictor.model_name, states=predictor.state_order,
                          tracks=predictor.track_names, model_info=predictor.model_info)
    skipped.report()
