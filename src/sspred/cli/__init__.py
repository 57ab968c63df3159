"""The command-line interface: the only part of sspred that prints.

Every command lives in its own module and registers itself on ``app``.
Bad input and usage errors end in one line ``sspred: error: ...`` on stderr and exit code 2, never a traceback
(usage errors, -h, --version and a closed stdout: ``sspred.cli.root.SspredGroup``; sspred's own errors: ``main``).
"""

from __future__ import annotations

import os
import signal
import sys

import typer

from sspred.cli import audit, ensemble, evaluate, experiment, export, hopfield, label, plot, predict, recipes, serve, split, train  # noqa: F401  (commands register on import)
from sspred.cli.root import EXIT_BAD_INPUT, EXIT_INTERRUPTED, USER_ERRORS, app, fail, leave_closed_pipe  # noqa: F401  (sspred.cli's names)


#: The exit code after SIGTERM, as the shell reports death by that signal.
EXIT_TERMINATED = 128 + signal.SIGTERM


def _terminated(signum, frame) -> None:
    # SIGTERM (kill, a batch scheduler's time limit) unwinds like Ctrl-C, so atomic outputs remove their temp files.
    raise SystemExit(EXIT_TERMINATED)


def _leave_now(code: int) -> None:
    """Exit at once with ``code``, once the stack has unwound (atomic outputs removed their temporary files).

    A normal exit joins every worker thread first, and a thread in the middle of a long batch (the mLSTM, a
    conv pass, attention blocks) finishes it before it looks up: Ctrl-C or ``kill`` would then wait for it.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more to say there
            pass
    os._exit(code)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    # Standalone mode lets typer report its own usage errors (exit 2); our error types pass through to here.
    try:
        app()
    except USER_ERRORS as exc:
        fail(str(exc).replace("\n", " "))
    except KeyboardInterrupt:
        typer.echo("sspred: interrupted", err=True)
        _leave_now(EXIT_INTERRUPTED)
    except SystemExit as exc:
        if exc.code == EXIT_INTERRUPTED:  # typer turns Ctrl-C inside a command into a silent exit 130
            typer.echo("sspred: interrupted", err=True)
        if exc.code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            _leave_now(exc.code)
        raise
    except BrokenPipeError:  # a closed stdout met outside a command (the group ends those itself)
        leave_closed_pipe()
