"""sspred export: a model as a file that runs outside Python (ONNX), through the torch engine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sspred.cli.root import app
from sspred.extras import require
from sspred.io.textfile import atomic_output, check_output
from sspred.model import BUILTIN
from sspred.predict.api import load



@app.command()
def export(
    model: Optional[str] = typer.Option(None, "-m", "--model", help=f"Built-in model name ({', '.join(BUILTIN)}) or a model file."),
    onnx: Path = typer.Option(..., "--onnx", help="ONNX file to write: input 'codes' (batch, length) int64, "
                                                  "output 'probabilities' (batch, length, K) float32, and for a "
                                                  "multi-task model one more per extra head, named by the head "
                                                  "('disorder', 'conservation', ...)."),
    opset: Optional[int] = typer.Option(None, "--opset", help="ONNX opset of the graph (default: sspred.engines.torch.export.OPSET)."),
) -> None:
    """Write a model as an ONNX graph with dynamic batch and length axes (see src/sspred/models/README.md).

    Needs pip install "sspred[export]" (PyTorch and ONNX).
    """
    check_output(onnx)
    # torch only on this command's path; onnx is imported by the exporter only once the graph is traced
    require("onnx", "export", "sspred export")
    exporter = require("sspred.engines.torch.export", "export", "sspred export")
    loaded = load(model).model
    data = exporter.onnx_bytes(loaded, opset if opset is not None else exporter.OPSET)
    with atomic_output(onnx, "wb") as handle:
        handle.write(data)
    extra = f", heads {', '.join(loaded.heads.names)}" if len(loaded.heads.names) > 1 else ""
    typer.echo(f"saved {onnx}: {loaded.name}, states {loaded.state_order}{extra}, {len(data):,} bytes")
