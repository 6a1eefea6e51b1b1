"""The app in a real terminal: keys arrive, a lone Esc is a key, Ctrl+Q gives the terminal back.

The input thread of our driver (tui/ui/shell/driver.py) sleeps until a byte arrives, a partial
escape sequence is due, or the app exits; these check each of the three in tmux."""

from __future__ import annotations

import subprocess

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui.simulator import Simulator


def _session_alive(app: TmuxApp) -> bool:
    result = subprocess.run(["tmux", "-L", app.socket, "has-session"], capture_output=True)
    return result.returncode == 0


@needs_tmux
def test_keys_a_lone_esc_and_ctrl_q_in_a_real_terminal(tmp_path):
    with Simulator(token_rate=5, reply="one two three four five six seven eight nine ten " * 20) as sim:
        app = TmuxApp(["--host", sim.url], tmp_path, width=100, height=30)
        try:
            app.wait_for("connected")
            app.type("count for me")
            app.wait_for("count for me")  # typed keys reach the prompt
            app.press("Enter")
            app.wait_for("streaming")
            app.press("Escape")  # alone: no byte follows it, the parser's deadline makes it a key
            app.wait_for("stopped")
            app.press("C-q")
            app.wait_until(lambda: not _session_alive(app), "the app to exit on Ctrl+Q")
            written = app.bytes_written()
            assert written.rstrip().endswith(b"\x1b[?25h") or b"\x1b[?1049l" in written[-200:], \
                "the alternate screen was not left on exit"
        finally:
            app.close()
