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


def random_window_model(path: Path, window: int, hidden: list[int], activation: str, seed: int) -> Path:
    """A window model file with random (untrained) weights, named after the file: enough for tests of the
    prediction paths, which must agree with each other whatever the weights."""
    import numpy as np

    from sspred.config import ModelConfig
    from sspred.engines.numpy import Network
    from sspred.model import build_header, save_model

    cfg = ModelConfig(window=window, hidden=hidden, activation=activation)
    net = Network(cfg.layers(), np.float32, np.random.default_rng(seed))
    save_model(path, build_header(cfg, path.stem), net.params)
    return path


def netsurfp2_fasta(data_dir: Path, path: Path, n: int, describe: bool = False) -> Path:
    """The first ``n`` chains of the netsurfp2 set as a FASTA file; ``describe`` adds 'chain I' to each
    header, so a writer's id (the first word) and the full header differ."""
    import itertools

    from sspred.io.fasta import parse_fasta

    recs = itertools.islice(parse_fasta(str(data_dir / "netsurfp2" / "sequences.fasta")), n)
    path.write_text("".join(f">{r.id}{f' chain {i}' * describe}\n{r.sequence}\n" for i, r in enumerate(recs)))
    return path


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m sspred ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "sspred", *args], input=input, capture_output=True,
                          text=True, cwd=cwd, env=full_env, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
