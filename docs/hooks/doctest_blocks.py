"""MkDocs hook: the docstrings' doctests shown as Python console code in the API reference.

The public API's docstrings carry examples as doctests (``>>> p = sspred.load("fast")`` and the output below
it). Markdown, which mkdocstrings renders the docstrings with, would read them as a paragraph and take
``predict(...)[0]`` for a link. This Markdown extension turns each run of doctest lines, from a ``>>>`` line
to the next blank line, into a ``pycon`` code block before any other Markdown processing.
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

#: A fence that opens or closes a code block; doctest lines inside one are already code.
FENCE = re.compile(r"^\s*(```|~~~)")
#: The first line of a doctest: the prompt, then a space or the end of the line.
PROMPT = re.compile(r"^(\s*)>>>( |$)")
#: Above pymdownx.superfences' preprocessor (25), so that the blocks made here are fenced code to it.
PRIORITY = 30


def fence_doctests(lines: list[str]) -> list[str]:
    """``lines`` with each doctest (``>>>`` lines and their output, to a blank line) inside a pycon fence."""
    out: list[str] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if FENCE.match(line):
            in_fence = not in_fence
        start = PROMPT.match(line) if not in_fence else None
        if start is None:
            out.append(line)
            i += 1
            continue
        indent = start.group(1)
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        out += ["", f"{indent}```pycon", *block, f"{indent}```", ""]
    return out


class DoctestPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return fence_doctests(lines)


class DoctestExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(DoctestPreprocessor(md), "sspred_doctest_blocks", PRIORITY)


@event_priority(100)  # before mkdocstrings reads the Markdown extensions it renders docstrings with
def on_config(config):
    config.markdown_extensions.append(DoctestExtension())
    return config
