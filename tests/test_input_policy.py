"""Every row of docs/input-policy.md, fed as a real file through `sspred predict` / `sspred train`.

A rejected input must end in exit code 2 and exactly one stderr line naming the
file, the record and the position (or line), with no output file and no
temporary file left behind. An accepted one must give the predictions the
policy promises.
"""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.slow  # every case runs sspred in a subprocess

AMINO = "ACDEFGHIKLMNPQRSTVWY"
SEQ = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"


def predict(tmp_path: Path, content: bytes, name: str = "in.fa", *extra: str):
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.fa"
    return run_cli("predict", str(src), "-m", "fast", "-f", "fasta", "-o", str(out), *extra), out


def rejected(r, out: Path, *fragments: str) -> str:
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sspred: error: "), r.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists()
    assert not list(out.parent.glob(".*.part"))
    return lines[0]


def records(out: Path) -> list[tuple[str, str]]:
    lines = out.read_text().splitlines()
    assert len(lines) % 2 == 0
    return [(h[1:], p) for h, p in zip(lines[::2], lines[1::2])]


def accepted(r, out: Path) -> list[tuple[str, str]]:
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return records(out)


def warnings(r) -> list[str]:
    return [l for l in r.stderr.splitlines() if l.startswith("sspred: warning: ")]


def reference(tmp_path: Path, seq: str = SEQ) -> str:
    """The prediction for ``seq`` from a clean one-record file, to compare accepted variants against."""
    (sub := tmp_path / "ref").mkdir(exist_ok=True)
    r, out = predict(sub, f">ref\n{seq}\n".encode())
    return accepted(r, out)[0][1]


# --- file-level structure -------------------------------------------------------------------

def test_empty_file_is_rejected(tmp_path):
    r, out = predict(tmp_path, b"")
    rejected(r, out, "in.fa", "empty file")


def test_whitespace_only_file_is_rejected(tmp_path):
    r, out = predict(tmp_path, b"\n  \n\t\n")
    rejected(r, out, "in.fa", "no FASTA records")


def test_text_before_first_header_is_rejected(tmp_path):
    r, out = predict(tmp_path, b"Proteins of interest\n>a\nMKV\n")
    rejected(r, out, "in.fa", "line 1", "text before the first '>' header", "Proteins of interest")


def test_bare_sequence_without_a_header_is_one_record_named_query(tmp_path):
    r, out = predict(tmp_path, f"{SEQ[:30]}\n{SEQ[30:]}\n".encode())
    assert accepted(r, out) == [("query", reference(tmp_path))]
    assert r.stderr == ""


def test_bare_sequence_with_a_bad_symbol_names_record_query(tmp_path):
    r, out = predict(tmp_path, b"MKVL\nMK3V\n")
    rejected(r, out, "in.fa", "record 'query'", "position 7", "unknown residue symbol '3'")


def test_nucleotide_looking_input_is_predicted_with_a_warning(tmp_path):
    dna = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTT"
    r, out = predict(tmp_path, f">gfp_cds\n{dna}\n>prot\n{SEQ}\n".encode())
    assert [rec for rec, _ in accepted(r, out)] == ["gfp_cds", "prot"]
    (line,) = warnings(r)
    assert line == (f"sspred: warning: {tmp_path / 'in.fa'}: record 'gfp_cds' looks like DNA/RNA (100% A, C, G, T, "
                    f"U, N); sspred predicts from protein sequence, so translate it first")


def test_empty_record_is_rejected(tmp_path):
    r, out = predict(tmp_path, b">a\nMKV\n>hollow desc\n\n>c\nAAA\n")
    rejected(r, out, "in.fa", "line 3", "record 'hollow'", "empty sequence")


def test_duplicate_ids_are_predicted_both_with_a_warning(tmp_path):
    r, out = predict(tmp_path, f">dup first\n{SEQ}\n>other\nMKV\n>dup second\n{SEQ[:20]}\n".encode())
    recs = accepted(r, out)
    assert [i for i, _ in recs] == ["dup", "other", "dup"]
    assert [len(p) for _, p in recs] == [len(SEQ), 3, 20]
    assert warnings(r) == [f"sspred: warning: {tmp_path / 'in.fa'}: duplicate record id 'dup'; both are predicted"]


# --- headers --------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [">", ">   ", ">\t"])
def test_header_with_no_id_is_rejected(tmp_path, header):
    r, out = predict(tmp_path, f">a\nMKV\n{header}\nMKV\n".encode())
    rejected(r, out, "in.fa", "line 3", "header has no id")


def test_very_long_header_is_accepted_and_the_id_is_its_first_word(tmp_path):
    description = " ".join(f"word{i}" for i in range(20000))  # ~150 kB header line
    long_id = "P" * 5000
    r, out = predict(tmp_path, f">sp|Q1|X {description}\n{SEQ}\n>{long_id}\nMKVL\n".encode())
    recs = accepted(r, out)
    assert [i for i, _ in recs] == ["sp|Q1|X", long_id]
    assert recs[0][1] == reference(tmp_path)


def test_control_character_in_header_is_rejected(tmp_path):
    r, out = predict(tmp_path, b">a\nMKV\n>b\x1b[31m red\nMKV\n")
    rejected(r, out, "in.fa", "line 3", "record 'b\\x1b[31m'", "control character '\\x1b'", "column 2")


# --- residues -------------------------------------------------------------------------------

def test_lowercase_is_accepted_as_upper_case(tmp_path):
    r, out = predict(tmp_path, f">low\n{SEQ.lower()}\n".encode())
    assert accepted(r, out)[0][1] == reference(tmp_path)
    assert not warnings(r)


@pytest.mark.parametrize("letter", list("XBZUOJ"))
def test_ambiguous_and_rare_residues_are_accepted_and_keep_the_length(tmp_path, letter):
    seq = SEQ[:10] + letter + SEQ[10:] + letter.lower()
    r, out = predict(tmp_path, f">amb\n{seq}\n".encode())
    ((rid, pred),) = accepted(r, out)
    assert rid == "amb" and len(pred) == len(seq) and set(pred) <= set("CHE")
    assert not warnings(r)


def test_trailing_stop_is_stripped(tmp_path):
    r, out = predict(tmp_path, f">stop\n{SEQ}*\n".encode())
    assert accepted(r, out)[0][1] == reference(tmp_path)
    assert not warnings(r)


def test_inner_stop_is_rejected_with_its_position(tmp_path):
    r, out = predict(tmp_path, f">a\n{SEQ}\n>s\nMKV*LLA\n".encode())
    rejected(r, out, "in.fa", "record 's'", "position 4", "'*' (stop) inside")


@pytest.mark.parametrize("gap", ["-", "."])
def test_gaps_are_removed_with_a_warning(tmp_path, gap):
    gapped = SEQ[:5] + gap * 3 + SEQ[5:30] + gap + SEQ[30:]
    r, out = predict(tmp_path, f">aln\n{gapped}\n".encode())
    assert accepted(r, out)[0][1] == reference(tmp_path)
    assert warnings(r) == [f"sspred: warning: {tmp_path / 'in.fa'}: record 'aln': removed 4 gap character(s) '-'/'.'"]


def test_digits_inside_a_sequence_are_rejected_with_their_position(tmp_path):
    # GenBank-style numbered lines: the first digit is the first character of the record.
    r, out = predict(tmp_path, b">a\nMKV\n>gb\n        1 mktayiakqr qisfvkshfs\n")
    rejected(r, out, "in.fa", "record 'gb'", "position 1", "unknown residue symbol '1'")
    r, out = predict(tmp_path, b">a\nMKV\n>n\nMKTAY\nIA7KQ\n")
    rejected(r, out, "record 'n'", "position 8", "unknown residue symbol '7'")


def test_whitespace_inside_sequences_is_removed(tmp_path):
    spaced = " ".join(SEQ[i:i + 10] for i in range(0, len(SEQ), 10))
    spaced = spaced[:25] + "\t\t" + spaced[25:] + "   \n\n  \n"
    r, out = predict(tmp_path, f">ws\n{spaced}".encode())
    assert accepted(r, out)[0][1] == reference(tmp_path)


# --- line endings, encodings, compression ---------------------------------------------------

def test_crlf_line_endings(tmp_path):
    r, out = predict(tmp_path, f">a\r\n{SEQ[:30]}\r\n{SEQ[30:]}\r\n".encode())
    assert accepted(r, out) == [("a", reference(tmp_path))]


def test_mixed_line_endings(tmp_path):
    r, out = predict(tmp_path, f">a\r\n{SEQ[:20]}\r{SEQ[20:40]}\n{SEQ[40:]}\r\n>b\rMKV\n".encode())
    recs = accepted(r, out)
    assert recs[0] == ("a", reference(tmp_path)) and recs[1][0] == "b" and len(recs[1][1]) == 3


def test_utf8_byte_order_mark(tmp_path):
    r, out = predict(tmp_path, b"\xef\xbb\xbf" + f">bom\n{SEQ}\n".encode())
    assert accepted(r, out) == [("bom", reference(tmp_path))]


def test_non_utf8_bytes_are_rejected_with_their_line(tmp_path):
    # Latin-1 text from an old tool: a degree sign in the description of record 2.
    r, out = predict(tmp_path, f">a\n{SEQ}\n>b 37".encode() + b"\xb0C\nMKV\n")
    rejected(r, out, "in.fa", "line 3", "not UTF-8", "\\xb0", "column 6")


def test_binary_garbage_is_rejected(tmp_path):
    elf = Path(sys.executable).resolve().read_bytes()[:4096]  # a real executable: \x7fELF then NUL bytes
    r, out = predict(tmp_path, elf)
    rejected(r, out, "in.fa", "line 1", "binary data")
    png = (Path(__file__).resolve().parents[1] / "docs").glob("*.png")
    noise = next(png, None)
    data = noise.read_bytes()[:4096] if noise else bytes(random.Random(0).randrange(256) for _ in range(4096))
    r, out = predict(tmp_path, data)
    line = rejected(r, out, "in.fa")
    assert "not UTF-8" in line or "binary data" in line


def test_gzip_with_a_fasta_name_is_read_by_content(tmp_path):
    r, out = predict(tmp_path, gzip.compress(f">gz\n{SEQ}\n".encode()), "in.fasta")
    assert accepted(r, out) == [("gz", reference(tmp_path))]


def test_plain_text_with_a_gz_name_is_read_as_text(tmp_path):
    r, out = predict(tmp_path, f">plain\n{SEQ}\n".encode(), "in.fa.gz")
    assert accepted(r, out) == [("plain", reference(tmp_path))]


def test_truncated_gzip_is_rejected(tmp_path):
    blob = gzip.compress(f">gz\n{SEQ * 50}\n".encode())
    r, out = predict(tmp_path, blob[: len(blob) // 2], "in.fa.gz")
    rejected(r, out, "in.fa.gz", "cannot read")


# --- sizes ----------------------------------------------------------------------------------

def test_one_residue_sequence(tmp_path):
    r, out = predict(tmp_path, b">one\nM\n")
    ((rid, pred),) = accepted(r, out)
    assert rid == "one" and len(pred) == 1 and pred in "CHE"


def test_100000_residue_sequence(tmp_path):
    seq = "".join(random.Random(1).choices(AMINO, k=100_000))
    wrapped = "\n".join(seq[i:i + 80] for i in range(0, len(seq), 80))
    r, out = predict(tmp_path, f">titin-like\n{wrapped}\n>short\n{SEQ}\n".encode())
    recs = accepted(r, out)
    assert [len(p) for _, p in recs] == [100_000, len(SEQ)]
    assert recs[1][1] == reference(tmp_path)


def test_many_tiny_records_all_written_in_order(tmp_path):
    # The million-record case is measured in BENCHMARKS.md (benchmarks/resource_bounds.py); here 5,000 records
    # with a duplicate id far from its first use check that every record comes out, in order.
    rng = random.Random(2)
    seqs = ["".join(rng.choices(AMINO, k=rng.randint(1, 12))) for _ in range(5000)]
    ids = [f"r{i}" for i in range(5000)]
    ids[4321] = "r7"
    r, out = predict(tmp_path, "".join(f">{i}\n{s}\n" for i, s in zip(ids, seqs)).encode())
    recs = accepted(r, out)
    assert [i for i, _ in recs] == ids and [len(p) for _, p in recs] == [len(s) for s in seqs]
    assert warnings(r) == [f"sspred: warning: {tmp_path / 'in.fa'}: duplicate record id 'r7'; both are predicted"]


# --- --keep-going -----------------------------------------------------------------------------

def test_keep_going_writes_every_good_record_and_lists_the_bad_ones(tmp_path):
    text = (f">good1\n{SEQ}\n>bad1\nMK3V\n>empty\n\n>good2\nMKVLA\n>\nAAA\n>bad2\nMKV*LL\n"
            f">good3\n{SEQ[:9]}*\n")
    r, out = predict(tmp_path, text.encode(), "in.fa", "--keep-going")
    assert r.returncode == 2
    assert records(out) == [("good1", reference(tmp_path)), ("good2", records(out)[1][1]),
                            ("good3", records(out)[2][1])]
    assert [len(p) for _, p in records(out)] == [len(SEQ), 5, 9]
    lines = r.stderr.splitlines()
    src = tmp_path / "in.fa"
    assert lines == [
        f"sspred: skipped: {src}, record 'bad1', position 3: unknown residue symbol '3'",
        f"sspred: skipped: {src}, line 5, record 'empty': empty sequence",
        f"sspred: skipped: {src}, line 9: header has no id",
        f"sspred: skipped: {src}, record 'bad2', position 4: '*' (stop) inside the sequence; only a trailing '*' is allowed",
        "sspred: error: 4 bad record(s) skipped (listed above); every other record was written",
    ]
    assert not list(tmp_path.glob(".*.part"))


def test_keep_going_still_rejects_a_bad_file(tmp_path):
    r, out = predict(tmp_path, f">a\n{SEQ}\n>b\n".encode() + b"\xff\xfe\n", "in.fa", "--keep-going")
    rejected(r, out, "in.fa", "not UTF-8")


def test_keep_going_with_nothing_bad_exits_0(tmp_path):
    r, out = predict(tmp_path, f">a\n{SEQ}\n".encode(), "in.fa", "--keep-going")
    assert accepted(r, out) == [("a", reference(tmp_path))] and r.stderr == ""


# --- training data (sspred train --data FILE) -------------------------------------------------

def train(tmp_path: Path, name: str, content: str | None = None):
    src = tmp_path / name
    if content is not None:
        src.write_text(content)
    out = tmp_path / "model.npz"
    return run_cli("train", "--data", str(src), "--epochs", "1", "--quiet", "--out", str(out)), out


THREE_LINE_OK = ">ok1\nMKTAYIAKQR\nCCHHHHHHCC\n"


def test_training_labels_shorter_than_the_sequence(tmp_path):
    r, out = train(tmp_path, "set.txt", THREE_LINE_OK + ">short\nMKTAYIAKQR\nCCHHHHH\n")
    rejected(r, out, "set.txt", "record 'short'", "position 8", "10 residues but 7 labels")


def test_training_labels_longer_than_the_sequence(tmp_path):
    r, out = train(tmp_path, "set.txt", THREE_LINE_OK + ">long\nMKTAY\nCCHHHHHEEC\n")
    rejected(r, out, "set.txt", "record 'long'", "position 6", "5 residues but 10 labels")


def test_training_unknown_state_letter(tmp_path):
    r, out = train(tmp_path, "set.txt", THREE_LINE_OK + ">odd\nMKTAYIAKQR\nCCHHQHHHCC\n")
    rejected(r, out, "set.txt", "record 'odd'", "position 5", "unknown state letter 'Q'")


def test_training_unknown_state_letter_uci(tmp_path):
    r, out = train(tmp_path, "set.uci", "<>\nM _\nK h\nT x\n<end>\n")
    rejected(r, out, "set.uci", "line 4", "expected 'AA label'")


def test_training_mask_of_the_wrong_length_csv(tmp_path):
    csv = ("input,dssp3,dssp8,disorder\n"
           "M K T A Y,C C H H H,C C H H H,1 1 1 1 1\n"
           "M K T A Y,C C H H H,C C H H H,1 1 1\n")
    r, out = train(tmp_path, "set.csv", csv)
    rejected(r, out, "set.csv", "record 'set-002'", "position 4", "5 residues but a mask of 3")


def test_training_mask_of_the_wrong_length_netsurfp2_folder(tmp_path):
    folder = tmp_path / "nsp"
    folder.mkdir()
    (folder / "sequences.fasta").write_text(">c1\nMKTAY\n>c2\nMKTAYIA\n")
    (folder / "sampled.fasta").write_text(">c1 SET=train VALIDATION=False\nCCHHH\n>c2 SET=train VALIDATION=False\nCCHHHEE\n")
    (folder / "mask.fasta").write_text(">c1\n11111\n>c2\n111111111\n")
    r, out = run_cli("train", "--data", str(folder), "--epochs", "1", "--quiet", "--out", str(tmp_path / "m.npz")), tmp_path / "m.npz"
    rejected(r, out, "sampled.fasta", "record 'c2'", "position 8", "7 residues but a mask of 9")


def test_training_bad_residue_in_labelled_file(tmp_path):
    r, out = train(tmp_path, "set.txt", THREE_LINE_OK + ">res\nMKT9YIAKQR\nCCHHHHHHCC\n")
    rejected(r, out, "set.txt", "record 'res'", "position 4", "unknown residue symbol '9'")


def test_positions_are_counted_after_gaps_are_removed(tmp_path):
    for text, what in ((b">a\nMK--V.*L\n", "'*' (stop) inside"), (b">a\nMK--V.7L\n", "unknown residue symbol '7'")):
        r, out = predict(tmp_path, text)
        assert r.returncode == 2 and not out.exists() and not list(tmp_path.glob(".*.part"))
        warning, error = r.stderr.splitlines()  # the gap warning comes as the record is read, then the error
        assert "removed 3 gap character(s)" in warning
        assert error.startswith("sspred: error: ") and "record 'a', position 4" in error and what in error
