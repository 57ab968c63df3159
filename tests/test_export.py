"""Exports: the torch module of every model, and its ONNX file, agree with the NumPy engine's predict_many.

The oracle is ``Model.predict_many`` on the four real PDB chains of the shipped example, a 1-residue chain,
a chain with every ambiguous symbol, and the four end to end, longer than each conv stack's receptive field.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="exports need PyTorch: pip install 'sspred[export]'")

import torch  # noqa: E402

from sspred.alphabet import SYMBOLS  # noqa: E402
from sspred.cascade import cascade, ensemble, stage2_layers  # noqa: E402
from sspred.engines.spec import context, is_conv  # noqa: E402
from sspred.config import ConvConfig, ModelConfig  # noqa: E402
from sspred.engines.spec import initial_state  # noqa: E402
from sspred.engines.torch.export import INPUT_NAME, OUTPUT_NAME, output_names, to_torch  # noqa: E402
from sspred.features import encode  # noqa: E402
from sspred.io.fasta import parse_fasta  # noqa: E402
from sspred.model import BUILTIN, Model, build_header, load_model  # noqa: E402

#: The built-in models the graph can hold: unirep reads UniRep states beside one-hot, and export refuses it
#: (test_unirep.py checks the refusal).
ONE_HOT_BUILTIN = [n for n in BUILTIN if n != "unirep"]

from layout_support import random_state  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "sspred" / "examples" / "example.fasta"
TOL = 1e-5


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread, as the CLI's --threads 1: on a busy 2-core machine torch's default of one per core
    made these passes 15x slower (BENCHMARKS.md saw the same in training)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def chains() -> list[np.ndarray]:
    records = list(parse_fasta(EXAMPLE))
    assert len(records) == 4
    trp_cage = records[2].sequence  # 1L2Y, 20 residues
    return [r.codes for r in records] + [
        encode(trp_cage[:1]),  # one residue: every window and conv tap past both ends
        encode("XBZJUO" + trp_cage + "X"),  # the ambiguous symbols' fractional one-hot rows
        np.concatenate([r.codes for r in records]),  # 591 residues, past every member's receptive field (267)
    ]


@pytest.fixture(scope="module")
def models() -> dict[str, Model]:
    return {name: load_model(name) for name in ONE_HOT_BUILTIN}


def torch_outputs(module, codes: np.ndarray) -> list[np.ndarray]:
    """Every output for codes (B, L): one (B, L, K_h) per head, the states head first (one head: one output)."""
    with torch.no_grad():
        out = module(torch.as_tensor(codes.astype(np.int64)))
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def torch_predict(module, codes: np.ndarray) -> np.ndarray:
    return torch_outputs(module, codes)[0]  # (B, L) -> (B, L, K), the states head


def assert_agrees(model: Model, module, chains: list[np.ndarray]) -> None:
    expected = model.predict_many(chains)
    for codes, want in zip(chains, expected):
        got = torch_predict(module, codes[None])[0]
        assert got.dtype == np.float32 and got.shape == (codes.size, len(model.state_order))
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    if len(model.heads.names) > 1:  # the built-in default and accurate have extra heads
        assert_heads_agree(model, lambda codes: torch_outputs(module, codes), chains)


def same_length_batch(codes: np.ndarray) -> np.ndarray:
    """Three different chains of one length: a real chain, its reverse and a rotation: (3, L)."""
    return np.stack([codes, codes[::-1], np.roll(codes, 17)])


@pytest.mark.parametrize("name", ONE_HOT_BUILTIN)
def test_to_torch_matches_numpy_for_every_builtin(name, models, chains):
    model = models[name]
    longest = max(c.size for c in chains)
    for member in model.members:
        if is_conv(member.stage1.net.specs):
            # what the test claims: some chain has residues that read neither end
            assert longest > 2 * context(member.stage1.net.specs) + 1
    assert_agrees(model, to_torch(model), chains)


@pytest.mark.parametrize("name", ["fast", "default"])
def test_batch_rows_are_separate_chains(name, models, chains):
    model, module = models[name], to_torch(models[name])
    batch = same_length_batch(chains[0])
    got = torch_predict(module, batch)
    for row, want in zip(got, model.predict_many(list(batch))):
        np.testing.assert_allclose(row, want, rtol=0, atol=TOL)


def seeded_window_model(config: ModelConfig, seed: int) -> Model:
    """A window network with seeded weights, batch-norm statistics away from 0 and 1."""
    rng = np.random.default_rng(seed)
    layers = config.layers()
    params = initial_state(layers, rng, np.float32)
    for key in params:
        if key.endswith("running_mean"):
            params[key] = rng.normal(0, 0.5, params[key].shape).astype(np.float32)
        elif key.endswith("running_var"):
            params[key] = rng.uniform(0.5, 2.0, params[key].shape).astype(np.float32)
    return Model(build_header(config, "seeded"), params)


def test_to_torch_matches_numpy_for_cascades_and_mixed_ensembles(models, chains):
    """Second stages (built-ins have none), batch norm, a bottleneck, and window, cascade and conv members averaged."""
    first = seeded_window_model(ModelConfig(window=9, hidden=[12, 6], activation="tanh", batchnorm=True,
                                            bottleneck=8, dropout=0.1), seed=1)
    layers = stage2_layers(7, [10], "sigmoid", 3)
    header, params = cascade(first, 7, layers, initial_state(layers, np.random.default_rng(2), np.float32), "cascade")
    cascaded = Model(header, params)
    assert cascaded.members[0].stage2 is not None
    assert_agrees(cascaded, to_torch(cascaded), chains)

    header, params = ensemble([models["fast"], cascaded, models["default"]], "mixed")
    mixed = Model(header, params)
    assert len(mixed.members) == 4
    assert_agrees(mixed, to_torch(mixed), chains)
    batch = same_length_batch(chains[1])
    for row, want in zip(torch_predict(to_torch(mixed), batch), mixed.predict_many(list(batch))):
        np.testing.assert_allclose(row, want, rtol=0, atol=TOL)


# --- ONNX -------------------------------------------------------------------------------------------


def onnx_session(path: Path):
    ort = pytest.importorskip("onnxruntime", reason="ONNX checks need onnxruntime: pip install 'sspred[export]'")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_onnx(model: Model, path: Path, chains: list[np.ndarray]) -> None:
    """One session, chains of every length and a batch through it: the length and batch axes are dynamic."""
    session = onnx_session(path)
    (inp,), outs = session.get_inputs(), session.get_outputs()
    out = outs[0]  # the states head; a multi-head model has one more output per extra head (checked below)
    assert [o.name for o in outs] == output_names(model)
    assert (inp.name, inp.type, inp.shape) == (INPUT_NAME, "tensor(int64)", ["batch", "length"])
    assert (out.name, out.type) == (OUTPUT_NAME, "tensor(float)")
    assert out.shape == ["batch", "length", len(model.state_order)]
    meta = session.get_modelmeta().custom_metadata_map
    assert (meta["sspred.state_order"], meta["sspred.symbols"], meta["sspred.name"]) == (model.state_order, SYMBOLS,
                                                                                       model.name)
    assert meta["sspred.states"] == model.state_order  # the old key, kept one release
    for codes, want in zip(chains, model.predict_many(chains)):
        got = session.run(None, {INPUT_NAME: codes[None].astype(np.int64)})[0]
        assert got.shape == (1, codes.size, len(model.state_order))
        np.testing.assert_allclose(got[0], want, rtol=0, atol=TOL)
    batch = same_length_batch(chains[0])
    got = session.run(None, {INPUT_NAME: batch.astype(np.int64)})[0]
    for row, want in zip(got, model.predict_many(list(batch))):
        np.testing.assert_allclose(row, want, rtol=0, atol=TOL)
    if len(outs) > 1:
        assert_heads_agree(model, lambda codes: session.run(None, {INPUT_NAME: codes.astype(np.int64)}), chains)


ONNX_FAST_TIER = ["fast", "default", "q8"]  # ~1-2 s each; accurate (5.7 MB, 4 members) takes ~6 s to export


@pytest.mark.parametrize("name", ONNX_FAST_TIER + [pytest.param(n, marks=pytest.mark.slow)
                                                   for n in ONE_HOT_BUILTIN if n not in ONNX_FAST_TIER])
def test_onnx_matches_numpy(name, models, chains, tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'sspred[export]'")
    from sspred.engines.torch.export import export_onnx

    path = export_onnx(models[name], tmp_path / f"{name}.onnx")
    check_onnx(models[name], path, chains)


def test_cli_export_writes_a_file_onnxruntime_runs(models, chains, tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'sspred[export]'")
    from typer.testing import CliRunner

    from sspred.cli import app

    out = tmp_path / "fast.onnx"
    result = CliRunner().invoke(app, ["export", "-m", "fast", "--onnx", str(out)])
    assert result.exit_code == 0, result.output
    assert "saved" in result.stdout and out.stat().st_size > 0
    check_onnx(models["fast"], out, chains)


def test_cli_export_refuses_a_bad_opset(tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'sspred[export]'")
    from typer.testing import CliRunner

    from sspred.cli import app
    from sspred.errors import InputError

    out = tmp_path / "x.onnx"
    result = CliRunner().invoke(app, ["export", "-m", "fast", "--onnx", str(out), "--opset", "9"])
    # an InputError: sspred.cli.main prints it as one line with exit code 2
    assert isinstance(result.exception, InputError)
    assert "opset must be between 13 and 20, got 9" in str(result.exception)
    assert not out.exists()


@pytest.mark.parametrize("missing", ["onnx", "torch"])
def test_cli_export_without_its_packages_exits_2_with_the_install_hint(missing, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from sspred.cli import app
    from sspred.errors import MissingExtra

    # A None entry in sys.modules makes `import NAME` raise ModuleNotFoundError, as if it were not installed;
    # the exporter module is dropped too, so the command imports it afresh and meets the missing torch.
    monkeypatch.setitem(sys.modules, missing, None)
    for name in [m for m in sys.modules if m.startswith("sspred.engines.torch")]:
        monkeypatch.delitem(sys.modules, name)
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(app, ["export", "-m", "fast", "--onnx", str(out)])
    # a MissingExtra: sspred.cli.main prints it as one line with exit code 2 (tests/test_cli_output.py runs it)
    assert isinstance(result.exception, MissingExtra)
    assert str(result.exception) == 'sspred export needs PyTorch and ONNX: pip install "sspred[export]"'
    assert not out.exists()


# --- multi-task models ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def multitask() -> Model:
    """A tiny conv stack with an attention block (ALiBi) and three heads (ss3, disorder, conservation),
    seeded weights with biases off zero."""
    cfg = ConvConfig(channels=8, first_kernel=5, kernel=3, dilations=[2], dropout=0.1,
                     heads=["disorder", "conservation"], attention=1, attention_heads=2, attention_dim=4)
    layers = cfg.layers()
    return Model(build_header(cfg, "multitask", layers), random_state(layers, np.random.default_rng(4), "float32"))


def assert_heads_agree(model: Model, outputs, chains: list[np.ndarray]) -> None:
    """``outputs(codes (B, L))`` -> one (B, L, K_h) array per head: equal to Model.predict_heads, chain by chain
    and for a batch of chains of one length."""
    names = model.heads.names
    for codes, want in zip(chains, model.predict_heads(chains)):
        got = outputs(codes[None])
        assert len(got) == len(names)
        for name, g in zip(names, got):
            assert g.dtype == np.float32 and g.shape == (1, codes.size, model.heads.classes(name))
            np.testing.assert_allclose(g[0], want[name], rtol=0, atol=TOL, err_msg=name)
    batch = same_length_batch(chains[0])
    for name, got in zip(names, outputs(batch)):
        for row, want in zip(got, model.predict_heads(list(batch))):
            np.testing.assert_allclose(row, want[name], rtol=0, atol=TOL, err_msg=name)


def test_to_torch_gives_every_head_of_a_multitask_attention_model(multitask, chains):
    assert multitask.heads.names == ("ss3", "disorder", "conservation")
    module = to_torch(multitask)

    def outputs(codes):
        with torch.no_grad():
            return [t.numpy() for t in module(torch.as_tensor(codes.astype(np.int64)))]

    assert_heads_agree(multitask, outputs, chains)
    # Each head is its own distribution.
    for p in outputs(chains[2][None]):
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-5)
    # An ensemble of it with a one-head model: the states head is both members' mean, each extra head the
    # multi-task member's alone (Model.heads), in the export as in the NumPy engine.
    header, params = ensemble([multitask, load_model("fast")], "mixed")
    mixed = Model(header, params)
    assert mixed.heads.names == ("ss3", "disorder", "conservation")
    alone, both = multitask.predict_heads(chains[:1])[0], mixed.predict_heads(chains[:1])[0]
    np.testing.assert_array_equal(both["disorder"], alone["disorder"])
    assert np.abs(both["ss3"] - alone["ss3"]).max() > 1e-3
    mixed_module = to_torch(mixed)

    def mixed_outputs(codes):
        with torch.no_grad():
            return [t.numpy() for t in mixed_module(torch.as_tensor(codes.astype(np.int64)))]

    assert_heads_agree(mixed, mixed_outputs, chains)


def test_onnx_of_a_multitask_attention_model_has_one_output_per_head(multitask, chains, tmp_path):
    pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'sspred[export]'")
    from sspred.engines.torch.export import export_onnx

    path = export_onnx(multitask, tmp_path / "multitask.onnx")
    session = onnx_session(path)
    outs = session.get_outputs()
    assert output_names(multitask) == [OUTPUT_NAME, "disorder", "conservation"]
    assert [o.name for o in outs] == output_names(multitask)
    assert [o.shape for o in outs] == [["batch", "length", k] for k in (3, 2, 9)]
    assert session.get_modelmeta().custom_metadata_map["sspred.heads"] == "ss3,disorder,conservation"
    assert_heads_agree(multitask, lambda codes: session.run(None, {INPUT_NAME: codes.astype(np.int64)}), chains)
