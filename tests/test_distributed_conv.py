"""Conv and multi-task stacks under DDP: 2 gloo ranks end with the weights and losses of one process on the same
global batches, and the pieces that make it so (a rank's share of a chain layout, the multi-task loss over shares)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ddp_support import CASES, case_config, example_chains, run_case, teacher_probs
from sspred.config import ConvConfig
from sspred.engines.spec import gap, initial_state, is_weight
from sspred.heads import present
from sspred.layout import ChainIndex, chain_rows

torch = pytest.importorskip("torch")

WORLD = 2
#: float64 runs that differ only in the order of a few sums.
TOL = 1e-10


def shares(counts: np.ndarray, world: int) -> list[np.ndarray]:
    """Each rank's chains, as the torch learner deals them: chain k to rank k % world."""
    return [np.arange(r, counts.size, world) for r in range(world)]


@pytest.mark.parametrize("world", [2, 3, 9])
def test_rank_shares_of_a_layout_rebuild_its_chains_and_targets(world):
    cfg = ConvConfig(channels=4, first_kernel=5, kernel=3, dilations=[1, 2], heads=["disorder", "conservation"])
    chains = example_chains()
    index = ChainIndex(chains, gap(cfg.layers()), heads=cfg.output_heads())
    batch = np.array([6, 1, 3, 0, 7])
    layout, y = index.examples(batch)
    _, scored = index.labelled(batch)
    assert layout.gap_rows == gap(cfg.layers())
    for every_residue, targets in ((True, y["disorder"]), (False, scored)):
        counts = layout.target_counts(every_residue)
        assert counts.sum() == targets.size
        back = np.empty_like(targets)
        for mine in shares(counts, world):
            part = layout.chains(mine)
            # The share is the layout of its chains alone, and its targets are those chains' rows.
            alone, _ = index.labelled(batch[mine])
            np.testing.assert_array_equal(part.codes, alone.codes)
            np.testing.assert_array_equal(part.labels, alone.labels)
            rows = chain_rows(counts, mine)
            assert rows.size == part.target_counts(every_residue).sum()
            back[rows] = targets[rows]
            if every_residue:
                np.testing.assert_array_equal(part.codes[part.valid], layout.codes[layout.valid][rows])
            else:
                np.testing.assert_array_equal(part.labels[part.labels >= 0], targets[rows])
        np.testing.assert_array_equal(back, targets)  # the shares cover every row once


def test_multi_head_loss_over_shares_with_global_totals_adds_up_to_the_whole():
    from sspred.engines.torch.losses import multi_head_cross_entropy

    cfg = ConvConfig(channels=4, first_kernel=5, kernel=3, dilations=[1], heads=["disorder", "conservation"],
                     head_weights={"disorder": 0.5, "conservation": 2.0})
    heads = cfg.output_heads()
    chains = example_chains()
    index = ChainIndex(chains, gap(cfg.layers()), teacher=teacher_probs(chains), heads=heads)
    layout, y = index.examples(np.arange(len(index)))
    logits = torch.from_numpy(np.random.default_rng(5).standard_normal((int(layout.valid.sum()), heads.width)))
    whole = multi_head_cross_entropy(logits, y, heads, cfg.head_weights, 0.1)
    counts = layout.target_counts(every_residue=True)

    def share_loss(mine: np.ndarray, totals=None) -> float:
        rows = chain_rows(counts, mine)
        return float(multi_head_cross_entropy(logits[rows], {n: t[rows] for n, t in y.items()}, heads,
                                              cfg.head_weights, 0.1, totals))

    totals = {name: int(present(t).sum()) for name, t in y.items()}
    assert sum(share_loss(mine, totals) for mine in shares(counts, 3)) == pytest.approx(float(whole), rel=1e-12)
    # Without the totals each share is its own mean, and the shares do not add up to the whole.
    alone = sum(share_loss(mine) for mine in shares(counts, 3))
    assert abs(float(alone) - float(whole)) > 1.0


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> Path:
    """Every case of ddp_support trained by 2 gloo ranks under torchrun; the folder of their npz files."""
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    out = tmp_path_factory.mktemp("ddp")
    tests = str(Path(__file__).parent)
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([tests, *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={WORLD}",
                           str(Path(tests) / "ddp_support.py"), str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow  # torchrun subprocesses
@pytest.mark.parametrize("case", list(CASES))
def test_two_gloo_ranks_give_the_weights_and_losses_of_one_process(two_ranks, case):
    torch.set_num_threads(1)
    params, stats = run_case(case, distributed=False)
    start = initial_state(case_config(case).model.layers(), np.random.default_rng(case_config(case).seed), np.float64)
    # Training moved every weight matrix far beyond the tolerance, so agreeing to it is no accident.
    assert min(np.abs(params[k] - start[k]).max() for k in params if is_weight(k)) > 1e4 * TOL
    for rank in range(WORLD):
        got = np.load(two_ranks / f"{case}.rank{rank}.npz")
        for k in params:
            np.testing.assert_allclose(got[k], params[k], rtol=0, atol=TOL, err_msg=f"{case} rank {rank} {k}")
        np.testing.assert_allclose(got["train_loss"], [s["train_loss"] for s in stats], rtol=TOL)
        # The accuracy counts the gathered predictions of the whole global batch against its labels.
        np.testing.assert_allclose(got["train_accuracy"], [s["train_accuracy"] for s in stats], rtol=TOL)


def test_a_learner_places_itself_in_a_process_group_and_leaves_it_on_close(monkeypatch):
    """The torch engine's own set-up and teardown, in this process as a group of one: ``place`` joins the group
    torchrun's variables describe, the learner trains inside DDP, and ``close`` drops the wrapper and the group."""
    import socket

    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from sspred.engines.torch.learner import TorchLearner
    from sspred.training import learner_settings

    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("this torch build has no gloo backend")
    with socket.socket() as s:  # a free port for the group's rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for key, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": str(port)}.items():
        monkeypatch.setenv(key, value)
    cfg = case_config("single", distributed=True)
    options = TorchLearner.place(cfg.device, cfg.distributed)
    try:
        assert options == {"device": "cpu", "distributed": True} and dist.is_initialized()
        learner = TorchLearner(cfg.model.layers(), learner_settings(cfg), np.random.default_rng(0), **options)
        assert isinstance(learner.model, DistributedDataParallel) and (learner.rank, learner.world) == (0, 1)
        assert learner.replica_spread() == 0.0
        learner.close()
        assert learner.model is learner.net and not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
