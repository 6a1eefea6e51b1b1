"""Image attachments of chat history messages: their metadata and their bytes (functions over
a :class:`~tui.service.history.db.HistoryDatabase` or a connection inside its transaction).

This module must not import textual.
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from tui.service.history.db import HistoryDatabase, fetchall
from tui.service.history.records import Attachment, AttachmentInfo, _dumps


async def attachment_infos(
    db: aiosqlite.Connection, message_ids: list[int]
) -> dict[int, list[AttachmentInfo]]:
    """Attachment metadata of several messages, read inside a transaction already open on ``db``."""
    rows = await fetchall(
        db,
        "SELECT id, message_id, name, mime, size FROM attachments"
        " WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        (_dumps(message_ids),),
    )
    out: dict[int, list[AttachmentInfo]] = {}
    for r in rows:
        out.setdefault(r[1], []).append(AttachmentInfo(*r))
    return out


async def attachments(database: HistoryDatabase, message_id: int) -> list[Attachment]:
    """The attachments of one message, with their bytes."""
    return (await attachments_for(database, [message_id])).get(message_id, [])


async def attachments_for(
    database: HistoryDatabase, message_ids: Iterable[int]
) -> dict[int, list[Attachment]]:
    """Attachments (with bytes) of several messages at once, e.g. to re-send a
    conversation: ``{message_id: [Attachment, ...]}`` (messages without any are absent)."""
    ids = list(message_ids)
    if not ids:
        return {}
    async with database.read() as db:
        rows = await fetchall(
            db,
            "SELECT id, message_id, name, mime, size, data FROM attachments"
            " WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (_dumps(ids),),
        )
    out: dict[int, list[Attachment]] = {}
    for r in rows:
        out.setdefault(r[1], []).append(Attachment(r[0], r[1], r[2], r[3], r[4], bytes(r[5])))
    return out
