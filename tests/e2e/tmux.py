"""Drive the installed app in a real terminal: tmux at a fixed size, keys in, screen text out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class TmuxApp:
    """One app in its own tmux server (private socket), `keys` counts what a user pressed."""

    def __init__(self, args: list[str], home: Path, *, width: int = 80, height: int = 24) -> None:
        self.socket = f"ollama-tui-e2e-{uuid.uuid4().hex[:8]}"
        self.home = home
        self.keys = 0
        env = {
            "HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.getcwd(), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        }
        command = " ".join([sys.executable, "-m", "tui", *args])
        env_args = [f"{k}={v}" for k, v in env.items()]
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "env", "-i", *env_args,
                   *command.split())

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                                timeout=10)
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p")

    def type(self, text: str) -> None:
        """Literal text (not counted as keys: the budget counts F-keys, Enter and the like)."""
        self._tmux("send-keys", "-l", text)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.keys += 1
            self._tmux("send-keys", key)

    def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if needle in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not on screen within {timeout} s:\n{screen}")
            time.sleep(0.05)

    def close(self) -> None:
        self._tmux("kill-server")
