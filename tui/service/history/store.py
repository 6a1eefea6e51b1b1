"""Chat history: sessions, messages (with branches), image attachments and full-text search.

One long-lived aiosqlite connection per :class:`HistoryStore` (WAL, ``foreign_keys=ON``,
``busy_timeout``, ``synchronous=NORMAL``). Every write is one small ``BEGIN IMMEDIATE``
transaction committed before the call returns, so it survives the app being SIGKILLed
(``synchronous=NORMAL`` in WAL mode only risks the last commits on an OS crash or power
loss). Several stores - in this process or in other processes - may use the same file.

Branches: editing an earlier user message and re-sending calls :meth:`supersede_from`,
which moves that message and every later active one of the session to a new branch number
(``Message.branch > 0``). Superseded messages are hidden from the active conversation but are
kept, searchable and exported. A new message's ``parent_id`` is the last active message of
its session when it was added, so the messages form a tree.

Search results' snippets are plain text with ``«`` ``»`` around the matches: the text
comes from the user and the model, so a UI must escape it before using it as markup.

:class:`HistoryStore` is written out here, every public method with its delegation: the
connection, its lifecycle and its transactions are a :class:`~tui.service.history.db.HistoryDatabase`
(``db.py``); the operations are functions taking it, one module per subject: ``sessions.py``,
``messages.py`` with ``attachments.py``, ``branches.py`` (supersede, recovery of interrupted
streams) and ``search.py``. Records and errors are in ``records.py`` and ``errors.py``, the file
checks in ``file.py``, the writer tokens in ``writers.py``. This module keeps the public names.

This module must not import textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from tui.service.history import attachments, branches, messages, search, sessions
from tui.service.history.db import (  # noqa: F401
    BUSY_TIMEOUT_MS,
    JOURNAL_SIZE_LIMIT,
    MEMORY,
    HistoryDatabase,
)
from tui.service.history.errors import HistoryError, HistoryNotFound, HistoryUnavailable
from tui.service.history.file import move_aside
from tui.service.history.records import (
    ROLES,
    STATUSES,
    Attachment,
    AttachmentInfo,
    Message,
    SearchHit,
    Session,
)
from tui.service.history.search import (  # noqa: F401 - the SNIPPET_* constants, as before
    SNIPPET_CLOSE,
    SNIPPET_ELLIPSIS,
    SNIPPET_OPEN,
    SNIPPET_TOKENS,
    build_match_query,
)

__all__ = [
    "ROLES",
    "STATUSES",
    "Attachment",
    "AttachmentInfo",
    "HistoryError",
    "HistoryNotFound",
    "HistoryStore",
    "HistoryUnavailable",
    "Message",
    "SearchHit",
    "Session",
    "build_match_query",
    "move_aside",
]


class HistoryStore:
    """Async access to the chat history database. Create with ``await HistoryStore.open(path)``
    and ``await store.close()`` when done (also usable as ``async with``)."""

    def __init__(self, database: HistoryDatabase) -> None:
        #: The connection and its transactions; BenchStore writes its own tables through it.
        self.database = database

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(cls, path: Path | str) -> Self:
        """Open (creating and/or migrating) the database at ``path``; ``":memory:"`` keeps
        nothing. Raises HistoryUnavailable, leaving the file alone, when it is not ours."""
        return cls(await HistoryDatabase.open(path))

    async def close(self) -> None:
        """Finish the operation in progress, then close. Later calls raise HistoryError."""
        await self.database.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def path(self) -> Path:
        """The database file (``Path(":memory:")`` for an in-memory one)."""
        return self.database.path

    @property
    def closed(self) -> bool:
        return self.database.closed

    # ---------------------------------------------------------------- sessions (sessions.py)

    async def create_session(
        self,
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
        """A new, empty session."""
        return await sessions.create_session(
            self.database, title=title, model=model, preset=preset, options=options,
            system_prompt=system_prompt, think=think, keep_alive=keep_alive, host=host,
        )

    async def update_session(self, session_id: int, **fields: Any) -> Session:
        """Change any of title, model, preset, options, system_prompt, think, keep_alive, host
        (passing None stores NULL / an empty options dict). Bumps ``updated_at``."""
        return await sessions.update_session(self.database, session_id, **fields)

    async def delete_session(self, session_id: int) -> bool:
        """Delete a session with its messages and attachments. False if it did not exist."""
        return await sessions.delete_session(self.database, session_id)

    async def get_session(self, session_id: int) -> Session | None:
        """One session, or None."""
        return await sessions.get_session(self.database, session_id)

    async def list_sessions(self, limit: int = 200) -> list[Session]:
        """Most recently updated first, with ``message_count`` and ``last_activity``."""
        return await sessions.list_sessions(self.database, limit)

    # ---------------------------------------------------------------- messages (messages.py)

    async def add_message(
        self,
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
        """Append a message (``images``: (name, mime, bytes) triples) after the session's last
        active one. Raises HistoryNotFound for an unknown session."""
        return await messages.add_message(
            self.database, session_id, role, content, thinking=thinking, model=model, status=status,
            images=images, stats=stats, error=error, tool_calls=tool_calls, tool_name=tool_name,
        )

    async def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        thinking: str | None = None,
        status: str | None = None,
        stats: Mapping[str, Any] | None = None,
        error: str | None = None,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
    ) -> bool:
        """Overwrite the given fields (None leaves one alone): cheap enough for periodic partial
        saves of a stream. False if the message does not exist."""
        return await messages.update_message(
            self.database, message_id, content=content, thinking=thinking, status=status,
            stats=stats, error=error, tool_calls=tool_calls,
        )

    async def delete_message(self, message_id: int) -> bool:
        """Delete one message (and its attachments); its children's parent_id becomes NULL."""
        return await messages.delete_message(self.database, message_id)

    async def get_message(self, message_id: int) -> Message | None:
        """One message (with its attachments' metadata), or None."""
        return await messages.get_message(self.database, message_id)

    async def messages(
        self,
        session_id: int,
        *,
        before_id: int | None = None,
        limit: int | None = 100,
        include_superseded: bool = False,
    ) -> list[Message]:
        """The newest ``limit`` messages with ``id < before_id``, oldest first (page backwards
        with ``before_id=page[0].id``; ``limit=None``: all)."""
        return await messages.messages(
            self.database, session_id, before_id=before_id, limit=limit,
            include_superseded=include_superseded,
        )

    async def count_messages(self, session_id: int, *, include_superseded: bool = False) -> int:
        """How many messages the session has (active ones only unless ``include_superseded``)."""
        return await messages.count_messages(
            self.database, session_id, include_superseded=include_superseded
        )

    async def user_prompts(self, session_id: int, limit: int = 100) -> list[str]:
        """What the user typed in this session, for up/down recall: newest last."""
        return await messages.user_prompts(self.database, session_id, limit)

    # ---------------------------------------------------------------- attachments (attachments.py)

    async def attachments(self, message_id: int) -> list[Attachment]:
        """The attachments of one message, with their bytes."""
        return await attachments.attachments(self.database, message_id)

    async def attachments_for(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        """Attachments (with bytes) of several messages: ``{message_id: [Attachment, ...]}``."""
        return await attachments.attachments_for(self.database, message_ids)

    # ---------------------------------------------------------------- branches (branches.py)

    async def supersede_from(self, message_id: int) -> int:
        """Move ``message_id`` and every later active message of its session to a new branch;
        how many moved."""
        return await branches.supersede_from(self.database, message_id)

    async def mark_interrupted(self) -> int:
        """At startup: streams left behind by a store that is gone become 'stopped'
        ("interrupted"); how many."""
        return await branches.mark_interrupted(self.database)

    # ---------------------------------------------------------------- search (search.py)

    async def search(
        self, query: str, limit: int = 50, *, session_id: int | None = None
    ) -> list[SearchHit]:
        """Full-text search of message content and thinking, newest first (the words typed
        matched literally, the last one as a prefix)."""
        return await search.search(self.database, query, limit, session_id=session_id)

    async def check_integrity(self) -> list[str]:
        """SQLite's and FTS5's integrity checks; [] when all is well."""
        return await search.check_integrity(self.database)

    async def rebuild_search_index(self) -> None:
        """Rebuild the FTS index from the messages (repair; normally never needed)."""
        await search.rebuild_search_index(self.database)
