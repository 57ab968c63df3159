"""The FastAPI application: routes, content negotiation, limits and error answers.

Every route's work (parsing, prediction, formatting) runs in a worker thread
through ``anyio.to_thread``, so a large request never stalls the event loop
and ``/healthz`` answers while it runs. No user input reaches a file path or
an evaluator: the page's files are read once from package data, by fixed names.
"""

from __future__ import annotations

import json
import os
from functools import partial
from importlib import resources
from typing import Any, Callable, Optional, get_args

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sspred.version import __version__
from sspred.errors import InputError
from sspred.io.fasta import Record
from sspred.io.formats import format_problem
from sspred.model import BUILTIN, DEFAULT_MODEL, Model
from sspred.predict.api import Predictor, load
from sspred.serve import schemas, service
from sspred.serve.service import Limits, LimitExceeded

#: Answer formats: name -> media type of the answer. Text formats are PSIPRED's, written by sspred.io.formats.
FORMATS = {"json": "application/json", "ss2": "text/plain; charset=utf-8", "horiz": "text/plain; charset=utf-8"}
assert set(FORMATS) == set(get_args(schemas.FormatName)), "the schema lists the formats served"
#: Accept-header media types that choose a text format (the answer itself is text/plain).
ACCEPT_FORMATS = {"text/x-psipred-ss2": "ss2", "text/x-psipred-horiz": "horiz", "application/json": "json"}
#: The page's files: URL path -> (package file, media type). Served from memory; nothing else is.
ASSETS = {"/": ("index.html", "text/html; charset=utf-8"),
          "/app.js": ("app.js", "text/javascript; charset=utf-8"),
          "/style.css": ("style.css", "text/css; charset=utf-8")}
#: The page loads only its own files; nothing from elsewhere, no inline script, no framing.
PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
#: Predictions run at once (each in a worker thread); more wait their turn, so memory stays bounded.
PREDICT_SLOTS = max(2, os.cpu_count() or 2)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": schemas.ErrorResponse, "description": "Past a limit (max_request_bytes, max_residues or "
          "max_sequences); `error.limit` names it."},
    415: {"model": schemas.ErrorResponse, "description": "A body that is neither JSON nor FASTA text."},
    422: {"model": schemas.ErrorResponse, "description": "Input that is not a protein sequence, or a bad "
          "parameter; `error.message` says where and why."},
}
TEXT_CONTENT = {"text/plain": {"schema": {"type": "string"}, "example": "# PSIPRED VFORMAT (sspred default)\n"}}
PREDICT_200: dict[int | str, dict[str, Any]] = {
    200: {"model": schemas.PredictResponse, "content": TEXT_CONTENT,
          "description": "Predictions: JSON, or PSIPRED .ss2/.horiz text when asked for."}}
FASTA_EXAMPLE = ">1ubq_A ubiquitin\nMQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG\n"


def _error(status: int, detail: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _validation_message(errors) -> str:
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "The request is not valid: " + "; ".join(parts) + "."


def records_from_json(text: str, limits: Limits) -> tuple[list[Record], list[str]]:
    try:
        request = schemas.PredictRequest.model_validate_json(text)
    except ValidationError as exc:
        raise _BadRequest(_validation_message(exc.errors(include_url=False))) from None
    pairs = [(s.id or f"seq{i}", s.sequence) for i, s in enumerate(request.sequences, start=1)]
    return service.records_from_pairs(pairs, limits), []


#: Request media types and how each body becomes records (a missing Content-Type reads as FASTA text).
BODY_READERS = {"application/json": records_from_json, "text/plain": service.records_from_text,
                "text/x-fasta": service.records_from_text, "application/x-fasta": service.records_from_text}


def choose_format(param: Optional[str], accept: str) -> str:
    """The answer's format: ?format=, else the Accept header, else JSON."""
    if param:
        return param
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in ACCEPT_FORMATS:
            return ACCEPT_FORMATS[media]
    return "json"


#: Environment variables through which ``sspred serve --workers N`` hands its model and limits to each worker
#: process: uvicorn starts every worker from an import string (``WORKER_APP``), not from an app object.
MODEL_ENV, LIMITS_ENV = "SSPRED_SERVE_WORKER_MODEL", "SSPRED_SERVE_WORKER_LIMITS"
#: The app factory each worker process calls.
WORKER_APP = "sspred.serve.app:worker_app"


def single_threaded_blas() -> bool:
    """One BLAS thread per prediction: requests already run in parallel worker threads, and each forward pass is
    small, so a multi-threaded BLAS per call only oversubscribes the cores (measured on a busy 2-core machine:
    24 ms instead of 0.5 ms for one 185-residue chain). False when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(limits=1, user_api="blas")
    return True


def worker_environment(model: str | os.PathLike | None, limits: Limits) -> dict[str, str]:
    """The variables ``worker_app`` reads: the model (a built-in name, or a file as an absolute path, so a
    worker finds it wherever it starts) and the limits as JSON."""
    name = str(model) if model is not None else DEFAULT_MODEL
    if name not in BUILTIN:
        name = os.path.abspath(name)
    return {MODEL_ENV: name, LIMITS_ENV: json.dumps(limits.to_dict())}


def worker_app() -> FastAPI:
    """The service in one worker process of ``sspred serve --workers N``: the model and limits that
    ``worker_environment`` put in the environment, one BLAS thread per prediction."""
    single_threaded_blas()
    return create_app(os.environ[MODEL_ENV], Limits(**json.loads(os.environ[LIMITS_ENV])))


def _read_assets() -> dict[str, bytes]:
    root = resources.files("sspred.serve") / "static"
    return {url: (root / name).read_bytes() for url, (name, _media) in ASSETS.items()}


def create_app(model: Predictor | Model | str | os.PathLike | None = None,
               limits: Limits | None = None) -> FastAPI:
    """The service for one model: a built-in name, a model file, an ``sspred.load`` Predictor or a loaded
    ``sspred.Model`` (None: the default model). It predicts through the Predictor, as ``sspred predict`` does."""
    predictor = model if isinstance(model, Predictor) else Predictor(model) if isinstance(model, Model) else load(model)
    limits = service.limits_for(predictor, limits)  # a model with UniRep input takes fewer residues a request
    info = {"model": predictor.model_info, "limits": limits.to_dict(), "formats": list(FORMATS)}
    assets = _read_assets()
    slots: list[anyio.CapacityLimiter] = []  # created on first use, inside the event loop

    app = FastAPI(
        title="sspred", version=__version__,
        description="Protein secondary-structure prediction (H/E/C) with feed-forward neural networks. "
                    f"Limits per request: {limits.max_request_bytes:,} bytes, {limits.max_residues:,} residues, "
                    f"{limits.max_sequences:,} sequences.",
        # No /docs: FastAPI's Swagger UI loads its script from a CDN, and the service uses no outside network.
        docs_url=None, redoc_url=None)

    app.state.predictor, app.state.limits = predictor, limits

    async def in_worker(func: Callable, *args):
        if not slots:
            slots.append(anyio.CapacityLimiter(PREDICT_SLOTS))
        return await anyio.to_thread.run_sync(partial(func, *args), limiter=slots[0])

    def answer(fmt: str, records: list[Record], warnings: list[str]) -> Response:
        """Predict and render; runs in a worker thread."""
        predictions = service.predict(predictor, records)
        notes = warnings + service.nucleotide_warnings(records) if fmt == "json" else []
        body = service.render(fmt, predictor, predictions, notes)
        headers = {"Cache-Control": "no-store"}
        if fmt != "json":
            headers["Content-Disposition"] = f'inline; filename="sspred.{fmt}"'
        return Response(body, media_type=FORMATS[fmt], headers=headers)

    def from_body(body: bytes, media: str, fmt: str) -> Response:
        """Parse, validate, predict and render a request body; runs in a worker thread."""
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text; is this a FASTA file?", path=service.SOURCE) from None
        records, warnings = BODY_READERS[media](text, limits)
        return answer(fmt, records, warnings)

    async def read_body(request: Request) -> bytes:
        """The body, refused with 413 as soon as it is known to pass max_request_bytes."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit():
            service.check_body_size(int(declared), limits)
        size, chunks = 0, []
        async for chunk in request.stream():
            size += len(chunk)
            service.check_body_size(size, limits)
            chunks.append(chunk)
        return b"".join(chunks)

    def check_format(fmt: str) -> None:
        problem = format_problem(fmt, predictor.state_order, predictor.model_name, offered=tuple(FORMATS))
        if problem:
            raise _Unsupported("unsupported_format", problem[:1].upper() + problem[1:] + ".", 422)

    async def predict_body(request: Request, fmt: str) -> Response:
        check_format(fmt)
        media = request.headers.get("content-type", "text/plain").split(";")[0].strip().lower()
        if media not in BODY_READERS:
            raise _Unsupported("unsupported_media_type", f"Send JSON (application/json) or FASTA text "
                               f"(text/plain), not {media[:60]!r}.", 415)
        body = await read_body(request)
        return await in_worker(from_body, body, media, fmt)

    async def predict_query(fmt: str, rec_id: str, sequence: str) -> Response:
        check_format(fmt)
        service.check_body_size(len(sequence.encode()), limits)

        def work():
            return answer(fmt, service.records_from_pairs([(rec_id, sequence)], limits), [])
        return await in_worker(work)

    format_query = Query(None, description="Answer format; overrides the Accept header "
                         "(text/x-psipred-ss2, text/x-psipred-horiz or application/json).")
    sequence_query = Query(..., description="Protein sequence, one-letter codes.",
                           json_schema_extra={"pattern": schemas.SEQUENCE_PATTERN})
    id_query = Query(service.PLAIN_ID, min_length=1, max_length=schemas.MAX_ID_CHARS, pattern=r"^\S+$",
                     description="Record id.")

    # /api/predict chooses its format by ?format= or Accept; /api/predict.{json,ss2,horiz} have it fixed.
    def post_route(fixed: Optional[str]):
        if fixed:
            async def predict_post_fixed(request: Request) -> Response:
                return await predict_body(request, fixed)
            return predict_post_fixed

        async def predict_post(request: Request, format: Optional[schemas.FormatName] = format_query) -> Response:
            return await predict_body(request, choose_format(format, request.headers.get("accept", "")))
        return predict_post

    def get_route(fixed: Optional[str]):
        if fixed:
            async def predict_get_fixed(sequence: str = sequence_query, id: str = id_query) -> Response:
                return await predict_query(fixed, id, sequence)
            return predict_get_fixed

        async def predict_get(request: Request, sequence: str = sequence_query, id: str = id_query,
                              format: Optional[schemas.FormatName] = format_query) -> Response:
            return await predict_query(choose_format(format, request.headers.get("accept", "")), id, sequence)
        return predict_get

    fasta_body = {"schema": {"type": "string", "format": "FASTA", "maxLength": limits.max_request_bytes},
                  "example": FASTA_EXAMPLE}
    request_body = {"required": True, "content": {
        media: {"schema": {"$ref": "#/components/schemas/PredictRequest"}} if reader is records_from_json
        else fasta_body for media, reader in BODY_READERS.items()}}
    for suffix, fixed in [("", None)] + [(f".{f}", f) for f in FORMATS]:
        what = f"as {fixed}" if fixed else "as JSON, or as ss2/horiz text by `format` or the Accept header"
        app.add_api_route(f"/api/predict{suffix}", post_route(fixed), methods=["POST"], response_model=None,
                          responses={**PREDICT_200, **ERROR_RESPONSES}, operation_id=f"predict_post{suffix[1:]}",
                          summary=f"Predict the sequences of a JSON or FASTA body, {what}",
                          openapi_extra={"requestBody": request_body})
        app.add_api_route(f"/api/predict{suffix}", get_route(fixed), methods=["GET"], response_model=None,
                          responses={**PREDICT_200, **ERROR_RESPONSES}, operation_id=f"predict_get{suffix[1:]}",
                          summary=f"Predict one sequence given in the query, {what}")

    @app.get("/healthz", response_model=schemas.Health, summary="Liveness: answers while predictions run")
    async def healthz():
        return {"status": "ok", "model": predictor.model_name}

    @app.get("/api/info", response_model=schemas.Info, summary="The model served and the request limits")
    async def api_info():
        return info

    def asset_route(url: str, media: str):
        async def asset() -> Response:
            headers = {"X-Content-Type-Options": "nosniff"}
            if url == "/":
                headers["Content-Security-Policy"] = PAGE_CSP
            return Response(assets[url], media_type=media, headers=headers)
        return asset

    for url, (_name, media) in ASSETS.items():
        app.add_api_route(url, asset_route(url, media), methods=["GET"], include_in_schema=False)

    @app.exception_handler(InputError)
    async def on_input_error(request, exc: InputError):
        return _error(422, service.error_body(exc))

    @app.exception_handler(LimitExceeded)
    async def on_limit(request, exc: LimitExceeded):
        return _error(413, exc.to_dict())

    @app.exception_handler(_BadRequest)
    async def on_bad_request(request, exc: _BadRequest):
        return _error(422, {"type": "invalid_request", "message": exc.message})

    @app.exception_handler(_Unsupported)
    async def on_unsupported(request, exc: _Unsupported):
        return _error(exc.status, {"type": exc.kind, "message": exc.message})

    @app.exception_handler(RequestValidationError)
    async def on_validation(request, exc: RequestValidationError):
        return _error(422, {"type": "invalid_request", "message": _validation_message(exc.errors())})

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request, exc: StarletteHTTPException):
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Allow must list every method of the path; GET and POST are separate routes here, and the
            # router names only the first one it tried.
            path = request.url.path
            methods = {m for route in app.routes if isinstance(route, APIRoute) and route.path_regex.match(path)
                       for m in route.methods or ()}
            headers["Allow"] = ", ".join(sorted(methods))
        return _error(exc.status_code, {"type": "invalid_request", "message": str(exc.detail)}, headers)

    @app.exception_handler(Exception)
    async def on_bug(request, exc: Exception):
        # A bug, not the user's input: say so without echoing internals.
        return _error(500, {"type": "internal_error", "message": "Internal error in sspred; please report it."})

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            body = schemas.PredictRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            body["properties"]["sequences"]["maxItems"] = limits.max_sequences
            components["PredictRequest"] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
    return app


class _BadRequest(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Unsupported(Exception):
    def __init__(self, kind: str, message: str, status: int):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status
