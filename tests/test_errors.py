"""The error family: every error sspred exports is an SspredError, and a user's mistakes through the public API
raise one (an unknown engine, torch missing, a device this machine cannot give, a resume with another config)."""

from __future__ import annotations

import dataclasses
import inspect
import sys

import pytest

import sspred
from sspred.config import ModelConfig, TrainConfig
from sspred.io.datasets import make_chain
from sspred.training import prepare_run, train


def tiny_chains() -> list:
    return [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQ", "CCHHHHHHHHHCCEEEEECCCC", eight=False) for i in range(3)]


def test_every_exported_error_is_in_the_family():
    exported = [getattr(sspred, name) for name in sspred.__all__]
    errors = [obj for obj in exported if inspect.isclass(obj) and issubclass(obj, BaseException)]
    assert len(errors) == 10  # the base and its nine kinds
    assert all(issubclass(e, sspred.SspredError) for e in errors), [e for e in errors
                                                                     if not issubclass(e, sspred.SspredError)]


def test_the_plot_error_is_the_missing_extra():
    from sspred import plots

    assert plots.PlotUnavailable is sspred.MissingExtra


def test_an_unknown_engine_is_a_config_error_naming_the_field():
    from sspred.engines import learner_class

    with pytest.raises(sspred.ConfigError, match="unknown engine 'jax'; choose from numpy, torch") as info:
        learner_class("jax")
    assert info.value.field == "engine"


def _without_torch(monkeypatch) -> None:
    """Import torch as an interpreter without it would: ``import torch`` fails (None in sys.modules)."""
    for name in [m for m in sys.modules if m == "torch" or m.startswith(("torch.", "sspred.engines.torch"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)


def test_torch_missing_is_a_missing_extra_with_the_install_line(monkeypatch):
    _without_torch(monkeypatch)
    with pytest.raises(sspred.MissingExtra, match=r'pip install "sspred\[torch\]"'):
        prepare_run(TrainConfig(engine="torch"), tiny_chains())
    with pytest.raises(sspred.MissingExtra, match=r'--device cpu .*pip install "sspred\[torch\]"'):
        sspred.load("fast", device="cpu")


def test_a_device_this_machine_cannot_give_is_a_device_error(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine without a GPU
    with pytest.raises(sspred.DeviceError, match="torch sees no GPU"):
        sspred.load("fast", device="cuda")
    with pytest.raises(sspred.DeviceError, match="torch sees no GPU"):
        prepare_run(TrainConfig(engine="torch", device="cuda"), tiny_chains())
    with pytest.raises(sspred.DeviceError, match="unknown device 'tpu'"):
        sspred.load("fast", device="tpu")


def test_resume_with_another_config_is_a_config_error_naming_the_field(tmp_path):
    cfg = TrainConfig(model=ModelConfig(window=5, hidden=[4]), epochs=1, patience=0, batch_size=16)
    ck = tmp_path / "ck.npz"
    train(cfg, tiny_chains(), checkpoint=ck)
    with pytest.raises(sspred.ConfigError, match=r"lr: checkpoint 0\.001, given 0\.002") as info:
        train(dataclasses.replace(cfg, lr=0.002), tiny_chains(), resume=ck)
    assert info.value.field == "lr"
    with pytest.raises(sspred.InputError, match="checkpoint was made training on"):
        train(cfg, "no-such-set", resume=ck)


def test_write_refuses_an_unknown_format_and_nothing_with_the_family(tmp_path):
    pred = sspred.load("fast").predict("MKV")[0]
    with pytest.raises(sspred.ConfigError, match="unknown format 'pdf'"):
        sspred.write([pred], tmp_path / "x.pdf", format="pdf")
    with pytest.raises(sspred.InputError, match="no predictions"):
        sspred.write([], tmp_path / "none.horiz")
    with pytest.raises(sspred.ConfigError, match="bootstrap"):
        sspred.evaluate("fast", tiny_chains(), bootstrap=-1)
