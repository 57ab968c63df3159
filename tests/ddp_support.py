"""Conv and multi-task stacks trained by one process or, under torchrun, by several DDP ranks on the same data.

tests/test_distributed_conv.py runs this file under ``torchrun --nproc_per_node=2`` (each rank writes its
parameters and epoch stats to OUT/{case}.rank{r}.npz) and ``run_case(name, distributed=False)`` in its own
process, then compares the two. The chains are the packaged example proteins cut in two (8 chains of 10 to 117
residues), with labels drawn from a seeded generator: some residues unscored, disorder known on some chains,
conservation on others, so every head's present rows fall unevenly on the ranks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import sspred
from sspred.alphabet import CONSERVATION_CLASSES, DISORDER_UNKNOWN
from sspred.config import ConvConfig, TrainConfig
from sspred.engines.spec import gap
from sspred.io.datasets import make_chain
from sspred.io.fasta import parse_fasta
from sspred.layout import ChainIndex

EXAMPLE = Path(sspred.__file__).parent / "examples" / "example.fasta"

#: A small stack: 8 channels, a 5-wide first conv and two residual convs (window 11).
SMALL = {"channels": 8, "first_kernel": 5, "kernel": 3, "dilations": [1, 2], "dropout": 0.0}
MULTI = {**SMALL, "heads": ["disorder", "conservation"], "head_weights": {"disorder": 0.5, "conservation": 2.0}}

#: name -> (model settings, chains per global batch, epochs, teacher targets?). A batch of 3 chains splits 2 + 1
#: over 2 ranks; a batch of 1 leaves rank 1 without a chain at every step.
CASES = {
    "single": (SMALL, 3, 2, False),
    "multi": (MULTI, 3, 2, False),
    "attention": ({**MULTI, "attention": 1, "attention_heads": 2, "attention_dim": 4}, 3, 2, False),
    "distilled": (MULTI, 3, 2, True),
    "one_chain": ({**MULTI, "attention": 1, "attention_heads": 2, "attention_dim": 4}, 1, 1, False),
}


def example_chains(seed: int = 7) -> list:
    """The example proteins, each cut in two, with drawn 3-state labels (about 1 in 5 residues unscored),
    disorder on even chains and conservation on chains 1, 2, 5 and 6."""
    rng = np.random.default_rng(seed)
    chains = []
    for record in parse_fasta(EXAMPLE):
        seq = record.sequence
        for part in (seq[:len(seq) // 2], seq[len(seq) // 2:]):
            i = len(chains)
            ss = "".join(rng.choice(list("HEC"), len(part)))
            chain = make_chain(f"{record.id}.{i}", part, ss, eight=False, mask=rng.random(len(part)) > 0.2)
            if i % 2 == 0:
                chain.disorder = np.where(rng.random(len(part)) < 0.3, DISORDER_UNKNOWN,
                                          rng.integers(0, 2, len(part))).astype(np.int8)
            if i % 4 in (1, 2):
                chain.conservation = rng.integers(1, CONSERVATION_CLASSES + 1, len(part)).astype(np.int8)
            chains.append(chain)
    return chains


def teacher_probs(chains, seed: int = 11) -> list[np.ndarray]:
    """A stand-in teacher's (L, 3) probabilities per chain, drawn from a Dirichlet."""
    rng = np.random.default_rng(seed)
    return [rng.dirichlet(np.ones(3), len(c.sequence)) for c in chains]


def case_config(name: str, distributed: bool = False) -> TrainConfig:
    """Case ``name``'s training settings: float64, Adam, l2, no dropout or noise."""
    model, batch, epochs, _ = CASES[name]
    return TrainConfig(model=ConvConfig(**model), engine="torch", device="cpu", dtype="float64", batch_size=batch,
                       epochs=epochs, lr=0.01, l2=1e-3, seed=3, distributed=distributed)


def run_case(name: str, distributed: bool) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Train case ``name`` as ``sspred.training.prepare_run`` would and return the final parameters and each
    epoch's stats; ``distributed``: inside the process group already initialised."""
    from sspred.engines.torch.learner import TorchLearner
    from sspred.training import fit, learner_settings

    cfg, distil = case_config(name, distributed), CASES[name][3]
    layers = cfg.model.layers()
    chains = example_chains()
    index = ChainIndex(chains, gap(layers), teacher=teacher_probs(chains) if distil else None,
                       heads=cfg.model.output_heads())
    learner = TorchLearner(layers, learner_settings(cfg), np.random.default_rng(cfg.seed), device="cpu", distributed=distributed)
    stats: list[dict] = []
    fit(learner, index, None, cfg, callback=stats.append)
    return learner.get_params(), stats


def _main(out: Path) -> None:
    """Under torchrun: every case on this rank; writes OUT/{case}.rank{r}.npz."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    for name in CASES:
        params, stats = run_case(name, distributed=True)
        epochs = {key: np.array([s[key] for s in stats]) for key in ("train_loss", "train_accuracy")}
        np.savez(out / f"{name}.rank{rank}.npz", **params, **epochs)
    dist.barrier()
    dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    # As the CLI does: skip C++ static destructors, where gloo now and then aborted a finished rank.
    os._exit(0)


if __name__ == "__main__":
    _main(Path(sys.argv[1]))
