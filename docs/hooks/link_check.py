"""MkDocs hook: after the build, every internal link and image of every built page must resolve.

MkDocs validates the links of its own Markdown pages; this checks the built HTML itself, which also covers the
notebooks (rendered by nbconvert), the API reference and the theme. A link resolves when its file exists in the
site (a folder meaning its index.html) and, with a ``#fragment`` into a page, when that page has the id. Each
broken link is a warning, so a strict build (mkdocs.yml sets ``strict: true``) fails.
"""

from __future__ import annotations

import logging
import posixpath
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger("mkdocs.hooks.link_check")

#: Attributes that point at another file, by tag.
LINK_ATTRS = {"a": "href", "img": "src", "link": "href", "script": "src", "source": "src", "iframe": "src"}


class PageLinks(HTMLParser):
    """The ids and the outgoing links (tag, target) of one HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name):
                self.ids.add(attrs[name])
        target = attrs.get(LINK_ATTRS.get(tag, ""))
        if target:
            self.links.append((tag, target))


def internal(target: str) -> bool:
    """True for a link into the site: no scheme (http:, data:, mailto:...) and no host."""
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def broken_links(site: Path) -> tuple[list[str], int]:
    """('page: tag -> target (why)' for each broken internal link, number of internal links checked)."""
    pages = {}
    for html in sorted(site.rglob("*.html")):
        parser = PageLinks()
        parser.feed(html.read_text(encoding="utf-8"))
        pages[html.relative_to(site).as_posix()] = parser
    broken, checked = [], 0
    for name, parser in pages.items():
        for tag, target in parser.links:
            if not internal(target):
                continue
            checked += 1
            parts = urlsplit(target)
            path = unquote(parts.path)
            if path.startswith("/"):
                resolved = path.lstrip("/")
            else:
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) if path else name
            if resolved.startswith("../"):
                broken.append(f"{name}: <{tag}> {target} (outside the site)")
                continue
            if resolved == ".":
                resolved = ""
            file = site / resolved
            if file.is_dir():
                resolved = posixpath.join(resolved, "index.html") if resolved else "index.html"
                file = site / resolved
            if not file.is_file():
                broken.append(f"{name}: <{tag}> {target} (no file {resolved})")
            elif parts.fragment and resolved in pages and unquote(parts.fragment) not in pages[resolved].ids:
                broken.append(f"{name}: <{tag}> {target} (no id {parts.fragment!r} in {resolved})")
    return broken, checked


def on_post_build(config):
    site = Path(config.site_dir)
    broken, checked = broken_links(site)
    for line in broken:
        log.warning("broken link in the built site: %s", line)
    log.info("link check: %d internal links in %d pages, %d broken", checked,
             sum(1 for _ in site.rglob("*.html")), len(broken))
