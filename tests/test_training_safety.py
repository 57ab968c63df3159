"""Crash-safe training: checkpoints, kill-and-resume, divergence, bad training files; LR schedules by hand."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sspred import checkpoint as ckpt
from sspred import modelfile
from sspred.config import TrainConfig
from sspred.training import SCHEDULES, observe_plateau

REPO = Path(__file__).resolve().parents[1]


def uci_slice(data_dir: Path, out: Path, n_chains: int) -> Path:
    """The first ``n_chains`` proteins of the Qian-Sejnowski training file, in its own UCI format."""
    lines = (data_dir / "qian-sejnowski-1988/protein-secondary-structure.train").read_text().splitlines()
    kept, starts = [], 0
    for line in lines:
        if line.strip() in ("end", "<end>"):
            continue
        if line.strip() == "<>":
            starts += 1
            if starts > n_chains:
                break
        kept.append(line)
    out.write_text("\n".join(kept + ["<end>", ""]))
    return out


def train_args(data: Path, *extra: str) -> list[str]:
    # Dropout, input noise and a plateau schedule make the run depend on every piece of saved state.
    return ["train", "--data", str(data), "--valid-data", str(data), "--window", "13", "--hidden", "20",
            "--epochs", "5", "--batch-size", "32", "--seed", "3", "--dropout", "0.1", "--input-noise", "0.05",
            "--schedule", "plateau", "--lr-patience", "1", "--lr-gamma", "0.5", "--quiet", *extra]


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_weights(tmp_path, data_dir, cli):
    data = uci_slice(data_dir, tmp_path / "slice.uci", 30)
    ref = cli(*train_args(data, "-o", str(tmp_path / "ref.npz")))
    assert ref.returncode == 0, ref.stderr

    ck = tmp_path / "run.ckpt.npz"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "sspred", *train_args(data, "-o", str(tmp_path / "killed.npz"),
                                                                        "--checkpoint", str(ck))],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not ck.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "killed.npz").exists()
    done = ckpt.load(ck)["meta"]["epoch"]
    assert 1 <= done < 5, "the kill must land mid-run"

    resumed = cli("train", "--data", str(data), "--resume", str(ck), "-o", str(tmp_path / "resumed.npz"), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    _, want = modelfile.load(tmp_path / "ref.npz")
    header, got = modelfile.load(tmp_path / "resumed.npz")
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    assert len(header["train"]["history"]["epochs"]) == 5


def test_checkpoint_round_trip_holds_the_whole_run_state(tmp_path):
    rng = np.random.default_rng(0)
    params = {"layers.0.W": rng.normal(size=(3, 2)).astype(np.float32), "layers.0.b": np.zeros(2, np.float32)}
    optim = {"t": np.array(7), "m": {k: v * 2 for k, v in params.items()}, "v": {k: v * v for k, v in params.items()}}
    meta = {"epoch": 3, "best_loss": math.inf, "history": {"epochs": [{"epoch": 1, "train_loss": 0.5}]}}
    path = tmp_path / "c.npz"
    ckpt.save(path, meta, params, None, optim)
    with np.load(path, allow_pickle=False) as npz:  # readable with pickles refused
        assert "params/layers.0.W" in npz.files
    back = ckpt.load(path)
    assert back["meta"]["epoch"] == 3 and back["meta"]["best_loss"] == math.inf and back["best"] is None
    np.testing.assert_array_equal(back["optimizer"]["m"]["layers.0.W"], optim["m"]["layers.0.W"])
    assert int(back["optimizer"]["t"]) == 7


def test_a_corrupt_checkpoint_is_refused_naming_the_file(tmp_path):
    """Checkpoints are the model file's container: checksum, member checks and no pickle, as InputErrors."""
    import pickle
    import zipfile

    from sspred.errors import InputError, ModelFileError

    params = {"layers.0.W": np.arange(6, dtype=np.float32).reshape(3, 2), "layers.0.b": np.zeros(2, np.float32)}
    good = tmp_path / "c.npz"
    ckpt.save(good, {"epoch": 1}, params, params, {"t": np.array(1), "m": params})
    raw = good.read_bytes()
    at = raw.index(params["layers.0.W"].tobytes())  # the stored weights, byte for byte (uncompressed)
    flipped = bytearray(raw)
    flipped[at + 5] ^= 0x10  # a weight changes; the zip's CRC is not checked by np.load, the checksum is
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(InputError, match="flipped.npz: (arrays do not match their checksum|corrupt)"):
        ckpt.load(bad)
    packed = tmp_path / "packed.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    with pytest.raises(InputError, match="packed.npz: not an sspred checkpoint .member '__header__.npy' is compressed"):
        ckpt.load(packed)
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps({"epoch": 1}, protocol=4))
    with pytest.raises(InputError, match="pickled.npz: this is a Python pickle"):
        ckpt.load(pickled)
    # One container, two formats: neither file passes for the other.
    model = tmp_path / "m.npz"
    modelfile.save(model, {"name": "m"}, params)
    with pytest.raises(InputError, match="m.npz: not an sspred checkpoint .format 'sspred-model'"):
        ckpt.load(model)
    with pytest.raises(ModelFileError, match="c.npz: not an sspred model file .format 'sspred-checkpoint'"):
        modelfile.load(good)


@pytest.mark.slow
def test_a_diverging_run_names_epoch_and_batch_and_keeps_the_last_good_checkpoint(tmp_path, data_dir, cli):
    """From epoch 2 the step schedule multiplies the rate by 1e30: ReLU activations overflow to inf, the loss to NaN."""
    data = uci_slice(data_dir, tmp_path / "slice.uci", 15)
    ck = tmp_path / "ck.npz"
    r = cli("train", "--data", str(data), "-o", str(tmp_path / "m.npz"), "--epochs", "3", "--optimizer", "sgd",
            "--lr", "0.01", "--schedule", "step", "--lr-step", "1", "--lr-gamma", "1e30", "--activation", "relu",
            "--batch-size", "64", "--checkpoint", str(ck))
    assert r.returncode == 2
    assert "at epoch 2, batch" in r.stderr and "keeps epoch 1" in r.stderr, r.stderr
    assert not (tmp_path / "m.npz").exists()
    kept = ckpt.load(ck)
    assert kept["meta"]["epoch"] == 1
    assert all(np.isfinite(v).all() for v in kept["params"].values())


@pytest.mark.slow
def test_mismatched_sequence_and_label_lengths_name_the_record(tmp_path, cli):
    bad = tmp_path / "bad.txt"
    bad.write_text(">good\nACDEFGHIK\nCCHHHHHCC\n>short-labels\nACDEFGHIKL\nCCHHHEEC\n")
    r = cli("train", "--data", str(bad), "-o", str(tmp_path / "m.npz"), "--epochs", "1")
    assert r.returncode == 2
    assert "short-labels" in r.stderr and "10 residues but 8 labels" in r.stderr and str(bad) in r.stderr
    assert "Traceback" not in r.stderr


def test_learning_rate_schedules_by_hand():
    cfg = TrainConfig(lr=0.1, lr_step=2, lr_gamma=0.5, epochs=3, lr_min=0.0)
    assert [SCHEDULES["step"](cfg, e, {}) for e in range(1, 6)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    # Cosine from 0.1 to 0 over 3 epochs: cos(0) -> 0.1, cos(pi/2) -> 0.05, cos(pi) -> 0.
    assert [SCHEDULES["cosine"](cfg, e, {}) for e in (1, 2, 3)] == pytest.approx([0.1, 0.05, 0.0])
    plateau = TrainConfig(lr=1.0, lr_patience=2, lr_gamma=0.1)
    state = {"lr": 1.0, "best": math.inf, "bad": 0}
    rates = []
    for loss in (0.9, 0.8, 0.85, 0.81, 0.7, 0.75, 0.76):
        observe_plateau(plateau, state, loss)
        rates.append(SCHEDULES["plateau"](plateau, 0, state))
    # Two epochs without beating 0.8 drop the rate to 0.1; then 0.7 is a new best; two more bad ones drop it to 0.01.
    assert rates == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01])
