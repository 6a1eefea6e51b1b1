"""Themes shipped in `themes/` (and the user's own in `<config dir>/themes/`), as Textual Themes."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from textual.theme import Theme

_THEME_FIELDS = {f.name for f in fields(Theme)}


def builtin_theme_dir() -> Path:
    """`tui/themes_builtin` inside an installed wheel, else the repository's `themes/`."""
    package_dir = Path(__file__).resolve().parent.parent
    installed = package_dir / "themes_builtin"
    return installed if installed.is_dir() else package_dir.parent / "themes"


def load_theme_file(path: Path) -> Theme:
    """Parse one theme TOML file; raises ValueError with the file name on any problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc
    unknown = set(data) - _THEME_FIELDS
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {', '.join(sorted(unknown))}")
    if "name" not in data or "primary" not in data:
        raise ValueError(f"{path.name}: a theme needs at least `name` and `primary`")
    try:
        return Theme(**data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc


def load_themes(*dirs: Path) -> tuple[list[Theme], list[str]]:
    """All themes found in `dirs` (later dirs override earlier ones) and the problems met."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                problems.append(str(exc))
            else:
                themes[theme.name] = theme
    return list(themes.values()), problems
