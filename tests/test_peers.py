"""The ReProf adapter of docs/experiments/peers.py on real chains: ReProf runs, its table parses, the parse agrees
with the raw file, and a second call reads the cache."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from sspred.io.fasta import parse_fasta

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "src" / "sspred" / "examples" / "example.fasta"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def peers():
    spec = importlib.util.spec_from_file_location("peers_benchmark", REPO / "docs" / "experiments" / "peers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def raw_row(text: str, position: int) -> dict[str, str]:
    """The row of residue ``position`` in a ReProf output, read straight from the text by its header."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    row = next(line.split("\t") for line in lines[1:] if line.split("\t")[0] == str(position))
    return dict(zip(header, row))


def test_reprof_on_two_example_chains(peers, tmp_path):
    if shutil.which("reprof") is None:
        pytest.skip("reprof is not installed (Debian: apt-get install reprof)")
    records = list(parse_fasta(EXAMPLE))[:2]
    assert [r.id for r in records] == ["1AKI_A", "1DIX_A"]
    for rec in records:
        states, wall, cpu, ran = peers.run_reprof_chain(rec.id, rec.sequence, tmp_path)
        assert ran and wall > 0 and cpu > 0
        assert len(states) == len(rec.sequence)
        assert set(states) <= set("HEC")
        assert "H" in states or "E" in states  # real folded proteins, not an all-coil failure

        out, _ = peers.reprof_cache_paths(rec.sequence, tmp_path)
        text = out.read_text()
        parsed = peers.parse_reprof(text, str(out))
        assert parsed["residues"] == rec.sequence
        # A known position, read from the raw file by column name: residue 10, and the last one.
        for pos in (10, len(rec.sequence)):
            row = raw_row(text, pos)
            assert row["AA"] == rec.sequence[pos - 1]
            assert states[pos - 1] == {"H": "H", "E": "E", "L": "C"}[row["PHEL"]]

        again = peers.run_reprof_chain(rec.id, rec.sequence, tmp_path)
        assert again == (states, wall, cpu, False)  # from the cache, with the times measured when it ran


def test_parse_reprof_refuses_a_table_without_the_state_column(peers):
    with pytest.raises(ValueError, match="PHEL"):
        peers.parse_reprof("No\tAA\tRI_S\n1\tM\t9\n", "broken.reprof")
