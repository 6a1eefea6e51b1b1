"""Starts `ollama serve` for a local host when asked to, and stops only the process it started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from urllib.parse import urlsplit

from tui.service.hosts import is_loopback


class ServerProcess:
    """An `ollama serve` child process that we started (and so may stop)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if not self.running():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout)


def can_auto_start(host_url: str, enabled: bool) -> str | None:
    """The path of the `ollama` executable when auto-start applies to this host, else None."""
    if not enabled or not is_loopback(host_url):
        return None
    return shutil.which("ollama")


def start_server(executable: str, host_url: str) -> ServerProcess:
    """Run `ollama serve` listening where the client will look; output goes nowhere."""
    parts = urlsplit(host_url)
    env = dict(os.environ, OLLAMA_HOST=f"{parts.hostname}:{parts.port or 11434}")
    popen = subprocess.Popen(
        [executable, "serve"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in our terminal must not reach it before we stop it
    )
    return ServerProcess(popen)
