"""The service layer must stay usable without a terminal: no textual (or rich) imports."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import tui.service
import tui.simulator

FORBIDDEN = {"textual", "rich"}
SERVICE_DIR = Path(tui.service.__file__).parent
SIMULATOR_DIR = Path(tui.simulator.__file__).parent
#: Every package of the service layer (found, not listed: a new one is checked too).
PACKAGES = sorted(info.name for info in pkgutil.walk_packages(tui.service.__path__, "tui.service.") if info.ispkg)


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


def test_the_service_packages_are_all_found() -> None:
    assert {"tui.service.bench", "tui.service.chat", "tui.service.config", "tui.service.history",
            "tui.service.metrics", "tui.service.monitor", "tui.service.ollama", "tui.service.openai",
            "tui.service.providers", "tui.service.pulls", "tui.service.tools"} <= set(PACKAGES)
    on_disk = {f"tui.service.{p.parent.name}" for p in SERVICE_DIR.glob("*/__init__.py")}
    assert on_disk <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_service_package_has_a_public_face(name: str) -> None:
    """Each package says what it offers (`__all__`), and every name there can be had."""
    package = importlib.import_module(name)
    exported = package.__dict__.get("__all__")
    assert exported, f"{name} has no __all__ (what it offers)"
    assert len(set(exported)) == len(exported), f"{name}.__all__ names something twice"
    missing = []
    for attr in exported:
        try:
            getattr(package, attr)
        except AttributeError:
            missing.append(attr)
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"


def test_the_simulator_has_a_public_face() -> None:
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
