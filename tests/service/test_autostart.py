"""Auto-start: a local host, auto_start on and an `ollama` on PATH → we run `ollama serve` and
stop only that process. The `ollama` here is a real executable that serves the simulator."""

from __future__ import annotations

import os
import socket
import stat
import sys

import httpx

from tests.waiting import wait_sync
from tui.service.autostart import can_auto_start, start_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fake_ollama(tmp_path) -> str:
    """An `ollama` whose `serve` runs the simulator on $OLLAMA_HOST, as the real one listens there."""
    script = tmp_path / "ollama"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "assert sys.argv[1:] == ['serve'], sys.argv\n"
        "port = os.environ['OLLAMA_HOST'].rsplit(':', 1)[1]\n"
        "from tui.simulator import main\n"
        "sys.exit(main(['--port', port]))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_auto_start_applies_only_to_local_hosts_when_enabled(tmp_path, monkeypatch):
    exe = _fake_ollama(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert can_auto_start("http://127.0.0.1:11434", True) == exe
    assert can_auto_start("http://127.0.0.1:11434", False) is None
    assert can_auto_start("http://gpubox.example:11434", True) is None


def test_started_server_answers_and_is_stopped(tmp_path, monkeypatch):
    exe = _fake_ollama(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.getcwd())
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(exe, url)
    try:
        def answers() -> bool:
            try:
                return bool(httpx.get(url + "/api/version").json()["version"])
            except httpx.TransportError:
                assert server.running(), "the fake ollama exited early"
                return False

        wait_sync(answers, 15, 0.05, what="the started server to answer")
    finally:
        server.stop()
    assert not server.running()
    try:
        httpx.get(url + "/api/version", timeout=1)
        raise AssertionError("the server still answers after stop()")
    except httpx.TransportError:
        pass
