"""sspred predict: FASTA in, predictions out, streamed batch by batch."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from sspred.cli import app
from sspred.cli.common import output, warn
from sspred.cli.progress import progress
from sspred.io.fasta import parse_fasta
from sspred.io.formats import WRITERS
from sspred.model import load_model
from sspred.predict import BATCH_RESIDUES, predict_batches


class SeenIds:
    """Record ids met so far, for the duplicate-id warning, in 8-16 bytes per record.

    A set of the id strings costs ~110 bytes per record (177 MB for the 1.6M records of a 1 GB
    FASTA). We keep 64-bit BLAKE2 digests in an open-addressing table (linear probing, a uint64
    array doubled at half load; 0 marks an empty slot). Two different ids collide with
    probability about n^2 / 2^64 (1e-7 for 1.6M records), and then one warning is wrong.
    """

    def __init__(self, capacity: int = 1 << 16):
        assert capacity & (capacity - 1) == 0
        self.table = np.zeros(capacity, np.uint64)
        self.count = 0

    def _insert(self, digest: int) -> bool:
        table, mask = self.table, self.table.size - 1
        i = digest & mask
        while True:
            held = int(table[i])
            if held == 0:
                table[i] = digest
                self.count += 1
                return False
            if held == digest:
                return True
            i = (i + 1) & mask

    def add(self, rec_id: str) -> bool:
        """Remember ``rec_id``; True if it was seen before."""
        digest = int.from_bytes(hashlib.blake2b(rec_id.encode(), digest_size=8).digest(), "little") or 1
        if self._insert(digest):
            return True
        if 2 * self.count > self.table.size:  # keep probe runs short
            held = self.table[self.table != 0]
            self.table, self.count = np.zeros(2 * self.table.size, np.uint64), 0
            for start in range(0, held.size, 65536):  # as Python ints a slice at a time, not all at once
                for d in held[start:start + 65536].tolist():
                    self._insert(d)
        return False


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
    model: Optional[str] = typer.Option(None, "-m", "--model", help="Built-in model name (default, fast) or a model file."),
    format: str = typer.Option("horiz", "--format", "-f", help=f"Output format: {', '.join(WRITERS)}."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output file (default stdout); written atomically."),
    show_progress: Optional[bool] = typer.Option(None, "--progress/--no-progress",
                                                 help="Progress on stderr (default: only when stderr is a terminal)."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", metavar="ADDRESS",
                                                 help="Shard over a Dask cluster: scheduler address or scheduler JSON file."),
    dask_local: Optional[int] = typer.Option(None, "--dask-local", metavar="N", min=1,
                                             help="Shard over a new local Dask cluster of N worker processes."),
    batch_residues: int = typer.Option(BATCH_RESIDUES, "--batch-residues", min=1,
                                       help="Residues predicted per pass (and per Dask shard); records are never split."),
) -> None:
    """Predict secondary structure for every record of a FASTA file."""
    if format not in WRITERS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(WRITERS)}", param_hint="--format")
    if dask_scheduler and dask_local:
        from sspred.cli import fail

        fail("give --dask-scheduler or --dask-local, not both")
    m = load_model(model)
    seen = SeenIds()
    duplicates = [0]

    with contextlib.ExitStack() as stack:
        source, size, position = stack.enter_context(_input(input))

        def records():
            for rec in parse_fasta(source, warn=warn, path=input):
                if seen.add(rec.id):
                    duplicates[0] += 1
                    if duplicates[0] <= MAX_DUPLICATE_WARNINGS:
                        warn(f"{input}: duplicate record id {rec.id!r}; both are predicted")
                yield rec
            if duplicates[0] > MAX_DUPLICATE_WARNINGS:
                warn(f"{input}: {duplicates[0]} duplicate record ids in all; only the first "
                     f"{MAX_DUPLICATE_WARNINGS} are named")

        if dask_scheduler or dask_local:
            try:
                from sspred.dask_predict import connect, predict_records_dask
            except ImportError:  # pragma: no cover - dask is an optional extra
                from sspred.cli import fail

                fail("Dask is not installed; pip install 'sspred[dask]'")
            client = stack.enter_context(connect(dask_scheduler, dask_local))
            stream = predict_records_dask(m, records(), client, batch_residues)
        else:
            stream = predict_batches(m, records(), batch_residues)
        enabled = sys.stderr.isatty() if show_progress is None else show_progress
        handle = stack.enter_context(output(out))
        bar = stack.enter_context(progress(enabled, size, position))
        writer = WRITERS[format](handle, model_name=f"sspred {m.name}", states=m.states)
        writer.begin()
        for batch in stream:
            for rec, probs in batch:
                writer.record(rec.id, rec.sequence, probs)
            bar.update(len(batch), sum(len(rec.codes) for rec, _ in batch))
        writer.end()
