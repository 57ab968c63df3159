"""Output formats: PSIPRED VFORMAT/HFORMAT byte layouts, the FASTA contract, JSON and TSV."""

import io
import json

import numpy as np

from sspred.io.formats import WRITERS, confidence_digits


def write(fmt, records, states="CHE"):
    buf = io.StringIO()
    w = WRITERS[fmt](buf, model_name="sspred test", states=states)
    w.begin()
    for rec in records:
        w.record(*rec)
    w.end()
    return buf.getvalue()


PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.85, 0.05], [0.2, 0.3, 0.5]], dtype=np.float32)


def test_ss2_layout_byte_for_byte():
    text = write("ss2", [("x", "MKV", PROBS)])
    assert text == ("# PSIPRED VFORMAT (sspred test)\n\n"
                    "   1 M C   0.700  0.200  0.100\n"
                    "   2 K H   0.100  0.850  0.050\n"
                    "   3 V E   0.200  0.300  0.500\n")


def test_horiz_layout_with_ruler_and_blocks_of_60():
    n = 65
    probs = np.tile([[0.05, 0.9, 0.05]], (n, 1))
    seq = ("ACDEFGHIKL" * 7)[:n]
    text = write("horiz", [("x", seq, probs)])
    lines = text.split("\n")
    assert lines[0] == "# PSIPRED HFORMAT (sspred test)" and lines[1] == ""
    assert lines[2] == "Conf: " + "8" * 60
    assert lines[3] == "Pred: " + "H" * 60
    assert lines[4] == "  AA: " + seq[:60]
    assert lines[5] == "      " + "".join("%10d" % k for k in range(10, 61, 10))
    assert lines[5].index("10") + 1 == 6 + 9  # "10" ends under residue 10
    assert lines[6] == "" and lines[7] == ""
    assert lines[8] == "Conf: 88888" and lines[10] == "  AA: " + seq[60:]
    assert lines[11] == "      "  # fewer than 10 residues: no number
    assert text.endswith("\n\n\n")


def test_confidence_digit_is_top_minus_second():
    assert confidence_digits(PROBS) == "572"  # gaps 0.5, 0.75, 0.2
    assert confidence_digits(np.array([[1.0, 0.0, 0.0]])) == "9"


def test_fasta_contract():
    assert write("fasta", [("a", "MKV", PROBS), ("b", "K", PROBS[1:2])]) == ">a\nCHE\n>b\nH\n"


def test_json_and_tsv():
    doc = json.loads(write("json", [("a", "MKV", PROBS)]))
    assert doc["predictions"][0]["prediction"] == "CHE"
    np.testing.assert_allclose(doc["predictions"][0]["probabilities"], PROBS, atol=1e-4)
    rows = write("tsv", [("a", "MKV", PROBS)]).splitlines()
    assert rows[0].split("\t") == ["id", "pos", "aa", "pred", "p_C", "p_H", "p_E"]
    assert rows[2].split("\t") == ["a", "2", "K", "H", "0.1000", "0.8500", "0.0500"]
