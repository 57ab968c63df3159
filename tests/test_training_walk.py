"""The walk of a TrainConfig through a training run: which modules handle it, in what order.

A run is read as a relay: ``prepare_run`` and ``TrainingRun.fit`` hand the config (or plain data made from it)
from stage to stage. The walk is the sequence of ``sspred`` modules whose functions either receive the config
(the TrainConfig or its model config, as an argument other than ``self``: the config's own methods reading it
are not steps) or are called directly by the run's two entry points. Consecutive calls into one module are one
stay. A climb is a stay in a module of a higher layer (docs/architecture.md, "The layers", the order
tests/test_imports.py checks) right after one of a lower layer; a visit is a stay, so a module visited twice
was left and returned to once. A run built of stages that pass plain data walks down through the layers
with few climbs and few returns.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from sspred.config import ConvConfig, ModelConfig, TrainConfig
from sspred.io.datasets import make_chain

ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
#: At most this many climbs back up the layers, and this many stays in any one module.
MAX_CLIMBS, MAX_VISITS = 3, 2


def layer_order(doc: Path = ARCHITECTURE) -> dict[str, int]:
    """Module (or package) name -> its row in the layers table of docs/architecture.md, 0 the top (front doors).
    ``io.formats``, the one writer module above the engines, sits with the model layer, as the doc says."""
    table = doc.read_text().split("## The layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.split("| ---", 1)[1].splitlines()[1:] if line.startswith("| ")]
    order: dict[str, int] = {}
    for rank, row in enumerate(rows):
        for entry in re.findall(r"`([^`]+)`", row.split("|")[2]):
            name = "sspred." + entry.rstrip("/").removesuffix(".py").replace("/", ".")
            order["sspred" if name == "sspred.__init__" else name] = rank
    order["sspred.io.formats"] = order["sspred.model"]
    return order


def layer(module: str, order: dict[str, int]) -> int:
    """The layer of ``module``: that of the longest name in ``order`` that it is or lies under (``sspred``, the
    package's ``__init__``, only itself), else that of the modules under it (``sspred.engines``, whose
    subpackages the table lists)."""
    names = [n for n in order if module == n or (n != "sspred" and module.startswith(n + "."))]
    if names:
        return order[max(names, key=len)]
    below = {order[n] for n in order if n.startswith(module + ".")}
    if len(below) != 1:
        raise AssertionError(f"{module} is in no row of docs/architecture.md's layers table")
    return below.pop()


def walk(config: TrainConfig, run, entries) -> list[str]:
    """The modules that handle ``config`` while ``run()`` runs, one entry per call (see the module docstring).
    ``entries``: the code objects of the run's entry points, whose direct callees are steps too."""
    parts = (config, config.model)
    entries = set(entries)
    steps: list[str] = []

    def receives(frame) -> bool:
        code = frame.f_code
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        values = [frame.f_locals.get(n) for n in names]
        if names and names[0] == "self":
            values = values[1:]
        return any(v is p for v in values for p in parts)

    def profile(frame, event, arg):
        if event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not (module == "sspred" or module.startswith("sspred.")):
            return
        code = frame.f_code
        mine = code.co_varnames[:1] == ("self",) and any(frame.f_locals.get("self") is p for p in parts)
        if mine:
            return
        if receives(frame) or (frame.f_back is not None and frame.f_back.f_code in entries):
            steps.append(module)

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return steps


def stays(steps: list[str]) -> list[str]:
    """Consecutive steps in one module collapsed into one stay."""
    return [m for i, m in enumerate(steps) if i == 0 or steps[i - 1] != m]


def climbs(path: list[str], order: dict[str, int]) -> int:
    """Stays in a higher layer right after a lower one."""
    return sum(layer(b, order) < layer(a, order) for a, b in zip(path, path[1:]))


def test_the_layers_table_places_the_run_s_modules():
    order = layer_order()
    assert layer("sspred.cli.train", order) < layer("sspred.training", order) < layer("sspred.model", order)
    assert layer("sspred.model", order) < layer("sspred.engines.numpy.learner", order) < layer("sspred.layout", order)
    assert layer("sspred.unirep.states", order) == layer("sspred.engines", order) == layer("sspred.engines.spec", order)
    assert layer("sspred", order) == layer("sspred.training", order)
    assert layer("sspred.io.formats", order) == layer("sspred.model", order) < layer("sspred.io.find", order)


def test_the_counts_of_a_made_up_walk():
    order = layer_order()
    path = stays(["sspred.training", "sspred.training", "sspred.io.find", "sspred.model", "sspred.layout",
                  "sspred.model"])
    assert path == ["sspred.training", "sspred.io.find", "sspred.model", "sspred.layout", "sspred.model"]
    assert climbs(path, order) == 2 and Counter(path)["sspred.model"] == 2


def tiny_chains(n: int = 6):
    return [make_chain(f"c{i}", "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ", "CCHHHHHHHHHCCEEEEECCCCHHHHHHHCCCC",
                       eight=False) for i in range(n)]


def measure(config: TrainConfig, data, valid=None) -> tuple[list[str], int, Counter]:
    from sspred import training

    path = stays(walk(config, lambda: training.prepare_run(config, data, valid).fit(),
                      [training.prepare_run.__code__, training.TrainingRun.fit.__code__]))
    return path, climbs(path, layer_order()), Counter(path)


def _report(path, n_climbs, visits) -> str:
    return (f"{len(path)} stays in {len(visits)} modules, {n_climbs} climbs, "
            f"{sum(v - 1 for v in visits.values())} returns: " + " ".join(m.removeprefix("sspred.") for m in path))


@pytest.fixture
def unirep_teacher(tmp_path, monkeypatch):
    """A conv stack over UniRep states (random 64-unit weights laid out as the published file, installed for
    the test), trained for one epoch: a teacher whose probabilities read states from the cache."""
    from test_unirep import write_random_weights

    from sspred.training import train
    from sspred.unirep import weights as uw

    folder = tmp_path / "weights"
    (folder / "64_weights").mkdir(parents=True)
    write_random_weights(folder / "64_weights" / "model_weights.npz", 64, 1, 0)
    monkeypatch.setenv(uw.ENV_WEIGHTS, str(folder))
    monkeypatch.setenv("SSPRED_CACHE", str(tmp_path / "cache"))
    uw.load.cache_clear()
    cfg = TrainConfig(model=ConvConfig(channels=8, first_kernel=5, dilations=[1], unirep=64, dropout=0.0),
                      epochs=1, batch_size=2)
    path = tmp_path / "teacher.npz"
    train(cfg, tiny_chains()).save(path)
    yield path
    uw.load.cache_clear()


def test_a_distilled_unirep_conv_run_walks_down_the_layers(unirep_teacher):
    """The walk that takes every stage: the data sets, a teacher's probabilities and UniRep states (cached),
    whole chains as examples, the learner, the fit and the model file's header with its feature entry."""
    config = TrainConfig(model=ConvConfig(channels=8, first_kernel=5, dilations=[1], unirep=64, dropout=0.0),
                         epochs=2, batch_size=2, teacher=str(unirep_teacher))
    path, n_climbs, visits = measure(config, tiny_chains(), tiny_chains(2))
    assert "sspred.training" in path and "sspred.model" in path, _report(path, n_climbs, visits)
    assert n_climbs <= MAX_CLIMBS, _report(path, n_climbs, visits)
    assert max(visits.values()) <= MAX_VISITS, _report(path, n_climbs, visits)


@pytest.mark.parametrize("config", [
    TrainConfig(model=ModelConfig(window=5, hidden=[4]), epochs=2),
    TrainConfig(model=ModelConfig(window=3, hidden=[4]), epochs=2, stage1="fast"),
], ids=["window", "second-stage"])
def test_window_and_second_stage_runs_walk_down_the_layers(config):
    path, n_climbs, visits = measure(config, tiny_chains(), tiny_chains(2))
    assert n_climbs <= MAX_CLIMBS, _report(path, n_climbs, visits)
    assert max(visits.values()) <= MAX_VISITS, _report(path, n_climbs, visits)
