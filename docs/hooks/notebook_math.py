"""MkDocs hook: a notebook page loads no MathJax; the site's own KaTeX renders its formulas, as on every page.

nbconvert writes a MathJax 2 loader into each notebook it renders: a ``<script src>`` naming mkdocs-jupyter's
``custom_mathjax_url`` (empty by default, so the page loaded nothing and showed raw TeX), and a configuration
script. The site renders TeX with the KaTeX it serves itself (docs/vendor/katex, called by
docs/javascripts/math.js), so the loader goes. A notebook page that still holds a MathJax configuration after
this (nbconvert wrote its loader some other way) is a warning, which fails the strict build.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("mkdocs.hooks.notebook_math")

#: nbconvert's MathJax loader (its template base/mathjax.html.j2), from its first comment to its last.
MATHJAX_LOADER = re.compile(r"[ \t]*<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->\n?", re.DOTALL)
#: What only a MathJax 2 configuration holds.
MATHJAX_CONFIG = "text/x-mathjax-config"


def without_mathjax(html: str) -> str:
    """The page without nbconvert's MathJax loader."""
    return MATHJAX_LOADER.sub("", html)


def on_page_content(html: str, page, config, files) -> str:
    if not page.file.src_uri.endswith(".py"):
        return html
    html = without_mathjax(html)
    if MATHJAX_CONFIG in html:
        log.warning("notebook %s: nbconvert's MathJax loader was not found where expected; the page would load "
                    "MathJax as well as the site's KaTeX (docs/hooks/notebook_math.py)", page.file.src_uri)
    return html
