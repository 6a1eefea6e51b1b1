"""The command line as a user types it: --version, --help, a bad host, --demo in a terminal."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui import __version__


def run(*args: str, home) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          timeout=30, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, cwd=None)


def test_version_and_help(tmp_path):
    assert run("--version", home=tmp_path).stdout.strip() == f"ollama-tui {__version__}"
    help_text = run("--help", home=tmp_path).stdout
    for flag in ("--host", "--model", "--config", "--db", "--theme", "--demo", "--log-level", "--version"):
        assert flag in help_text


def test_bad_host_is_refused_with_a_message(tmp_path):
    result = run("--host", "http://[not-a-host", home=tmp_path)
    assert result.returncode == 2
    assert "ollama-tui:" in result.stderr and "Traceback" not in result.stderr


def test_log_level_flag_parsing(tmp_path):
    from tui.cli import build_parser

    assert build_parser().parse_args([]).log_level is None  # then [ui] log_level applies
    for value, parsed in (("debug", "debug"), ("INFO", "info"), ("Warning", "warning"), ("error", "error")):
        assert build_parser().parse_args(["--log-level", value]).log_level == parsed
    result = run("--log-level", "verbose", home=tmp_path)
    assert result.returncode == 2 and "invalid choice: 'verbose'" in result.stderr


def _main_with(monkeypatch, tmp_home, config_text: str, *flags: str, run=None):
    """tui.cli.main on a config file, the App's run replaced by `run(app)` (no terminal)."""
    import socket

    from tui import cli
    from tui.app import OllamaTUI

    config = tmp_home / "config.toml"
    config.write_text(config_text)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(OllamaTUI, "run", lambda self, *a, **k: run(self))
    return cli.main(["--config", str(config), "--host", f"http://127.0.0.1:{port}", *flags])


@pytest.mark.parametrize(("config_text", "flags", "level"), [
    ("", (), logging.WARNING),
    ("[ui]\nlog_level = 'error'\n", (), logging.ERROR),
    ("[ui]\nlog_level = 'error'\n", ("--log-level", "debug"), logging.DEBUG),  # the flag wins
    ("[ui]\nlog_level = 'debug'\n", ("--log-level", "info"), logging.INFO),
])
def test_the_flag_wins_over_the_config_key(monkeypatch, tmp_home, config_text, flags, level):
    from tui.service import logs, paths

    seen = {}

    def run(app):
        seen.update(level=logging.getLogger("tui").level, path=logs.active_path(), flag=app.log_level)

    assert _main_with(monkeypatch, tmp_home, config_text, *flags, run=run) == 0
    assert seen["level"] == level and seen["path"] == paths.log_path()
    assert seen["flag"] == (flags[1] if flags else None)  # the App re-applies it on Settings saves
    assert logs.active_path() is None  # undone when main returns


def test_an_exception_that_ends_the_program_is_logged_with_its_traceback(monkeypatch, tmp_home):
    from tui.service import paths

    def run(app):
        raise RuntimeError(f"the driver exploded ({app.config.server.headers['Authorization']})")

    with pytest.raises(RuntimeError):
        _main_with(monkeypatch, tmp_home, "[server.headers]\nAuthorization = 'Bearer top-secret-1'\n", run=run)
    text = paths.log_path().read_text()
    assert "ERROR tui.cli: ollama-tui stopped on an unexpected error" in text
    assert "Traceback (most recent call last):" in text and "RuntimeError: the driver exploded (***)" in text
    assert "top-secret-1" not in text


@needs_tmux
def test_demo_mode_says_so_and_answers(tmp_path):
    app = TmuxApp(["--demo"], tmp_path)
    try:
        screen = app.wait_for("DEMO")
        app.wait_for("connected")
        app.wait_for("loaded llama3.2")  # a model is loaded from the start (status line)
        app.type("hello")
        app.press("Enter")
        app.wait_for("tokens", timeout=30)
    finally:
        app.close()
    assert (tmp_path / ".config/ollama-tui/config.toml").exists()
