"""Shared steps for the Chat pane's Pilot tests (no tests here)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.waiting import type_text
from tui.ui.chat.messages import AssistantTurn, Notice, UserTurn
from tui.ui.chat.pane import ChatPane
from tui.ui.chat.prompt import PromptArea


def chat(app) -> ChatPane:
    return app.query_one(ChatPane)


async def ready(app, pilot) -> ChatPane:
    """Wait until the history is open and the pane can send (what a user waits for at start)."""
    pane = chat(app)
    await wait_for(pilot, lambda: pane.store is not None and pane.service is not None)
    return pane


def replies(app) -> list[AssistantTurn]:
    return list(app.query(AssistantTurn))


def user_turns(app) -> list[UserTurn]:
    return list(app.query(UserTurn))


def notices(app) -> list[str]:
    return [str(n.render()) for n in app.query(Notice)]


async def wait_idle(app, pilot, replies_count: int | None = None, timeout: float = 10.0) -> None:
    """Until no reply streams (and, if given, `replies_count` replies are on screen)."""
    pane = chat(app)

    def done() -> bool:
        if pane.streaming is not None:
            return False
        shown = replies(app)
        if replies_count is not None and len(shown) != replies_count:
            return False
        if any(w.group == "reply" and not w.is_finished for w in app.workers):
            return False
        return all(r.status != "streaming" for r in shown)

    await wait_for(pilot, done, timeout)
    await pilot.pause()


async def send(app, pilot, text: str, replies_count: int | None = None) -> None:
    """Type a prompt, press Enter, wait for the reply to finish."""
    app.query_one(PromptArea).focus()
    await type_text(pilot, text)
    await pilot.press("enter")
    if replies_count is not None:
        await wait_idle(app, pilot, replies_count)


def chat_requests(sim) -> list[dict[str, Any]]:
    return [body for method, path, body in sim.requests if path == "/api/chat" and method == "POST"]


def rows(db: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    """Read the app's database with a second connection, as another process would."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return list(con.execute(sql, params))
    finally:
        con.close()


def messages(db: Path, session_id: int | None = None) -> list[sqlite3.Row]:
    sql = "SELECT * FROM messages"
    params: tuple = ()
    if session_id is not None:
        sql += " WHERE session_id = ?"
        params = (session_id,)
    return rows(db, sql + " ORDER BY id", params)


def sessions(db: Path) -> list[sqlite3.Row]:
    return rows(db, "SELECT * FROM sessions ORDER BY id")


def options_of(row: sqlite3.Row) -> dict[str, Any]:
    return json.loads(row["options"] or "{}")


def text(app) -> str:
    return screen_text(app)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]
