"""Every file and folder ollama-tui uses, in one place: XDG dirs, each overridable by env vars.

Everything is computed at call time, so a changed $HOME or $XDG_* (tests, --config) applies.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

APP_NAME = "ollama-tui"
EXAMPLE_CONFIG_NAME = "config.example.toml"


def _xdg(variable: str, fallback: str) -> Path:
    # The XDG spec says a relative path in these variables is invalid and must be ignored.
    value = os.environ.get(variable, "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / APP_NAME


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/ollama-tui, default ~/.config/ollama-tui."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def data_dir() -> Path:
    """$XDG_DATA_HOME/ollama-tui, default ~/.local/share/ollama-tui."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def state_dir() -> Path:
    """$XDG_STATE_HOME/ollama-tui, default ~/.local/state/ollama-tui (logs)."""
    return _xdg("XDG_STATE_HOME", ".local/state")


def _env_path(variable: str) -> Path | None:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser() if value else None


def default_config_path() -> Path:
    """$OLLAMA_TUI_CONFIG, else config_dir()/config.toml."""
    return _env_path("OLLAMA_TUI_CONFIG") or config_dir() / "config.toml"


def default_db_path() -> Path:
    """$OLLAMA_TUI_DB, else data_dir()/history.sqlite3."""
    return _env_path("OLLAMA_TUI_DB") or data_dir() / "history.sqlite3"


def log_path() -> Path:
    """state_dir()/ollama-tui.log."""
    return state_dir() / f"{APP_NAME}.log"


def user_themes_dir() -> Path:
    """config_dir()/themes: the user's own theme files."""
    return config_dir() / "themes"


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]  # tui/service/paths.py → the folder holding tui/


def builtin_themes_dir() -> Path:
    """The shipped themes: tui/themes_builtin in a wheel, else themes/ in a source checkout."""
    packaged = Path(str(resources.files("tui"))) / "themes_builtin"
    return packaged if packaged.is_dir() else _repo_root() / "themes"


def example_config_text() -> str:
    """The shipped config.example.toml (tui/config.example.toml in a wheel, else the repo's).

    Raises FileNotFoundError if neither is there.
    """
    packaged = resources.files("tui") / EXAMPLE_CONFIG_NAME
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (_repo_root() / EXAMPLE_CONFIG_NAME).read_text(encoding="utf-8")
