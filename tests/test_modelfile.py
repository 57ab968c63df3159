"""The model file: round trip, and refusal of truncated, corrupt and foreign files without executing anything."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from sspred import container, modelfile
from sspred.config import ModelConfig
from sspred.engines.numpy import Network
from sspred.errors import ModelFileError
from sspred.model import build_header, load_model, save_model


@pytest.fixture
def model_path(tmp_path):
    cfg = ModelConfig(window=5, hidden=[4])
    net = Network(cfg.layers(), rng=np.random.default_rng(0))
    path = tmp_path / "m.npz"
    save_model(path, build_header(cfg, "tiny"), net.params)
    return path, net


def test_round_trip_rebuilds_the_same_network(model_path):
    path, net = model_path
    model = load_model(path)
    assert model.window == 5 and model.state_order == "CHE" and model.name == "tiny"
    x = np.random.default_rng(1).random((3, 5 * 21)).astype(np.float32)
    np.testing.assert_array_equal(model.network.forward(x), net.forward(x))


def test_header_is_json_with_format_version_and_checksum(model_path):
    path, _ = model_path
    header, params = modelfile.load(path)
    assert header["format"] == "sspred-model" and header["version"] == 1
    assert header["checksum"] == container.checksum(params)
    assert header["layers"][0] == {"type": "linear", "in": 105, "out": 4, "init_for": "sigmoid"}


def test_truncated_file(model_path, tmp_path):
    path, _ = model_path
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ModelFileError, match="cut.npz: corrupt or truncated"):
        load_model(cut)


def test_bit_flip_in_weights_fails_the_checksum(model_path, tmp_path):
    path, _ = model_path
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("layers.0.W.npy")
    # flip a bit inside the stored (uncompressed) weight bytes, past the .npy header
    raw[info.header_offset + 30 + len(info.filename) + 200] ^= 0x01
    flipped = tmp_path / "flipped.npz"
    flipped.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(flipped)


def test_missing_file():
    with pytest.raises(ModelFileError, match="model file not found"):
        load_model("/nonexistent/model.npz")


def test_foreign_zip_and_text(tmp_path):
    z = tmp_path / "foreign.npz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("archive/data.pkl", b"x")
    with pytest.raises(ModelFileError, match="PyTorch checkpoint"):
        load_model(z)
    t = tmp_path / "text.npz"
    t.write_text("hello")
    with pytest.raises(ModelFileError, match="not an sspred model file"):
        load_model(t)


class Boom:
    def __reduce__(self):
        import os
        return (os.system, ("touch PWNED",))


def test_pickle_is_refused_and_never_executed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="pickle"):
        load_model(evil)
    assert not (tmp_path / "PWNED").exists()


def test_object_array_inside_npz_is_refused(tmp_path, monkeypatch):
    """An .npz whose member is a pickled object array: np.load(allow_pickle=False) must refuse it."""
    monkeypatch.chdir(tmp_path)
    buf = io.BytesIO()
    np.savez(buf, __header__=np.frombuffer(b"{}", np.uint8), evil=np.array([Boom()], dtype=object))
    path = tmp_path / "objarr.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not (tmp_path / "PWNED").exists()


def test_shipped_models_load():
    for name in ("default", "fast"):
        model = load_model(name)
        assert model.state_order == "CHE"
        probs = model.predict_proba_codes(np.array([0, 1, 2, 3], np.uint8))
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


# --- tampering: bit flips, versions, truncation, foreign formats ------------------------------

def _resave(path, dest, edit_header=None, arrays=None, compressed=False):
    """Copy a model file with its header JSON edited (the checksum left as it was)."""
    with np.load(path, allow_pickle=False) as npz:
        members = {n: npz[n] for n in npz.files}
    header = json.loads(bytes(members["__header__"]).decode())
    if edit_header:
        edit_header(header)
    members["__header__"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    members.update(arrays or {})
    (np.savez_compressed if compressed else np.savez)(dest, **members)
    return dest


def test_every_single_bit_flip_is_refused_or_harmless(model_path, tmp_path):
    """Flip one bit at 300 spread positions: each load raises ModelFileError or gives back exactly the original."""
    path, _ = model_path
    raw = path.read_bytes()
    header0, params0 = modelfile.load(path)
    flipped = tmp_path / "f.npz"
    refused = 0
    for k, pos in enumerate(np.linspace(0, len(raw) - 1, 300).astype(int)):
        data = bytearray(raw)
        data[pos] ^= 1 << (k % 8)
        flipped.write_bytes(bytes(data))
        try:
            header, params = modelfile.load(flipped)
        except ModelFileError as exc:
            assert str(exc).startswith(str(flipped))
            refused += 1
            continue
        # zip metadata nobody reads (timestamps, attributes): the model itself must be unchanged
        assert header == header0 and params.keys() == params0.keys()
        assert all(np.array_equal(params[n], params0[n]) for n in params)
    assert refused > 250


def test_bit_flip_in_the_header_json_is_refused(model_path, tmp_path):
    path, _ = model_path
    raw = bytearray(path.read_bytes())
    start = raw.index(b'"checksum"')
    for offset in (0, 15, 40):  # the key, the digest, and a later field
        data = bytearray(raw)
        data[start + offset] ^= 0x04
        bad = tmp_path / f"h{offset}.npz"
        bad.write_bytes(bytes(data))
        with pytest.raises(ModelFileError, match="h%d.npz: corrupt" % offset):
            load_model(bad)


def test_a_changed_header_with_an_intact_zip_is_refused(model_path, tmp_path):
    """Edits that keep the zip valid (CRC recomputed): the layer list or checksum no longer fits."""
    path, _ = model_path

    def widen(h):
        h["layers"][0]["out"] = 5

    with pytest.raises(ModelFileError, match="weights do not fit the layer list"):
        load_model(_resave(path, tmp_path / "w.npz", widen))

    def wrong_sum(h):
        h["checksum"] = "0" * 64

    with pytest.raises(ModelFileError, match="do not match their checksum"):
        load_model(_resave(path, tmp_path / "c.npz", wrong_sum))

    def bad_window(h):
        h["model"]["window"] = 7

    with pytest.raises(ModelFileError, match="weights do not fit the layer list"):
        load_model(_resave(path, tmp_path / "win.npz", bad_window))


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_wrong_format_version(model_path, tmp_path, version):
    path, _ = model_path

    def set_version(h):
        h["version"] = version

    with pytest.raises(ModelFileError, match=f"model format version {version!r}; this sspred reads version 1"):
        load_model(_resave(path, tmp_path / "v.npz", set_version))


def test_truncated_at_every_kind_of_cut_point(model_path, tmp_path):
    path, _ = model_path
    raw = path.read_bytes()
    cuts = [0, 1, 2, 3, 4, 10, 30, 64, 200, len(raw) // 3, len(raw) // 2, len(raw) - 100, len(raw) - 22, len(raw) - 1]
    for cut in cuts:
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError, match=f"cut{cut}.npz: (corrupt|not an sspred)"):
            load_model(bad)


def test_foreign_zip_of_text_and_compressed_npz(model_path, tmp_path):
    path, _ = model_path
    z = tmp_path / "docs.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("README.txt", "hello")
    with pytest.raises(ModelFileError, match="a foreign archive"):
        load_model(z)
    with pytest.raises(ModelFileError, match="is compressed"):
        load_model(_resave(path, tmp_path / "comp.npz", compressed=True))


def test_declared_huge_array_is_refused_before_allocation(model_path, tmp_path):
    """A .npy header claiming 10**12 floats in a few bytes: refused from the header, nothing allocated."""
    path, _ = model_path
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = (10 ** 12,)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    bad = tmp_path / "huge.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("layers.9.W.npy", buf.getvalue() + b"\0" * 64)
    with pytest.raises(ModelFileError, match="'layers.9.W.npy' is truncated"):
        load_model(bad)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_malicious_pickle_of_any_protocol_is_never_executed(tmp_path, monkeypatch, protocol):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(Boom(), protocol=protocol))
    with pytest.raises(ModelFileError, match="evil.pkl: (this is a Python pickle|not an sspred model file)"):
        load_model(evil)
    assert not (tmp_path / "PWNED").exists()


def test_torch_checkpoints_are_refused_and_never_executed(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.pt"
    torch.save({"layers.0.W": torch.zeros(3, 3)}, state)
    with pytest.raises(ModelFileError, match="state.pt: not an sspred model file \\(a PyTorch checkpoint"):
        load_model(state)
    evil = tmp_path / "evil.pt"
    torch.save({"weights": torch.ones(2), "payload": Boom()}, evil)
    with pytest.raises(ModelFileError, match="a PyTorch checkpoint"):
        load_model(evil)
    legacy = tmp_path / "legacy.pt"
    torch.save({"payload": Boom()}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ModelFileError, match="this is a Python pickle"):
        load_model(legacy)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.slow
def test_cli_refuses_a_torch_checkpoint_in_one_line(tmp_path):
    torch = pytest.importorskip("torch")
    from conftest import run_cli

    ckpt = tmp_path / "model.pt"
    torch.save({"payload": Boom()}, ckpt)
    fa = tmp_path / "in.fa"
    fa.write_text(">a\nMKV\n")
    out = tmp_path / "o.fa"
    r = run_cli("predict", str(fa), "-m", str(ckpt), "-o", str(out), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "model.pt: not an sspred model file (a PyTorch checkpoint" in r.stderr
    assert not out.exists() and not (tmp_path / "PWNED").exists()
