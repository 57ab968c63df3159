"""Shared by the web-service tests: a real trained model, and a live server on a free loopback port."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from sspred.model import resolve

REPO = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def model_path(data_dir: Path) -> str:
    """$SSPRED_SERVE_MODEL, else the shipped default model, else one trained here on Qian & Sejnowski's set (2 epochs)."""
    if os.environ.get("SSPRED_SERVE_MODEL"):
        return os.environ["SSPRED_SERVE_MODEL"]
    if resolve("default").exists():
        return "default"
    out = Path(tempfile.mkdtemp(prefix="sspred-serve-")) / "qs1988.npz"
    done = subprocess.run([sys.executable, "-m", "sspred", "train", "--data", "qs1988", "--data-dir", str(data_dir),
                           "--epochs", "2", "--name", "qs1988-test", "--out", str(out), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return str(out)


def free_socket() -> socket.socket:
    """A listening-ready socket bound to a free loopback port (no race between choosing and binding)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def live_server(app, timeout: float = 20.0):
    """Run ``app`` with uvicorn in a thread on a free loopback port; yield its base URL."""
    import uvicorn

    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


#: Debian's Chromium: Playwright cannot download its own browsers on these machines.
CHROMIUM = os.environ.get("SSPRED_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@contextlib.contextmanager
def chromium():
    """A headless Chromium under Playwright, closed on exit; the test skips, saying why, when either is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
