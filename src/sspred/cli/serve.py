"""sspred serve: the prediction web service and page (FastAPI + uvicorn, the ``serve`` extra)."""

from __future__ import annotations

import os
from typing import Optional

import typer

from sspred.cli.root import app
from sspred.cli.common import warn
from sspred.extras import require
from sspred.model import BUILTIN
from sspred.serve.service import Limits

#: uvicorn's log levels.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: Hosts that only this machine can reach; anything else is announced as exposed.
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


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
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes, each with its own copy of the model; "
                                "more than one serves on more cores."),
) -> None:
    """Serve predictions over HTTP: a page at / and a JSON/FASTA API at /api/predict (schema at /openapi.json).

    Needs pip install "sspred[serve]" (FastAPI and uvicorn).
    """
    uvicorn = require("uvicorn", "serve", "sspred serve")
    serve_app = require("sspred.serve.app", "serve", "sspred serve")
    if log_level not in LOG_LEVELS:
        raise typer.BadParameter(f"choose from {', '.join(LOG_LEVELS)}", param_hint="--log-level")
    limits = Limits(max_request_bytes=max_request_bytes, max_residues=max_residues, max_sequences=max_sequences)
    # Loaded here even for several workers: a bad model fails now, in one line, before any worker starts.
    application = serve_app.create_app(model=model, limits=limits)
    if not serve_app.single_threaded_blas():
        warn("threadpoolctl is not installed; BLAS may use many threads per request")
    if host not in LOOPBACK:
        warn(f"binding to {host}: the service is reachable from other machines")
    typer.echo(f"sspred: serving model {application.state.predictor.model_name!r} on http://{host}:{port}/ "
               f"(limits: {limits.max_request_bytes:,} bytes, {limits.max_residues:,} residues, "
               f"{limits.max_sequences:,} sequences per request; {workers} worker process"
               f"{'es' if workers > 1 else ''})", err=True)
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level=log_level, server_header=False)
        return
    # uvicorn starts each worker from an import string; the model and limits reach it through the environment.
    del application
    os.environ.update(serve_app.worker_environment(model, limits))
    uvicorn.run(serve_app.WORKER_APP, factory=True, workers=workers, host=host, port=port, log_level=log_level,
                server_header=False)
