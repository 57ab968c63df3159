"""sspred serve: the prediction web service and page (FastAPI + uvicorn, the ``serve`` extra)."""

from __future__ import annotations

from typing import Optional

import typer

from sspred.cli.root import app
from sspred.cli.common import warn
from sspred.model import BUILTIN
from sspred.serve.service import Limits

#: uvicorn's log levels.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: Hosts that only this machine can reach; anything else is announced as exposed.
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def single_threaded_blas() -> None:
    """One BLAS thread per prediction: requests already run in parallel worker threads, and each forward pass is
    small, so a multi-threaded BLAS per call only oversubscribes the cores (measured on a busy 2-core machine:
    24 ms instead of 0.5 ms for one 185-residue chain)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warn("threadpoolctl is not installed; BLAS may use many threads per request")
        return
    threadpool_limits(limits=1, user_api="blas")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; the default is reachable from this machine only."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
    model: Optional[str] = typer.Option(None, "-m", "--model", help=f"Built-in model name ({', '.join(BUILTIN)}) or a model file."),
    max_request_bytes: int = typer.Option(Limits.max_request_bytes, "--max-request-bytes", min=1,
                                          help="Largest request body, in bytes."),
    max_residues: int = typer.Option(Limits.max_residues, "--max-residues", min=1, help="Most residues in one request."),
    max_sequences: int = typer.Option(Limits.max_sequences, "--max-sequences", min=1,
                                      help="Most sequences in one request."),
    log_level: str = typer.Option("info", "--log-level", help=f"uvicorn log level: {', '.join(LOG_LEVELS)}."),
) -> None:
    """Serve predictions over HTTP: a page at / and a JSON/FASTA API at /api/predict (schema at /openapi.json)."""
    try:
        import uvicorn

        from sspred.serve import create_app
    except ImportError as exc:
        raise typer.BadParameter(f"the web service needs the serve extra: pip install 'sspred[serve]' ({exc})",
                                 param_hint="serve") from None
    # click's own BadParameter: sspred.cli.main shows it as one line (typer's vendored one escapes it).
    if log_level not in LOG_LEVELS:
        raise typer.BadParameter(f"choose from {', '.join(LOG_LEVELS)}", param_hint="--log-level")
    limits = Limits(max_request_bytes=max_request_bytes, max_residues=max_residues, max_sequences=max_sequences)
    application = create_app(model=model, limits=limits)
    single_threaded_blas()
    if host not in LOOPBACK:
        warn(f"binding to {host}: the service is reachable from other machines")
    typer.echo(f"sspred: serving model {application.state.model.name!r} on http://{host}:{port}/ "
               f"(limits: {limits.max_request_bytes:,} bytes, {limits.max_residues:,} residues, "
               f"{limits.max_sequences:,} sequences per request)", err=True)
    uvicorn.run(application, host=host, port=port, log_level=log_level, server_header=False)
