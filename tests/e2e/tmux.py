"""Drive the installed app in a real terminal: tmux at a fixed size, keys in, screen text out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def installed_command() -> list[str]:
    """The `ollama-tui` script installed next to this Python (what a user types), else `-m tui`."""
    script = Path(sys.executable).parent / "ollama-tui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui"]


class TmuxApp:
    """One app in its own tmux server (private socket), `keys` counts what a user pressed.

    The app runs with HOME (and the XDG dirs under it) in `home` and its working directory
    there too (exports land in it). Every byte the app writes to the terminal is also kept in
    `home/terminal.out` (tmux pipe-pane), so escape sequences such as OSC 52 can be checked.
    """

    def __init__(self, args: list[str], home: Path, *, width: int = 80, height: int = 24,
                 env: dict[str, str] | None = None) -> None:
        self.socket = f"ollama-tui-e2e-{uuid.uuid4().hex[:8]}"
        self.home = home
        self.keys = 0
        self.pressed: list[str] = []
        self.output = home / "terminal.out"
        base = {
            "HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.getcwd(), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
        }
        base.update(env or {})
        env_args = [f"{k}={v}" for k, v in base.items()]
        # The app waits for `go` so that pipe-pane is attached before its first byte.
        gate = home / ".go"
        script = f"while [ ! -e {gate} ]; do sleep 0.02; done; exec " + " ".join(
            [*installed_command(), *args])
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-c", str(home),
                   "env", "-i", *env_args, "sh", "-c", script)
        self._tmux("pipe-pane", "-o", f"cat >> {self.output}")
        gate.touch()

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                                timeout=10)
        return result.stdout

    def screen(self, styled: bool = False) -> str:
        """The screen's text; `styled`: with the colours and attributes of each cell (SGR)."""
        return self._tmux("capture-pane", "-p", *(["-e"] if styled else []))

    def bytes_written(self) -> bytes:
        return self.output.read_bytes() if self.output.exists() else b""

    def type(self, text: str) -> None:
        """Literal text (not counted as keys: the budget counts F-keys, Enter and the like)."""
        self._tmux("send-keys", "-l", text)

    def press(self, *keys: str) -> None:
        for key in keys:
            self.keys += 1
            self.pressed.append(key)
            self._tmux("send-keys", key)

    def run_command(self, command: str) -> None:
        """The palette's `command`: Ctrl+P, its name typed, Enter once the list shows it first.

        The palette filters its list in a worker after each character; Enter before that search
        is done picks from the list as it was (a user typing fast can see the same)."""
        self.press("C-p")
        self.wait_for("Search for commands")
        self.type(command)

        def filtered(screen: str) -> bool:  # the first entry under the typed query is the command
            lines = [line.strip() for line in screen.splitlines() if line.strip()]
            return any(line == f"🔎 {command}" and index + 1 < len(lines) and lines[index + 1].startswith(command)
                       for index, line in enumerate(lines))

        self.wait_for(filtered)
        self.press("Enter")

    def wait_for(self, needle: str | Callable[[str], bool], timeout: float = 20.0) -> str:
        """The screen once `needle` is on it (or `needle(screen)` holds); fails with the screen."""
        check = needle if callable(needle) else (lambda screen: needle in screen)
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not on screen within {timeout} s:\n{screen}")
            time.sleep(0.05)

    def wait_gone(self, needle: str, timeout: float = 20.0) -> str:
        return self.wait_for(lambda screen: needle not in screen, timeout)

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        """Wait on something outside the screen (a file, a request the server received)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not within {timeout} s:\n{self.screen()}")
            time.sleep(0.05)

    def close(self) -> None:
        self._tmux("kill-server")
