"""Shared fixtures. Tests that need the real data sets skip, with a message, when the data folder is absent
(found as sspred finds it: $SSPRED_DATA, then a shared/data folder above the working directory or the source)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sspred.errors import InputError
from sspred.io.datasets import data_dir as find_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    try:
        folder = find_data_dir()
    except InputError as exc:
        pytest.skip(f"real data sets not found: {exc}")
    if not (folder / "README.md").exists():
        pytest.skip(f"real data sets not found at {folder} (no README.md; set SSPRED_DATA)")
    return folder


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m sspred ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "sspred", *args], input=input, capture_output=True,
                          text=True, cwd=cwd, env=full_env, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
