"""The documentation site: mkdocs.yml built strictly, executing the course notebooks, then read in real Chromium.

The build is the one place CI executes the notebooks. Needs the docs extra (pip install -e ".[docs]"), the
data sets (the notebooks read them) and Debian's chromium driven by Playwright, and skips with a message
without them. The hooks' link mapping and link check are also tested alone, on known cases, in seconds.
"""

from __future__ import annotations

import functools
import hashlib
import html
import http.server
import importlib
import importlib.util
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from serve_support import chromium

REPO = Path(__file__).resolve().parents[1]
HOOKS = REPO / "docs" / "hooks"
COURSE = REPO / "docs" / "course"
#: The math renderer the site serves itself, and the file saying which release it is and where it came from.
KATEX = REPO / "docs" / "vendor" / "katex"
KATEX_SOURCE = KATEX / "SOURCE.txt"
#: Every notebook may take 3 minutes and the API reference a few seconds; a slower build is a failure.
BUILD_TIMEOUT_S = 30 * 60
#: The public API (the contract): each has its own entry on the reference's first page.
PUBLIC_API = ["load", "Predictor", "Prediction", "write", "train", "TrainConfig", "evaluate", "Scores"]
#: The Python modules of the docs extra (pyproject.toml), by the name they import as.
DOCS_MODULES = ["mkdocs", "material", "mkdocs_jupyter", "mkdocstrings", "mkdocstrings_handlers.python",
                "jupytext", "nbclient", "ipykernel"]


def require_docs_extra() -> None:
    for name in DOCS_MODULES:
        if importlib.util.find_spec(name.split(".")[0]) is None or importlib.util.find_spec(name) is None:
            pytest.skip(f"the docs extra is not installed (no module {name}): pip install -e '.[docs]'")


def docs_module(name: str):
    """``name`` imported, or the test skipped: the quick tier runs without the docs extra."""
    return pytest.importorskip(name, reason=f"needs the docs extra (no module {name}): pip install -e '.[docs]'")


def hook(name: str):
    """One of docs/hooks/*.py, imported as MkDocs imports it (by path)."""
    require_docs_extra()
    spec = importlib.util.spec_from_file_location(f"sspred_docs_hook_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebooks() -> list[Path]:
    return sorted(COURSE.glob("[0-9][0-9]_*.py"))


def build_env(data_dir: Path | None = None) -> dict[str, str]:
    """The environment of a build: these sources first on the path (the notebooks' kernels inherit it)."""
    path = os.pathsep.join(p for p in [str(REPO / "src"), os.environ.get("PYTHONPATH", "")] if p)
    data = {"SSPRED_DATA": str(data_dir)} if data_dir else {}
    return {**os.environ, **data, "PYTHONPATH": path, "NO_MKDOCS_2_WARNING": "1",
            "SSPRED_DOCS_EXECUTE": "true", "SSPRED_DOCS_CACHE": "false"}


# --- the hooks alone: known links, a known small site ---

@pytest.mark.parametrize(("target", "page", "want"), [
    ("docs/training.md", "index.md", "training.md"),                        # README -> a docs page
    ("BENCHMARKS.md", "index.md", "benchmarks.md"),                         # README -> a page from outside docs/
    ("src/sspred/models/README.md", "index.md", "models.md"),               # README -> the model card
    ("docs/experiments/README.md", "index.md", "experiments/README.md"),
    ("docs/course/", "index.md", "course/index.md"),                        # a folder: its index page
    ("../BENCHMARKS.md", "hopfield.md", "benchmarks.md"),                   # docs/hopfield.md -> BENCHMARKS.md
    ("docs/hopfield.md#classical", "benchmarks.md", "hopfield.md#classical"),
    ("fuzz/README.md", "benchmarks.md", "fuzz.md"),
    ("../../BENCHMARKS.md", "course/index.md", "../benchmarks.md"),
    ("../training.md", "course/03_backprop_by_hand.py", "../training.md"),  # a notebook -> a docs page
    ("hopfield/capacity.png", "hopfield.md", "hopfield/capacity.png"),      # images keep their place
    ("src/sspred/alphabet.py", "index.md", "src/sspred/alphabet.py"),       # not on the site: left for the checks
    ("https://example.org/x.md", "index.md", "https://example.org/x.md"),
    ("#input", "index.md", "#input"),
])
def test_repository_links_map_to_site_links(target, page, want):
    assert hook("repo_pages").rewrite_target(target, page) == want


def test_links_in_fenced_code_are_left_alone():
    rewrite = hook("repo_pages").rewrite_links
    text = "See [the card](src/sspred/models/README.md).\n\n```md\n[x](docs/training.md)\n```\n[t]: docs/training.md\n"
    assert rewrite(text, "index.md") == ("See [the card](models.md).\n\n```md\n[x](docs/training.md)\n```\n"
                                         "[t]: training.md\n")


def test_link_check_finds_missing_files_and_ids(tmp_path):
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "index.html").write_text('<h2 id="usage">Usage</h2><img src="../fig.png">')
    (tmp_path / "fig.png").write_bytes(b"\x89PNG")
    (tmp_path / "index.html").write_text(
        '<a href="guide/">ok</a> <a href="guide/#usage">ok</a> <a href="#top" id="top">ok</a>'
        '<a href="https://example.org/">external</a> <img src="data:image/png;base64,AAAA">'
        '<a href="guide/#nowhere">bad id</a> <a href="missing/">bad file</a> <script src="../x.js"></script>')
    broken, checked = hook("link_check").broken_links(tmp_path)
    assert checked == 7
    assert broken == ["index.html: <a> guide/#nowhere (no id 'nowhere' in guide/index.html)",
                      "index.html: <a> missing/ (no file missing)",
                      "index.html: <script> ../x.js (outside the site)"]


def test_doctests_become_console_code_outside_fences():
    doctest_blocks = hook("doctest_blocks")  # skips without the docs extra, which brings markdown
    import markdown
    lines = ["Load a model.", "", ">>> p = load('fast')", ">>> p.predict('MKV')[0].states", "'CCC'", "", "Done.",
             "```", ">>> left as it is", "```"]
    assert doctest_blocks.fence_doctests(lines) == [
        "Load a model.", "", "", "```pycon", ">>> p = load('fast')", ">>> p.predict('MKV')[0].states", "'CCC'",
        "```", "", "", "Done.", "```", ">>> left as it is", "```"]
    page = markdown.markdown("\n".join(lines[:6]),
                             extensions=["pymdownx.superfences", doctest_blocks.DoctestExtension()])
    code = html.unescape(re.sub(r"<[^>]+>", "", page[page.index("<pre"):page.index("</pre>")]))
    assert code == ">>> p = load('fast')\n>>> p.predict('MKV')[0].states\n'CCC'\n"
    assert "<p>&gt;&gt;&gt;" not in page


def test_notebook_contents_link_to_the_headings_on_the_page():
    from types import SimpleNamespace

    get_toc = docs_module("mkdocs.structure.toc").get_toc
    notebook_toc = hook("notebook_toc")
    # Python-Markdown's ids (the contents) lose the code in a heading; nbconvert's (the page) keep it.
    tokens = [{"level": 1, "id": "4-pytorch", "name": "4. PyTorch", "children": [
        {"level": 2, "id": "42-the-1988-network-as-a", "name": "4.2", "children": []},
        {"level": 2, "id": "46-with", "name": "4.6", "children": []}]}]
    page = SimpleNamespace(file=SimpleNamespace(src_uri="course/04_pytorch.py"), toc=get_toc(tokens))
    body = ('<h1 id="4-pytorch">4. PyTorch</h1><h2 id="42-the-1988-network-as-a-torchnnmodule">4.2 The 1988 '
            'network as a <code>torch.nn.Module</code><a class="anchor-link" href="#42-the-1988-network-as-a-'
            'torchnnmodule">¶</a></h2><div><h3 id="in-an-output">x</h3></div>'
            '<h2 id="46-sspredtrain-with-enginetorch"><code>sspred.train</code> with <code>a&lt;b</code></h2>')
    assert notebook_toc.on_page_content(body, page, None, None) == body
    (top,) = page.toc
    assert [top.url, *(c.url for c in top.children)] == [
        "#4-pytorch", "#42-the-1988-network-as-a-torchnnmodule", "#46-sspredtrain-with-enginetorch"]
    # The entries read as the headings do, code included (escaped: the theme writes titles as HTML).
    assert [top.title, *(c.title for c in top.children)] == [
        "4. PyTorch", "4.2 The 1988 network as a torch.nn.Module", "sspred.train with a&lt;b"]


def test_solution_cells_are_folded_and_nothing_else_is():
    notebook_solutions = hook("notebook_solutions")
    stub = '<div class="jp-Cell jp-CodeCell jp-Notebook-cell"><div class="jp-InputArea">stub</div></div>'
    solution = ('<div class="jp-Cell jp-CodeCell jp-Notebook-cell celltag_solution" id="c2"><div><div>'
                '<pre>answer</pre></div></div><div class="jp-OutputArea">out</div></div>')
    check = '<div class="jp-Cell jp-CodeCell jp-Notebook-cell"><pre>assert ok</pre></div>'
    folded, n = notebook_solutions.fold_solutions(stub + solution + check + solution)
    assert n == 2
    wrapped = f'<details class="solution"><summary>Solution</summary>\n{solution}</details>'
    assert folded == stub + wrapped + check + wrapped
    assert notebook_solutions.fold_solutions(stub + check) == (stub + check, 0)


LAZY_PACKAGE = {
    "__init__.py": '"""A package whose public names load on first use."""\n\nimport importlib\n\n'
                   '__all__ = ["helper", "Thing", "VERSION"]\nVERSION = "1"\n\n\ndef __getattr__(name):\n'
                   '    if name in ("helper", "Thing"):\n'
                   '        return getattr(importlib.import_module("lazypkg.impl"), name)\n'
                   '    raise AttributeError(name)\n',
    "impl.py": 'def helper(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n\n\n'
               'class Thing:\n    """A thing."""\n',
    "__main__.py": "raise SystemExit('__main__ must not be imported')\n",
}


def test_lazy_public_names_become_aliases_for_the_reference(tmp_path, monkeypatch):
    griffe = docs_module("griffe")
    lazy_exports = hook("lazy_exports")
    (tmp_path / "lazypkg").mkdir()
    for name, text in LAZY_PACKAGE.items():
        (tmp_path / "lazypkg" / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    plain = griffe.load("lazypkg", search_paths=[str(tmp_path)])
    assert "helper" not in plain.members  # what static analysis alone sees
    pkg = griffe.load("lazypkg", search_paths=[str(tmp_path)],
                      extensions=griffe.load_extensions(lazy_exports.LazyExports))
    assert pkg["helper"].target_path == "lazypkg.impl.helper"
    assert pkg["helper"].docstring.value == "Twice x."
    assert pkg["Thing"].target_path == "lazypkg.impl.Thing"
    assert [str(e) for e in pkg.exports] == ["helper", "Thing", "VERSION"]


def test_every_public_sspred_name_reaches_the_reference():
    import sspred

    griffe = docs_module("griffe")
    lazy_exports = hook("lazy_exports")
    pkg = griffe.load("sspred", search_paths=[str(REPO / "src")],
                      extensions=griffe.load_extensions(lazy_exports.LazyExports))
    for name in getattr(sspred, "__all__", []):
        obj = getattr(sspred, name)
        if getattr(obj, "__module__", "sspred") in ("sspred", None) or not hasattr(obj, "__qualname__"):
            continue
        assert name in pkg.members, f"sspred.{name} is missing from the API reference"
        assert pkg[name].target_path == f"{obj.__module__}.{obj.__qualname__}"


def test_bundled_katex_is_the_release_its_source_file_names():
    """docs/vendor/katex holds exactly the files SOURCE.txt lists, byte for byte, plus the licence."""
    source = KATEX_SOURCE.read_text(encoding="utf-8")
    version = re.match(r"KaTeX (\d+\.\d+\.\d+):", source).group(1)
    assert f"katex-{version}.tgz" in source
    listed = {path: digest for digest, path in re.findall(r"^  ([0-9a-f]{64})  (\S+)$", source, re.MULTILINE)}
    assert {"katex.min.js", "katex.min.css", "contrib/auto-render.min.js", "fonts/KaTeX_Main-Regular.woff2"} \
        <= set(listed)
    for path, digest in listed.items():
        assert hashlib.sha256((KATEX / path).read_bytes()).hexdigest() == digest, f"{path} differs from SOURCE.txt"
    present = {f.relative_to(KATEX).as_posix() for f in KATEX.rglob("*") if f.is_file()}
    assert present == set(listed) | {"LICENSE", "SOURCE.txt"}
    assert "MIT License" in (KATEX / "LICENSE").read_text(encoding="utf-8")
    # The script itself says which release it is.
    assert f'version:"{version}"' in (KATEX / "katex.min.js").read_text(encoding="utf-8")


def test_notebook_pages_lose_nbconvert_mathjax_loader():
    notebook_math = hook("notebook_math")
    loader = ('  <!-- Load mathjax -->\n    <script src=""> </script>\n    <!-- MathJax configuration -->\n'
              '    <script type="text/x-mathjax-config">\n    init_mathjax = function() {};\n    </script>\n'
              '    <!-- End of mathjax configuration -->\n')
    body = '<div class="jupyter-wrapper"><p>$x^2$</p></div>'
    assert notebook_math.without_mathjax(f"<style></style>\n{loader}{body}") == f"<style></style>\n{body}"
    assert notebook_math.without_mathjax(body) == body


# --- the real build ---

@pytest.fixture(scope="module")
def site(data_dir, tmp_path_factory) -> tuple[Path, str]:
    """The site built by `mkdocs build --strict`, executing every notebook once; (folder, build log)."""
    require_docs_extra()
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(REPO / "mkdocs.yml"), "--site-dir", str(out)],
                          cwd=REPO, env=build_env(data_dir), capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    log = proc.stdout + proc.stderr
    # The ERROR and WARNING lines say what failed (a notebook's cell, a broken link); the tail gives the traceback.
    said = "\n".join(line for line in log.splitlines() if line.startswith(("ERROR", "WARNING")))
    assert proc.returncode == 0, f"mkdocs build --strict failed (exit {proc.returncode}):\n{said}\n...\n{log[-6000:]}"
    return out, log


@pytest.mark.slow
def test_site_builds_strictly_with_every_page_and_no_broken_link(site):
    out, log = site
    # The link check ran over the built HTML and found every internal link and image.
    assert "link check: " in log and ", 0 broken" in log, log[-5000:]
    # The README is the home page, included: its opening sentence is there.
    opening = REPO.joinpath("README.md").read_text(encoding="utf-8").split("\n\n")[1].split("\n")[0]
    assert opening.split("(")[0] in (out / "index.html").read_text(encoding="utf-8")
    assert notebooks(), "no course notebooks in docs/course/"
    for nb in notebooks():
        assert (out / "course" / nb.stem / "index.html").is_file(), nb.name
    for page in ["models", "benchmarks", "course", "reference", "about", "experiments"]:
        assert (out / page / "index.html").is_file(), page


@pytest.fixture(scope="module")
def base_url(site):
    out, _ = site
    handler = functools.partial(Quiet, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    # Only the site itself: a page that needs another host (a CDN's math renderer, a web font) fails its test.
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url + "/")
                  else route.abort())
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("notebook", [nb.stem for nb in notebooks()] or ["(none)"])
def test_course_page_shows_its_figures(page, base_url, notebook):
    assert notebook != "(none)", "no course notebooks in docs/course/"
    response = page.goto(f"{base_url}/course/{notebook}/")
    assert response.ok
    figures = page.locator("article img")
    assert figures.count() > 0, f"{notebook}: no figure on the page"
    sizes = figures.evaluate_all("els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
    for i, (complete, width, height) in enumerate(sizes):
        assert complete and width > 0 and height > 0, f"{notebook}: image {i} did not load"
    # The download button serves the notebook's own jupytext source.
    download = page.locator("a.md-content__button[download]")
    assert download.count() == 1, f"{notebook}: no download button"
    served = page.request.get(f"{base_url}/course/{notebook}/{download.get_attribute('href')}")
    assert served.ok and served.text() == (COURSE / f"{notebook}.py").read_text(encoding="utf-8")
    # Solutions stay hidden until clicked.
    solutions = page.locator("article details")
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        assert solution.get_attribute("open") is None, f"{notebook}: solution {i} is shown open"
        assert all(not code.is_visible() for code in solution.locator("pre").all()), f"{notebook}: solution {i}"


#: Pages with formulas: every course notebook, and the Markdown pages that hold TeX ($...$ as GitHub reads it).
FORMULA_PAGES = [f"course/{nb.stem}/" for nb in notebooks()] + ["hopfield/"]
#: A page's text outside code and rendered math: notebook cells' copy-button sources are code too.
TEXT_OUTSIDE_MATH = """article => {
    let text = "";
    const walk = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        if (!walk.currentNode.parentElement.closest("pre, code, script, style, .katex, .clipboard-copy-txt"))
            text += walk.currentNode.data;
    }
    return text;
}"""


@pytest.mark.slow
@pytest.mark.parametrize("path", FORMULA_PAGES)
def test_page_renders_its_formulas_with_the_site_own_katex(page, base_url, path):
    assert page.goto(f"{base_url}/{path}").ok
    article = page.locator("article")
    assert article.locator(".katex").count() > 0, f"{path}: no rendered formula"
    errors = article.locator(".katex-error").all_inner_texts()
    assert errors == [], f"{path}: KaTeX could not read {errors}"
    # No TeX is left as text: no $, $$, \begin{aligned}, \frac... outside code (hidden solutions included).
    raw = re.findall(r"\$+|\\[A-Za-z]+", article.evaluate(TEXT_OUTSIDE_MATH))
    assert raw == [], f"{path}: raw TeX left on the page: {raw[:10]}"
    assert "$$" not in article.inner_text() and "\\begin" not in article.inner_text()
    # KaTeX's own fonts, from the site (other hosts are cut off): the formulas are not drawn in a fallback font.
    fonts = page.evaluate("document.fonts.ready.then(fs => [...fs].filter(f => f.status === 'loaded')"
                          ".map(f => f.family.replaceAll('\"', '')))")
    assert "KaTeX_Main" in fonts, f"{path}: KaTeX's fonts did not load: {fonts}"


#: Pages whose layout is checked at a desktop and a phone width: every course notebook, and the guides with
#: display formulas or figures.
LAYOUT_PAGES = [f"course/{nb.stem}/" for nb in notebooks()] + ["hopfield/", "evaluation-figures/"]
#: Viewport widths: a laptop, and a phone held upright.
WIDTHS = [1280, 390]
#: A figure drawn at least this wide (natural size, px) must show at least READABLE_PX wide at 1280 px.
WIDE_FIGURE_PX = 1000
READABLE_PX = 700
#: Every display formula whose content does not fit its box must sit in a box that scrolls sideways; one
#: cut by an ancestor's overflow:hidden (or spilling past the column) is reported with its text.
CLIPPED_FORMULAS = r"""article => {
    const out = [];
    for (const display of article.querySelectorAll(".katex-display, div.arithmatex")) {
        if (display.matches("div.arithmatex") && display.querySelector(".katex-display")) continue;
        const html = display.querySelector(".katex-html");
        if (!html) continue;
        const range = document.createRange();
        range.selectNodeContents(html);
        const content = range.getBoundingClientRect();
        // The nearest box that clips or scrolls: the formula's own (a scroll box, as wanted) or an ancestor's.
        let box = null;
        for (let e = display; e && e !== document.documentElement && !box; e = e.parentElement)
            if (getComputedStyle(e).overflowX !== "visible") box = e;
        const own = box !== null && box.matches(".katex-display, div.arithmatex");
        const scrolls = own && ["auto", "scroll"].includes(getComputedStyle(box).overflowX);
        const edge = (box && !own ? box : article).getBoundingClientRect();
        const fits = content.left >= edge.left - 1 && content.right <= edge.right + 1;
        if (!fits && !scrolls)
            out.push(`${html.textContent.slice(0, 60)} (content ${Math.round(content.width)} px, box `
                     + `${Math.round(edge.width)} px, cut by ${box ? box.tagName + "." + box.className : "the column"})`);
    }
    return out;
}"""
#: Printed output (and every other output text): lines as printed, none broken over two lines on screen.
WRAPPED_OUTPUT = r"""article => {
    const out = [];
    for (const pre of article.querySelectorAll(".jp-OutputArea-output pre")) {
        const lines = pre.textContent.replace(/\n+$/, "").split("\n");
        const range = document.createRange();
        range.selectNodeContents(pre);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        const style = getComputedStyle(pre).whiteSpace;
        if (style !== "pre" || tops.size > lines.length)
            out.push(`white-space ${style}, ${lines.length} lines shown on ${tops.size}: ${lines[0].slice(0, 60)}`);
    }
    return out;
}"""
#: (natural width, shown width, alt or the start of src) of every image of the article.
FIGURE_SIZES = """article => [...article.querySelectorAll("img")].map(
    img => [img.naturalWidth, img.getBoundingClientRect().width, img.alt || img.src.slice(0, 40)])"""
#: (heading id, heading text, text of its entry in the page's contents list or null) for every h2-h6: the
#: contents list (Material's secondary navigation) leaves the page's h1 out, it is the page's title.
HEADINGS_AND_CONTENTS = r"""article => [...article.querySelectorAll("h2[id], h3[id], h4[id], h5[id], h6[id]")]
    .filter(h => !h.closest("details"))
    .map(h => {
        const copy = h.cloneNode(true);
        copy.querySelectorAll(".anchor-link, .headerlink").forEach(a => a.remove());
        const entry = document.querySelector(`.md-nav--secondary a.md-nav__link[href="#${CSS.escape(h.id)}"]`);
        const norm = t => t.replace(/\s+/g, " ").trim();
        return [h.id, norm(copy.textContent), entry ? norm(entry.textContent) : null];
    })"""


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def page_at_width(request, browser, base_url):
    """A page of the given viewport width (the site alone reachable), and that width."""
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url + "/")
                  else route.abort())
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p, request.param
    context.close()


def open_rendered(page, url: str):
    """Open ``url`` and wait for its formulas (KaTeX, docs/javascripts/math.js) and images to be drawn."""
    assert page.goto(url).ok, url
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    return page.locator("article")


@pytest.mark.slow
@pytest.mark.parametrize("path", LAYOUT_PAGES)
def test_page_layout_formulas_output_figures_contents(page_at_width, base_url, path):
    page, width = page_at_width
    article = open_rendered(page, f"{base_url}/{path}")
    clipped = article.evaluate(CLIPPED_FORMULAS)
    assert clipped == [], f"{path} at {width} px: display formulas cut off:\n" + "\n".join(clipped)
    wrapped = article.evaluate(WRAPPED_OUTPUT)
    assert wrapped == [], f"{path} at {width} px: printed output wraps:\n" + "\n".join(wrapped)
    if width == 1280:
        small = [(natural, round(shown), name) for natural, shown, name in article.evaluate(FIGURE_SIZES)
                 if natural >= WIDE_FIGURE_PX and shown < READABLE_PX]
        assert small == [], f"{path}: figures drawn {WIDE_FIGURE_PX}+ px wide shown under {READABLE_PX} px: {small}"
    mismatched = [(id_, text, entry) for id_, text, entry in article.evaluate(HEADINGS_AND_CONTENTS)
                  if text != entry]
    assert mismatched == [], f"{path}: headings whose contents entry differs (id, heading, entry): {mismatched}"


@pytest.mark.slow
def test_evaluation_figures_page_shows_its_four_figures(page, base_url):
    article = open_rendered(page, f"{base_url}/evaluation-figures/")
    shown = {name.rsplit("/", 1)[-1]: (complete, natural) for complete, natural, name in article.locator("img")
             .evaluate_all("els => els.map(e => [e.complete, e.naturalWidth, e.getAttribute('src')])")}
    for name in ["eval-prediction-ts115-001.png", "eval-confusion8-cb513.png", "eval-calibration-fast-cb513.png",
                 "eval-history-dssp8.png"]:
        assert name in shown and shown[name][0] and shown[name][1] > 0, f"{name} is not shown: {shown}"


@pytest.mark.slow
def test_diagrams_show_in_their_chapters(page, base_url):
    for chapter, diagram in [("01_data", "chain_dssp.svg"), ("02_perceptron_to_mlp", "network_1988.svg"),
                             ("03_backprop_by_hand", "backprop_graph.svg"),
                             ("06_overfitting_and_toolkit", "dropout.svg")]:
        article = open_rendered(page, f"{base_url}/course/{chapter}/")
        image = article.locator(f'img[src$="figures/{diagram}"]')
        assert image.count() == 1, f"{chapter}: no {diagram}"
        assert image.evaluate("e => e.complete && e.naturalWidth > 0"), f"{chapter}: {diagram} did not load"


@pytest.mark.slow
def test_api_reference_lists_the_public_api(page, base_url):
    assert page.goto(f"{base_url}/reference/").ok
    for name in PUBLIC_API:
        entry = page.locator(f'[id="sspred.{name}"]')
        assert entry.count() == 1, f"the API reference has no entry for sspred.{name}"
        assert f"sspred.{name}" in entry.inner_text()


@pytest.mark.slow
def test_a_raising_notebook_fails_the_build_naming_notebook_and_cell(tmp_path, monkeypatch, caplog):
    """The real mkdocs.yml and hooks over a docs folder holding one notebook whose second code cell raises."""
    require_docs_extra()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort

    docs = tmp_path / "docs"
    (docs / "course").mkdir(parents=True)
    notebook = docs / "course" / "01_raises.py"
    notebook.write_text(
        "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n"
        "#     name: python3\n# ---\n\n# %% [markdown]\n# # A notebook that fails\n\n"
        "# %%\ntotal = 1\n\n# %%\nprint(total)\nratio = total / 0\n")
    for name, value in build_env().items():
        monkeypatch.setenv(name, value)
    config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(tmp_path / "site"),
                         nav=[{"Raises": "course/01_raises.py"}])
    with caplog.at_level(logging.ERROR), pytest.raises(Abort):
        build(config)
    errors = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    assert f"notebook {notebook}, cell 3 (line 17) raised ZeroDivisionError: division by zero" in errors, errors


@pytest.mark.slow
def test_solution_cells_fold_in_a_real_build(tmp_path, monkeypatch):
    """The real mkdocs.yml and hooks over one notebook with an exercise: its solution cell, and only it, folded."""
    require_docs_extra()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    docs = tmp_path / "docs"
    (docs / "course").mkdir(parents=True)
    (docs / "course" / "01_exercise.py").write_text(
        "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n"
        "#     name: python3\n# ---\n\n# %% [markdown]\n# # An exercise\n#\n# ### Exercise 1.1 — double\n\n"
        "# %%\ndef double(x):\n    ...  # your code here\n\n# %% tags=[\"solution\"]\n"
        "def double(x):\n    return 2 * x  # the-solution-line\n\n# %%\n# Check.\nassert double(2) == 4\n"
        "print('checked')\n")
    for name, value in build_env().items():
        monkeypatch.setenv(name, value)
    # Not strict: this docs folder lacks the site's stylesheets and scripts, which the link check would report.
    config = load_config(str(REPO / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(tmp_path / "site"),
                         nav=[{"Exercise": "course/01_exercise.py"}], strict=False)
    build(config)
    page = (tmp_path / "site" / "course" / "01_exercise" / "index.html").read_text(encoding="utf-8")
    assert page.count('<details class="solution">') == 1
    folded = page[page.index('<details class="solution">'):page.index("</details>")]
    assert "the-solution-line" in folded and "celltag_solution" in folded
    assert "your code here" not in folded and "checked" not in folded
    assert "your code here" in page and "checked" in page  # the stub and the check's output, outside
