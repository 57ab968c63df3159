"""Helpers shared by the commands: output files, warnings."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO, Iterator

import typer

from sspred.cli.root import fail
from sspred.errors import InputError
from sspred.io.datasets import DATA_ENV
from sspred.io.textfile import atomic_output, check_output_folder

#: Bad records listed at the end of a --keep-going run; further ones are only counted, so memory stays bounded.
MAX_LISTED_SKIPS = 1000
#: --data-dir of every command that reads the named sets (sspred.io.datasets.data_dir finds the default).
DATA_DIR = typer.Option(None, "--data-dir", help=f"Data folder (default ${DATA_ENV}, then a shared/data folder "
                        "above the working directory or above sspred's source).")


def output_folder(value: Path | None) -> Path | None:
    """The callback of an output-folder option: the folder is checked as the flags are read, before any work."""
    if value is not None:
        check_output_folder(value)
    return value


def warn(message: str) -> None:
    typer.echo(f"sspred: warning: {message}", err=True)


@contextlib.contextmanager
def output(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or a file that appears under its name only once it is complete."""
    if path is None or str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
    else:
        with atomic_output(path, "w") as handle:
            yield handle


class SkippedRecords:
    """The bad records of a --keep-going run, for the list printed once the good ones are written."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, error: InputError) -> None:
        self.count += 1
        if len(self.messages) < MAX_LISTED_SKIPS:
            self.messages.append(str(error).replace("\n", " "))

    def report(self) -> None:
        """List the skipped records on stderr and exit with code 2, if there were any."""
        if not self.count:
            return
        for message in self.messages:
            typer.echo(f"sspred: skipped: {message}", err=True)
        if self.count > len(self.messages):
            typer.echo(f"sspred: skipped: ... and {self.count - len(self.messages)} more", err=True)
        fail(f"{self.count} bad record(s) skipped (listed above); every other record was written")
