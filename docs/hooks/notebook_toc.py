"""MkDocs hook: a notebook page's table of contents links to the headings the page really has.

mkdocs-jupyter renders a notebook with nbconvert but builds its table of contents from a second rendering with
Python-Markdown, whose heading ids differ where a heading holds code: "4.2 The 1988 network as a
`torch.nn.Module`" is ``42-the-1988-network-as-a-torchnnmodule`` on the page and ``42-the-1988-network-as-a``
in the contents, a link to nowhere (the built site's link check reports it). Both renderings list the same
Markdown headings in the same order, so each contents entry takes the id of the next page heading of its level.
"""

from __future__ import annotations

import re

#: A heading with an id, as nbconvert writes it.
HEADING = re.compile(r'<h([1-6])\s+id="([^"]+)"')


def entries(toc):
    """The contents entries in document order (each entry before its children)."""
    for entry in toc:
        yield entry
        yield from entries(entry.children)


def on_page_content(html: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".py") or page.toc is None:
        return html
    headings = [(int(level), id_) for level, id_ in HEADING.findall(html)]
    at = 0
    for entry in entries(page.toc):
        while at < len(headings) and headings[at][0] != entry.level:
            at += 1
        if at == len(headings):
            break
        entry.id = headings[at][1]
        at += 1
    return html
