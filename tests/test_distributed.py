"""DistributedDataParallel under torchrun (gloo on CPU): replicas stay identical and match a one-process run."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from sspred import modelfile

torch = pytest.importorskip("torch")
from test_training_safety import uci_slice  # noqa: E402

pytestmark = pytest.mark.slow  # torchrun subprocesses

LOSS = re.compile(r"epoch\s+(\d+)\s+train loss ([0-9.]+).*valid loss ([0-9.]+)")


def test_two_gloo_ranks_match_one_process(tmp_path, data_dir, cli):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    data = uci_slice(data_dir, tmp_path / "slice.uci", 20)
    # Global batch 45 over 2 ranks: 23 + 22 rows, so unequal shares are exercised too.
    args = ["--data", str(data), "--valid-data", str(data), "--engine", "torch", "--device", "cpu", "--dtype", "float64",
            "--epochs", "2", "--batch-size", "45", "--hidden", "10", "--l2", "1e-3", "--seed", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "sspred", "train", *args, "--distributed", "-o", str(tmp_path / "two.npz")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    one = cli("train", *args, "-o", str(tmp_path / "one.npz"), env={"OMP_NUM_THREADS": "1"})
    assert one.returncode == 0, one.stderr

    spread = re.search(r"largest parameter difference between ranks (\S+)", two.stderr)
    assert spread and float(spread.group(1)) == 0.0, two.stderr[-2000:]
    l2, l1 = LOSS.findall(two.stderr), LOSS.findall(one.stderr)
    assert len(l1) == len(l2) == 2
    for a, b in zip(l1, l2):
        assert float(a[1]) == pytest.approx(float(b[1]), rel=1e-5) and float(a[2]) == pytest.approx(float(b[2]), rel=1e-5)
    _, p1 = modelfile.load(tmp_path / "one.npz")
    _, p2 = modelfile.load(tmp_path / "two.npz")
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-5, atol=1e-6, err_msg=k)
