"""Golden outputs: the shipped example FASTA through each built-in model and the CLI's writers, byte for byte.

A change to a model or a writer that alters these bytes must regenerate them on purpose
(tests/golden/README.md); a difference here is otherwise a regression.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
_spec = importlib.util.spec_from_file_location("golden_regenerate", GOLDEN / "regenerate.py")
regenerate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regenerate)


@pytest.mark.parametrize("model_name,fmt", regenerate.CASES, ids=[f"{m}.{f}" for m, f in regenerate.CASES])
def test_example_predictions_match_golden_bytes(model_name, fmt):
    if model_name == "unirep":
        from sspred.unirep.weights import MissingWeights, load

        try:
            load(1900)
        except MissingWeights as exc:
            pytest.skip(f"the unirep model needs the UniRep weights: {exc}")
    expected = regenerate.golden_path(model_name, fmt).read_bytes()
    assert regenerate.render(model_name, fmt).encode("ascii") == expected, (
        f"{model_name}.{fmt} changed; if on purpose, run python tests/golden/regenerate.py and say why in the commit")


def test_cli_command_writes_the_golden_bytes(tmp_path):
    """`sspred predict` itself (in-process, typer's runner) writes what the golden file holds."""
    from typer.testing import CliRunner

    from sspred.cli import app

    out = tmp_path / "example.ss2"
    result = CliRunner().invoke(app, ["predict", str(regenerate.EXAMPLE), "-m", "default", "-f", "ss2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == regenerate.golden_path("default", "ss2").read_bytes()
