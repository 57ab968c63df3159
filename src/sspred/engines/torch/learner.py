"""Training steps of the torch engine: the NumPy learner's protocol, on CPU or GPU, optionally under DDP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import numpy as np
import torch

from sspred.engines.settings import LearnerSettings
from sspred.engines.spec import initial_state, is_weight, valid_rows
from sspred.engines.torch.losses import multi_head_cross_entropy, smoothed_targets
from sspred.engines.torch.network import DTYPES, TorchNetwork
from sspred.engines.torch.optim import OPTIMIZERS
from sspred.errors import ConfigError, DeviceError
from sspred.heads import present
from sspred.layout import Layout, chain_rows

if TYPE_CHECKING:
    from sspred.engines.learner import Learner

#: --device values: a torch device string, or a function choosing one.
DEVICES = {
    "cpu": lambda: "cpu",
    "cuda": lambda: "cuda",
    "auto": lambda: "cuda" if torch.cuda.is_available() else "cpu",
}


def resolve_device(name: str) -> str:
    """The torch device ``name`` (a key of DEVICES) stands for on this machine; a DeviceError when no engine
    knows the name, or when it asks for a GPU that torch does not see."""
    if name not in DEVICES:
        raise DeviceError(f"unknown device {name!r}; choose from {', '.join(DEVICES)}")
    device = DEVICES[name]()
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DeviceError("--device cuda, but torch sees no GPU (is this the CPU build of torch?)")
    return device


def set_cpu_threads(n: int) -> None:
    """Intra-op threads torch uses on CPU, for the whole process (``TorchLearner.place`` sets TrainConfig.threads);
    0 leaves torch's default.

    Window networks are small: on a busy 2-core machine torch's default of one thread
    per core made an epoch 25x slower than one thread (BENCHMARKS.md).
    """
    if n > 0:
        torch.set_num_threads(n)


class TorchLearner:
    """Network, optimizer and training noise on one device.

    With ``distributed`` (a process group already initialised, e.g. under
    torchrun) every rank receives the same global batch, trains on its
    rank::world share (of windows, or of whole chains for a conv stack) inside
    DistributedDataParallel, and the loss is scaled so the averaged gradient
    equals that of the whole global batch.
    """

    engine = "torch"

    def __init__(self, specs: list[dict], cfg: LearnerSettings, rng: np.random.Generator, device: str = "cpu",
                 distributed: bool = False):
        self.cfg = cfg
        self.device = torch.device(device)
        self.dtype = DTYPES[cfg.dtype]
        self.net = TorchNetwork(specs).to(device=self.device, dtype=self.dtype)
        self.net.load_arrays(initial_state(specs, rng, np.dtype(cfg.dtype)))
        self.rank, self.world = 0, 1
        self.model: torch.nn.Module = self.net
        self.distributed = distributed
        if distributed:
            import torch.distributed as dist
            from torch.nn.parallel import DistributedDataParallel

            self.rank, self.world = dist.get_rank(), dist.get_world_size()
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.net, device_ids=ids)
        self.params = dict(self.net.named_parameters())
        heads = cfg.heads
        #: A network with several heads trains on a dict of targets (multi_head_cross_entropy); accuracy and
        #: ``predict_proba`` read the first head's columns (one head: every column).
        self.heads = heads if len(heads.names) > 1 else None
        self.first = heads.slices()[heads.names[0]] if self.heads else slice(None)
        kwargs = {"lr": cfg.lr}
        if cfg.optimizer == "sgd":
            kwargs["momentum"] = cfg.momentum
        self.optimizer = OPTIMIZERS[cfg.optimizer](self.params, **kwargs)
        self.begin_epoch([cfg.seed, 0])

    @staticmethod
    def place(device: str, distributed: bool = False, threads: int = 0) -> dict:
        """The keyword arguments that place a TorchLearner: ``device`` (a DEVICES name) resolved, and with
        ``distributed``, under torchrun, this process joined to the process group and given its rank's device.
        ``threads`` > 0 sets torch's CPU threads for the process (``set_cpu_threads``). A setting this machine
        cannot honour raises: a device it cannot give, DeviceError; a process group it cannot join, ConfigError
        on ``distributed``."""
        set_cpu_threads(threads)
        options = {"device": resolve_device(device)}
        if not distributed:
            return options
        from sspred.engines.torch import distributed as ddp

        try:
            _, _, options["device"] = ddp.init(options["device"])
        except ValueError as exc:
            raise ConfigError("distributed", str(exc)) from None
        return {**options, "distributed": True}

    def replica_spread(self) -> float:
        """Under DDP: the largest difference of any parameter between ranks (0.0 when the replicas agree)."""
        from sspred.engines.torch import distributed as ddp

        return ddp.replica_spread(self.net)

    def close(self) -> None:
        """After a distributed run: drop the DDP wrapper before its process group goes, then leave the group
        (every rank waits for the others first). The network itself stays, to read and save."""
        if self.distributed:
            from sspred.engines.torch import distributed as ddp

            self.model = self.net
            ddp.shutdown()

    # --- the learner protocol ---------------------------------------------------------------

    def begin_epoch(self, entropy: list[int]) -> None:
        """Reseed dropout and noise from ``entropy`` (e.g. [seed, epoch]); every rank draws the same stream."""
        seed = int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> 1)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.net.set_generator(self.generator)

    def set_lr(self, lr: float) -> None:
        self.optimizer.lr = lr

    def step(self, codes, y: np.ndarray) -> tuple[float, np.ndarray]:
        """One update on the global batch of windows (B, W) (or a chain Layout) with targets (B,);
        returns its loss and predicted classes."""
        if isinstance(codes, Layout):
            return self._step_layout(codes, y)
        n_global = y.shape[0]
        codes, y = codes[self.rank::self.world], y[self.rank::self.world]
        x = self.inputs(codes)
        yt = torch.from_numpy(np.ascontiguousarray(y)).to(self.device)
        loss, logits = self.forward_backward(x, yt, n_global)
        self.optimizer.step(self.params)
        return loss, self._gather(logits.argmax(dim=1), n_global)

    def _step_layout(self, layout: Layout, y) -> tuple[float, np.ndarray]:
        """One update on a global batch of whole chains with targets ``y``: its scored rows' (n,) or (n, K), or a
        multi-task dict name -> every residue row's targets. Returns its loss and the first head's predicted
        classes of the same rows, in the same order.

        Under DDP rank r trains on chains r, r + world, ... (whole chains: a conv or attention layer reads its
        whole chain); each CE sum is divided by the global batch's count and multiplied by world, so DDP's mean
        over ranks is the one-process gradient of the whole batch.
        """
        multi = isinstance(y, Mapping)
        counts = layout.target_counts(every_residue=multi)  # (C,) target rows of each chain, in row order
        mine = np.arange(self.rank, counts.size, self.world)  # this rank's chains
        totals = {name: int(present(t).sum()) for name, t in y.items()} if multi else None
        n_global = None if multi else int(y.shape[0])
        if self.world > 1:
            # A rank without a chain (fewer chains than ranks) still passes chain 0 forward and backward, scoring
            # none of its rows: DDP's all-reduce waits for every rank's gradient, here zero.
            share = layout.chains(mine if mine.size else np.zeros(1, dtype=np.int64))
            take = chain_rows(counts, mine)  # this rank's target rows in the global batch's
            y = {name: t[take] for name, t in y.items()} if multi else y[take]
        else:
            share = layout
        x, rows, valid = self._layout_inputs(share, every_residue=multi)
        rows = rows if mine.size else rows[:0]
        if multi:
            y = {name: torch.from_numpy(np.ascontiguousarray(t)).to(self.device) for name, t in y.items()}
        else:
            y = torch.from_numpy(np.ascontiguousarray(y)).to(self.device)
        with valid_rows(self.net, valid):
            loss, logits = self.forward_backward(x, y, n_global, rows=rows, totals=totals)
        self.optimizer.step(self.params)
        return loss, self._gather_chains(logits[:, self.first].argmax(dim=1), counts)

    def _layout_inputs(self, layout: Layout, every_residue: bool = False
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input rows of a layout, one-hot (N, 21) and any ``layout.extra`` features beside it (N, 21 + D), the
        indices of its scored rows (``every_residue``: of its residue rows, where a multi-task network's targets
        are) and its valid mask, on the device."""
        codes = torch.from_numpy(layout.codes[:, None]).to(self.device)
        which = layout.valid if every_residue else layout.labels >= 0
        rows = torch.from_numpy(np.flatnonzero(which)).to(self.device)
        valid = torch.from_numpy(layout.valid).to(self.device)
        x = self.net.encode(codes).to(self.dtype)  # (N, 21)
        if layout.extra is not None:
            extra = torch.from_numpy(layout.extra).to(self.device, non_blocking=True).to(self.dtype)  # (N, D)
            x = torch.cat([x, extra], dim=1)  # (N, 21 + D)
        return x, rows, valid

    def forward_backward(self, x: torch.Tensor, y: torch.Tensor, n_global: int | None = None,
                         rows: torch.Tensor | None = None, totals: Mapping[str, int] | None = None
                         ) -> tuple[float, torch.Tensor]:
        """Loss (with penalties) and logits of input rows (B, n_inputs); fills each parameter's ``.grad``.

        ``rows``: only these rows of the output have targets ``y`` (a chain layout's scored residues).
        ``n_global`` (one head) or ``totals`` (several: head name -> present rows): the global batch's target
        rows, of which ``y`` is this rank's share; None: ``y`` is the whole batch.
        """
        cfg = self.cfg
        n_global = n_global or (None if isinstance(y, Mapping) else y.shape[0])
        self.model.train()
        for p in self.params.values():
            p.grad = None
        if cfg.input_noise:
            x = x + cfg.input_noise * torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)
        clean = {}
        if cfg.weight_noise:
            with torch.no_grad():
                for name, p in self.params.items():
                    if is_weight(name):
                        clean[name] = p.clone()
                        p.add_(cfg.weight_noise * torch.randn(p.shape, generator=self.generator,
                                                              device=p.device, dtype=p.dtype))
        logits = self.model(x)  # (b, K)
        if rows is not None:
            logits = logits[rows]
        if isinstance(y, Mapping):
            assert totals is not None or self.world == 1, "a rank's share needs the global batch's head totals"
            # With the global totals this is this rank's share of the global loss: the shares add up to it, and
            # times world DDP's mean over ranks is its gradient.
            part = multi_head_cross_entropy(logits, y, self.heads, cfg.head_weights, cfg.smoothing, totals)
            (part * self.world).backward()
            ce = self._all_sum(part.detach())
        else:
            logp = torch.log_softmax(logits, dim=1)
            t = smoothed_targets(y, logits.shape[1], cfg.smoothing, logits.dtype)
            ce_sum = -(t * logp).sum()
            # Sum over this rank's rows / global batch, times world: DDP's mean over ranks is then the global mean.
            (ce_sum * (self.world / n_global)).backward()
            ce = self._all_sum(ce_sum.detach()) / n_global
        with torch.no_grad():
            for name, w in clean.items():
                self.params[name].copy_(w)
        loss = ce + self._penalty()
        return float(loss), logits.detach()

    def _penalty(self) -> torch.Tensor:
        """Add the gradient of l2 * 1/2 * sum(W^2) + l1 * sum(|W|) (clean weights) to .grad; return its value.

        torch.autograd.grad does not fire DDP's hooks, and every rank adds the same term, so replicas stay equal.
        """
        cfg = self.cfg
        weights = [p for name, p in self.params.items() if is_weight(name)]
        if not (cfg.l1 or cfg.l2) or not weights:
            return torch.zeros((), dtype=self.dtype, device=self.device)
        value = cast(torch.Tensor, sum(0.5 * cfg.l2 * (w * w).sum() + cfg.l1 * w.abs().sum() for w in weights))
        for w, g in zip(weights, torch.autograd.grad(value, weights)):
            assert w.grad is not None  # backward has run
            w.grad.add_(g)
        return value.detach()

    def _all_sum(self, t: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            import torch.distributed as dist

            t = t.clone()
            dist.all_reduce(t)
        return t

    def _gather(self, pred: torch.Tensor, n_global: int) -> np.ndarray:
        """Predicted classes of the global batch from every rank's rank::world share."""
        if self.world == 1:
            return pred.cpu().numpy()
        import torch.distributed as dist

        per_rank = -(-n_global // self.world)
        padded = torch.full((per_rank,), -1, dtype=pred.dtype, device=pred.device)
        padded[:pred.shape[0]] = pred
        parts = [torch.empty_like(padded) for _ in range(self.world)]
        dist.all_gather(parts, padded)
        # Row j of rank r is global row j * world + r.
        return torch.stack(parts, dim=1).reshape(-1)[:n_global].cpu().numpy()  # (per_rank, world) -> (n,)

    def _gather_chains(self, pred: torch.Tensor, counts: np.ndarray) -> np.ndarray:
        """The global batch's predictions, chain by chain in its row order, from every rank's chains' ``pred``
        (rank r holds chains r, r + world, ..., ``counts`` (C,) rows each)."""
        if self.world == 1:
            return pred.cpu().numpy()
        import torch.distributed as dist

        shares = [np.arange(r, counts.size, self.world) for r in range(self.world)]
        sizes = [int(counts[k].sum()) for k in shares]
        padded = torch.full((max(sizes),), -1, dtype=pred.dtype, device=pred.device)  # all_gather needs equal sizes
        padded[:pred.shape[0]] = pred
        parts = [torch.empty_like(padded) for _ in range(self.world)]
        dist.all_gather(parts, padded)
        out = np.empty(int(counts.sum()), dtype=np.int64)  # (n,) classes
        for k, part, n in zip(shares, parts, sizes):
            out[chain_rows(counts, k)] = part[:n].cpu().numpy()
        return out

    def inputs(self, batch: np.ndarray) -> torch.Tensor:
        """Network input rows: one-hot for residue codes (uint8), else the float rows themselves (stage 2)."""
        t = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
        return self.net.encode(t).to(self.dtype) if batch.dtype == np.uint8 else t.to(self.dtype)

    @torch.no_grad()
    def logits(self, codes: np.ndarray) -> torch.Tensor:
        self.net.eval()
        return self.net(self.inputs(codes))

    def predict_proba(self, codes) -> np.ndarray:
        """Probabilities of windows (B, K), or of a chain Layout's scored rows."""
        if isinstance(codes, Layout):
            x, rows, valid = self._layout_inputs(codes)
            with valid_rows(self.net, valid), torch.no_grad():
                self.net.eval()
                logits = self.net(x)[rows][:, self.first]  # the first head's (n, K)
            return torch.softmax(logits, dim=1).cpu().numpy()
        return torch.softmax(self.logits(codes), dim=1).cpu().numpy()

    def get_params(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer as NumPy arrays (what a model file stores)."""
        return self.net.arrays()

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        self.net.load_arrays(params)

    def get_optimizer_state(self) -> dict:
        return _to_numpy(self.optimizer.state)

    def set_optimizer_state(self, state: dict) -> None:
        _assign(self.optimizer.state, state)


def _to_numpy(tree):
    return {k: _to_numpy(v) for k, v in tree.items()} if isinstance(tree, dict) else tree.detach().cpu().numpy().copy()


@torch.no_grad()
def _assign(into: dict, tree: dict) -> None:
    for k, v in into.items():
        if isinstance(v, dict):
            _assign(v, tree[k])
        else:
            v.copy_(torch.as_tensor(np.asarray(tree[k])))


if TYPE_CHECKING:
    # The type checker confirms that this class has every member the fit loop asks of a learner.
    _CHECKED: type[Learner] = TorchLearner
