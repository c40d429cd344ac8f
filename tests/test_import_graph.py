"""The import graph of the package: no circle between modules, and the layers import downwards only.

Every module of the one package is read with :mod:`ast`: ``models/``, ``solver/`` and
``scenarios/`` (installed as ``famassign.models``, ``famassign.solver``, ``famassign.scenarios``)
and the faces in ``famassign/``. Every import counts, including those inside functions (an import
moved into a function to dodge a circle is still a dependency); only imports under
``if TYPE_CHECKING:`` are left out, since they never run. An import of ``a.b.c`` is an edge to the
module ``a.b.c`` (the parent packages it initialises are not edges: every module would otherwise
depend on ``famassign/__init__.py``, the public API that imports everything).

The layers (docs/architecture.md): the domain (``models/``) imports nothing above it; the solver
only the domain and itself; the scenarios layer the domain, the solver and itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("models", "solver", "scenarios")
"""Top-level folders installed inside the package as ``famassign.<layer>`` (package-dir)."""

ALLOWED: dict[str, tuple[str, ...]] = {
    "famassign.models": ("famassign.models",),
    "famassign.solver": ("famassign.models", "famassign.solver"),
    "famassign.scenarios": ("famassign.models", "famassign.solver", "famassign.scenarios"),
}
"""Which parts of famassign each layer may import."""


def package_modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    modules: dict[str, Path] = {}
    roots = [(ROOT / "famassign", "famassign")] + [(ROOT / n, f"famassign.{n}") for n in LAYERS]
    for folder, prefix in roots:
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder)
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([prefix, *parts])] = path
    return modules


MODULES = package_modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import under `node` that can run (anywhere: module level, functions, classes)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(other)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _import_nodes(child)


def imports_of(name: str) -> set[str]:
    """The package modules that module `name` imports."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        found.update(t for t in targets if t in MODULES)
    found.discard(name)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_every_module() -> None:
    assert {"famassign", "famassign.cli", "famassign.models.domain", "famassign.solver.solve"} <= (
        set(MODULES)
    )
    assert "famassign.models" in GRAPH["famassign"]  # the API imports the layers
    assert GRAPH["famassign.cli"], "cli.py registers the commands"


def test_circles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_function_level_and_relative_imports_count(tmp_path: Path) -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import famassign.cli\n"
        "def f():\n    from famassign.scenarios import variants\n"
        "    from . import domain\n"
    )
    nodes = list(_import_nodes(ast.parse(source)))
    assert [type(n).__name__ for n in nodes] == ["ImportFrom", "ImportFrom", "ImportFrom"]
    assert "famassign.cli" not in {a.name for n in nodes for a in n.names}


def test_no_import_circle_between_modules() -> None:
    assert circles(GRAPH) == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_downwards(layer: str) -> None:
    wrong = {
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if module == layer or module.startswith(f"{layer}.")
        for target in targets
        if not any(target == ok or target.startswith(f"{ok}.") for ok in ALLOWED[layer])
    }
    assert sorted(wrong) == []


def test_the_server_never_imports_the_command_line_layer() -> None:
    """The server's pages and workers share the library and outputs layer with the command line
    (one loader, one re-plan writer: famassign.replan_outputs), never famassign.commands."""
    for name in MODULES:
        if name == "famassign.server" or name.startswith("famassign.server."):
            wrong = sorted(
                t for t in GRAPH[name] if t == "famassign.cli" or t.startswith("famassign.commands")
            )
            assert wrong == [], f"{name} imports {wrong}"
