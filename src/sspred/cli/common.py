"""Helpers shared by the commands: output files, warnings."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import IO, Iterator

import typer

from sspred.io.textfile import atomic_output


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
