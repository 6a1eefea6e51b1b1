"""The service layer must stay usable without a terminal: no textual (or rich) imports."""

from __future__ import annotations

import ast
from pathlib import Path

import tui.service
import tui.simulator

FORBIDDEN = {"textual", "rich"}
SERVICE_DIR = Path(tui.service.__file__).parent
SIMULATOR_DIR = Path(tui.simulator.__file__).parent
PACKAGES = ("ollama", "history", "config", "monitor", "pulls", "bench", "chat", "providers")


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (  # importlib.import_module("textual...") / __import__("textual")
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in {"__import__", "import_module"})
            )
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_every_service_package_has_a_public_face() -> None:
    """Each package says what it offers (`__all__`), and every name there can be had."""
    import importlib

    for name in PACKAGES:
        package = importlib.import_module(f"tui.service.{name}")
        assert (SERVICE_DIR / name / "__init__.py").exists()
        for exported in getattr(package, "__all__", ()):
            assert getattr(package, exported) is not None, f"tui.service.{name}.{exported}"
    assert tui.simulator.Simulator.__name__ == "Simulator"


def test_no_service_module_imports_textual_or_rich() -> None:
    offenders = []
    files = sorted([*SERVICE_DIR.rglob("*.py"), *SIMULATOR_DIR.rglob("*.py")])
    assert files
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        bad = _imported_roots(tree) & FORBIDDEN
        if bad:
            offenders.append(f"{path.relative_to(SERVICE_DIR.parent.parent)} imports {', '.join(sorted(bad))}")
    assert not offenders, "tui/service and tui/simulator must not import textual or rich:\n" + "\n".join(offenders)


def test_checker_catches_textual_imports() -> None:
    for src in (
        "import textual",
        "from textual.app import App",
        "import rich.text",
        "import importlib\nimportlib.import_module('textual.widgets')",
    ):
        assert _imported_roots(ast.parse(src)) & FORBIDDEN, src
    assert not _imported_roots(ast.parse("from . import textual_free\nimport httpx")) & FORBIDDEN
