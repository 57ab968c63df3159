"""benchmarks/run.py at --quick size: every speed benchmark runs in a subprocess, as a user starts it, and the one
JSON file holds the machine's description and each benchmark's real figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def unirep_weights_installed() -> bool:
    from sspred.unirep import weights

    try:
        weights.load(1900)
    except weights.MissingWeights:
        return False
    return True


@pytest.fixture(scope="module")
def report(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    # From another folder: the runner finds its benchmarks beside itself, not in the working directory.
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, cwd=out.parent, timeout=900,
                          env={**os.environ, "SSPRED_DATA": str(data_dir), "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def figures(report: dict, name: str) -> dict:
    (entry,) = [r for r in report["results"] if r["benchmark"] == name]
    assert "skipped" not in entry, entry["skipped"]
    assert entry["seconds"] > 0
    return entry["figures"]


def test_the_file_describes_the_machine_and_lists_every_benchmark_once(report):
    m = report["machine"]
    assert m["cores"] >= 1 and len(m["load_average_at_start"]) == 3
    assert m["python"].count(".") == 2 and m["numpy"][0].isdigit()
    assert m["git_commit"] is None or len(m["git_commit"].split("-")[0]) == 40
    assert m["date"].startswith("20")
    assert report["quick"] is True
    names = [r["benchmark"] for r in report["results"]]
    listed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--list"], capture_output=True,
                            text=True, check=True).stdout
    assert names == [line.split()[0] for line in listed.splitlines()]


def test_prediction_speed_has_real_rates(report):
    f = figures(report, "speed")
    assert f["inputs"]["residues"] > 1000
    fast = f["in_process"]["residues_per_s"]["fast"]
    assert fast["numpy"] > 0 and fast["plain forward"] > 0
    assert {(r["model"], r["input"]) for r in f["end_to_end"]} == {
        (m, i) for m in ("fast", "default") for i in ("proteome", "long chain")}
    for row in f["end_to_end"]:
        assert row["residues_per_s"] > 0 and row["peak_rss_mb"] > 10 and row["cpu_s"] > 0
    assert f["memory_slope"][0]["peak_rss_mb"] > 10


def test_model_speed_train_speed_and_attention_speed_have_real_rates(report):
    (row,) = figures(report, "model_speed")["models"]
    assert row["model"] == "fast" and row["residues_per_s"] > 0 and row["ratio_to_first"] == 1.0
    train = figures(report, "train_speed")
    assert train["train_residues_per_s"]["numpy"] > 0 and train["train_residues_per_s"]["sklearn"] > 0
    assert 30 < train["numpy"]["epochs"][0]["valid_q3"] <= 100
    attention = figures(report, "attention_speed")
    assert [r["layer"] for r in attention["layers"]] == ["chain_attention", "conv k3"]
    assert all(r["residues_per_s"] > 0 for r in attention["layers"] + attention["stack"])


def test_resource_bounds_and_the_load_test_pass_their_own_checks(report):
    bounds = figures(report, "resource_bounds")
    assert all(c["exit_code"] == 0 and c["peak_rss_mib"] > 10 for c in bounds["cases"])
    # The point of SeenIds: less memory than a set of the same ids.
    assert 0 < bounds["id_table_mib"]["SeenIds"] < bounds["id_table_mib"]["set"]
    load = figures(report, "load")
    assert load["ok"] and load["done"] == load["requests"] and load["wrong_answers"] == 0
    assert load["requests_per_s"] > 0 and load["status_codes"]["422"] == load["mix"]["bad"]


def test_unirep_profile_runs_where_its_weights_are_installed(report):
    if not unirep_weights_installed():
        (entry,) = [r for r in report["results"] if r["benchmark"] == "unirep_speed"]
        assert "UniRep" in entry["skipped"] or "unirep" in entry["skipped"]
        return
    profile = figures(report, "unirep_speed")["profile"]
    steps = [r for r in profile if "batch" in r]
    assert [r["batch"] for r in steps] == [1, 8]
    assert all(r["residues_per_s_one_thread"] > 0 and abs(sum(r["share"].values()) - 1) < 0.01 for r in steps)
