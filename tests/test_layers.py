"""The layers point down only: the domain imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ABOVE = {
    "models": ("famassign.solver", "famassign.scenarios", "famassign.commands", "famassign.cli"),
    "solver": ("famassign.scenarios", "famassign.commands", "famassign.cli"),
}


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_no_layer_imports_a_layer_above_it() -> None:
    found = []
    for layer, forbidden in ABOVE.items():
        for path in sorted((ROOT / layer).glob("*.py")):
            found += [f"{path.name}: {m}" for m in _imports(path) if m.startswith(forbidden)]
    assert found == []
