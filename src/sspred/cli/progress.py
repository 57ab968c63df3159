"""Progress for long predictions: on stderr only, never in the output stream."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator


class PredictProgress:
    """Bytes of input read (for the bar and ETA when the size is known), residues and residues/s."""

    def __init__(self, total_bytes: int | None, position: Callable[[], int] | None):
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self.position = position
        self.start = time.perf_counter()
        self.residues = 0
        self.records = 0
        self.bar = Progress(TextColumn("predicting"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                            TextColumn("{task.fields[status]}"),
                            console=Console(file=sys.stderr, stderr=True), transient=False)
        self.task = self.bar.add_task("predict", total=total_bytes, status="")

    def update(self, records: int, residues: int) -> None:
        self.records += records
        self.residues += residues
        rate = self.residues / max(time.perf_counter() - self.start, 1e-9)
        done = self.position() if self.position is not None else 0
        self.bar.update(self.task, completed=done,
                        status=f"{self.records:,} records  {self.residues:,} residues  {rate / 1e6:.2f}M res/s")


class _Silent:
    def update(self, records: int, residues: int) -> None:
        pass


@contextlib.contextmanager
def progress(enabled: bool, total_bytes: int | None, position: Callable[[], int] | None) -> Iterator:
    if not enabled:
        yield _Silent()
        return
    shown = PredictProgress(total_bytes, position)
    with shown.bar:
        yield shown
        if total_bytes:
            shown.bar.update(shown.task, completed=total_bytes)
