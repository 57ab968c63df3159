"""MkDocs hook: a notebook page's table of contents links to the headings the page really has, by their text.

mkdocs-jupyter renders a notebook with nbconvert but builds its table of contents from a second rendering with
Python-Markdown, whose heading ids and titles differ where a heading holds code: "4.2 The 1988 network as a
`torch.nn.Module`" is ``42-the-1988-network-as-a-torchnnmodule`` on the page but ``42-the-1988-network-as-a``
in the contents, a link to nowhere, and its contents entry read "4.2 The 1988 network as a", the code dropped.
Both renderings list the same Markdown headings in the same order, so each contents entry takes the id and the
text of the next page heading of its level.
"""

from __future__ import annotations

import html as html_lib
import re

#: A heading with an id, as nbconvert writes it, and its content up to the closing tag.
HEADING = re.compile(r'<h([1-6])\s+id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
#: The permalink nbconvert appends to each heading ("¶"), not part of its text.
ANCHOR_LINK = re.compile(r'<a\s[^>]*class="anchor-link"[^>]*>.*?</a>', re.DOTALL)
TAG = re.compile(r"<[^>]+>")


def heading_text(inner_html: str) -> str:
    """The text of a heading as the page shows it (code included, the permalink left out)."""
    return html_lib.unescape(TAG.sub("", ANCHOR_LINK.sub("", inner_html))).strip()


def entries(toc):
    """The contents entries in document order (each entry before its children)."""
    for entry in toc:
        yield entry
        yield from entries(entry.children)


def on_page_content(html: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".py") or page.toc is None:
        return html
    headings = [(int(level), id_, heading_text(inner)) for level, id_, inner in HEADING.findall(html)]
    at = 0
    for entry in entries(page.toc):
        while at < len(headings) and headings[at][0] != entry.level:
            at += 1
        if at == len(headings):
            break
        _, entry.id, text = headings[at]
        # The theme writes the title into the page as HTML: escape the text it stands for.
        entry.title = html_lib.escape(text, quote=False)
        at += 1
    return html
