"""The examples in the public docstrings run, and print what they say (real models, tiny sequences)."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose docstrings carry the public API's examples.
MODULES = ["sspred", "sspred.predict.api", "sspred.io.sequences", "sspred.errors", "sspred.model", "sspred.heads",
           "sspred.tracks", "sspred.splits", "sspred.io.formats", "sspred.metrics", "sspred.extras", "sspred.io.chain",
           "sspred.io.datasets", "sspred.io.fasta", "sspred.io.readers", "sspred.io.seen", "sspred.io.set_readers",
           "sspred.io.textfile", "sspred.io.three_line", "sspred.recipes", "sspred.recipes.recipe",
           "sspred.recipes.choice", "sspred.recipes.pools", "sspred.recipes.provenance"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    if name == "sspred":  # the lazy public names are module attributes only once used
        for attr in module.__all__:
            getattr(module, attr)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, raise_on_error=False, report=True)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see stdout)"
