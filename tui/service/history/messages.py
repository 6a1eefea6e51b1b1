"""Messages of the chat history: add (with attachments), update (partial saves of a stream),
delete, get, page through, count, and the user's prompts for recall (functions over a
:class:`~tui.service.history.db.HistoryDatabase`; ``HistoryStore`` delegates to them).

This module must not import textual.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from tui.service.history.attachments import attachment_infos
from tui.service.history.db import HistoryDatabase, fetchall
from tui.service.history.errors import HistoryNotFound
from tui.service.history.records import (
    _MESSAGE_COLUMNS,
    AttachmentInfo,
    Message,
    _check_role,
    _check_status,
    _dumps,
    _message_from_row,
    _text,
)

_MAX_ROWID = 2**63 - 1


async def add_message(
    database: HistoryDatabase,
    session_id: int,
    role: str,
    content: str,
    *,
    thinking: str = "",
    model: str | None = None,
    status: str = "complete",
    images: Sequence[tuple[str, str, bytes]] = (),
    stats: Mapping[str, Any] | None = None,
    error: str | None = None,
    tool_calls: Sequence[Mapping[str, Any]] = (),
    tool_name: str | None = None,
) -> Message:
    """Append a message (``images``: (name, mime, bytes) triples, stored as blobs).

    Its ``parent_id`` is the session's last active message. Bumps the session's
    ``updated_at``. Raises HistoryNotFound for an unknown session.
    """
    _check_role(role)
    _check_status(status)
    now = time.time()
    stats_d = dict(stats) if stats is not None else None
    blobs = [(_text(str(n)), _text(str(m)), bytes(d)) for n, m, d in images]
    async with database.write() as db:
        cur = await db.execute(
            "UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id)
        )
        if cur.rowcount == 0:
            raise HistoryNotFound(f"no session {session_id}")
        rows = await fetchall(
            db,
            "INSERT INTO messages (session_id, parent_id, role, content, thinking,"
            " created_at, model, stats, status, error, writer, tool_calls, tool_name)"
            " VALUES (?1, (SELECT MAX(id) FROM messages WHERE session_id = ?1 AND branch = 0),"
            " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id, parent_id",
            (
                session_id,
                role,
                content,
                thinking,
                now,
                model,
                None if stats_d is None else _dumps(stats_d),
                status,
                error,
                database.writer if status == "streaming" else None,
                _dumps([dict(c) for c in tool_calls]) if tool_calls else None,
                tool_name,
            ),
        )
        message_id, parent_id = rows[0]
        infos: list[AttachmentInfo] = []
        for name, mime, data in blobs:
            cur = await db.execute(
                "INSERT INTO attachments (message_id, name, mime, size, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (message_id, name, mime, len(data), data),
            )
            assert cur.lastrowid is not None
            infos.append(AttachmentInfo(cur.lastrowid, message_id, name, mime, len(data)))
    return Message(
        id=message_id,
        session_id=session_id,
        parent_id=parent_id,
        role=role,
        content=content,
        thinking=thinking,
        created_at=now,
        model=model,
        stats=stats_d,
        status=status,
        error=error,
        branch=0,
        attachments=tuple(infos),
        tool_calls=tuple(dict(c) for c in tool_calls),
        tool_name=tool_name,
    )


async def update_message(
    database: HistoryDatabase,
    message_id: int,
    *,
    content: str | None = None,
    thinking: str | None = None,
    status: str | None = None,
    stats: Mapping[str, Any] | None = None,
    error: str | None = None,
    tool_calls: Sequence[Mapping[str, Any]] | None = None,
) -> bool:
    """Overwrite the given fields (None leaves a field alone). One single-row UPDATE, so
    it is cheap enough for periodic partial saves of a stream (a 'streaming' message is
    indexed for search once, when its status becomes final). False if the message does
    not exist (e.g. its session was deleted meanwhile)."""
    sets: list[str] = []
    params: list[Any] = []
    if content is not None:
        sets.append("content = ?")
        params.append(content)
    if thinking is not None:
        sets.append("thinking = ?")
        params.append(thinking)
    if status is not None:
        _check_status(status)
        sets.append("status = ?")
        params.append(status)
        sets.append("writer = ?")
        params.append(database.writer if status == "streaming" else None)
    if stats is not None:
        sets.append("stats = ?")
        params.append(_dumps(dict(stats)))
    if error is not None:
        sets.append("error = ?")
        params.append(error)
    if tool_calls is not None:
        sets.append("tool_calls = ?")
        params.append(_dumps([dict(c) for c in tool_calls]) if tool_calls else None)
    if not sets:
        return await get_message(database, message_id) is not None
    async with database.write() as db:
        cur = await db.execute(
            f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", (*params, message_id)
        )
        return cur.rowcount > 0


async def delete_message(database: HistoryDatabase, message_id: int) -> bool:
    """Delete one message (and its attachments); its children's parent_id becomes NULL."""
    async with database.write() as db:
        cur = await db.execute("DELETE FROM messages WHERE id = ?", (message_id,))
        return cur.rowcount > 0


async def get_message(database: HistoryDatabase, message_id: int) -> Message | None:
    async with database.read() as db:
        rows = await fetchall(
            db, f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        )
        if not rows:
            return None
        infos = await attachment_infos(db, [message_id])
    return _message_from_row(rows[0], tuple(infos.get(message_id, ())))


async def messages(
    database: HistoryDatabase,
    session_id: int,
    *,
    before_id: int | None = None,
    limit: int | None = 100,
    include_superseded: bool = False,
) -> list[Message]:
    """The newest ``limit`` messages with ``id < before_id``, returned oldest-first.

    Page backwards with ``before_id=page[0].id``; ``limit=None`` returns all. Messages
    carry attachment metadata (``Message.attachments``), not the bytes.
    """
    before = _MAX_ROWID if before_id is None else before_id
    lim = -1 if limit is None else max(0, limit)
    branch_filter = "" if include_superseded else " AND branch = 0"
    async with database.read() as db:
        rows = await fetchall(
            db,
            f"SELECT {_MESSAGE_COLUMNS} FROM messages"
            f" WHERE session_id = ?{branch_filter} AND id < ? ORDER BY id DESC LIMIT ?",
            (session_id, before, lim),
        )
        rows.reverse()
        infos = await attachment_infos(db, [r[0] for r in rows]) if rows else {}
    return [_message_from_row(r, tuple(infos.get(r[0], ()))) for r in rows]


async def count_messages(
    database: HistoryDatabase, session_id: int, *, include_superseded: bool = False
) -> int:
    branch_filter = "" if include_superseded else " AND branch = 0"
    async with database.read() as db:
        rows = await fetchall(
            db,
            f"SELECT COUNT(*) FROM messages WHERE session_id = ?{branch_filter}",
            (session_id,),
        )
    return int(rows[0][0])


async def user_prompts(database: HistoryDatabase, session_id: int, limit: int = 100) -> list[str]:
    """What the user typed in this session (superseded turns included), for up/down
    recall: newest last, consecutive repeats collapsed, empty prompts skipped."""
    async with database.read() as db:
        rows = await fetchall(
            db,
            "SELECT content FROM messages WHERE session_id = ? AND role = 'user'"
            " AND content <> '' ORDER BY id DESC LIMIT ?",
            (session_id, limit),
        )
    out: list[str] = []
    for (text,) in reversed(rows):
        if not out or out[-1] != text:
            out.append(text)
    return out
