"""Branches and recovery in the chat history: superseding a message and the rest of its
conversation (edit and re-send), and marking streams left behind by a killed app as stopped
(functions over a :class:`~tui.service.history.db.HistoryDatabase`).

This module must not import textual.
"""

from __future__ import annotations

import time

from tui.service.history.db import HistoryDatabase, fetchall
from tui.service.history.errors import HistoryNotFound
from tui.service.history.records import _dumps
from tui.service.history.writers import _writer_alive


async def supersede_from(database: HistoryDatabase, message_id: int) -> int:
    """Move ``message_id`` and every later active message of its session to a new
    branch (hidden from the active conversation, still stored, searchable, exported).
    Returns how many messages were superseded (0 if it already was)."""
    async with database.write() as db:
        rows = await fetchall(
            db, "SELECT session_id FROM messages WHERE id = ?", (message_id,)
        )
        if not rows:
            raise HistoryNotFound(f"no message {message_id}")
        session_id = rows[0][0]
        cur = await db.execute(
            "UPDATE messages SET branch ="
            " (SELECT COALESCE(MAX(branch), 0) + 1 FROM messages WHERE session_id = ?1)"
            " WHERE session_id = ?1 AND branch = 0 AND id >= ?2",
            (session_id, message_id),
        )
        count = cur.rowcount
        if count:
            await db.execute(
                "UPDATE sessions SET updated_at = ? WHERE id = ?", (time.time(), session_id)
            )
    return max(count, 0)

async def mark_interrupted(database: HistoryDatabase) -> int:
    """At startup: messages left 'streaming' by a store that is gone (the app was
    killed) become 'stopped' with error "interrupted". Streams of stores still open -
    in this process or in another live process on this host - are left alone.
    Returns how many messages were marked."""
    async with database.write() as db:
        rows = await fetchall(
            db, "SELECT id, writer FROM messages WHERE status = 'streaming'"
        )
        stale = [mid for mid, writer in rows if not _writer_alive(writer)]
        if not stale:
            return 0
        cur = await db.execute(
            "UPDATE messages SET status = 'stopped', error = 'interrupted', writer = NULL"
            " WHERE status = 'streaming' AND id IN (SELECT value FROM json_each(?))",
            (_dumps(stale),),
        )
        return max(cur.rowcount, 0)
