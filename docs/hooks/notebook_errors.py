"""MkDocs hook: a course notebook that raises fails the build with its file, cell number and line.

mkdocs-jupyter executes each notebook (``execute: true``, ``allow_errors: false``); on an exception nbclient
raises ``CellExecutionError``, whose message quotes the cell's source but not where the cell is. This hook
finds that cell in the jupytext file and names it: ``docs/course/03_backprop_by_hand.py, cell 7 (line 88)``.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from nbclient.exceptions import CellExecutionError

#: The repository root (this file is docs/hooks/notebook_errors.py).
REPO = Path(__file__).resolve().parents[2]
#: nbclient's rule around the failing cell's source in CellExecutionError's message.
RULE = "------------------"
#: The percent-format cell marker (jupytext): every cell of a course notebook starts with one.
MARKER = "# %%"
#: IPython's traceback frame for the cell itself, "In[4], line 7" (after its colour codes are removed).
CELL_FRAME = re.compile(r"In\s*\[\d*\],\s*line (\d+)")
#: Terminal colour codes in IPython's traceback.
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failing_source(error: CellExecutionError) -> str | None:
    """The source of the cell that raised, as nbclient quotes it, or None when the message has no quote."""
    parts = str(error).split(RULE)
    return parts[1].strip("\n") if len(parts) >= 3 else None


def locate(path: Path, source: str, line_in_cell: int | None) -> tuple[int, int | None] | None:
    """(cell number from 1, line of the file) of the notebook cell whose source is ``source``.

    The line is the failing line when ``line_in_cell`` is known and the cell's code starts right below its
    marker, else the marker's line, else None (a file whose first cell has no marker).
    """
    cells = jupytext.read(path).cells
    lines = path.read_text(encoding="utf-8").splitlines()
    markers = [i for i, line in enumerate(lines, 1) if line.startswith(MARKER)]
    for number, cell in enumerate(cells, 1):
        if cell.cell_type != "code" or cell.source.strip("\n") != source:
            continue
        if len(markers) != len(cells):
            return number, None
        marker = markers[number - 1]
        code_follows = marker < len(lines) and lines[marker] == cell.source.split("\n", 1)[0]
        return number, marker + line_in_cell if line_in_cell and code_follows else marker
    return None


def describe(path: Path, error: CellExecutionError) -> str:
    """One line naming the notebook, the cell and the exception, then nbclient's full report."""
    name = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    source = failing_source(error)
    frame = CELL_FRAME.search(ANSI.sub("", str(error)))
    where = locate(path, source, int(frame.group(1)) if frame else None) if source is not None else None
    if where is None:
        cell = "a cell"
    else:
        number, line = where
        cell = f"cell {number}" + (f" (line {line})" if line else "")
    return f"notebook {name}, {cell} raised {error.ename}: {error.evalue}\n{error}"


@event_priority(-100)  # after mkdocs-jupyter's on_pre_page, which replaces page.render with the executing one
def on_pre_page(page, config, files):
    if not page.file.src_uri.endswith(".py"):
        return page
    render = page.render

    def render_naming_the_cell(config, files):
        try:
            render(config, files)
        except CellExecutionError as e:
            raise PluginError(describe(Path(page.file.abs_src_path), e)) from e

    page.render = render_naming_the_cell
    return page
