"""The service layer must stay usable without a terminal: no textual (or rich) imports."""

from __future__ import annotations

import ast
from pathlib import Path

import tui.service

FORBIDDEN = {"textual", "rich"}
SERVICE_DIR = Path(tui.service.__file__).parent


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


def test_service_modules_exist() -> None:
    assert (SERVICE_DIR / "ollama.py").exists()


def test_no_service_module_imports_textual_or_rich() -> None:
    offenders = []
    files = sorted(SERVICE_DIR.rglob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        bad = _imported_roots(tree) & FORBIDDEN
        if bad:
            offenders.append(f"{path.relative_to(SERVICE_DIR.parent.parent)} imports {', '.join(sorted(bad))}")
    assert not offenders, "tui/service must not import textual or rich:\n" + "\n".join(offenders)


def test_checker_catches_textual_imports() -> None:
    for src in (
        "import textual",
        "from textual.app import App",
        "import rich.text",
        "import importlib\nimportlib.import_module('textual.widgets')",
    ):
        assert _imported_roots(ast.parse(src)) & FORBIDDEN, src
    assert not _imported_roots(ast.parse("from . import textual_free\nimport httpx")) & FORBIDDEN
