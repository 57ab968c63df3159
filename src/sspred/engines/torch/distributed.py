"""DistributedDataParallel set-up under torchrun: gloo on CPU, NCCL on GPU.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; this
module only reads them through torch.distributed's env:// initialisation.

Batch norm under DDP normalises by each rank's share of the batch (torch's
plain DDP behaviour, not SyncBatchNorm), and DDP broadcasts rank 0's running
statistics at every forward pass; rank 0 writes the model, so its statistics
are the ones saved. Without batch norm a run over N ranks follows the
one-process run with the same global batch, up to summation order.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

#: Process-group backend per device type.
BACKENDS = {"cpu": "gloo", "cuda": "nccl"}


def init(device: str) -> tuple[int, int, str]:
    """Join the process group torchrun describes; returns (rank, world size, this rank's device)."""
    if "RANK" not in os.environ:
        raise ValueError("--distributed needs torchrun's environment (RANK, WORLD_SIZE, ...); "
                         "launch with: torchrun --nproc_per_node=N -m sspred train ... --distributed")
    kind = torch.device(device).type
    if kind == "cuda":
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        torch.cuda.set_device(device)
    dist.init_process_group(BACKENDS[kind])
    return dist.get_rank(), dist.get_world_size(), device


def replica_spread(net: torch.nn.Module) -> float:
    """Largest difference of any learned parameter between ranks (0.0 when the replicas are identical)."""
    worst = 0.0
    for t in net.parameters():
        hi, lo = t.detach().clone(), t.detach().clone()
        dist.all_reduce(hi, op=dist.ReduceOp.MAX)
        dist.all_reduce(lo, op=dist.ReduceOp.MIN)
        worst = max(worst, float((hi - lo).abs().max()) if t.numel() else 0.0)
    return worst


def shutdown() -> None:
    if dist.is_initialized():
        # every rank reaches this point before any tears the group down; gloo aborts a rank whose
        # peer vanished mid-teardown ("terminate called without an active exception")
        dist.barrier()
        dist.destroy_process_group()
