"""Scenarios 7 and 8: two app instances on one history database; a history file that is not ours."""

from __future__ import annotations

import sqlite3

from tests.e2e.tmux import TmuxApp, needs_tmux
from tests.faults.test_kill import rows
from tests.ui.chat.test_chat_support import messages, ready, replies, send, text, toasts
from tests.ui.conftest import wait_for
from tests.waiting import wait_sync
from tui.service.history import HistoryStore
from tui.simulator import Simulator
from tui.ui.widgets.dialogs import ConfirmDialog


@needs_tmux
def test_7_two_app_instances_on_one_database_both_work(tmp_path):
    db = tmp_path / "shared.sqlite3"
    with Simulator(token_rate=300, reply=lambda model, msgs: f"echo {msgs[-1]['content']}") as sim:
        apps = []
        try:
            for name in ("a", "b"):
                home = tmp_path / name
                home.mkdir()
                apps.append(TmuxApp(["--host", sim.url, "--db", str(db)], home, width=100, height=30))
            for app in apps:
                app.wait_for("connected")
            # interleaved: each sends while the other's reply is still being written
            for i in range(3):
                for name, app in zip("ab", apps):
                    app.type(f"{name} says {i}")
                    app.press("Enter")
                for name, app in zip("ab", apps):
                    app.wait_for(f"echo {name} says {i}")
                    # finished (its stats line drawn) before the next prompt goes in
                    wait_sync(lambda: app.screen().count("tok/s") == i + 1, 20.0, 0.05,
                              what=f"{name}'s reply {i} done")
            wait_sync(lambda: len(rows(db)) == 12 and all(r[2] == "complete" for r in rows(db)), 20.0, 0.05,
                      what="all twelve messages complete")
            for app in apps:
                assert "locked" not in app.screen() and "Traceback" not in app.screen()
        finally:
            for app in apps:
                app.close()
    stored = rows(db)
    for name in "ab":
        assert [r[1] for r in stored if r[1].startswith(name)] == [f"{name} says {i}" for i in range(3)]
        assert [r[1] for r in stored if r[1].startswith(f"echo {name}")] == [f"echo {name} says {i}" for i in range(3)]
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2
    finally:
        con.close()


NOT_A_DB = b"these are my notes, not a database\n" * 10


async def test_8_a_file_that_is_not_a_database_is_left_alone_unless_the_user_agrees(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    db.write_bytes(NOT_A_DB)
    with Simulator(token_rate=0, reply="ok") as sim:
        # 1st start: the user says no → untouched, the app runs with an in-memory history
        app = make_app(sim.url, db_path=db)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) and "Move it aside" in text(app))
            assert "not a SQLite database" in text(app)
            await pilot.press("n")
            await ready(app, pilot)
            assert any("kept in memory only" in t for t in toasts(app))
            await send(app, pilot, "hello", replies_count=1)
            assert replies(app)[0].content == "ok"
        assert db.read_bytes() == NOT_A_DB and list(tmp_path.glob("history.sqlite3.unusable-*")) == []
        # 2nd start: yes → moved aside (same bytes), a new history is saved
        app = make_app(sim.url, db_path=db)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await ready(app, pilot)
            await wait_for(pilot, lambda: any("The old file is kept as" in t for t in toasts(app)))
            await send(app, pilot, "hello again", replies_count=1)
    (moved,) = tmp_path.glob("history.sqlite3.unusable-*")
    assert moved.read_bytes() == NOT_A_DB
    assert [m["content"] for m in messages(db)] == ["hello again", "ok"]


async def test_8_a_history_from_a_newer_version_is_never_changed(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    store = await HistoryStore.open(db)
    session = await store.create_session(title="from the future", model="llama3.2")
    await store.add_message(session.id, "user", "kept")
    await store.close()
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 999")
    con.close()
    before = db.read_bytes()
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, db_path=db)
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog) and "y / Enter" in text(app))
            assert "newer ollama-tui" in text(app)
            await pilot.press("escape")  # no
            await ready(app, pilot)
            await send(app, pilot, "in memory", replies_count=1)
            assert any("upgrade ollama-tui" in t for t in toasts(app))
    assert db.read_bytes() == before
