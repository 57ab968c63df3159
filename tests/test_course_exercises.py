"""The course's exercises keep their form: a stub for the student, a solution tagged "solution", a check.

Each exercise of docs/course/NN_*.py is a Markdown cell with a heading "### Exercise N.M", then (course index,
"Exercises") a code cell the student fills in (the stub: "# your code here"), a code cell tagged "solution"
(folded on the site by docs/hooks/notebook_solutions.py, executed by the build), and a check cell whose
asserts the build runs against the solution, so a solution cannot rot. Read from the jupytext files alone,
without running them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"
#: A jupytext percent-format cell marker: "# %%", optionally "[markdown]", optionally metadata (tags=[...]).
MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?(?P<meta>.*)$")
TAGS = re.compile(r"\btags=(\[[^\]]*\])")
#: The heading that opens an exercise, in a Markdown cell ("# ### Exercise 2.1 — title" in the file).
EXERCISE = re.compile(r"^#\s*#{2,4}\s+Exercise\s+(\d+\.\d+)\b", re.MULTILINE)
#: What the stub says where the student writes (the course index's "Exercises" convention).
STUB_MARK = "your code here"
SOLUTION_TAG = "solution"
ASSERT = re.compile(r"^\s*assert\b", re.MULTILINE)
#: Chapters not yet written with exercises of this form on this branch: their "has an exercise" check is an
#: expected failure until they are (empty this set when every chapter has been converted).
NOT_YET_CONVERTED = {"05_splits_and_leakage", "06_overfitting_and_toolkit", "07_beyond_the_window",
                     "08_hopfield"}


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    tags: list[str]
    source: str
    line: int  # of its marker in the file, from 1


def cells(path: Path) -> list[Cell]:
    """The cells of a percent-format notebook, in order (the header before the first marker left out)."""
    out: list[Cell] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = MARKER.match(line)
        if m:
            tags = TAGS.search(m.group("meta"))
            out.append(Cell("markdown" if m.group("markdown") else "code",
                            json.loads(tags.group(1)) if tags else [], "", number))
        elif out:
            out[-1].source += line + "\n"
    return out


def exercises(path: Path) -> list[tuple[str, int, list[Cell]]]:
    """(number, index of its Markdown cell, the three cells after it) for each exercise of a notebook."""
    found = []
    notebook = cells(path)
    for i, cell in enumerate(notebook):
        if cell.kind != "markdown":
            continue
        for number in EXERCISE.findall(cell.source):
            found.append((number, i, notebook[i + 1:i + 4]))
    return found


def form_problems(number: str, following: list[Cell]) -> list[str]:
    """What is wrong with an exercise's stub, solution and check cells (empty when they have the form)."""
    if len(following) < 3 or any(c.kind != "code" for c in following):
        return [f"Exercise {number}: not followed by three code cells (stub, solution, check)"]
    stub, solution, check = following
    problems = []
    if SOLUTION_TAG in stub.tags or STUB_MARK not in stub.source:
        problems.append(f"Exercise {number}: the cell after it (line {stub.line}) is not a stub "
                        f"(untagged, saying '{STUB_MARK}')")
    if SOLUTION_TAG not in solution.tags:
        problems.append(f"Exercise {number}: the second cell after it (line {solution.line}) is not tagged "
                        f"'{SOLUTION_TAG}'")
    if SOLUTION_TAG in check.tags or not ASSERT.search(check.source):
        problems.append(f"Exercise {number}: the third cell after it (line {check.line}) is not a check "
                        "(untagged, with an assert)")
    return problems


def notebooks() -> list[Path]:
    return sorted(COURSE.glob("[0-9][0-9]_*.py"))


def test_the_form_is_read_from_a_known_notebook(tmp_path):
    notebook = tmp_path / "09_x.py"
    notebook.write_text(
        "# ---\n# jupyter: {}\n# ---\n\n# %% [markdown]\n# ## 9.1 Text\n#\n# ### Exercise 9.1 — softmax\n"
        "# Write it.\n\n# %%\ndef f(z):\n    ...  # your code here\n\n# %% tags=[\"solution\"]\n"
        "def f(z):\n    return z\n\n# %%\n# Check.\nassert f(1) == 1\n\n"
        "# %% [markdown]\n# ### Exercise 9.2 — no check\n\n# %%\nx = None  # your code here\n\n"
        "# %% tags=[\"solution\"]\nx = 1\n\n# %%\nprint(x)\n")
    (first, i, following), (second, _, rest) = exercises(notebook)
    assert (first, i, second) == ("9.1", 0, "9.2")
    assert [c.tags for c in following] == [[], ["solution"], []]
    assert following[1].line == 15
    assert form_problems(first, following) == []
    assert form_problems(second, rest) == [
        "Exercise 9.2: the third cell after it (line 32) is not a check (untagged, with an assert)"]


@pytest.mark.parametrize("notebook", [nb.stem for nb in notebooks()])
def test_every_exercise_has_a_stub_a_solution_and_a_check(notebook):
    problems = [p for number, _, following in exercises(COURSE / f"{notebook}.py")
                for p in form_problems(number, following)]
    assert problems == [], f"{notebook}.py:\n" + "\n".join(problems)


@pytest.mark.parametrize("notebook", [
    pytest.param(nb.stem, marks=pytest.mark.xfail(
        reason="chapter not yet written with stub/solution/check exercises", strict=False))
    if nb.stem in NOT_YET_CONVERTED else nb.stem
    for nb in notebooks()])
def test_every_chapter_has_exercises_of_this_form(notebook):
    assert exercises(COURSE / f"{notebook}.py"), f"{notebook}.py has no '### Exercise N.M' cell"
