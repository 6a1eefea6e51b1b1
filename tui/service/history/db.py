"""The connection behind a chat history store, :class:`HistoryDatabase`: opening (creating,
checking and migrating the database), closing, the writer token of its streams, and the locked
read and ``BEGIN IMMEDIATE`` write transactions that every operation of
:class:`~tui.service.history.HistoryStore` (and :class:`~tui.service.bench.store.BenchStore`,
which shares the connection) goes through.

This module must not import textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Self

import aiosqlite

from tui.service.history import schema as schema
from tui.service.history.errors import HistoryError, HistoryUnavailable
from tui.service.history.file import _check_header, _prepare_file
from tui.service.history.writers import _LIVE_WRITERS, _new_writer_token

BUSY_TIMEOUT_MS = 5000
MEMORY = ":memory:"
JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024


class HistoryDatabase:
    """One aiosqlite connection to a history file, its lock, its lifecycle and its transactions.
    The operations on sessions, messages, ... are functions that take it (``sessions.py``, ...)."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        #: Saved with the messages this store streams (see ``writers.py``).
        self.writer = _new_writer_token()
        self._lock = asyncio.Lock()
        self._closed = False
        _LIVE_WRITERS.add(self.writer)

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(cls, path: Path | str) -> Self:
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
            await _configure(db, path)
        except BaseException:
            with contextlib.suppress(Exception):
                await db.close()
            raise
        with contextlib.suppress(OSError):
            if not in_memory and stat.S_IMODE(os.stat(path).st_mode) & 0o077:
                os.chmod(path, 0o600)
        return cls(db, path)

    async def close(self) -> None:
        """Finish the operation in progress, then close. Later calls raise HistoryError."""
        if self._closed:
            return
        _LIVE_WRITERS.discard(self.writer)
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(sqlite3.Error):
                await self.connection.execute("PRAGMA optimize")
            await self.connection.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # ---------------------------------------------------------------- transactions

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._closed:
                raise HistoryError("the history store is closed")
            try:
                yield self.connection
            except sqlite3.Error as e:
                raise HistoryError(str(e)) from e

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One small IMMEDIATE transaction (takes the write lock up front, so concurrent
        writers wait in busy_timeout instead of failing with 'database is locked')."""
        async with self._lock:
            if self._closed:
                raise HistoryError("the history store is closed")
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.connection.execute("ROLLBACK"))
                raise HistoryError(str(e)) from e
            except BaseException:
                # Cancelled: BEGIN may still run in the worker thread; undo it.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.connection.execute("ROLLBACK"))
                raise
            try:
                yield self.connection
                await self.connection.execute("COMMIT")
            except BaseException as e:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.connection.execute("ROLLBACK"))
                if isinstance(e, sqlite3.Error):
                    raise HistoryError(str(e)) from e
                raise


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
            await _migrate(db, path)
    except HistoryUnavailable:
        raise
    except sqlite3.DatabaseError as e:
        raise HistoryUnavailable(path, f"cannot use the database: {e}") from e

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


async def fetchall(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
    """All rows of one query, as a list."""
    return list(await db.execute_fetchall(sql, tuple(params)))
