"""The command-line interface: the only part of sspred that prints.

Every command lives in its own module and registers itself on ``app``.
Bad input ends in one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys

import typer

from sspred.errors import InputError, ModelFileError, ToolError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Protein secondary-structure prediction with feed-forward neural networks.")

#: Exit code for bad input, a bad model file or a failed run, as opposed to a usage error's 2 from click.
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

from sspred.cli import audit, ensemble, evaluate, experiment, export, hopfield, label, plot, predict, serve, split, train  # noqa: E402,F401  (commands register on import)

#: Errors that are the user's input, not our bug: printed as one line.
USER_ERRORS = (InputError, ModelFileError, ToolError)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    typer.echo(f"sspred: error: {message}", err=True)
    raise SystemExit(code)


def _terminated(signum, frame) -> None:
    # SIGTERM (kill, a batch scheduler's time limit) unwinds like Ctrl-C, so atomic outputs remove their temp files.
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    # Standalone mode lets typer report its own usage errors (exit 2); our error types pass through to here.
    try:
        app()
    except USER_ERRORS as exc:
        fail(str(exc).replace("\n", " "))
    except KeyboardInterrupt:
        typer.echo("sspred: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:  # typer turns Ctrl-C inside a command into a silent exit 130
            typer.echo("sspred: interrupted", err=True)
        raise
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
