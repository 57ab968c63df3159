"""Property-based tests (Hypothesis): predictions keep length and sum to one, writers round-trip through readers,
and parsers raise nothing but their documented error type on arbitrary input."""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sspred import container, modelfile
from sspred.alphabet import AMBIGUOUS, AMINO_ACIDS, STATES3, STATES8
from sspred.errors import InputError, ModelFileError
from sspred.features import encode
from sspred.io import datasets
from sspred.io.fasta import parse_fasta, read_fasta
from sspred.io.formats import WRITERS, confidence_digits, states_of
from sspred.io.readers import READERS
from sspred.model import load_model, resolve

#: Examples per property: modest for CI (the file runs in seconds); raise it for a long local or nightly run.
EXAMPLES = int(os.environ.get("SSPRED_HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
RESIDUES = AMINO_ACIDS + "".join(AMBIGUOUS)

sequences = st.text(alphabet=RESIDUES + RESIDUES.lower(), min_size=1, max_size=400)
ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
              min_size=1, max_size=30).filter(lambda s: s.split() == [s])


@pytest.fixture(scope="module")
def fast():
    return load_model("fast")


@given(seq=sequences)
@SETTINGS
def test_any_valid_sequence_gives_one_distribution_per_residue(fast, seq):
    probs = fast.predict_proba_codes(encode(seq))
    assert probs.shape == (len(seq), len(fast.state_order))
    assert np.isfinite(probs).all() and (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1, dtype=np.float64), 1.0, atol=1e-6)


@given(seq=sequences)
@settings(max_examples=max(10, EXAMPLES // 2), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_prediction_does_not_depend_on_case_or_wrapping(fast, seq):
    wrapped = "\n".join(seq[i:i + 7] for i in range(0, len(seq), 7))
    (rec,) = parse_fasta(io.StringIO(f">x\n{wrapped.swapcase()}\n"))
    np.testing.assert_array_equal(fast.predict_proba_codes(rec.codes), fast.predict_proba_codes(encode(seq)))


@st.composite
def prediction_sets(draw, states_choices=(STATES3, STATES8)):
    """A few (id, sequence, probabilities) records with rows on the simplex, as float32 like the models give."""
    states = draw(st.sampled_from(states_choices))
    recs = []
    for _ in range(draw(st.integers(1, 4))):
        seq = draw(st.text(alphabet=RESIDUES, min_size=1, max_size=130))
        raw = draw(st.lists(st.lists(st.floats(0.001, 1.0), min_size=len(states), max_size=len(states)),
                            min_size=len(seq), max_size=len(seq)))
        p = np.array(raw, dtype=np.float64)
        recs.append((draw(ids), seq, (p / p.sum(axis=1, keepdims=True)).astype(np.float32)))
    return states, recs


def write(fmt: str, states: str, recs) -> str:
    buf = io.StringIO()
    writer = WRITERS[fmt](buf, model_name="sspred test", states=states)
    writer.begin()
    for rec_id, seq, probs in recs:
        writer.record(rec_id, seq, probs)
    writer.end()
    return buf.getvalue()


@given(data=prediction_sets())
@SETTINGS
def test_json_and_tsv_round_trip(data):
    states, recs = data
    for fmt in ("json", "tsv"):
        back = READERS[fmt](io.StringIO(write(fmt, states, recs)), "x")
        assert [(b.id, b.sequence, b.prediction) for b in back] == \
               [(i, s, states_of(p, states)) for i, s, p in recs]
        for b, (_, _, p) in zip(back, recs):
            np.testing.assert_allclose(b.probabilities, p, atol=5e-5 + 1e-7)  # written to 4 decimals


@given(data=prediction_sets(states_choices=(STATES3,)))
@SETTINGS
def test_ss2_round_trip(data):
    states, recs = data
    back = READERS["ss2"](io.StringIO(write("ss2", states, recs)), "x")
    assert [(b.model, b.sequence, b.prediction) for b in back] == [("sspred test", s, states_of(p, states)) for _, s, p in recs]
    for b, (_, _, p) in zip(back, recs):
        np.testing.assert_allclose(b.probabilities, p, atol=5e-4 + 1e-7)  # %6.3f


@given(data=prediction_sets(states_choices=(STATES3,)))  # HFORMAT's Pred: line holds C, H, E only
@SETTINGS
def test_horiz_round_trip(data):
    states, recs = data
    back = READERS["horiz"](io.StringIO(write("horiz", states, recs)), "x")
    assert [(b.sequence, b.prediction, b.confidence) for b in back] == \
           [(s, states_of(p, states), confidence_digits(p)) for _, s, p in recs]


@given(data=prediction_sets())
@SETTINGS
def test_fasta_output_round_trip(data):
    states, recs = data
    back = list(read_fasta(io.StringIO(write("fasta", states, recs))))
    assert [(h, s) for h, s, _ in back] == [(i, states_of(p, states)) for i, _, p in recs]


@given(recs=st.lists(st.tuples(ids, sequences, st.integers(1, 80)), min_size=1, max_size=5))
@SETTINGS
def test_fasta_input_round_trip(recs):
    text = "".join(f">{i} desc\n" + "\n".join(s[k:k + w] for k in range(0, len(s), w)) + "\n" for i, s, w in recs)
    back = list(parse_fasta(io.StringIO(text)))
    assert [(r.id, r.sequence) for r in back] == [(i, s) for i, s, _ in recs]


# --- parsers on arbitrary input: the documented error type, nothing else ----------------------

@contextmanager
def temp_file(data: bytes, suffix: str = ".txt"):
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield name
    finally:
        os.unlink(name)


fasta_like = st.one_of(
    st.binary(max_size=400),
    st.text(alphabet=">\n\r \t*-.ACDEFGHIKLMNPQRSTVWYXBZUOJacgt0123456789\x00\x1b\udc80é", max_size=300).map(
        lambda s: s.encode("utf-8", "surrogatepass")),
)


@given(data=fasta_like, gz=st.booleans())
@SETTINGS
def test_parse_fasta_raises_only_input_error(data, gz):
    import gzip

    blob = gzip.compress(data)[: len(data) + 10] if gz else data  # sometimes a truncated gzip stream
    with temp_file(blob, ".fa") as path:
        try:
            for rec in parse_fasta(path, warn=lambda m: None):
                assert len(rec.codes) == len(rec.sequence) > 0 and rec.id and not any(c.isspace() for c in rec.id)
        except InputError as exc:
            assert path in str(exc)


label_like = st.text(alphabet="<>end_he HECGITSBLPX-,.01 \n\r\tinputdsp83orcbmak\"MKVA#9", max_size=300)


@given(text=label_like, reader=st.sampled_from(["uci", "three_line", "ps4", "ps4_cb513", "any"]))
@SETTINGS
def test_dataset_readers_raise_only_input_error(text, reader):
    if reader.startswith("ps4"):
        text = "input,dssp3,dssp8,disorder,cb513_mask\n" + text
    read = {"uci": datasets.read_uci, "three_line": datasets.read_three_line, "any": datasets.read_file,
            "ps4": lambda p: datasets.read_ps4_csv(p, use_cb513_mask=False),
            "ps4_cb513": lambda p: datasets.read_ps4_csv(p, use_cb513_mask=True)}[reader]
    with temp_file(text.encode()) as path:
        try:
            chains = read(path)
        except InputError:
            return
    for c in chains:
        assert len(c.codes) == len(c.sequence) == len(c.y3)


@given(text=st.text(max_size=300), fmt=st.sampled_from(sorted(READERS)))
@SETTINGS
def test_prediction_readers_raise_only_input_error(text, fmt):
    try:
        READERS[fmt](io.StringIO(text), "x")
    except InputError:
        pass


@pytest.fixture(scope="module")
def fast_bytes():
    return resolve("fast").read_bytes()


@given(data=st.data())
@SETTINGS
def test_modelfile_load_raises_only_model_file_error(fast_bytes, data):
    """Arbitrary bytes, and the shipped model truncated or with bytes overwritten."""
    kind = data.draw(st.sampled_from(["random", "truncated", "mutated"]))
    if kind == "random":
        blob = data.draw(st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b)))
    elif kind == "truncated":
        blob = fast_bytes[: data.draw(st.integers(0, len(fast_bytes) - 1))]
    else:
        raw = bytearray(fast_bytes)
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        blob = bytes(raw)
    with temp_file(blob, ".npz") as path:
        try:
            header, params = modelfile.load(path)
        except ModelFileError:
            return
        assert header["format"] == "sspred-model" and header["checksum"] == container.checksum(params)
