"""Multi-FASTA as users write it, and the errors it must give."""

import gzip
import io

import numpy as np
import pytest

from sspred.alphabet import ENCODING, SPACER, SYMBOLS
from sspred.errors import InputError
from sspred.io.fasta import parse_fasta, read_fasta


def parse(text, **kw):
    return list(parse_fasta(io.StringIO(text), path="in.fa", **kw))


def test_wrapped_lowercase_star_blank_lines():
    recs = parse(">a first protein\nMKV\nlla*\n\n>b\n\nAC\n")
    assert [(r.id, r.sequence, r.description) for r in recs] == [("a", "MKVlla", "a first protein"), ("b", "AC", "b")]
    assert recs[0].codes.tolist() == [SYMBOLS.index(c) for c in "MKVLLA"]


def test_crlf_and_gzip(tmp_path):
    path = tmp_path / "x.fasta.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b">p1\r\nMKT\r\nAY\r\n>p2\rGG\r")
    recs = list(parse_fasta(path))
    assert [(r.id, r.sequence) for r in recs] == [("p1", "MKTAY"), ("p2", "GG")]


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "plain_name.fasta"
    path.write_bytes(gzip.compress(b">z\nMKV\n"))
    assert [r.sequence for r in parse_fasta(path)] == ["MKV"]


def test_ambiguous_residues_keep_length_and_documented_encoding():
    (rec,) = parse(">x\nAXBZJUO\n")
    assert len(rec.codes) == 7
    enc = ENCODING[rec.codes]
    assert enc[1, :20].sum() == pytest.approx(1.0) and enc[1, 0] == pytest.approx(0.05)  # X: uniform
    assert enc[2, SYMBOLS.index("D")] == 0.5 and enc[2, SYMBOLS.index("N")] == 0.5  # B = D/N
    assert enc[5, SYMBOLS.index("C")] == 1.0  # U -> C
    assert enc[6, SYMBOLS.index("K")] == 1.0  # O -> K
    assert (enc[:, SPACER] == 0).all()


def test_gaps_are_removed_with_a_warning():
    warnings = []
    (rec,) = parse(">g\nMK-V.A\n", warn=warnings.append)
    assert rec.sequence == "MKVA"
    assert "removed 2 gap" in warnings[0]


@pytest.mark.parametrize("text, fragment", [
    (">a\nMK1V\n", "unknown residue symbol '1'"),
    (">a\nMK!V\n", "unknown residue symbol '!'"),
    (">a\n\n>b\nMK\n", "empty sequence"),
    ("MKV\n>a\nMK\n", "text before the first"),
    ("", "empty file"),
    (">\nMKV\n", "header has no id"),
    (">a\nMK*V\n", "'*' (stop) inside"),
])
def test_bad_input_names_file_record_position(text, fragment):
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")) as info:
        parse(text)
    assert "in.fa" in str(info.value)


def test_position_is_one_based_within_the_record():
    with pytest.raises(InputError) as info:
        parse(">ok\nMKV\n>bad one\nACDE\nFG7H\n")
    err = info.value
    assert (err.record, err.position) == ("bad", 7)
    assert "record 'bad'" in str(err) and "position 7" in str(err)


def test_non_utf8_bytes_are_an_input_error(tmp_path):
    path = tmp_path / "bin.fa"
    path.write_bytes(b">a\nMK\xff\xfeV\n")
    with pytest.raises(InputError, match="not UTF-8"):
        list(parse_fasta(path))


def test_reader_layer_yields_plain_tuples():
    assert list(read_fasta(io.StringIO(">h x\nAB\nC\n"))) == [("h x", "ABC", 1)]


def test_utf8_bom_is_ignored(tmp_path):
    path = tmp_path / "bom.fa"
    path.write_bytes(b"\xef\xbb\xbf>a\nMKV\n")
    assert [r.id for r in parse_fasta(path)] == ["a"]


def test_codes_are_uint8_and_window_padding_uses_spacer():
    from sspred.features import windows
    (rec,) = parse(">a\nMKV\n")
    w = windows(rec.codes, 5)
    assert rec.codes.dtype == np.uint8
    assert w.shape == (3, 5)
    assert w[0].tolist() == [SPACER, SPACER, SYMBOLS.index("M"), SYMBOLS.index("K"), SYMBOLS.index("V")]
