"""Output formats: PSIPRED VFORMAT/HFORMAT byte layouts, the FASTA contract, JSON and TSV."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

from sspred.io.formats import ID_COMMENT, WRITERS, confidence_digits
from sspred.io.readers import READERS

#: What PSIPRED's psipass2 printed for stage-1 inputs of our own (provenance: fixtures/psipass2/README.md).
PSIPASS2 = Path(__file__).parent / "fixtures" / "psipass2"
PSIPASS2_NAME = "PSIPRED V4.0"


def write(fmt, records, states="CHE", model_name="sspred test"):
    buf = io.StringIO()
    w = WRITERS[fmt](buf, model_name=model_name, states=states)
    w.begin()
    for rec in records:
        w.record(*rec)
    w.end()
    return buf.getvalue()


PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.85, 0.05], [0.2, 0.3, 0.5]], dtype=np.float32)


def test_ss2_layout_byte_for_byte():
    text = write("ss2", [("x", "MKV", PROBS)])
    assert text == ("# PSIPRED VFORMAT (sspred test)\n# sspred id: x\n\n"
                    "   1 M C   0.700  0.200  0.100\n"
                    "   2 K H   0.100  0.850  0.050\n"
                    "   3 V E   0.200  0.300  0.500\n")


def test_horiz_layout_with_ruler_and_blocks_of_60():
    n = 65
    probs = np.tile([[0.05, 0.9, 0.05]], (n, 1))
    seq = ("ACDEFGHIKL" * 7)[:n]
    text = write("horiz", [("x", seq, probs)])
    lines = text.split("\n")
    assert lines[0] == "# PSIPRED HFORMAT (sspred test)" and lines[1] == "# sspred id: x" and lines[2] == ""
    assert lines[3] == "Conf: " + "8" * 60
    assert lines[4] == "Pred: " + "H" * 60
    assert lines[5] == "  AA: " + seq[:60]
    assert lines[6] == "      " + "".join("%10d" % k for k in range(10, 61, 10))
    assert lines[6].index("10") + 1 == 6 + 9  # "10" ends under residue 10
    assert lines[7] == "" and lines[8] == ""  # blocks are two blank lines apart
    assert lines[9] == "Conf: 88888" and lines[11] == "  AA: " + seq[60:]
    assert lines[12] == "       "  # 5 residues: the ruler runs to residue n - 4 = 1
    assert text.endswith("\n\n") and not text.endswith("\n\n\n")  # a record ends with one blank line


def split_records(text: str, header: str) -> list[str]:
    """A concatenation of single-record files, cut at each header line."""
    starts = [i for i in range(len(text)) if text.startswith(header, i) and (i == 0 or text[i - 1] == "\n")]
    return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def without_id_line(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(ID_COMMENT))


def psipass2_records(fmt: str) -> list[str]:
    header = {"ss2": "# PSIPRED VFORMAT", "horiz": "# PSIPRED HFORMAT"}[fmt]
    return split_records((PSIPASS2 / f"psipass2_cases.{fmt}").read_text(), header)


def test_ss2_matches_psipass2_byte_for_byte():
    """psipass2's .ss2 of our stage-1 inputs, rewritten from its own scores, gives the same bytes (id line aside)."""
    records = psipass2_records("ss2")
    assert len(records) == 9
    for expected in records:
        (rec,) = READERS["ss2"](io.StringIO(expected), "psipass2_cases.ss2")
        probs = rec.probabilities.astype(np.float32)  # (L, 3) as printed, %6.3f
        ours = write("ss2", [("x", rec.sequence, probs)], model_name=PSIPASS2_NAME)
        assert without_id_line(ours) == expected


def probs_for(pred: str, conf: str, states: str = "CHE") -> np.ndarray:
    """Probabilities whose argmax is ``pred`` and whose top-two gap floors to the ``conf`` digit: (L, K)."""
    gap = (np.array([int(c) for c in conf]) + 0.5) / 10  # (L,) mid-way inside each digit's interval
    probs = np.zeros((len(pred), len(states)))
    top = np.array([states.index(s) for s in pred])
    probs[np.arange(len(pred)), top] = (1 + gap) / 2
    probs[np.arange(len(pred)), (top + 1) % len(states)] = (1 - gap) / 2
    return probs.astype(np.float32)


@pytest.mark.parametrize("index", range(9))
def test_horiz_matches_psipass2_byte_for_byte(index):
    """Every ruler case of psipass2's HFORMAT: lengths 3, 7 (under 10), 30 (ends at a multiple of ten), 43 (1-4 past),
    47 and 127 (5-9 past: the ruler is padded to residue L - 4), 60 and 120 (psipass2 prints L // 60 + 1 blocks,
    so these end in an empty block) and 61 (a one-residue last block)."""
    expected = psipass2_records("horiz")[index]
    (rec,) = READERS["horiz"](io.StringIO(expected), "psipass2_cases.horiz")
    ours = write("horiz", [("x", rec.sequence, probs_for(rec.prediction, rec.confidence))], model_name=PSIPASS2_NAME)
    assert without_id_line(ours) == expected


@pytest.mark.parametrize("fmt", ["ss2", "horiz"])
def test_each_record_names_its_id_after_its_header(fmt):
    text = write(fmt, [("first", "MKV", PROBS), ("second one", "K", PROBS[1:2])])
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("# PSIPRED")]
    assert [lines[i + 1] for i in headers] == ["# sspred id: first", "# sspred id: second one"]
    assert [r.id for r in READERS[fmt](io.StringIO(text), "x")] == ["first", "second one"]
    # a reader that skips '#' lines sees PSIPRED's layout
    assert all(not line.startswith("#") for i, line in enumerate(lines) if i not in headers and i - 1 not in headers)


def test_confidence_digit_is_top_minus_second():
    assert confidence_digits(PROBS) == "572"  # gaps 0.5, 0.75, 0.2
    assert confidence_digits(np.array([[1.0, 0.0, 0.0]])) == "9"


def test_fasta_contract():
    assert write("fasta", [("a", "MKV", PROBS), ("b", "K", PROBS[1:2])]) == ">a\nCHE\n>b\nH\n"


def test_json_and_tsv():
    doc = json.loads(write("json", [("a", "MKV", PROBS)]))
    assert list(doc) == ["model", "state_order", "states", "predictions", "warnings"]  # "states": the old name
    assert doc["model"] == {"name": "sspred test", "state_order": "CHE", "states": "CHE"}
    assert doc["state_order"] == doc["states"] == "CHE" and doc["warnings"] == []
    item = doc["predictions"][0]
    assert list(item) == ["id", "sequence", "states", "confidence", "probabilities"]
    assert (item["id"], item["sequence"], item["states"]) == ("a", "MKV", "CHE")
    assert item["confidence"] == confidence_digits(PROBS)
    np.testing.assert_allclose(item["probabilities"], PROBS, atol=1e-4)
    rows = write("tsv", [("a", "MKV", PROBS)]).splitlines()
    assert rows[0].split("\t") == ["id", "pos", "aa", "pred", "p_C", "p_H", "p_E"]
    assert rows[2].split("\t") == ["a", "2", "K", "H", "0.1000", "0.8500", "0.0500"]
