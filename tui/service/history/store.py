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

The store is put together from mixins, one module each: ``history_db`` (connection,
lifecycle, transactions), ``history_sessions``, ``history_messages`` with
``history_attachments``, ``history_branches`` (supersede, recovery of interrupted streams) and
``history_search``; records and errors are in ``history_records`` and ``history_errors``, the
file checks in ``history_file``, the writer tokens in ``history_writers``. This module keeps
the public names.

This module must not import textual.
"""

from __future__ import annotations

from tui.service.history.branches import BranchesMixin
from tui.service.history.db import BUSY_TIMEOUT_MS, JOURNAL_SIZE_LIMIT, MEMORY  # noqa: F401
from tui.service.history.errors import HistoryError, HistoryNotFound, HistoryUnavailable
from tui.service.history.file import move_aside
from tui.service.history.messages import MessagesMixin
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
    SearchMixin,
    build_match_query,
)
from tui.service.history.sessions import SessionsMixin

__all__ = [
    "Attachment",
    "AttachmentInfo",
    "HistoryError",
    "HistoryNotFound",
    "HistoryStore",
    "HistoryUnavailable",
    "Message",
    "ROLES",
    "STATUSES",
    "SearchHit",
    "Session",
    "build_match_query",
    "move_aside",
]


class HistoryStore(SessionsMixin, MessagesMixin, BranchesMixin, SearchMixin):
    """Async access to the chat history database. Create with ``await HistoryStore.open(path)``
    and ``await store.close()`` when done (also usable as ``async with``)."""
