// Renders every page's TeX with the KaTeX served by the site itself (docs/vendor/katex), so that formulas need
// no other host.
// - Markdown pages: pymdownx.arithmatex (generic mode, mkdocs.yml) wraps each formula in an element of class
//   "arithmatex", as \( ... \) or \[ ... \].
// - Course notebooks: nbconvert leaves the Markdown cells' $ ... $ and $$ ... $$ as written (Jupyter's own
//   delimiters), so those are read inside notebook Markdown cells only, and a dollar sign anywhere else stays
//   one. Code in a cell is not read: auto-render skips <pre> and <code>.
(function () {
  "use strict";
  // $$ before $, so that a display formula is not read as two empty inline ones.
  const DOLLARS = [
    { left: "$$", right: "$$", display: true },
    { left: "$", right: "$", display: false },
    { left: "\\[", right: "\\]", display: true },
    { left: "\\(", right: "\\)", display: false },
  ];
  // A formula KaTeX cannot read shows in red (class katex-error), and the rest of the page still renders.
  const OPTIONS = { throwOnError: false };

  function render(root) {
    // An arithmatex element holds exactly one formula, "\(...\)" inline (a span) or "\[...\]" displayed (a
    // div). It is rendered in place: auto-render would wrap it in a span, which Material's rules for
    // div.arithmatex > * pad into blank lines above and below a displayed formula.
    for (const element of root.querySelectorAll(".arithmatex")) {
      const tex = element.textContent.trim().slice(2, -2);
      katex.render(tex, element, { ...OPTIONS, displayMode: element.tagName === "DIV" });
    }
    for (const element of root.querySelectorAll(".jupyter-wrapper .jp-MarkdownCell")) {
      renderMathInElement(element, { ...OPTIONS, delimiters: DOLLARS });
    }
  }

  // Material's document$ emits each page, also after an instant-navigation page change.
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () { render(document.body); });
  } else {
    render(document.body);
  }
})();
