"""Journey 'Connect + first reply' in a real terminal (tmux, 80x24): start, type, Enter, read.
No key other than Enter is needed; the history database holds both messages afterwards."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux


@pytest.fixture
def sim_process():
    proc = subprocess.Popen([sys.executable, "-m", "tui.simulator", "--port", "0",
                             "--token-rate", "400"], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    yield url
    proc.terminate()
    proc.wait(10)


@needs_tmux
def test_first_reply_with_zero_extra_keys(tmp_path, sim_process):
    app = TmuxApp(["--host", sim_process], tmp_path)
    try:
        screen = app.wait_for("Ask anything")
        assert "F1 Chat" in screen
        app.wait_for("connected")
        app.wait_for("Ollama 0.33.0")
        app.type("Why is the sky blue?")
        app.press("Enter")
        screen = app.wait_for("tokens", timeout=30)  # the stats line under a finished reply
        assert "Why is the sky blue" in screen or "sky" in screen
        assert app.keys == 1  # Enter only
    finally:
        app.close()
    db = tmp_path / ".local/share/ollama-tui/history.sqlite3"
    rows = sqlite3.connect(db).execute("select role, status from messages order by id").fetchall()
    assert rows == [("user", "complete"), ("assistant", "complete")]
