"""No import cycles among the modules of tui/ (the simulator, the service layer, the UI).

Imports are read from the source (AST), at module level and under `if TYPE_CHECKING:` (a cycle
that only type checkers see still ties the modules together); imports inside functions are
the deliberate lazy ones and are left out. `from pkg import name` counts as an import of
`pkg.name` when that is a module, of the module a lazy package face names for it (its
`_WHERE = {"name": "module"}`), else of `pkg`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TREES = ("tui",)  # the simulator, the service layer and the UI, as one graph


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, ast.If):  # `if TYPE_CHECKING:` and the like
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return found


def _lazy_names(tree: ast.Module) -> dict[str, str]:
    """A package face's `_WHERE = {"Name": "module", ...}`."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_WHERE" for t in node.targets)
                and isinstance(node.value, ast.Dict)):
            return {k.value: v.value for k, v in zip(node.value.keys, node.value.values)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}
    return {}


def _target(base: str, name: str, modules: dict[str, Path], lazy: dict[str, dict[str, str]]) -> str:
    if f"{base}.{name}" in modules:
        return f"{base}.{name}"
    if name in lazy.get(base, {}):
        return f"{base}.{lazy[base][name]}"
    return base


def import_graph(trees: tuple[str, ...] = TREES) -> dict[str, set[str]]:
    paths = [p for tree in trees for p in sorted((ROOT / tree).rglob("*.py"))]
    modules = {_module_name(p): p for p in paths}
    lazy = {name: _lazy_names(ast.parse(path.read_text(encoding="utf-8")))
            for name, path in modules.items() if path.name == "__init__.py"}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _top_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [_target(base, a.name, modules, lazy) for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.parametrize("tree", TREES)
def test_no_import_cycle(tree: str) -> None:
    cycle = find_cycle(import_graph((tree,)))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_sees_a_cycle() -> None:
    """Through a lazy package face too: before the simulator's types moved to wire.py, http.py's
    `from tui.simulator import Simulator` closed http -> ollama -> state -> http."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
