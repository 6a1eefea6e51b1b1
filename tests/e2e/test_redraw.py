"""Stray characters another program writes over the app (a `wall` message, a background job's
output) are not rewritten by the driver on their own: it sends only the cells a frame changes
(tui/ui/shell/frame_diff.py). Opening the command palette and closing it rewrites every cell (the
palette dims the whole screen, and closing it undims it): the README's way to redraw."""

from __future__ import annotations

import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tui.simulator import Simulator

pytestmark = [needs_tmux, pytest.mark.timeout(120)]

STRAY = "STRAYCHARS"


def test_opening_and_closing_the_palette_removes_what_another_program_wrote(tmp_path):
    with Simulator(token_rate=0, reply="fine") as sim:
        app = TmuxApp(["--host", sim.url], tmp_path, width=100, height=30)
        try:
            app.wait_for("connected")
            tty = app._tmux("display-message", "-p", "#{pane_tty}").strip()
            with open(tty, "w") as terminal:
                terminal.write(f"\x1b[26;60H{STRAY}")
            app.wait_for(STRAY)
            app.press("C-p")
            app.wait_for("Search for commands")
            app.press("Escape")
            app.wait_gone(STRAY)
            app.wait_gone("Search for commands")
            assert "connected" in app.screen()  # the app's own cells are back
        finally:
            app.close()
