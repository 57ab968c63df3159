"""The page's own app.js, run in Node against a stand-in DOM and real answers of the service: a failed request
leaves no earlier results or download buttons on the page. (tests/test_serve_browser.py checks the drawing
in a real Chromium.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from serve_support import REPO, model_path  # noqa: E402
from sspred.model import load_model  # noqa: E402
from sspred.serve import create_app  # noqa: E402

pytestmark = pytest.mark.slow  # starts node

HARNESS = Path(__file__).resolve().parent / "js" / "page_after_error.js"
APP_JS = REPO / "src" / "sspred" / "serve" / "static" / "app.js"


def test_a_failed_request_clears_the_old_results_and_downloads(data_dir, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    with TestClient(create_app(model=load_model(model_path(data_dir)))) as client:
        good = client.post("/api/predict", content=">a\nMKVLAAGLLG\n", headers={"Content-Type": "text/plain"})
        bad = client.post("/api/predict", content=">a\nMK1V\n", headers={"Content-Type": "text/plain"})
    assert good.status_code == 200 and bad.status_code == 422
    (tmp_path / "good.json").write_text(good.text)
    (tmp_path / "bad.json").write_text(bad.text)
    r = subprocess.run([node, str(HARNESS), str(APP_JS), str(tmp_path / "good.json"), str(tmp_path / "bad.json")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    seen = json.loads(r.stdout)
    assert seen["afterGood"] == {"results_hidden": False, "records": 1, "error_hidden": True, "error": ""}
    assert seen["afterBad"]["results_hidden"] and seen["afterBad"]["records"] == 0
    assert not seen["afterBad"]["error_hidden"] and "unknown residue symbol '1'" in seen["afterBad"]["error"]
    assert seen["downloadFetches"] == 0  # the download buttons have no answer left to fetch
    assert seen["afterEmpty"]["results_hidden"] and seen["afterEmpty"]["records"] == 0
