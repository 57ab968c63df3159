"""The command-line interface: the only part of sspred that prints.

Every command lives in its own module and registers itself on ``app``.
Bad input and usage errors end in one line ``sspred: error: ...`` on stderr and exit code 2, never a traceback
(usage errors, -h, --version and a closed stdout: ``sspred.cli.root.SspredGroup``; sspred's own errors: ``main``).
"""

from __future__ import annotations

import signal
import sys

import typer

from sspred.cli import audit, ensemble, evaluate, experiment, export, hopfield, label, plot, predict, serve, split, train  # noqa: F401  (commands register on import)
from sspred.cli.root import EXIT_BAD_INPUT, EXIT_INTERRUPTED, USER_ERRORS, app, fail, leave_closed_pipe  # noqa: F401  (sspred.cli's names)


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
    except BrokenPipeError:  # a closed stdout met outside a command (the group ends those itself)
        leave_closed_pipe()
