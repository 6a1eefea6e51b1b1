"""Sessions of the chat history: create, update, delete, get and list (functions over a
:class:`~tui.service.history.db.HistoryDatabase`; ``HistoryStore`` delegates to them).

This module must not import textual.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tui.service.history.db import HistoryDatabase, fetchall
from tui.service.history.errors import HistoryNotFound
from tui.service.history.records import (
    _SESSION_COLUMNS,
    Session,
    _dumps,
    _session_from_row,
)

_SESSION_FIELDS = ("title", "model", "preset", "options", "system_prompt", "think", "keep_alive", "host")


async def create_session(
    database: HistoryDatabase,
    *,
    title: str = "New chat",
    model: str,
    preset: str | None = None,
    options: Mapping[str, Any] | None = None,
    system_prompt: str | None = None,
    think: bool | str | None = None,
    keep_alive: str | int | float | None = None,
    host: str | None = None,
) -> Session:
    now = time.time()
    opts = dict(options or {})
    async with database.write() as db:
        cur = await db.execute(
            "INSERT INTO sessions (title, model, preset, options, system_prompt, think,"
            " keep_alive, created_at, updated_at, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                title,
                model,
                preset,
                _dumps(opts),
                system_prompt,
                None if think is None else _dumps(think),
                None if keep_alive is None else _dumps(keep_alive),
                now,
                now,
                host,
            ),
        )
        session_id = cur.lastrowid
    assert session_id is not None
    return Session(
        id=session_id,
        title=title,
        model=model,
        preset=preset,
        options=opts,
        system_prompt=system_prompt,
        think=think,
        keep_alive=keep_alive,
        created_at=now,
        updated_at=now,
        host=host,
    )


async def update_session(database: HistoryDatabase, session_id: int, **fields: Any) -> Session:
    """Change any of title, model, preset, options, system_prompt, think, keep_alive, host
    (passing None stores NULL / an empty options dict). Bumps ``updated_at``."""
    unknown = set(fields) - set(_SESSION_FIELDS)
    if unknown:
        raise TypeError(f"update_session() got unknown fields: {', '.join(sorted(unknown))}")
    sets: list[str] = []
    params: list[Any] = []
    for name in _SESSION_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if name == "options":
            value = _dumps(dict(value or {}))
        elif name in ("think", "keep_alive"):
            value = None if value is None else _dumps(value)
        elif name in ("title", "model") and value is None:
            raise ValueError(f"{name} cannot be None")
        sets.append(f"{name} = ?")
        params.append(value)
    sets.append("updated_at = ?")
    params.append(time.time())
    async with database.write() as db:
        cur = await db.execute(
            f"UPDATE sessions SET {', '.join(sets)} WHERE id = ?", (*params, session_id)
        )
        if cur.rowcount == 0:
            raise HistoryNotFound(f"no session {session_id}")
        rows = await fetchall(
            db, f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
        )
    return _session_from_row(rows[0])


async def delete_session(database: HistoryDatabase, session_id: int) -> bool:
    """Delete a session with its messages and attachments. False if it did not exist."""
    async with database.write() as db:
        cur = await db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        return cur.rowcount > 0


async def get_session(database: HistoryDatabase, session_id: int) -> Session | None:
    async with database.read() as db:
        rows = await fetchall(
            db, f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
        )
    return _session_from_row(rows[0]) if rows else None


async def list_sessions(database: HistoryDatabase, limit: int = 200) -> list[Session]:
    """Most recently updated first, with ``message_count`` and ``last_activity``."""
    async with database.read() as db:
        rows = await fetchall(
            db,
            f"SELECT {_SESSION_COLUMNS} FROM sessions s"
            " ORDER BY s.updated_at DESC, s.id DESC LIMIT ?",
            (limit,),
        )
    return [_session_from_row(r) for r in rows]
