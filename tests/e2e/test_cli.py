"""The command line as a user types it: --version, --help, a bad host, --demo in a terminal."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui import __version__


def run(*args: str, home) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          timeout=30, env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, cwd=None)


def test_version_and_help(tmp_path):
    assert run("--version", home=tmp_path).stdout.strip() == f"ollama-tui {__version__}"
    help_text = run("--help", home=tmp_path).stdout
    for flag in ("--host", "--model", "--config", "--db", "--theme", "--demo", "--version"):
        assert flag in help_text


def test_bad_host_is_refused_with_a_message(tmp_path):
    result = run("--host", "http://[not-a-host", home=tmp_path)
    assert result.returncode == 2
    assert "ollama-tui:" in result.stderr and "Traceback" not in result.stderr


@needs_tmux
def test_demo_mode_says_so_and_answers(tmp_path):
    app = TmuxApp(["--demo"], tmp_path)
    try:
        screen = app.wait_for("DEMO")
        app.wait_for("connected")
        app.type("hello")
        app.press("Enter")
        app.wait_for("tokens", timeout=30)
    finally:
        app.close()
    assert (tmp_path / ".config/ollama-tui/config.toml").exists()
