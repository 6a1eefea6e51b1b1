"""Records of the chat history store - sessions, messages, attachments, search hits - and their
conversion from and to database rows (JSON columns, role/status checks, storable text).

This module must not import textual.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ROLES = frozenset({"system", "user", "assistant", "tool"})
STATUSES = frozenset({"complete", "streaming", "stopped", "error"})


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    title: str
    model: str
    preset: str | None
    options: dict[str, Any]
    system_prompt: str | None
    think: bool | str | None
    keep_alive: str | int | float | None
    created_at: float  # unix epoch seconds
    updated_at: float  # bumped by update_session, add_message, supersede_from
    message_count: int = 0  # active (non-superseded) messages
    last_activity: float | None = None  # created_at of the newest message; None if empty
    host: str | None = None  # the name of the host it chats on; None: not recorded


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """What :meth:`HistoryStore.messages` tells about an attachment (no data)."""

    id: int
    message_id: int
    name: str
    mime: str
    size: int


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment with its bytes (from :meth:`HistoryStore.attachments`)."""

    id: int
    message_id: int
    name: str
    mime: str
    size: int
    data: bytes

    def base64(self) -> str:
        """The data base64-encoded, as Ollama's ``images`` field wants it."""
        return base64.b64encode(self.data).decode("ascii")


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    session_id: int
    parent_id: int | None
    role: str  # system | user | assistant
    content: str
    thinking: str
    created_at: float
    model: str | None
    stats: dict[str, Any] | None
    status: str  # complete | streaming | stopped | error
    error: str | None
    branch: int = 0  # 0: active conversation; n > 0: superseded by the n-th edit
    attachments: tuple[AttachmentInfo, ...] = field(default=())
    #: assistant: the calls the model asked for; tool: the one call this result answers.
    #: Each {"name": str, "arguments": dict}.
    tool_calls: tuple[dict[str, Any], ...] = ()
    tool_name: str | None = None  # tool messages: the tool that ran (or was refused)

    @property
    def superseded(self) -> bool:
        return self.branch != 0

    @property
    def has_images(self) -> bool:
        """Whether the message has attachments (all attachments are images sent to Ollama)."""
        return bool(self.attachments)


@dataclass(frozen=True, slots=True)
class SearchHit:
    message_id: int
    session_id: int
    session_title: str
    role: str
    snippet: str  # plain text; matches wrapped in « »
    created_at: float
    superseded: bool


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str | None, default: Any = None) -> Any:
    if text is None:
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"invalid role {role!r}; expected one of {sorted(ROLES)}")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"invalid status {status!r}; expected one of {sorted(STATUSES)}")


def _text(text: str) -> str:
    """`text` storable as UTF-8: a file name read from a non-UTF-8 file system carries lone
    surrogates (os.fsdecode), which SQLite refuses; show those bytes as U+FFFD instead."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") \
            if _only_escapes(text) else text.encode("utf-8", "replace").decode("utf-8")
    return text


def _only_escapes(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


_SESSION_COLUMNS = """
    s.id, s.title, s.model, s.preset, s.options, s.system_prompt, s.think, s.keep_alive,
    s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.branch = 0),
    (SELECT m.created_at FROM messages m WHERE m.session_id = s.id ORDER BY m.id DESC LIMIT 1),
    s.host
"""

_MESSAGE_COLUMNS = (
    "id, session_id, parent_id, role, content, thinking, created_at, model, stats,"
    " status, error, branch, tool_calls, tool_name"
)


def _session_from_row(row: Sequence[Any]) -> Session:
    options = _loads(row[4], {})
    return Session(
        id=row[0],
        title=row[1],
        model=row[2],
        preset=row[3],
        options=options if isinstance(options, dict) else {},
        system_prompt=row[5],
        think=_loads(row[6]),
        keep_alive=_loads(row[7]),
        created_at=row[8],
        updated_at=row[9],
        message_count=row[10],
        last_activity=row[11],
        host=row[12],
    )


def _message_from_row(row: Sequence[Any], attachments: tuple[AttachmentInfo, ...] = ()) -> Message:
    stats = _loads(row[8])
    return Message(
        id=row[0],
        session_id=row[1],
        parent_id=row[2],
        role=row[3],
        content=row[4],
        thinking=row[5],
        created_at=row[6],
        model=row[7],
        stats=stats if isinstance(stats, dict) else None,
        status=row[9],
        error=row[10],
        branch=row[11],
        attachments=attachments,
        tool_calls=_tool_calls(row[12]),
        tool_name=row[13],
    )


def _tool_calls(text: str | None) -> tuple[dict[str, Any], ...]:
    calls = _loads(text, [])
    if not isinstance(calls, list):
        return ()
    return tuple({"name": str(c.get("name", "")), "arguments": c.get("arguments") if isinstance(c.get("arguments"), dict) else {}}
                 for c in calls if isinstance(c, dict))
