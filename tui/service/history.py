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

This module must not import textual.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import socket
import sqlite3
import stat
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from tui.service import history_schema as schema

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

ROLES = frozenset({"system", "user", "assistant"})
STATUSES = frozenset({"complete", "streaming", "stopped", "error"})
BUSY_TIMEOUT_MS = 5000
MEMORY = ":memory:"
JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024
SNIPPET_OPEN = "«"
SNIPPET_CLOSE = "»"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 16

_SESSION_FIELDS = ("title", "model", "preset", "options", "system_prompt", "think", "keep_alive")
_MAX_ROWID = 2**63 - 1


# --------------------------------------------------------------------------- errors


class HistoryError(Exception):
    """Base class for history-store failures (SQLite errors are wrapped in it)."""


class HistoryUnavailable(HistoryError):
    """The history database cannot be used; the file was left untouched.

    Raised by :meth:`HistoryStore.open` when the path is not a SQLite database, belongs to
    another program, was written by a newer ollama-tui (higher schema version), or cannot
    be created/opened at all. ``path`` and ``reason`` give the details; ``str()`` is a
    sentence fit to show a user.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"Chat history unavailable ({self.path}): {reason}")


class HistoryNotFound(HistoryError, LookupError):
    """A session or message id that does not exist (any more)."""


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- helpers


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


def _is_token_char(ch: str) -> bool:
    # FTS5's unicode61 tokenizer: letters, numbers and private-use characters are token
    # characters, everything else separates tokens.
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat == "Co"


def _has_token(text: str) -> bool:
    return any(_is_token_char(ch) for ch in text)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_QUERY_RE = re.compile(r'"([^"]*)("?)|([^\s"]+)')


def build_match_query(text: str) -> str | None:
    """Turn what a user typed into a safe FTS5 MATCH expression (None: nothing to search).

    Every word becomes a quoted FTS5 string, so no character or keyword (``"``, ``*``,
    ``-``, ``:``, ``^``, ``(``, ``NEAR``, ``AND``, ``OR``, ``NOT``...) has a syntactic meaning.
    All words must occur (implicit AND); ``"quoted words"`` must occur as a phrase; the last
    word is matched as a prefix unless the text ends with a space or a closing quote, which
    suits search-as-you-type. Words without any letter or digit are ignored.
    """
    text = text.replace("\x00", " ")  # FTS5's query parser stops at a NUL
    parts: list[str] = []
    last_prefixable = False
    for m in _QUERY_RE.finditer(text):
        phrase, closed, word = m.group(1), m.group(2), m.group(3)
        chunk = phrase if phrase is not None else word
        if not chunk or not _has_token(chunk):
            continue
        parts.append(_fts_string(chunk))
        at_end = m.end() == len(text)
        last_prefixable = at_end and (word is not None or not closed)
    if not parts:
        return None
    if last_prefixable:
        parts[-1] += "*"
    return " ".join(parts)


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


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- ownership of streaming messages (so that mark_interrupted spares live writers) ----

_LIVE_WRITERS: set[str] = set()


def _process_start_time(pid: int) -> float | None:
    try:
        import psutil

        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None  # killed, not yet reaped (e.g. a container whose init never reaps)
        return float(process.create_time())
    except Exception:
        return None


_HOST = socket.gethostname().replace("\t", " ")
_PID = os.getpid()
_START = _process_start_time(_PID) or 0.0


def _new_writer_token() -> str:
    return f"{_HOST}\t{_PID}\t{_START:.2f}\t{uuid.uuid4().hex}"


def _writer_alive(token: str | None) -> bool:
    """Whether the store that started streaming a message is still open somewhere."""
    if not token:
        return False
    try:
        host, pid_s, start_s, _ = token.split("\t")
        pid, start = int(pid_s), float(start_s)
    except ValueError:
        return False
    if host != _HOST:
        return False  # cannot tell; a history file shared between hosts is not supported
    if pid == _PID and abs(start - _START) < 1.0:
        return token in _LIVE_WRITERS
    actual = _process_start_time(pid)
    return actual is not None and abs(actual - start) < 1.0


# --------------------------------------------------------------------------- the store

_SESSION_COLUMNS = """
    s.id, s.title, s.model, s.preset, s.options, s.system_prompt, s.think, s.keep_alive,
    s.created_at, s.updated_at,
    (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.branch = 0),
    (SELECT m.created_at FROM messages m WHERE m.session_id = s.id ORDER BY m.id DESC LIMIT 1)
"""

_MESSAGE_COLUMNS = (
    "id, session_id, parent_id, role, content, thinking, created_at, model, stats,"
    " status, error, branch"
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
    )


def _prepare_file(path: Path) -> None:
    """Create the parent dir (0700) and the database file (0600) ourselves, then make sure
    an existing file is a database we may use - without ever writing to it."""
    parent = path.parent
    if not parent.exists():
        try:
            parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(parent, 0o700)
        except OSError as e:
            raise HistoryUnavailable(path, f"cannot create directory {parent}: {e.strerror or e}") from e
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        pass
    except OSError as e:
        raise HistoryUnavailable(path, f"cannot create the database file: {e.strerror or e}") from e
    else:
        try:
            os.fchmod(fd, 0o600)  # whatever the umask says
        finally:
            os.close(fd)
        return
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise HistoryUnavailable(path, "not a regular file")
        with open(path, "rb") as f:
            header = schema.read_header(f.read(100))
    except HistoryUnavailable:
        raise
    except OSError as e:
        raise HistoryUnavailable(path, f"cannot read the file: {e.strerror or e}") from e
    _check_header(path, header.is_sqlite, header.user_version, header.application_id)


def _check_header(path: Path, is_sqlite: bool, user_version: int, application_id: int) -> None:
    if not is_sqlite:
        raise HistoryUnavailable(path, "the file is not a SQLite database; it was left untouched")
    if application_id not in (0, schema.APPLICATION_ID) or (
        application_id == 0 and user_version != 0
    ):
        raise HistoryUnavailable(
            path,
            "the file is a SQLite database of another program, not an ollama-tui chat history;"
            " it was left untouched",
        )
    supported = schema.schema_version()
    if user_version > supported:
        raise HistoryUnavailable(
            path,
            f"the database was written by a newer ollama-tui (schema version {user_version};"
            f" this version supports up to {supported}); it was left untouched -"
            " upgrade ollama-tui or use another history file",
        )
    if user_version < 0:
        raise HistoryUnavailable(path, f"invalid schema version {user_version}; left untouched")


def move_aside(path: Path | str) -> Path:
    """Rename an unusable history file (and its -wal/-shm companions) to
    ``<name>.unusable-<time>`` next to it, so a new history can start; nothing is deleted.
    Returns the new path; raises OSError when the rename fails (the file is then untouched)."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.unusable-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.unusable-{stamp}-{n}")
    os.rename(path, target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            with contextlib.suppress(OSError):
                os.rename(companion, target.with_name(target.name + suffix))
    return target


class HistoryStore:
    """Async access to the chat history database. Create with ``await HistoryStore.open(path)``
    and ``await store.close()`` when done (also usable as ``async with``)."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self._lock = asyncio.Lock()
        self._writer = _new_writer_token()
        self._closed = False
        _LIVE_WRITERS.add(self._writer)

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(cls, path: Path | str) -> HistoryStore:
        """Open (creating and/or migrating as needed) the history database at ``path``.

        ``":memory:"`` opens a private in-memory database (nothing is saved) - a fallback
        when the file is unavailable.

        Raises :class:`HistoryUnavailable` - without modifying the file - when it is not a
        SQLite database, is another program's database, or has a newer schema version.
        """
        in_memory = str(path) == MEMORY
        if in_memory:
            path = Path(MEMORY)
        else:
            path = Path(path).expanduser()
            if not path.is_absolute():
                path = Path.cwd() / path
            _prepare_file(path)
        try:
            conn = aiosqlite.connect(MEMORY if in_memory else path, isolation_level=None)
            thread = getattr(conn, "_thread", None)
            if thread is not None:
                # Do not keep the interpreter alive if the app forgets close() or crashes.
                with contextlib.suppress(Exception):
                    thread.daemon = True
            db = await conn
        except sqlite3.Error as e:
            raise HistoryUnavailable(path, f"cannot open the database: {e}") from e
        try:
            await cls._configure(db, path)
        except BaseException:
            with contextlib.suppress(Exception):
                await db.close()
            raise
        with contextlib.suppress(OSError):
            if not in_memory and stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)
        return cls(db, path)

    @staticmethod
    async def _configure(db: aiosqlite.Connection, path: Path) -> None:
        async def one(sql: str) -> Any:
            rows = list(await db.execute_fetchall(sql))
            return rows[0][0] if rows else None

        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Read-only checks first: nothing is written before we know the file is ours.
            version = await one("PRAGMA user_version")
            app_id = await one("PRAGMA application_id")
            _check_header(path, True, version, app_id)
            if version == 0:
                objects = await one(
                    "SELECT COUNT(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"
                )
                if objects:
                    raise HistoryUnavailable(
                        path,
                        "the file is a SQLite database of another program (it has tables but"
                        " no ollama-tui schema version); it was left untouched",
                    )
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            # Attachments can make the WAL big; do not keep it that big after a checkpoint.
            await db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            await db.execute("PRAGMA foreign_keys = ON")
            if version < schema.schema_version():
                await HistoryStore._migrate(db, path)
        except HistoryUnavailable:
            raise
        except sqlite3.DatabaseError as e:
            raise HistoryUnavailable(path, f"cannot use the database: {e}") from e

    @staticmethod
    async def _migrate(db: aiosqlite.Connection, path: Path) -> None:
        await db.execute("BEGIN IMMEDIATE")
        try:
            rows = list(await db.execute_fetchall("PRAGMA user_version"))
            version = rows[0][0]  # again: another process may have migrated meanwhile
            rows = list(await db.execute_fetchall("PRAGMA application_id"))
            _check_header(path, True, version, rows[0][0])
            for migration in schema.MIGRATIONS[version:]:
                for statement in migration.statements:
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {int(migration.version)}")
            await db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(db.execute("ROLLBACK"))
            raise

    async def close(self) -> None:
        """Finish the operation in progress, then close. Later calls raise HistoryError."""
        if self._closed:
            return
        _LIVE_WRITERS.discard(self._writer)
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                await self._db.execute("PRAGMA optimize")
            await self._db.close()

    async def __aenter__(self) -> HistoryStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # ---------------------------------------------------------------- plumbing

    @contextlib.asynccontextmanager
    async def _read(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._closed:
                raise HistoryError("the history store is closed")
            try:
                yield self._db
            except sqlite3.Error as e:
                raise HistoryError(str(e)) from e

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One small IMMEDIATE transaction (takes the write lock up front, so concurrent
        writers wait in busy_timeout instead of failing with 'database is locked')."""
        async with self._lock:
            if self._closed:
                raise HistoryError("the history store is closed")
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._db.execute("ROLLBACK"))
                raise HistoryError(str(e)) from e
            except BaseException:
                # Cancelled: BEGIN may still run in the worker thread; undo it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._db.execute("ROLLBACK"))
                raise
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException as e:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._db.execute("ROLLBACK"))
                if isinstance(e, sqlite3.Error):
                    raise HistoryError(str(e)) from e
                raise

    @staticmethod
    async def _fetchall(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return list(await db.execute_fetchall(sql, tuple(params)))

    # ---------------------------------------------------------------- sessions

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
    ) -> Session:
        now = time.time()
        opts = dict(options or {})
        async with self._write() as db:
            cur = await db.execute(
                "INSERT INTO sessions (title, model, preset, options, system_prompt, think,"
                " keep_alive, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        )

    async def update_session(self, session_id: int, **fields: Any) -> Session:
        """Change any of title, model, preset, options, system_prompt, think, keep_alive
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
        async with self._write() as db:
            cur = await db.execute(
                f"UPDATE sessions SET {', '.join(sets)} WHERE id = ?", (*params, session_id)
            )
            if cur.rowcount == 0:
                raise HistoryNotFound(f"no session {session_id}")
            rows = await self._fetchall(
                db, f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
            )
        return _session_from_row(rows[0])

    async def delete_session(self, session_id: int) -> bool:
        """Delete a session with its messages and attachments. False if it did not exist."""
        async with self._write() as db:
            cur = await db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            return cur.rowcount > 0

    async def get_session(self, session_id: int) -> Session | None:
        async with self._read() as db:
            rows = await self._fetchall(
                db, f"SELECT {_SESSION_COLUMNS} FROM sessions s WHERE s.id = ?", (session_id,)
            )
        return _session_from_row(rows[0]) if rows else None

    async def list_sessions(self, limit: int = 200) -> list[Session]:
        """Most recently updated first, with ``message_count`` and ``last_activity``."""
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                f"SELECT {_SESSION_COLUMNS} FROM sessions s"
                " ORDER BY s.updated_at DESC, s.id DESC LIMIT ?",
                (limit,),
            )
        return [_session_from_row(r) for r in rows]

    # ---------------------------------------------------------------- messages

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
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id)
            )
            if cur.rowcount == 0:
                raise HistoryNotFound(f"no session {session_id}")
            rows = await self._fetchall(
                db,
                "INSERT INTO messages (session_id, parent_id, role, content, thinking,"
                " created_at, model, stats, status, error, writer)"
                " VALUES (?1, (SELECT MAX(id) FROM messages WHERE session_id = ?1 AND branch = 0),"
                " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id, parent_id",
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
                    self._writer if status == "streaming" else None,
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
            params.append(self._writer if status == "streaming" else None)
        if stats is not None:
            sets.append("stats = ?")
            params.append(_dumps(dict(stats)))
        if error is not None:
            sets.append("error = ?")
            params.append(error)
        if not sets:
            return await self.get_message(message_id) is not None
        async with self._write() as db:
            cur = await db.execute(
                f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", (*params, message_id)
            )
            return cur.rowcount > 0

    async def delete_message(self, message_id: int) -> bool:
        """Delete one message (and its attachments); its children's parent_id becomes NULL."""
        async with self._write() as db:
            cur = await db.execute("DELETE FROM messages WHERE id = ?", (message_id,))
            return cur.rowcount > 0

    async def get_message(self, message_id: int) -> Message | None:
        async with self._read() as db:
            rows = await self._fetchall(
                db, f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
            )
            if not rows:
                return None
            infos = await self._attachment_infos(db, [message_id])
        return _message_from_row(rows[0], tuple(infos.get(message_id, ())))

    async def messages(
        self,
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
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                f"SELECT {_MESSAGE_COLUMNS} FROM messages"
                f" WHERE session_id = ?{branch_filter} AND id < ? ORDER BY id DESC LIMIT ?",
                (session_id, before, lim),
            )
            rows.reverse()
            infos = await self._attachment_infos(db, [r[0] for r in rows]) if rows else {}
        return [_message_from_row(r, tuple(infos.get(r[0], ()))) for r in rows]

    async def count_messages(self, session_id: int, *, include_superseded: bool = False) -> int:
        branch_filter = "" if include_superseded else " AND branch = 0"
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                f"SELECT COUNT(*) FROM messages WHERE session_id = ?{branch_filter}",
                (session_id,),
            )
        return int(rows[0][0])

    async def _attachment_infos(
        self, db: aiosqlite.Connection, message_ids: list[int]
    ) -> dict[int, list[AttachmentInfo]]:
        rows = await self._fetchall(
            db,
            "SELECT id, message_id, name, mime, size FROM attachments"
            " WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (_dumps(message_ids),),
        )
        out: dict[int, list[AttachmentInfo]] = {}
        for r in rows:
            out.setdefault(r[1], []).append(AttachmentInfo(*r))
        return out

    async def attachments(self, message_id: int) -> list[Attachment]:
        """The attachments of one message, with their bytes."""
        return (await self.attachments_for([message_id])).get(message_id, [])

    async def attachments_for(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        """Attachments (with bytes) of several messages at once, e.g. to re-send a
        conversation: ``{message_id: [Attachment, ...]}`` (messages without any are absent)."""
        ids = list(message_ids)
        if not ids:
            return {}
        async with self._read() as db:
            rows = await self._fetchall(
                db,
                "SELECT id, message_id, name, mime, size, data FROM attachments"
                " WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                (_dumps(ids),),
            )
        out: dict[int, list[Attachment]] = {}
        for r in rows:
            out.setdefault(r[1], []).append(Attachment(r[0], r[1], r[2], r[3], r[4], bytes(r[5])))
        return out

    async def user_prompts(self, session_id: int, limit: int = 100) -> list[str]:
        """What the user typed in this session (superseded turns included), for up/down
        recall: newest last, consecutive repeats collapsed, empty prompts skipped."""
        async with self._read() as db:
            rows = await self._fetchall(
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

    async def supersede_from(self, message_id: int) -> int:
        """Move ``message_id`` and every later active message of its session to a new
        branch (hidden from the active conversation, still stored, searchable, exported).
        Returns how many messages were superseded (0 if it already was)."""
        async with self._write() as db:
            rows = await self._fetchall(
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

    async def mark_interrupted(self) -> int:
        """At startup: messages left 'streaming' by a store that is gone (the app was
        killed) become 'stopped' with error "interrupted". Streams of stores still open -
        in this process or in another live process on this host - are left alone.
        Returns how many messages were marked."""
        async with self._write() as db:
            rows = await self._fetchall(
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

    # ---------------------------------------------------------------- search

    async def search(
        self, query: str, limit: int = 50, *, session_id: int | None = None
    ) -> list[SearchHit]:
        """Full-text search of message content and thinking, newest first.

        The words typed are matched literally (see :func:`build_match_query`); the last word
        as a prefix. Superseded messages are included (``SearchHit.superseded``); messages
        still streaming are not indexed yet. Empty or punctuation-only query -> [].
        """
        match = build_match_query(query)
        if match is None or limit <= 0:
            return []
        snippet = (
            f"snippet(messages_fts, -1, '{SNIPPET_OPEN}', '{SNIPPET_CLOSE}',"
            f" '{SNIPPET_ELLIPSIS}', {SNIPPET_TOKENS})"
        )
        if session_id is None:
            sql = (
                "SELECT h.id, m.session_id, s.title, m.role, m.created_at, m.branch, h.snip"
                f" FROM (SELECT rowid AS id, {snippet} AS snip FROM messages_fts"
                "       WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ?) AS h"
                " JOIN messages m ON m.id = h.id JOIN sessions s ON s.id = m.session_id"
                " ORDER BY h.id DESC"
            )
            params: tuple[Any, ...] = (match, limit)
        else:
            sql = (
                "SELECT m.id, m.session_id, s.title, m.role, m.created_at, m.branch,"
                f" {snippet} FROM messages_fts"
                " JOIN messages m ON m.id = messages_fts.rowid"
                " JOIN sessions s ON s.id = m.session_id"
                " WHERE messages_fts MATCH ? AND m.session_id = ?"
                " ORDER BY messages_fts.rowid DESC LIMIT ?"
            )
            params = (match, session_id, limit)
        async with self._read() as db:
            rows = await self._fetchall(db, sql, params)
        return [
            SearchHit(
                message_id=r[0],
                session_id=r[1],
                session_title=r[2],
                role=r[3],
                snippet=_one_line(r[6] or ""),
                created_at=r[4],
                superseded=r[5] != 0,
            )
            for r in rows
        ]

    async def check_integrity(self) -> list[str]:
        """SQLite's and FTS5's integrity checks; [] when all is well."""
        problems: list[str] = []
        async with self._read() as db:
            rows = await self._fetchall(db, "PRAGMA quick_check")
            problems += [r[0] for r in rows if r[0] != "ok"]
            rows = await self._fetchall(db, "PRAGMA foreign_key_check")
            problems += [f"foreign key: {tuple(r)}" for r in rows]
            try:
                # rank = 1: also compare the index with the messages it should hold.
                await db.execute(
                    "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"
                )
            except sqlite3.Error as e:
                problems.append(f"search index out of step with the messages: {e}")
        return problems

    async def rebuild_search_index(self) -> None:
        """Rebuild the FTS index from the messages (repair; normally never needed)."""
        async with self._write() as db:
            await db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
