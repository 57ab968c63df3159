"""The package's import graph, read from the source with ``ast`` (nothing is imported): imports flow down.

docs/architecture.md ("The layers", "What may import what"): cli and serve -> library (train, predict,
evaluate) -> model -> engines -> features, alphabet, errors. An engine never imports what sits above it, the
two engines never import each other, torch is imported only under sspred/engines/torch and matplotlib only
inside functions. No two modules need each other, through any path, and neither do two parts of the package
(a subpackage counts as one part); an import under ``if TYPE_CHECKING:`` counts, as the type it names ties
the two modules together all the same.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "sspred"

#: What no module under sspred.engines may import: the layers above the engines.
ABOVE_ENGINES = ("sspred.config", "sspred.schedules", "sspred.model", "sspred.predict",
                 "sspred.training", "sspred.stages", "sspred.evaluation", "sspred.cascade", "sspred.recipes",
                 "sspred.cli", "sspred.serve",
                 "sspred.io.formats")
#: The layer below the engines: these import nothing under sspred.engines.
BELOW_ENGINES = ("sspred.alphabet", "sspred.errors", "sspred.features", "sspred.heads", "sspred.layout")
#: Third-party packages that only the torch engine imports.
TORCH = ("torch",)


@dataclass(frozen=True)
class Edge:
    source: str  # the importing module, e.g. "sspred.model"
    target: str  # the imported module, e.g. "sspred.engines.numpy.paths" or "numpy"
    lazy: bool  # inside a function (runs on call, not on import)
    line: int
    typing: bool = False  # under `if TYPE_CHECKING:` (never runs; the annotation still ties the two modules)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module of ``from X import ...``, relative imports included."""
    if not node.level:
        return node.module or ""
    base = source.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def edges(known: dict[str, Path]) -> list[Edge]:
    """Every import of every module. ``from pkg import name`` points at ``pkg.name`` where that is a module
    (a submodule import), else at ``pkg``."""
    out = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(), str(path))
        lazy_lines: set[int] = set()
        typing_only: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                lazy_lines.update(range(node.lineno, node.end_lineno + 1))
            # `if TYPE_CHECKING:` imports never run, but the two modules still need each other's names.
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                typing_only.update(range(node.lineno, node.end_lineno + 1))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            else:
                continue
            for target in targets:
                out.append(Edge(name, target, node.lineno in lazy_lines, node.lineno, node.lineno in typing_only))
    return out


def within(module: str, prefixes) -> bool:
    """True when ``module`` is one of ``prefixes`` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for root in sorted(graph):
        if state.get(root):
            continue
        path, stack = [root], [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list[Edge]]:
    known = modules()
    return known, edges(known)


def _where(known, e: Edge) -> str:
    return f"{known[e.source].relative_to(SRC)}:{e.line} imports {e.target}"


def test_the_parser_sees_the_package(graph):
    """The graph is the real one: known modules and edges that exist in the source today."""
    known, found = graph
    assert {"sspred.model", "sspred.engines.numpy.network", "sspred.engines.torch.network", "sspred.layout"} <= set(known)
    pairs = {(e.source, e.target) for e in found}
    assert ("sspred.model", "sspred.engines.numpy.paths") in pairs
    assert ("sspred.engines.torch.network", "torch") in pairs
    assert any(e.source == "sspred.plots" and e.target.startswith("matplotlib") and e.lazy for e in found)


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_module_imports_itself_in_a_circle(graph):
    """Lazy imports too: a cycle through a function body is still two modules that need each other."""
    known, found = graph
    adjacency: dict[str, set[str]] = {m: set() for m in known}
    for e in found:
        if e.target in known and e.target != e.source:
            adjacency[e.source].add(e.target)
    assert find_cycle(adjacency) is None, " -> ".join(find_cycle(adjacency))


def part(module: str) -> str:
    """The part of the package a module belongs to: a top-level module, or a subpackage as a whole
    (``sspred.io.find`` -> ``sspred.io``)."""
    return ".".join(module.split(".")[:2])


def test_no_two_parts_of_the_package_need_each_other(graph):
    """Modules grouped into their top-level module or subpackage: io, engines, cli and serve each act as one
    part, and no path of imports leads from one part back to itself."""
    known, found = graph
    adjacency: dict[str, set[str]] = {part(m): set() for m in known}
    for e in found:
        if e.target in known and part(e.target) != part(e.source):
            adjacency[part(e.source)].add(part(e.target))
    assert find_cycle(adjacency) is None, " -> ".join(find_cycle(adjacency))


def test_type_checking_imports_are_in_the_graph(graph):
    """The cycle tests see ``if TYPE_CHECKING:`` imports: sspred.schedules names TrainConfig's type that way."""
    _, found = graph
    assert any(e.source == "sspred.schedules" and e.target == "sspred.config" and e.typing for e in found)


def test_engines_import_nothing_above_them(graph):
    known, found = graph
    bad = [_where(known, e) for e in found if within(e.source, ["sspred.engines"]) and within(e.target, ABOVE_ENGINES)]
    assert bad == []


def test_features_level_modules_import_no_engine(graph):
    known, found = graph
    bad = [_where(known, e) for e in found if within(e.source, BELOW_ENGINES) and within(e.target, ["sspred.engines"])]
    assert bad == []


def test_the_config_imports_no_engine_table(graph):
    """The config checks names against sspred.names; the only engine module it reads is the layer-spec helper
    every engine shares."""
    known, found = graph
    bad = [_where(known, e) for e in found if e.source == "sspred.config" and within(e.target, ["sspred.engines"])
           and e.target != "sspred.engines.spec"]
    assert bad == []


def test_every_name_table_is_keyed_by_its_names():
    """sspred.names lists what a user may type; each table that implements those names has exactly those keys."""
    from sspred import engines, names, schedules
    from sspred.engines.numpy import activations
    from sspred.engines.numpy import optim as numpy_optim

    assert tuple(engines.ENGINES) == names.ENGINES
    assert tuple(activations.ACTIVATIONS) == names.ACTIVATIONS
    assert tuple(numpy_optim.OPTIMIZERS) == names.OPTIMIZERS
    assert tuple(schedules.SCHEDULES) == names.SCHEDULES
    torch_optim = pytest.importorskip("sspred.engines.torch.optim")
    torch_layers = pytest.importorskip("sspred.engines.torch.layers")
    assert tuple(torch_optim.OPTIMIZERS) == names.OPTIMIZERS
    assert set(names.ACTIVATIONS) <= set(torch_layers.LAYERS)


def test_the_two_engines_never_import_each_other(graph):
    known, found = graph
    numpy_, torch_ = "sspred.engines.numpy", "sspred.engines.torch"
    bad = [_where(known, e) for e in found
           if (within(e.source, [numpy_]) and within(e.target, [torch_]))
           or (within(e.source, [torch_]) and within(e.target, [numpy_]))]
    assert bad == []


def test_torch_is_imported_only_by_the_torch_engine(graph):
    """torch itself only under sspred/engines/torch; anything else reaches that engine only lazily,
    inside a function (``--engine torch``, the torch export), so ``import sspred`` never loads torch."""
    known, found = graph
    engine = ["sspred.engines.torch"]
    direct = [_where(known, e) for e in found if within(e.target, TORCH) and not within(e.source, engine)]
    eager = [_where(known, e) for e in found
             if within(e.target, engine) and not within(e.source, engine) and not e.lazy]
    assert direct == [] and eager == []


def test_matplotlib_is_imported_only_inside_functions(graph):
    known, found = graph
    bad = [_where(known, e) for e in found if within(e.target, ["matplotlib"]) and not e.lazy]
    assert bad == []
