"""Scenario 11: the app is SIGKILLed mid-reply in a real terminal (tmux), then started again:
the question and the reply up to the last periodic save (about once a second) are there."""

from __future__ import annotations

import os
import re
import signal
import sqlite3

from tests.e2e.tmux import TmuxApp, needs_tmux
from tests.waiting import wait_sync
from tui.simulator import Simulator

REPLY = " ".join(f"w{i}" for i in range(4000))


def rows(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the app has not created its tables yet
        return []
    finally:
        con.close()


def last_word(text: str) -> int:
    found = re.findall(r"\bw(\d+)\b", text)
    return max(map(int, found)) if found else -1


@needs_tmux
def test_11_sigkill_mid_reply_then_restart_keeps_the_question_and_the_saved_reply(tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=40, reply=REPLY) as sim:
        args = ["--host", sim.url, "--db", str(db)]
        app = TmuxApp(args, tmp_path, width=100, height=30)
        try:
            app.wait_for("Ask anything")
            app.wait_for("connected")
            app.type("count slowly")
            app.press("Enter")
            # wait until the reply has been saved at least twice while streaming
            wait_sync(lambda: len(rows(db)) == 2 and last_word(rows(db)[1][1]) >= 40, 20.0, 0.05,
                      what="a periodic save")
            shown = last_word(app.screen())
            pid = int(app._tmux("list-panes", "-F", "#{pane_pid}").split()[0])
            os.kill(pid, signal.SIGKILL)
            wait_sync(lambda: "count slowly" not in app.screen() or "[exited]" in app.screen() or _gone(pid),
                      20.0, 0.05, what="the app to die")
        finally:
            app.close()
        (user, question, user_status), (role, saved, status) = rows(db)
        assert (user, question, user_status) == ("user", "count slowly", "complete")
        assert role == "assistant" and status == "streaming"  # killed: nobody marked it
        assert REPLY.startswith(saved) and last_word(saved) >= 40
        # at most a couple of seconds behind what was on screen (40 tokens/s, saved every second)
        assert last_word(saved) >= shown - 100

        again = TmuxApp(args, tmp_path, width=100, height=30)
        try:
            again.wait_for("Ask anything")
            again.wait_for("cut off by the last exit")  # told what happened
            again.press("C-l")  # to the session list…
            again.wait_for("Rename session")
            again.press("Enter")  # …and open the session
            screen = again.wait_for("■ stopped")
            assert "count slowly" in screen
            assert last_word(screen) == last_word(saved)  # the reply up to its last save
        finally:
            again.close()
        assert rows(db)[1] == ("assistant", saved, "stopped")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
