"""The root command group that every command registers on, and how a command ends in failure.

Its own module so that the command modules import it without importing the package that imports
them (sspred.cli imports every command to register it).
"""

from __future__ import annotations

import typer

from sspred.errors import SspredError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Protein secondary-structure prediction with feed-forward neural networks.")

#: Exit code for bad input, a bad model file or a failed run, as opposed to a usage error's 2 from click.
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

#: Errors that are the user's input or machine, not our bug: printed as one line (the whole family, in one place).
USER_ERRORS = (SspredError,)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    typer.echo(f"sspred: error: {message}", err=True)
    raise SystemExit(code)
