"""sspred serve: a prediction web service and page (needs the ``serve`` extra: FastAPI and uvicorn).

``create_app(model=..., limits=...)`` builds the ASGI application; ``sspred serve`` runs it with uvicorn.
"""

from sspred.serve.app import create_app
from sspred.serve.service import Limits

__all__ = ["create_app", "Limits"]
