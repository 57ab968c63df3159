"""One config, one set of defaults: the CLI's train flags come from the config fields, --config and --print-config
read and write a whole TrainConfig, stored dicts are read strictly, and one recipe gives one set of weights."""

from __future__ import annotations

import dataclasses
import glob
import json
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest
from typer.main import get_command
from typer.testing import CliRunner

import sspred.models
from sspred.cli import app
from sspred.cli.train import flag
from sspred.errors import SspredError
from sspred.config import (ARCHS, ConfigError, ConvConfig, ModelConfig, TrainConfig, config_text, field_default,
                           field_docs, model_config_from_dict, read_config)
from sspred.io.datasets import write_three_line
from sspred.io.find import load_data
from sspred.model import load_model, read_model
from sspred.training import train

CONFIG_CLASSES = (ModelConfig, ConvConfig, TrainConfig)


@pytest.fixture(scope="module")
def chains(data_dir) -> list:
    return load_data("qs1988", "train", data_dir)[:4]


@pytest.fixture
def data(tmp_path, chains):
    path = tmp_path / "few.txt"
    with open(path, "w") as handle:
        write_three_line(chains, handle)
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, ["train", *map(str, args)])


def one_line(output: str) -> str:
    """A usage error's text on one line: the error box's frame and line breaks depend on the terminal."""
    return " ".join(output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())


# --- the flags are the fields ---------------------------------------------------------------------------------------

def test_every_config_field_is_documented_and_is_a_flag_whose_help_is_its_docstring_entry():
    params = {p.name: p for p in get_command(app).commands["train"].params}
    seen = {"model", "arch"}  # --arch picks the model config
    for cls in CONFIG_CLASSES:
        docs = field_docs(cls)
        assert set(docs) == set(cls.field_names()), cls  # the Parameters section names every field, no other
        for name in cls.field_names():
            if name in seen:  # a field of both model configs (dropout) is described by the first
                continue
            seen.add(name)
            assert docs[name] and docs[name].split(";")[0].rstrip(".") in params[name].help, (cls, name)
            assert flag(name) in params[name].opts
    assert "--states" in params["n_states"].opts  # the old name is still read
    assert params["dropout"].show_default == "window 0.0, conv 0.2"  # one flag, each arch's own default


def test_a_flag_left_out_has_its_fields_default_for_the_chosen_arch():
    """The bug this closes: --arch conv took ModelConfig's dropout (0.0) where ConvConfig's is 0.2."""
    for arch, cls in ARCHS.items():
        done = invoke("--arch", arch, "--print-config")
        assert done.exit_code == 0, done.output
        assert TrainConfig.from_dict(json.loads(done.stdout)) == TrainConfig(model=cls())
    assert field_default(ConvConfig, "dropout") == 0.2 and field_default(ModelConfig, "dropout") == 0.0


@pytest.mark.parametrize("args, words", [
    (["--arch", "window", "--channels", "8"], ["--channels", "only a conv stack"]),
    (["--kernel", "5"], ["--kernel", "only a conv stack"]),
    (["--arch", "conv", "--hidden", "40"], ["--hidden", "only a window network"]),
    (["--arch", "conv", "--window", "13"], ["--window", "only a window network"]),
    (["--arch", "conv", "--stage1", "fast"], ["--stage1", "only a window network"]),
    (["--teacher-weight", "0.3"], ["--teacher-weight", "only a conv stack"]),
    (["--arch", "mlp"], ["--arch", "window, conv"]),
])
def test_a_flag_the_arch_does_not_read_is_refused_not_dropped(tmp_path, args, words):
    done = invoke("--data", "qs1988", "-o", tmp_path / "m.npz", *args)
    assert done.exit_code == 2 and not (tmp_path / "m.npz").exists()
    assert all(w in one_line(done.output) for w in words), done.output


def test_a_shared_flag_at_its_default_value_or_not_given_is_no_mistake():
    """Only a flag the user gave can be refused: the other arch's defaults never are."""
    assert invoke("--arch", "conv", "--dropout", "0", "--n-states", "8", "--print-config").exit_code == 0
    assert invoke("--arch", "window", "--dropout", "0.2", "--print-config").exit_code == 0


# --- --config and --print-config ------------------------------------------------------------------------------------

def test_print_config_is_read_back_by_config_and_flags_given_override_the_file(tmp_path):
    done = invoke("--arch", "conv", "--channels", "8", "--dilations", "1,2", "--epochs", "3", "--seed", "7",
                  "--print-config")
    assert done.exit_code == 0, done.output
    path = tmp_path / "run.json"
    path.write_text(done.stdout)
    cfg = read_config(path)
    assert cfg == TrainConfig(model=ConvConfig(channels=8, dilations=[1, 2]), epochs=3, seed=7)
    assert invoke("--config", path, "--print-config").stdout == done.stdout == config_text(cfg)
    over = invoke("--config", path, "--lr", "0.01", "--channels", "16", "--print-config")
    assert read_config_text(tmp_path, over.stdout) == dataclasses.replace(
        cfg, lr=0.01, model=dataclasses.replace(cfg.model, channels=16))
    # The file's arch holds unless --arch names another, which starts from that arch's defaults.
    assert "--hidden" in one_line(invoke("--config", path, "--hidden", "4", "--print-config").output)
    window = read_config_text(tmp_path, invoke("--config", path, "--arch", "window", "--print-config").stdout)
    assert window == dataclasses.replace(cfg, model=ModelConfig())


def read_config_text(tmp_path, text: str) -> TrainConfig:
    path = tmp_path / "again.json"
    path.write_text(text)
    return read_config(path)


def test_a_toml_config_reads_as_the_same_config(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('epochs = 2\nlr = 0.003\n[model]\narch = "conv"\nchannels = 8\n'
                    '[model.head_weights]\n')
    cfg = read_config(toml)
    assert cfg == TrainConfig(model=ConvConfig(channels=8), epochs=2, lr=0.003)
    done = invoke("--config", toml, "--print-config")
    assert TrainConfig.from_dict(json.loads(done.stdout)) == cfg


@pytest.mark.parametrize("text, words", [
    ('{"epochs": 2, "learning_rate": 0.1}', ["'learning_rate'", "TrainConfig"]),
    ('{"model": {"arch": "conv", "chanels": 8}}', ["'chanels'", "ConvConfig"]),
    ('{"model": {"arch": "conv", "channels": 8, "window": 13}}', ["window", "45"]),
    ('{"epochs": 0}', ["epochs", ">= 1"]),
    ('[1, 2]', ["one table"]),
    ('{"epochs": ', ["not a JSON config file"]),
])
def test_a_bad_config_file_is_one_error_naming_the_file(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    done = invoke("--config", path, "--print-config")
    # A usage error exits 2 here; the file's own errors reach sspred.cli.main, which prints them as one line.
    text = one_line(done.output) if done.exit_code == 2 else str(done.exception)
    assert done.exit_code == 2 or isinstance(done.exception, SspredError), done.output
    assert str(path) in text and all(w in text for w in words), text


# --- strict dicts, old files ----------------------------------------------------------------------------------------

def test_from_dict_names_every_unknown_key():
    with pytest.raises(ConfigError, match="unknown keys 'a', 'b' in a TrainConfig") as info:
        TrainConfig.from_dict({"epochs": 2, "b": 1, "a": 2})
    assert info.value.field == "a"
    with pytest.raises(ConfigError, match="unknown key 'activation' in a ConvConfig"):
        TrainConfig.from_dict({"model": {"arch": "conv", "activation": "relu"}})
    with pytest.raises(ConfigError, match="unknown key 'channels' in a ModelConfig"):
        ModelConfig.from_dict({"channels": 8})


def shipped_entries():
    """Every (model entry, train config) stored in a shipped model file, members and stages included."""
    for path in sorted(glob.glob(str(Path(sspred.models.__file__).parent / "*.npz"))):
        stack = [read_model(path).header]
        while stack:
            d = stack.pop()
            if isinstance(d, dict):
                if isinstance(d.get("model"), dict):
                    train_entry = d.get("train")
                    config = train_entry.get("config") if isinstance(train_entry, dict) else None
                    yield path, d["model"], config
                stack.extend(v for v in d.values() if isinstance(v, (dict, list)))
            elif isinstance(d, list):
                stack.extend(d)


def test_every_config_a_shipped_model_file_holds_still_loads():
    """Old keys ("states" for n_states, a conv stack's derived "window") are read, not refused."""
    seen = 0
    for path, model, config in shipped_entries():
        cfg = model_config_from_dict(model)
        assert cfg.layers() and ("window" not in model or model["window"] == cfg.window), path
        if config is not None:
            assert TrainConfig.from_dict({"model": model, **config}).model == cfg, path
        seen += 1
    assert seen >= 5


# --- one recipe, one set of weights ---------------------------------------------------------------------------------

def test_the_same_config_trains_bit_identical_weights_twice(chains):
    cfg = TrainConfig(model=ConvConfig(channels=8, dilations=[1, 2]), epochs=1, batch_size=2, seed=5)
    first, second = train(cfg, chains), train(cfg, chains)
    assert set(first.params) == set(second.params)
    for k, v in first.params.items():
        np.testing.assert_array_equal(v, second.params[k], err_msg=k)
    other = train(dataclasses.replace(cfg, seed=6), chains)
    assert not all(np.array_equal(v, other.params[k]) for k, v in first.params.items())


def test_the_cli_and_the_api_build_and_train_the_same_conv_stack(tmp_path, data):
    out = tmp_path / "cli.npz"
    done = invoke("--data", data, "--valid-data", data, "--arch", "conv", "--channels", "8", "--epochs", "1",
                  "--batch-size", "2", "--seed", "3", "--quiet", "-o", out)
    assert done.exit_code == 0, done.output
    api = train(TrainConfig(model=ConvConfig(channels=8), epochs=1, batch_size=2, seed=3, name="cli"),
                load_data(data, "train"), valid=str(data))
    cli = load_model(out)
    assert [s["type"] for s in cli.layers][:4] == ["conv", "relu", "dropout", "conv"]  # ConvConfig's dropout 0.2
    assert cli.header["layers"] == api.header["layers"]
    assert set(cli.params) == set(api.params)
    for k, v in api.params.items():
        np.testing.assert_array_equal(cli.params[k], v, err_msg=k)


def test_a_resumed_run_refuses_a_flag_that_would_change_what_it_computes(tmp_path, data):
    ck = tmp_path / "run.ckpt"
    done = invoke("--data", data, "--hidden", "4", "--window", "5", "--epochs", "1", "--quiet", "--checkpoint", ck,
                  "-o", tmp_path / "a.npz")
    assert done.exit_code == 0, done.output
    refused = invoke("--data", data, "--resume", ck, "--lr", "0.5", "-o", tmp_path / "b.npz")
    assert refused.exit_code == 2 and "--lr" in one_line(refused.output) and "--threads" in one_line(refused.output)
    resumed = invoke("--data", data, "--resume", ck, "--threads", "1", "-o", tmp_path / "b.npz", "--print-config")
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["threads"] == 1
    assert json.loads(resumed.stdout)["name"] == "b"  # the model is named after its file, as a fresh run's


@pytest.mark.slow
def test_a_conv_flag_on_a_window_network_is_one_error_line_from_the_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sspred", "train", "--data", "qs1988", "--arch", "window",
                        "--channels", "8", "-o", str(tmp_path / "m.npz")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith("sspred: error: ") and "--channels" in first and "only a conv stack" in first
