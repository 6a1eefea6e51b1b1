"""Model output in a real terminal (tmux, clipboard on): escape sequences, markup, control and
bidi characters, a very long line are shown as text and never act on the terminal: no
clipboard write (OSC 52), no title change, no screen clear. (Pilot-level checks of the same:
tests/ui/chat/test_chat_content.py.)"""

from __future__ import annotations

from tests.e2e.tmux import TmuxApp, needs_tmux
from tests.faults.test_kill import rows
from tests.waiting import wait_sync
from tui.simulator import Simulator

HOSTILE = ("L" * 3000 + "\n\nSTART [bold red]markup[/] \x1b]52;c;cHduZWQ=\x07 \x1b]0;pwned-title\x07 "
           "\x1b[2J\x1b[H bell\x07 del\x7f csi\x9b31m  שלום עולם  e\u0301\u0301\n\n"
           "if x\u202e} {\u2066admin\u2069 END")


@needs_tmux
def test_hostile_model_output_is_text_and_the_terminal_state_is_unchanged(tmp_path):
    with Simulator(token_rate=0, reply=HOSTILE) as sim:
        app = TmuxApp(["--host", sim.url, "--db", str(tmp_path / "h.sqlite3")], tmp_path, width=100, height=30)
        try:
            app._tmux("set-option", "-g", "set-clipboard", "on")  # tmux would take an OSC 52
            app._tmux("set-option", "-g", "allow-rename", "on")
            title = app._tmux("display-message", "-p", "#{pane_title}")
            app.wait_for("connected")
            app.type("say it")
            app.press("Enter")
            screen = app.wait_for("tok/s", timeout=30)
            assert "START [bold red]markup[/] ␛]52;c;cHduZWQ=␇ ␛]0;pwned-title␇ ␛[2J␛[H" in screen
            assert "bell␇ del␡ csi⟨U+009B⟩31m" in screen and "END" in screen and "LLLLLLLLLL" in screen
            assert "שלום עולם" in screen and "e\u0301" in screen  # right-to-left and combining: as they are
            assert "if x⟨U+202E⟩} {⟨U+2066⟩admin⟨U+2069⟩" in screen  # bidi overrides: shown, not obeyed
            written = app.bytes_written()  # what the app sent to the terminal
            for sequence in (b"\x1b]52;", b"\x1b]0;pwned", b"\x1b[2J\x1b[H bell", b"\x07 del", b"\xe2\x80\xae"):
                assert sequence not in written, sequence
            assert app._tmux("list-buffers").strip() == ""  # no clipboard write reached tmux
            assert app._tmux("display-message", "-p", "#{pane_title}") == title
            wait_sync(lambda: len(rows(tmp_path / "h.sqlite3")) == 2, 20.0, 0.05, what="both messages stored")
        finally:
            app.close()
    assert rows(tmp_path / "h.sqlite3")[1][1] == HOSTILE  # stored exactly as received
