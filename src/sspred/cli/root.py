"""The root command group that every command registers on, and how a command ends in failure.

Its own module so that the command modules import it without importing the package that imports
them (sspred.cli imports every command to register it). The group also owns how sspred ends when the
command line itself is wrong (``sspred: error: ...``, exit 2, no box), when a reader closes the pipe
sspred writes to (quietly, as ``cat`` does), and the ``-h`` and ``--version`` flags of every command.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import importlib
import typer
from typer.core import TyperGroup

from sspred.errors import SspredError
from sspred.version import __version__

#: Exit code for bad input, a bad model file or a failed run; click's usage errors use the same 2.
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
#: A closed pipe ends sspred as it ends cat: the shell's code for death by SIGPIPE.
EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE

#: Errors that are the user's input or machine, not our bug: printed as one line (the whole family, in one place).
USER_ERRORS = (SspredError,)
#: -h beside --help on every command: the context passes it on to each subcommand's.
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    typer.echo(f"sspred: error: {message}", err=True)
    raise SystemExit(code)


class PipeClosed(Exception):
    """The reader of stdout went away (``sspred predict x.fa | head -1``); not an OSError, so typer leaves it be."""


def _click_exceptions() -> Any:
    # typer 0.2x carries its own copy of click (typer._click); older typers use click itself.
    try:
        return importlib.import_module("typer._click.exceptions")
    except ImportError:
        return importlib.import_module("click.exceptions")


_click = _click_exceptions()


def version_requested(args: list[str]) -> bool:
    """Whether ``--version`` is among the flags (before a ``--``) of any command: ``sspred predict --version``
    answers as ``sspred --version`` does.

    >>> version_requested(["predict", "--version"]), version_requested(["predict", "--", "--version"])
    (True, False)
    """
    return "--version" in (args[:args.index("--")] if "--" in args else args)


class SspredGroup(TyperGroup):
    """The root group (and plot's, hopfield's): --version on every command, usage errors as one
    ``sspred: error:`` line, and a closed stdout ending the run quietly."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # typer turns an EPIPE OSError into exit 1; a reader that has read enough is no failure.
            raise PipeClosed() from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.get("standalone_mode", True)
        # Our own handling below needs click's exceptions raised to it, not printed by typer.
        kwargs["standalone_mode"] = False
        if not standalone:
            return super().main(*args, **kwargs)
        argv = args[0] if args else kwargs.get("args")
        if version_requested(list(sys.argv[1:] if argv is None else argv)):
            typer.echo(f"sspred {__version__}")
            sys.exit(0)
        try:
            code = super().main(*args, **kwargs)
            sys.stdout.flush()  # here, where a closed pipe is caught, not at interpreter exit
        except getattr(_click, "NoArgsIsHelpError", ()) as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except _click.UsageError as exc:
            message = " ".join(exc.format_message().split())
            given = _given_value(getattr(exc, "param", None), list(sys.argv[1:] if argv is None else argv))
            if given is not None and given not in message:
                message += f" (got {given!r})"
            typer.echo(f"sspred: error: {message}", err=True)
            if exc.ctx is not None:
                typer.echo(f"sspred: see '{exc.ctx.command_path} -h'", err=True)
            sys.exit(exc.exit_code)
        except _click.ClickException as exc:
            typer.echo(f"sspred: error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:  # EOF at a prompt
            typer.echo("sspred: aborted", err=True)
            sys.exit(1)
        except (PipeClosed, BrokenPipeError):
            leave_closed_pipe()
        # standalone_mode=False returns the command's value, or the code of a typer.Exit / ctx.exit.
        sys.exit(code if isinstance(code, int) else 0)


def _given_value(param: Any, args: list[str]) -> str | None:
    """The value the command line gave option ``param`` (``--opt VALUE`` or ``--opt=VALUE``), for an error that
    does not quote it (typer's "Input should be a valid integer"); None when not found.

    >>> class Opt: opts = ["--batch-residues"]
    >>> _given_value(Opt, ["predict", "x.fa", "--batch-residues", "zero"]), _given_value(Opt, ["--batch-residues=1e"])
    ('zero', '1e')
    """
    for opt in getattr(param, "opts", None) or ():
        if not opt.startswith("-"):
            continue
        for i, arg in enumerate(args):
            if arg == opt and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(opt + "="):
                return arg[len(opt) + 1:]
    return None


def leave_closed_pipe() -> None:
    """Exit after the reader of stdout closed it, with nothing on stderr: the bytes still in stdout's buffer
    have nowhere to go, and flushing them at interpreter exit would print 'Exception ignored ...'."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (a test's capture) has no exit flush
        pass
    sys.exit(EXIT_PIPE_CLOSED)


class SspredTyper(typer.Typer):
    """typer.Typer whose groups are ``SspredGroup``s and whose commands take -h for --help."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("cls", SspredGroup)
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        kwargs.setdefault("pretty_exceptions_enable", False)
        # Plain help text: rich markup would read the extras' brackets, "sspred[plot]", as a style tag and drop them.
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(**kwargs)


app = SspredTyper(add_completion=False, no_args_is_help=True,
                  help="Protein secondary-structure prediction with feed-forward neural networks.")


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="Print sspred's version and exit (any command "
                                       "takes it).")) -> None:
    """Protein secondary-structure prediction with feed-forward neural networks."""
    # --version itself is answered before parsing (SspredGroup.main); this option lists it in the help.
