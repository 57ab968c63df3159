"""Griffe extension (for mkdocstrings): the package's public names that only exist at run time.

``import sspred`` stays fast by importing its public names (``sspred.load``, ``sspred.train``...) on first use,
through a module ``__getattr__`` (PEP 562). Griffe reads the source without running it, so it sees no such
names in ``sspred/__init__.py``. This extension imports the package itself (not its submodules: importing
``sspred.__main__`` would run the CLI) and adds, for each name of its ``__all__`` that griffe did not find, an
alias to the object where it is defined, so the API reference documents it as ``sspred.NAME``.
"""

from __future__ import annotations

import importlib

import griffe


class LazyExports(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs) -> None:
        module = importlib.import_module(pkg.path)
        public = list(getattr(module, "__all__", []))
        for name in public:
            if name in pkg.members:
                continue
            obj = getattr(module, name)
            where = getattr(obj, "__module__", None)
            if where is None or where == pkg.path:
                continue  # a plain value (a version string): nothing to point at
            pkg.set_member(name, griffe.Alias(name, f"{where}.{obj.__qualname__}", parent=pkg))
        pkg.exports = public
