"""sspred predict: FASTA in, predictions out, record by record."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sspred.cli import app
from sspred.cli.common import SkippedRecords, output, warn
from sspred.io.fasta import parse_fasta
from sspred.io.formats import WRITERS
from sspred.io.seen import SeenIds
from sspred.model import load_model
from sspred.predict import predict_records


@app.command()
def predict(
    input: str = typer.Argument(..., help="Multi-FASTA file (plain or gzipped); '-' reads stdin."),
    model: Optional[str] = typer.Option(None, "-m", "--model", help="Built-in model name (default, fast) or a model file."),
    format: str = typer.Option("horiz", "--format", "-f", help=f"Output format: {', '.join(WRITERS)}."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Output file (default stdout); written atomically."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Skip bad records, write every good one, list the bad "
                                    "ones on stderr at the end; exit code 2 if any was bad."),
) -> None:
    """Predict secondary structure for every record of a FASTA file."""
    if format not in WRITERS:
        raise typer.BadParameter(f"unknown format {format!r}; choose from {', '.join(WRITERS)}", param_hint="--format")
    m = load_model(model)
    seen = SeenIds()  # bounded memory on a million-record file (docs/input-policy.md)
    skipped = SkippedRecords()

    def records():
        told_full = False
        for rec in parse_fasta(input, warn=warn, on_error=skipped.add if keep_going else None):
            if seen.add(rec.id):
                warn(f"{input}: duplicate record id {rec.id!r}; both are predicted")
            elif seen.saturated and not told_full:
                told_full = True
                warn(f"{input}: more than {seen.size} records; later ids are not checked for duplicates")
            yield rec

    with output(out) as handle:
        writer = WRITERS[format](handle, model_name=f"sspred {m.name}", states=m.states)
        writer.begin()
        for rec, probs in predict_records(m, records()):
            writer.record(rec.id, rec.sequence, probs)
        writer.end()
    skipped.report()
