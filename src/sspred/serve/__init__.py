"""sspred serve: a prediction web service and page (needs the ``serve`` extra: FastAPI and uvicorn).

``create_app(model=..., limits=...)`` builds the ASGI application; ``sspred serve`` runs it with uvicorn.
``Limits`` and ``service`` need neither, so the CLI can show its defaults without the extra installed.
"""

from sspred.serve.service import Limits

__all__ = ["create_app", "Limits"]


def __getattr__(name: str):
    if name == "create_app":  # imported on use: it needs FastAPI
        from sspred.serve.app import create_app
        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
