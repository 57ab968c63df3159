"""The model file: round trip, and refusal of truncated, corrupt and foreign files without executing anything."""

import io
import pickle
import zipfile

import numpy as np
import pytest

from sspred import modelfile
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
    assert model.window == 5 and model.states == "CHE" and model.name == "tiny"
    x = np.random.default_rng(1).random((3, 5 * 21)).astype(np.float32)
    np.testing.assert_array_equal(model.network.forward(x), net.forward(x))


def test_header_is_json_with_format_version_and_checksum(model_path):
    path, _ = model_path
    header, params = modelfile.load(path)
    assert header["format"] == "sspred-model" and header["version"] == 1
    assert header["checksum"] == modelfile.checksum(params)
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
        assert model.states == "CHE"
        probs = model.predict_proba(np.array([0, 1, 2, 3], np.uint8))
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
