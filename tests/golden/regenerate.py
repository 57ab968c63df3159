"""Golden outputs: the shipped example FASTA predicted by each built-in model, as `sspred predict` writes it.

    python tests/golden/regenerate.py          # rewrite every golden file
    python tests/golden/regenerate.py --check  # exit 1 naming the files that differ

Run it on purpose, after a change to a model or a writer that is meant to change predictions or layout,
and say so in the commit. tests/test_golden.py compares against these files byte for byte.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from sspred.io.fasta import parse_fasta
from sspred.io.formats import make_writer
from sspred.predict.api import load

HERE = Path(__file__).resolve().parent
EXAMPLE = Path(__file__).resolve().parents[2] / "src" / "sspred" / "examples" / "example.fasta"

#: (model, format) pairs kept: .ss2 holds 3 states only, so q8 has FASTA alone. unirep needs the UniRep weights
#: (pip install "sspred[unirep]").
CASES = [("default", "ss2"), ("default", "fasta"), ("accurate", "ss2"), ("accurate", "fasta"),
         ("fast", "ss2"), ("fast", "fasta"), ("q8", "fasta"), ("unirep", "ss2"), ("unirep", "fasta")]


def render(model_name: str, fmt: str, fasta: Path = EXAMPLE) -> str:
    """What `sspred predict FASTA -m MODEL -f FMT` prints: the same parser, prediction path and writer."""
    predictor = load(model_name)
    out = io.StringIO()
    writer = make_writer(fmt, out, predictor.model_name, predictor.state_order)
    writer.begin()
    for batch in predictor.predict_batches(parse_fasta(str(fasta))):
        for pred in batch:
            writer.record(pred.id, pred.sequence, pred.probabilities)
    writer.end()
    return out.getvalue()


def golden_path(model_name: str, fmt: str) -> Path:
    return HERE / f"{model_name}.{fmt}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for model_name, fmt in CASES:
        text, path = render(model_name, fmt), golden_path(model_name, fmt)
        if check:
            if not path.exists() or path.read_bytes() != text.encode("ascii"):
                stale.append(path.name)
        else:
            path.write_bytes(text.encode("ascii"))  # bytes: no newline translation on any platform
    if stale:
        print("golden outputs differ:", ", ".join(stale), file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
