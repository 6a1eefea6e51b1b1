"""paths: XDG dirs and env overrides, read at call time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.service import paths

XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "OLLAMA_TUI_CONFIG", "OLLAMA_TUI_DB")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in XDG:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_defaults_follow_home_at_call_time(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.config_dir() == home / ".config" / "ollama-tui"
    assert paths.data_dir() == home / ".local" / "share" / "ollama-tui"
    assert paths.state_dir() == home / ".local" / "state" / "ollama-tui"
    assert paths.default_config_path() == home / ".config" / "ollama-tui" / "config.toml"
    assert paths.default_db_path() == home / ".local" / "share" / "ollama-tui" / "history.sqlite3"
    monkeypatch.setenv("HOME", str(home / "other"))
    assert paths.config_dir() == home / "other" / ".config" / "ollama-tui"


def test_xdg_variables(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "d"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "s"))
    assert paths.config_dir() == home / "c" / "ollama-tui"
    assert paths.data_dir() == home / "d" / "ollama-tui"
    assert paths.state_dir() == home / "s" / "ollama-tui"
    assert paths.default_config_path() == home / "c" / "ollama-tui" / "config.toml"
    assert paths.default_db_path() == home / "d" / "ollama-tui" / "history.sqlite3"
    assert paths.log_path().parent == home / "s" / "ollama-tui"
    assert paths.user_themes_dir() == home / "c" / "ollama-tui" / "themes"


@pytest.mark.parametrize("value", ["", "relative/dir"])
def test_empty_or_relative_xdg_is_ignored(home: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", value)
    assert paths.config_dir() == home / ".config" / "ollama-tui"


def test_explicit_file_overrides(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_TUI_CONFIG", str(home / "x.toml"))
    monkeypatch.setenv("OLLAMA_TUI_DB", "~/h.db")
    assert paths.default_config_path() == home / "x.toml"
    assert paths.default_db_path() == home / "h.db"


def test_example_config_text_is_the_repo_file() -> None:
    repo_file = Path(__file__).resolve().parents[2] / "config.example.toml"
    assert paths.example_config_text() == repo_file.read_text(encoding="utf-8")
    assert "[server]" in paths.example_config_text()


def test_builtin_themes_dir_exists() -> None:
    assert paths.builtin_themes_dir().is_dir()
