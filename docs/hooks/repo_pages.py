"""MkDocs hook: pages from outside docs/ (the README, BENCHMARKS.md, the model card), and links valid in both places.

The repository's Markdown links are written to work on GitHub, relative to each file's place in the repository
(the README links ``docs/training.md``, docs/hopfield.md links ``../BENCHMARKS.md``). On the site the same files
sit elsewhere, so every page's links are resolved to a repository path first, then mapped to that file's place
on the site. The files are included, never copied: editing the README edits the home page.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

#: The repository root (this file is docs/hooks/repo_pages.py).
REPO = Path(__file__).resolve().parents[2]
#: The folder whose files are on the site at the same relative path (mkdocs.yml's docs_dir).
DOCS = "docs"
#: Repository files outside docs/ that are pages of the site: repository path -> path on the site.
PAGES = {
    "README.md": "index.md",
    "BENCHMARKS.md": "benchmarks.md",
    "src/sspred/models/README.md": "models.md",
    "src/sspred/examples/README.md": "examples.md",
    "fuzz/README.md": "fuzz.md",
}
#: An inline link or image target ``](target)`` or ``](target "title")``, and a reference definition ``[x]: target``.
LINK = re.compile(r"(\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))|(^\s{0,3}\[[^\]]+\]:\s+)(\S+)", re.MULTILINE)
#: A fenced code block, whose text is code, not links.
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
#: A link or an image in HTML, as nbconvert writes a notebook's Markdown cells.
HREF = re.compile(r'(<a\s[^>]*?href="|<img\s[^>]*?src=")([^"]+)(")')
#: Targets that are not repository paths.
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#|/)", re.IGNORECASE)


def repo_path(site_path: str) -> str:
    """Where the page at ``site_path`` lives in the repository."""
    for repo, site in PAGES.items():
        if site == site_path:
            return repo
    return f"{DOCS}/{site_path}"


def site_path(repo: str) -> str | None:
    """Where the repository file ``repo`` is on the site, or None when it is not on the site."""
    if repo in PAGES:
        return PAGES[repo]
    if repo.startswith(DOCS + "/"):
        return repo[len(DOCS) + 1:]
    return None


def rewrite_target(target: str, page_site: str) -> str:
    """A link target as written in the repository file of ``page_site``, as a target valid on the site."""
    if EXTERNAL.match(target):
        return target
    path, hash_, fragment = target.partition("#")
    here = posixpath.dirname(repo_path(page_site))
    linked = posixpath.normpath(posixpath.join(here, path))
    if path.endswith("/"):
        # A folder link (GitHub shows its README); on the site the folder's index page.
        for index in ("README.md", "index.md"):
            if (REPO / linked / index).exists():
                linked = f"{linked}/{index}"
                break
    on_site = site_path(linked)
    if on_site is None:
        # Not on the site: left as written, so that MkDocs' link validation reports it (strict: the build fails).
        return target
    return posixpath.relpath(on_site, posixpath.dirname(page_site) or ".") + hash_ + fragment


def rewrite_links(markdown: str, page_site: str) -> str:
    """Every link of ``markdown`` (outside fenced code) rewritten by :func:`rewrite_target`."""

    def one(m: re.Match) -> str:
        if m.group(1):
            return m.group(1) + rewrite_target(m.group(2), page_site) + m.group(3)
        return m.group(4) + rewrite_target(m.group(5), page_site)

    out, last = [], 0
    for fence in FENCE.finditer(markdown):
        out.append(LINK.sub(one, markdown[last:fence.start()]))
        out.append(fence.group(0))
        last = fence.end()
    out.append(LINK.sub(one, markdown[last:]))
    return "".join(out)


def on_files(files: Files, config) -> Files:
    for repo, site in PAGES.items():
        if files.get_file_from_path(site) is not None:
            raise PluginError(f"docs/{site} would hide {repo}, which the site shows at that path: remove one")
        files.append(File.generated(config, site, abs_src_path=str(REPO / repo)))
    return files


def on_serve(server, config, builder):
    # `mkdocs serve` rebuilds when an included file changes, as it does for files under docs/.
    for repo in PAGES:
        server.watch(str(REPO / repo))
    return server


def on_page_markdown(markdown: str, page, config, files) -> str:
    return rewrite_links(markdown, page.file.src_uri)


def on_page_content(html: str, page, config, files) -> str:
    # A notebook's Markdown cells are rendered by nbconvert, which leaves ``03_backprop_by_hand.py``,
    # ``../training.md`` or an image's ``figures/dropout.svg`` as written; MkDocs turns such links into page
    # URLs only in its own Markdown pages.
    if not page.file.src_uri.endswith(".py"):
        return html

    def one(m: re.Match) -> str:
        target = rewrite_target(m.group(2), page.file.src_uri)
        path, hash_, fragment = target.partition("#")
        if not path or EXTERNAL.match(target):
            return m.group(0)
        here = posixpath.dirname(page.file.src_uri)
        linked = files.get_file_from_path(posixpath.normpath(posixpath.join(here, path)))
        if linked is None:
            return m.group(0)  # the built site's link check reports it
        return m.group(1) + get_relative_url(linked.url, page.url) + hash_ + fragment + m.group(3)

    return HREF.sub(one, html)
