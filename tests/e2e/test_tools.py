"""Tool calling in a real terminal (tmux): the config in $HOME names the test MCP server, the
simulator's tools model calls its add tool, the user presses y, the answer uses the result;
quitting stops the server the app started."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tests.waiting import wait_sync

SERVER = str(Path(__file__).resolve().parents[1] / "tools" / "mcp_server.py")


@pytest.fixture
def sim_process():
    proc = subprocess.Popen([sys.executable, "-m", "tui.simulator", "--port", "0",
                             "--token-rate", "400"], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    yield url
    proc.terminate()
    proc.wait(10)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@needs_tmux
def test_approve_one_tool_call(tmp_path, sim_process):
    pidfile = tmp_path / "server.pid"
    config = tmp_path / ".config/ollama-tui/config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("\n".join([
        "version = 1", "[chat]", 'default_model = "llama3.2"',
        "[mcp.servers.calc]", f"command = {json.dumps(sys.executable)}", f"args = [{json.dumps(SERVER)}]",
        f"env = {{ MCP_TEST_PIDFILE = {json.dumps(str(pidfile))} }}", ""]), encoding="utf-8")
    app = TmuxApp(["--host", sim_process], tmp_path, width=100, height=30)
    try:
        app.wait_for("Ask anything")
        app.wait_for("connected")
        app.type("use the add tool with a=2 b=3")
        app.press("Enter")
        screen = app.wait_for("Run this tool?", timeout=30)
        assert "add(a=2, b=3)" in screen
        app.press("y")
        screen = app.wait_for("Based on that result", timeout=30)
        assert "✓ ran" in screen
        pid = int(pidfile.read_text())
        assert alive(pid)
        app.press("C-q")
        wait_sync(lambda: not alive(pid), 15, 0.1, what="the app to stop the server it started")
    finally:
        app.close()
    db = tmp_path / ".local/share/ollama-tui/history.sqlite3"
    rows = sqlite3.connect(db).execute("select role, content, tool_name from messages order by id").fetchall()
    assert [r[0] for r in rows] == ["user", "assistant", "tool", "assistant"]
    assert rows[2][1:] == ("5", "add")
