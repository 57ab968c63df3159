"""A loaded model as one torch module, residue codes in and probabilities out, and as an ONNX file.

``to_torch(model)`` takes integer symbol codes (B, L), the codes ``sspred.features.encode`` gives
(``sspred.alphabet.SYMBOLS`` order: 20 amino acids, the spacer 20, then X B Z J U O), and returns
probabilities (B, L, K) float32 in ``model.state_order`` order. It is the NumPy engine's prediction
(``Model.predict_many``), member by member, written as torch operations that trace:

- a window first stage reads, for each residue, the one-hot window around it, with the spacer symbol
  past both chain ends (``features.windows``, ``features.one_hot``);
- a conv first stage reads the chain with ``engines.spec.gap`` spacer rows on each side, as
  ``sspred.layout.lay_out`` lays out a lone chain: the first conv sees spacers past the ends, and every masked
  conv after it sees zeros there (``engines.spec.valid_rows``), a residual conv adding its masked input;
- a second stage reads a window of first-stage probabilities, each position with a spacer unit that is on
  past the ends, and the centred log10 of the chain length (``features.stage2_rows``);
- a chain_attention layer attends over the residue rows of each chain (each batch row) alone, as the
  NumPy engine does over a layout's runs of valid rows; its gap rows read nothing (engines/torch/attention.attend);
- a multi-task network (sspred.heads) gives each head's columns a softmax of its own, as the NumPy engine's
  ``softmax_heads``;
- members' probabilities are averaged, head by head.

Outputs: a model with one head (every model before multi-task training) returns one tensor, the states
probabilities (B, L, K). A model with several heads (``Model.heads``: the states head first, then those any
member has) returns a tuple, one (B, L, K_h) tensor per head in that order: the states head's is the same
tensor as before, and each extra head's is its own distribution (disorder: 2 columns, ordered then disordered;
conservation: classes 1-9; ss8/ss3: their states), i.e. ``Model.predict_heads``.

Each of the B rows is a separate chain, and all B have the same length L: a row is never padded or read
as the neighbour of another. Chains of different lengths go in separate calls (or separate batches),
since spacer padding inside a row would be read as residues' neighbours and change their outputs.

``export_onnx`` writes that module with torch's TorchScript-based exporter (``dynamo=False``): batch and
length are dynamic axes, and it needs no package past torch to write the file (torch 2.13's default, the
dynamo exporter, needs onnxscript as well); onnx then checks the file. The ONNX graph's input is ``codes`` (batch,
length) int64 and its first output ``probabilities`` (batch, length, K) float32, the states head; a multi-task
model has one more output per extra head, named by the head (``disorder``, ``conservation``, ``ss8``: see
``output_names``), (batch, length, K_h) float32 each. Its metadata carries the model's name, its states in column
order, the symbol table and the heads in output order (``sspred.name``, ``sspred.state_order`` (and its old name ``sspred.states``), ``sspred.symbols``,
``sspred.heads``).
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from sspred.alphabet import SPACER, SYMBOLS
from sspred.engines.spec import gap, is_conv
from sspred.engines.torch.attention import ChainAttention
from sspred.engines.torch.network import TorchNetwork
from sspred.errors import InputError
from sspred.features import LOG_LENGTH_CENTRE
from sspred.io.textfile import atomic_output

#: ONNX opset of the written graph: 17 runs on onnxruntime 1.13 (late 2022) and later, and every operator
#: used here (Gather, Pad, Conv with dilations, Softmax over the last axis) has its present form since 13.
OPSET = 17
#: Opsets accepted: 13 for those operators' present forms, 20 the newest the TorchScript exporter writes.
MIN_OPSET, MAX_OPSET = 13, 20
#: Names of the ONNX graph's input and output, and of their dynamic axes.
INPUT_NAME, OUTPUT_NAME = "codes", "probabilities"
#: Dynamic axes of the input and of every output.
AXES = {0: "batch", 1: "length"}
#: Example input traced at export: 2 chains of 5 residues (sizes above 1, so neither axis is taken as fixed).
TRACE_SHAPE = (2, 5)


def _network(net) -> TorchNetwork:
    """The torch twin of one NumPy ``Network`` (its specs, parameters and buffers), in evaluation mode."""
    twin = TorchNetwork(net.specs).to(torch.float32)  # the one-hot table too, as the NumPy engine's float32 rows
    twin.load_arrays(net.state)
    return twin.eval()


def _shifted(x: torch.Tensor, width: int) -> torch.Tensor:
    """Windows along axis 1 of a tensor padded by width//2 on each side: (B, L + width - 1, ...) ->
    (B, L, width, ...). Slices with constant ends only, so the length stays dynamic when traced."""
    last = width - 1
    return torch.stack([x[:, j:j - last] if j < last else x[:, last:] for j in range(width)], dim=2)


class WindowStage(nn.Module):
    """A window network over residues: codes (B, L) -> logits (B, L, K)."""

    def __init__(self, net, window: int):
        super().__init__()
        self.net = _network(net)
        self.window = window

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        half = self.window // 2
        padded = F.pad(codes, (half, half), value=SPACER)  # (B, L + W - 1), the spacer past both ends
        win = _shifted(padded, self.window)  # (B, L, W)
        rows = self.net.encode(win.reshape(-1, self.window))  # (B*L, W) -> (B*L, W*21)
        return self.net(rows).reshape(codes.shape[0], codes.shape[1], -1)  # (B*L, K) -> (B, L, K)


class ConvStage(nn.Module):
    """A conv network over whole chains: codes (B, L) -> logits (B, L, K).

    Each row gets ``gap`` spacer rows on both sides, and the rows are then laid end to end, so the
    engine's (N, C) layers run unchanged over B*(L + 2 gap) rows; no conv reads past its own gap.
    """

    def __init__(self, net):
        super().__init__()
        self.net = _network(net)
        self.gap = gap(net.specs)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        g = self.gap
        padded = F.pad(codes, (g, g), value=SPACER)  # (B, N), N = L + 2g
        valid = F.pad(torch.ones_like(codes, dtype=torch.float32), (g, g))  # (B, N), 1 on residue rows
        valid = valid.reshape(-1, 1)  # (B*N, 1)
        x = self.net.encoding[padded.reshape(-1)]  # (B*N,) -> (B*N, 21) one-hot rows
        for i, layer in enumerate(self.net.layers):
            # As the engines' valid_rows: a masked conv reads zeros off the residue rows and adds its masked
            # input when residual. The first conv reads the spacers, as conv_infer.first_layer does.
            if i > 0 and getattr(layer, "masked", False):
                x = x * valid  # (B*N, C)
            x = self._attention(layer, x, codes.shape[0]) if isinstance(layer, ChainAttention) else layer(x)
        x = x.reshape(codes.shape[0], -1, x.shape[-1])  # (B*N, K) -> (B, N, K)
        return x[:, g:x.shape[1] - g] if g else x  # (B, L, K)

    def _attention(self, layer: ChainAttention, x: torch.Tensor, b: int) -> torch.Tensor:
        """A chain_attention layer over B rows of one chain each: (B*N, C) -> (B*N, C). Each row's residues
        (between its gaps) attend to each other only; the gap rows read nothing, as in either engine's layer.
        The layer's own forward finds chains from a NumPy mask, which a trace would freeze to one length."""
        g = self.gap
        xb = x.reshape(b, -1, x.shape[-1])  # (B*N, C) -> (B, N, C)
        inner = xb[:, g:xb.shape[1] - g] if g else xb  # (B, L, C)
        # 3 x (B, L, C) @ (C, H*D) -> (B, L, H*D), then attention within each row -> (B, L, H*D)
        o = layer.attend(inner @ layer.Wq, inner @ layer.Wk, inner @ layer.Wv)
        o = F.pad(o, (0, 0, g, g)) if g else o  # (B, N, H*D), zero on the gap rows
        y = o.reshape(-1, o.shape[-1]) @ layer.Wo  # (B*N, H*D) @ (H*D, C) -> (B*N, C)
        return y + x if layer.residual else y


class SecondStage(nn.Module):
    """A window network over first-stage probabilities (PSIPRED's second pass): (B, L, K) -> logits (B, L, K)."""

    def __init__(self, net, window: int):
        super().__init__()
        self.net = _network(net)
        self.window = window

    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        half = self.window // 2
        inside = torch.ones_like(probs[..., :1])  # (B, L, 1)
        spacer = 1.0 - F.pad(inside, (0, 0, half, half))  # (B, L + W - 1, 1), on past both ends
        units = torch.cat([F.pad(probs, (0, 0, half, half)), spacer], dim=2)  # (B, L + W - 1, K + 1)
        win = _shifted(units, self.window).flatten(2)  # (B, L, W, K+1) -> (B, L, W*(K+1)), position-major
        length = inside.sum(dim=1, keepdim=True).clamp(min=1.0)  # (B, 1, 1)
        extra = inside * (torch.log(length) / math.log(10.0) - LOG_LENGTH_CENTRE)  # (B, L, 1)
        rows = torch.cat([win, extra], dim=2)  # (B, L, W*(K+1) + 1)
        out = self.net(rows.reshape(-1, rows.shape[-1]))  # (B*L, F) -> (B*L, K)
        return out.reshape(probs.shape[0], probs.shape[1], -1)  # (B, L, K)


class MemberModule(nn.Module):
    """One member: its first stage and, when it has one, its second: codes (B, L) -> probabilities (B, L, W),
    every head's columns side by side, each head a softmax of its own (Member.predict_many)."""

    def __init__(self, member):
        super().__init__()
        stage1 = member.stage1
        self.stage1 = ConvStage(stage1.net) if is_conv(stage1.net.specs) else WindowStage(stage1.net, stage1.window)
        self.stage2 = SecondStage(member.stage2.net, member.stage2.window) if member.stage2 is not None else None
        self.slices = member.slices  # each head's columns, or None for one head

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        logits = self.stage1(codes)  # (B, L, W)
        if self.slices is None:
            probs = torch.softmax(logits, dim=-1)
        else:
            probs = torch.cat([torch.softmax(logits[..., s], dim=-1) for s in self.slices], dim=-1)  # (B, L, W)
        if self.stage2 is not None:
            probs = torch.softmax(self.stage2(probs), dim=-1)
        return probs


def _mean(probs: list[torch.Tensor]) -> torch.Tensor:
    """Members' (B, L, K) probabilities averaged; one member's as they are."""
    return probs[0] if len(probs) == 1 else torch.stack(probs).mean(dim=0)  # (M, B, L, K) -> (B, L, K)


class ExportedModel(nn.Module):
    """A whole model: integer codes (B, L) -> probabilities (B, L, K), float32, columns in ``states`` order;
    with several heads, a tuple of one (B, L, K_h) per head in ``heads`` order (see the module docstring).

    Rows are separate chains of one length L (see the module docstring).
    """

    def __init__(self, model):
        super().__init__()
        self.state_order = model.state_order
        self.heads = model.heads.names  # the states head first
        self.members = nn.ModuleList(MemberModule(m) for m in model.members)
        # Each member's columns of each head, as Model.predict_heads reads them.
        self.columns = [m.heads.slices() if m.heads is not None else {self.heads[0]: slice(None)}
                        for m in model.members]

    def forward(self, codes: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        codes = codes.long()
        probs = [m(codes) for m in self.members]  # M x (B, L, W_m)
        # A head is the mean of the members that have it (Model.heads).
        out = tuple(_mean([p[..., cols[name]] for cols, p in zip(self.columns, probs) if name in cols])
                    for name in self.heads)
        return out[0] if len(out) == 1 else out


def output_names(model) -> list[str]:
    """The ONNX outputs of ``model``, in order: ``probabilities`` for the states head, then each extra head's name."""
    return [OUTPUT_NAME, *model.heads.names[1:]]


def to_torch(model) -> ExportedModel:
    """``model`` (a loaded ``sspred.model.Model``) as a torch module in evaluation mode, float32 on the CPU:
    int codes (B, L) -> probabilities (B, L, K); B rows are separate chains of the same length L.

    A model whose networks read a language model's states beside one-hot (``unirep``) is refused with a
    ValueError: the graph takes codes alone, and the mLSTM is not in it."""
    if any(m.features is not None for m in model.members):
        raise ValueError(f"model {model.name!r} reads UniRep states beside one-hot; the exported graph takes residue "
                         "codes alone, so it cannot be exported")
    module = ExportedModel(model).eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def onnx_bytes(model, opset: int = OPSET) -> bytes:
    """``model`` as a serialized ONNX graph, checked by ``onnx.checker`` (with shape inference) before it is
    returned: input ``codes`` (batch, length) int64, output ``probabilities`` (batch, length, K) float32 in
    ``model.state_order`` order, and one output per extra head (``output_names``); batch and length are dynamic."""
    import onnx  # the checker; an ImportError names the missing package for the caller's install hint

    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise InputError(f"ONNX opset must be between {MIN_OPSET} and {MAX_OPSET}, got {opset}")
    module = to_torch(model)
    names = output_names(model)
    example = torch.full(TRACE_SHAPE, SPACER - 1, dtype=torch.int64)  # any residue codes trace the same graph
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # torch marks the TorchScript exporter, the one chosen here (see the module docstring), deprecated in
        # favour of dynamo; and it notes each window slice it leaves unfolded, which is what keeps L dynamic.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Constant folding")
        # The ignore: torch writes to a BytesIO, though its annotation names paths only.
        torch.onnx.export(module, (example,), buffer, dynamo=False, opset_version=opset,  # type: ignore[arg-type]
                          input_names=[INPUT_NAME], output_names=names,
                          dynamic_axes={name: AXES for name in [INPUT_NAME, *names]})
    proto = onnx.load_from_string(buffer.getvalue())
    # The trace leaves the class axis unnamed-dynamic; it is each head's K, and the file says which K.
    for output, (_, k) in zip(proto.graph.output, model.heads.heads):
        output.type.tensor_type.shape.dim[2].dim_value = k
    onnx.helper.set_model_props(proto, {"sspred.name": model.name, "sspred.state_order": model.state_order,
                                        # the same under its old name, for readers of 0.1 graphs (one release)
                                        "sspred.states": model.state_order,
                                        "sspred.symbols": SYMBOLS, "sspred.heads": ",".join(model.heads.names)})
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString()


def export_onnx(model, path: str | os.PathLike, opset: int = OPSET) -> Path:
    """Write ``model`` as an ONNX file (``onnx_bytes``) to ``path``; returns the path."""
    path = Path(path)
    data = onnx_bytes(model, opset)
    with atomic_output(path, "wb") as handle:  # a failed export never leaves half a file under ``path``
        handle.write(data)
    return path
