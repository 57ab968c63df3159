"""MkDocs hook: a course notebook's solution cells show folded, under a "Solution" line the reader opens.

The course's exercises (docs/course/*.py) are a stub cell for the student, a solution cell tagged "solution"
and a check cell (see the course index). The build executes the solution, so the check below it proves it
right, but a reader should try the exercise before seeing it. nbconvert marks a tagged cell's element with
the class ``celltag_solution``; this hook wraps each such cell in ``<details class="solution">``.
"""

from __future__ import annotations

import re

#: The tag of a solution cell in the notebooks (jupytext: ``# %% tags=["solution"]``).
SOLUTION_TAG = "solution"
#: The opening tag of a cell element carrying the solution tag's class.
SOLUTION_CELL = re.compile(r'<div\s[^>]*class="[^"]*\bjp-Cell\b[^"]*\bcelltag_' + SOLUTION_TAG + r'\b[^"]*"[^>]*>')
#: Any div opening or closing, to find where a cell's element ends.
DIV = re.compile(r"<div\b[^>]*>|</div\s*>")
SUMMARY = '<details class="solution"><summary>Solution</summary>\n'


def element_end(html: str, start: int) -> int:
    """The index just past the ``</div>`` closing the div that opens at ``start``."""
    depth = 0
    for m in DIV.finditer(html, start):
        depth += -1 if m.group(0).startswith("</") else 1
        if depth == 0:
            return m.end()
    raise ValueError(f"unclosed <div> at character {start}")


def fold_solutions(html: str) -> tuple[str, int]:
    """``html`` with every solution cell inside a closed ``<details>``; (the new HTML, cells folded)."""
    out, last, folded = [], 0, 0
    while (m := SOLUTION_CELL.search(html, last)) is not None:
        end = element_end(html, m.start())
        out += [html[last:m.start()], SUMMARY, html[m.start():end], "</details>"]
        last = end
        folded += 1
    out.append(html[last:])
    return "".join(out), folded


def on_page_content(html: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".py"):
        return html
    return fold_solutions(html)[0]
