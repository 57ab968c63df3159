"""Recipes: every built-in model named by one file, rebuilt by one command (sspred.recipes).

Quick: the recipes parse, refuse what would make them irreproducible, and the shipped models' headers name their
recipe's current sha256 with every member's provenance. Slow: every recipe runs at smoke size through the command
line; a NumPy smoke rebuild is the same bit for bit; ``fast`` is rebuilt in full and scores as the shipped one.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import sspred
from sspred import recipes
from sspred.config import TrainConfig
from sspred.errors import ConfigError, InputError
from sspred.model import read_model
from sspred.recipes.pools import read_pool

#: The built-in models: each has a recipe of its name.
SHIPPED = ("default", "fast", "accurate", "q8", "unirep")
#: The checksum of the four-member ensemble that taught the shipped multi-task members (accurate at 29d7906).
TEACHER_CHECKSUM = "8f0dc784b6f8321b64a3c8694e80e6be100dbdbd3476c973e3a767d354603f29"

TINY = b"""recipe = "tiny"
[[members]]
name = "w"
pool = { name = "netsurfp2" }
[members.config]
epochs = 2
"""


def test_every_shipped_model_has_a_recipe_and_names_its_sha256():
    rows = {r["name"]: r for r in recipes.listing()}
    for name in SHIPPED:
        assert rows[name]["model"] == name
        assert rows[name]["model_matches"] is True, f"{name}.npz does not name its recipe's sha256: re-stamp it " \
                                                    "(python -m sspred.recipes.stamp) after changing the recipe"
    assert rows["teacher"]["model"] is None and rows["teacher"]["model_matches"] is None
    assert rows["default"]["teachers"] == ["teacher"] and rows["accurate"]["teachers"] == ["teacher"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_member_carries_its_provenance(name):
    recipe = recipes.load(name)
    header = read_model(name).header
    members = {m.name: m for m in recipe.members}
    descs = header["members"] if "members" in header else [header]
    assert len(descs) >= 1
    for desc in descs:
        prov = desc[recipes.PROVENANCE]
        member = members[prov["member"]]
        assert prov["recipe"] == name and prov["recipe_sha256"] == recipe.sha256
        # The recorded config is the recipe's, field for field (the teacher named by its recipe, not a path).
        config = dict(prov["config"])
        assert config.pop("teacher") == (f"recipe:{member.teacher.recipe}" if member.teacher else None)
        assert TrainConfig.from_dict({**config, "teacher": None}).run_fields() == member.config.run_fields()
        assert prov["epochs_run"] >= prov["best_epoch"] >= 1 and 40 < prov["valid_score"] < 100
        assert len(prov["data"]["train_sha256"]) == 64 and prov["data"]["train_chains"] > 1000
        assert prov["recipe_match"]["matches"] in (True, False) and prov["recipe_match"]["why"]
        if member.teacher is not None:
            assert prov["teacher"]["checksum"] == TEACHER_CHECKSUM == member.teacher.checksum


def test_the_recorded_chain_counts_agree_with_the_pools():
    # Members whose headers recorded how many chains they trained on: the recipe's pool reads as many today.
    for name in ("default", "accurate", "unirep", "q8"):
        header = read_model(name).header
        for desc in header.get("members", [header]):
            data = desc[recipes.PROVENANCE]["data"]
            if data["chains_recorded_at_training"] is not None:
                assert data["chains_recorded_at_training"] == data["train_chains"], (name, desc.get("name"))


def test_parse_reads_a_recipe_and_hashes_its_bytes():
    r = recipes.parse(TINY, "tiny.toml")
    assert [m.name for m in r.members] == ["w"] and r.members[0].config.epochs == 2 and r.choice.rule == "all"
    assert r.sha256 != recipes.parse(TINY + b"# a comment\n", "tiny.toml").sha256


@pytest.mark.parametrize("text, field", [
    (TINY + b"[choice]\nrule = \"best\"\n", "rule"),
    (TINY.replace(b"epochs = 2", b"epochs = 2\nmax_seconds = 600.0"), "max_seconds"),
    (TINY.replace(b"epochs = 2", b"epochs = 2\nteacher = \"accurate\""), "teacher"),
    (TINY.replace(b"epochs = 2", b"epochs = 2\nepoch = 3"), "epoch"),
    (TINY.replace(b'recipe = "tiny"', b'recipe = "tiny"\nmodels = "x"'), "models"),
    (TINY.replace(b'name = "w"', b'name = "w"\nseed = 1'), "seed"),
    (TINY + TINY.split(b"\n", 1)[1], "members"),
])
def test_parse_refuses_what_a_recipe_cannot_hold(text, field):
    with pytest.raises(ConfigError) as caught:
        recipes.parse(text, "tiny.toml")
    assert caught.value.field == field


def test_load_refuses_a_missing_recipe_naming_the_builtin_ones():
    with pytest.raises(InputError, match="built-in: accurate, default, fast, q8, teacher, unirep"):
        recipes.load("nosuch")


def test_a_changed_leak_list_is_refused_before_any_data_is_read(tmp_path):
    with pytest.raises(ConfigError, match="the netsurfp2 leak list has sha256 ffb1dfa5"):
        read_pool({"name": "netsurfp2", "exclude_leaks": True, "leak_lists": {"netsurfp2": "0" * 64}},
                  data_dir=tmp_path)  # an empty folder: the list is checked before any set is read


# --- running recipes (real data) -----------------------------------------------------------------------------


def _params_equal(a: sspred.Model, b: sspred.Model) -> bool:
    return a.params.keys() == b.params.keys() and all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


@pytest.mark.slow
def test_a_numpy_smoke_rebuild_is_the_same_bit_for_bit(data_dir, tmp_path):
    built = [recipes.build(recipes.load("fast"), recipes.Settings(tmp_path / f"work{k}", smoke=True,
                                                                  data_dir=data_dir)) for k in range(2)]
    assert _params_equal(built[0].model, built[1].model)
    prov = built[0].model.header[recipes.PROVENANCE]
    assert prov["smoke"] is True and prov["epochs_run"] == 1 and prov["data"]["train_chains"] == 160
    assert prov["data"]["train_sha256"] == built[1].model.header[recipes.PROVENANCE]["data"]["train_sha256"]
    assert built[0].model.header[recipes.RECIPE] == {"name": "fast", "sha256": recipes.load("fast").sha256,
                                                     "smoke": True}


@pytest.mark.slow
def test_a_torch_smoke_rebuild_is_the_same(data_dir, tmp_path):
    pytest.importorskip("torch")
    text = TINY.replace(b"epochs = 2", b'epochs = 1\nengine = "torch"\nbatch_size = 16\n'
                                       b'[members.config.model]\narch = "conv"\nchannels = 8\ndilations = [1, 2]')
    recipe = recipes.parse(text, "tiny.toml")
    built = [recipes.build(recipe, recipes.Settings(tmp_path / f"w{k}", smoke=True, device="cpu", data_dir=data_dir))
             for k in range(2)]
    assert _params_equal(built[0].model, built[1].model)


@pytest.fixture(scope="module")
def smoke_work(tmp_path_factory):
    """One work folder for every smoke run: the teacher's smoke model is built once, for default and accurate."""
    return tmp_path_factory.mktemp("smoke-work")


def _skip_without(name: str) -> None:
    if name in ("default", "accurate", "teacher", "q8", "unirep"):
        pytest.importorskip("torch")  # their conv members train with the torch engine
    if name == "q8" and shutil.which("mmseqs") is None:
        pytest.skip("q8's pool audits and clusters with MMseqs2, not installed (apt-get install mmseqs2)")
    if name == "unirep":
        from sspred.errors import WeightsError
        from sspred.unirep.weights import load as unirep_weights

        try:
            unirep_weights(1900)
        except WeightsError as exc:
            pytest.skip(f"no UniRep weights: {exc}")


@pytest.mark.slow
@pytest.mark.parametrize("name", recipes.builtin_names())
def test_every_recipe_runs_at_smoke_size(name, data_dir, smoke_work, tmp_path, cli):
    _skip_without(name)
    out = tmp_path / f"{name}.npz"
    done = cli("train", "--recipe", name, "--smoke", "--out", str(out), "--work", str(smoke_work), "--device", "cpu",
               "--data-dir", str(data_dir), timeout=900)
    assert done.returncode == 0, done.stderr
    recipe = recipes.load(name)
    model = read_model(out)
    assert model.header[recipes.RECIPE] == {"name": name, "sha256": recipe.sha256, "smoke": True}
    record = json.loads(out.with_suffix(".json").read_text())
    assert set(record["members"]) == {m.name for m in recipe.members}
    assert record["chosen"] and set(record["chosen"]) <= set(record["members"])
    descs = model.header["members"] if "members" in model.header else [model.header]
    assert [d[recipes.PROVENANCE]["member"] for d in descs] == record["chosen"]
    for desc in descs:
        prov = desc[recipes.PROVENANCE]
        assert prov["smoke"] is True and prov["epochs_run"] == 1 and prov["source"]["version"] == sspred.__version__
        if prov["teacher"] is not None:  # a smoke member learns from the teacher's smoke model, named by checksum
            teacher = read_model(smoke_work / f"{prov['teacher']['recipe']}-smoke.npz")
            assert prov["teacher"]["checksum"] == teacher.header["checksum"]
    if "disorder" in model.heads.names and "disorder" in recipe.choice.thresholds:
        assert 0 < model.header["thresholds"]["disorder"] < 1
    probs = model.predict_proba(["MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVV"])
    assert probs[0].shape == (70, len(model.state_order)) and np.allclose(probs[0].sum(axis=1), 1, atol=1e-4)


@pytest.mark.slow
def test_a_recipe_takes_no_setting_that_changes_its_result(tmp_path, cli):
    done = cli("train", "--recipe", "fast", "--lr", "0.1", "--out", str(tmp_path / "m.npz"))
    assert done.returncode == 2 and "only --engine, --device, --threads may be given beside it, not --lr" in done.stderr
    done = cli("train", "--smoke", "--out", str(tmp_path / "m.npz"))
    assert done.returncode == 2 and "give --recipe NAME too" in done.stderr
    done = cli("recipes", "--json")
    assert done.returncode == 0
    rows = json.loads(done.stdout)
    assert {r["name"] for r in rows} >= set(SHIPPED) and all(len(r["sha256"]) == 64 for r in rows)


@pytest.mark.slow
def test_fast_rebuilt_in_full_scores_as_the_shipped_one(data_dir, tmp_path):
    # The whole recipe: 20 epochs on the 9,712 training chains (about 40 s on 2 cores).
    built = recipes.build(recipes.load("fast"), recipes.Settings(tmp_path / "work", data_dir=data_dir))
    rebuilt = sspred.evaluate(built.model, "cb513", data_dir=data_dir, bootstrap=0).q3
    shipped = sspred.evaluate("fast", "cb513", data_dir=data_dir, bootstrap=0).q3
    assert abs(rebuilt - shipped) <= 0.5, (rebuilt, shipped)
