"""Schema and forward migrations of the chat history database.

The schema version lives in ``PRAGMA user_version``; ``MIGRATIONS[i]`` takes a database
from version ``i`` to ``i + 1``. Migrations only ever move forward and all pending ones run
in one ``BEGIN IMMEDIATE`` transaction, so a crash mid-migration leaves the old version.
To change the schema, append a new ``Migration`` (never edit a released one).

Our databases are also stamped with ``PRAGMA application_id`` so that another program's
SQLite file is recognised (and left alone) instead of being "migrated".

FTS: ``messages_fts`` is an external-content FTS5 table over ``messages_fts_source``, a view
of the messages whose status is not 'streaming'. Triggers keep the index equal to that
view: a message being streamed is indexed once, when it reaches its final status
('complete' / 'stopped' / 'error'), so the periodic partial saves of a stream cost a
single-row UPDATE and no re-indexing. Because the index matches the view exactly,
FTS5's 'integrity-check' and 'rebuild' commands stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass

#: 'OLTH' - marks a SQLite file as an ollama-tui history database.
APPLICATION_ID = 0x4F4C5448

SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Migration:
    version: int  # the version the database has after this migration
    description: str
    statements: tuple[str, ...]


_V1 = (
    """
    CREATE TABLE sessions (
        id            INTEGER PRIMARY KEY,
        title         TEXT    NOT NULL DEFAULT 'New chat',
        model         TEXT    NOT NULL DEFAULT '',
        preset        TEXT,
        options       TEXT    NOT NULL DEFAULT '{}',   -- JSON object
        system_prompt TEXT,
        think         TEXT,                             -- JSON: NULL | true | false | "high"...
        keep_alive    TEXT,                             -- JSON: NULL | "5m" | 300 ...
        created_at    REAL    NOT NULL,                 -- unix epoch seconds
        updated_at    REAL    NOT NULL
    )
    """,
    "CREATE INDEX sessions_by_updated ON sessions(updated_at DESC, id DESC)",
    """
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        parent_id   INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        role        TEXT    NOT NULL,                   -- system | user | assistant
        content     TEXT    NOT NULL DEFAULT '',
        thinking    TEXT    NOT NULL DEFAULT '',
        created_at  REAL    NOT NULL,
        model       TEXT,
        stats       TEXT,                               -- JSON object or NULL
        status      TEXT    NOT NULL DEFAULT 'complete'
                    CHECK (status IN ('complete', 'streaming', 'stopped', 'error')),
        error       TEXT,
        branch      INTEGER NOT NULL DEFAULT 0,         -- 0 active; n > 0 superseded by edit n
        writer      TEXT                                -- owner token while streaming
    )
    """,
    "CREATE INDEX messages_by_session ON messages(session_id, id)",
    "CREATE INDEX messages_active ON messages(session_id, id) WHERE branch = 0",
    "CREATE INDEX messages_by_parent ON messages(parent_id) WHERE parent_id IS NOT NULL",
    "CREATE INDEX messages_streaming ON messages(id) WHERE status = 'streaming'",
    """
    CREATE TABLE attachments (
        id          INTEGER PRIMARY KEY,
        message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        name        TEXT    NOT NULL,
        mime        TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        data        BLOB    NOT NULL
    )
    """,
    "CREATE INDEX attachments_by_message ON attachments(message_id, id)",
    """
    CREATE VIEW messages_fts_source AS
        SELECT id, content, thinking FROM messages WHERE status <> 'streaming'
    """,
    """
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, thinking,
        content = 'messages_fts_source',
        content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages
    WHEN new.status <> 'streaming'
    BEGIN
        INSERT INTO messages_fts(rowid, content, thinking)
        VALUES (new.id, new.content, new.thinking);
    END
    """,
    """
    CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages
    WHEN old.status <> 'streaming'
    BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
        VALUES ('delete', old.id, old.content, old.thinking);
    END
    """,
    """
    CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, thinking, status ON messages
    BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
        SELECT 'delete', old.id, old.content, old.thinking
        WHERE old.status <> 'streaming'
          AND (new.status = 'streaming'
               OR old.content IS NOT new.content OR old.thinking IS NOT new.thinking);
        INSERT INTO messages_fts(rowid, content, thinking)
        SELECT new.id, new.content, new.thinking
        WHERE new.status <> 'streaming'
          AND (old.status = 'streaming'
               OR old.content IS NOT new.content OR old.thinking IS NOT new.thinking);
    END
    """,
    f"PRAGMA application_id = {APPLICATION_ID}",
)

# Saved compare/benchmark/batch runs (tui/service/bench/store.py). A batch's replies are chat
# sessions of their own; bench_batch_sessions tags them with the run they came from.
_V2 = (
    """
    CREATE TABLE bench_runs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL CHECK (kind IN ('compare', 'benchmark', 'batch')),
        title       TEXT    NOT NULL DEFAULT '',
        status      TEXT    NOT NULL DEFAULT 'complete',  -- running | complete | cancelled | error
        created_at  REAL    NOT NULL,
        models      TEXT    NOT NULL DEFAULT '[]',        -- JSON list
        prompts     TEXT    NOT NULL DEFAULT '[]',        -- JSON list
        settings    TEXT    NOT NULL DEFAULT '{}',        -- JSON object: repeats, preset, options…
        peak_vram   TEXT    NOT NULL DEFAULT '{}'         -- JSON object: model -> bytes
    )
    """,
    "CREATE INDEX bench_runs_by_created ON bench_runs(created_at DESC, id DESC)",
    """
    CREATE TABLE bench_measurements (
        id                INTEGER PRIMARY KEY,
        run_id            INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
        model             TEXT    NOT NULL,
        prompt_index      INTEGER NOT NULL DEFAULT 0,
        repeat            INTEGER NOT NULL DEFAULT 0,
        kind              TEXT    NOT NULL DEFAULT 'run',  -- warmup | run
        status            TEXT    NOT NULL DEFAULT 'complete',
        tokens_per_s      REAL,
        ttft_s            REAL,
        prompt_per_s      REAL,
        load_s            REAL,
        total_s           REAL,
        eval_count        INTEGER NOT NULL DEFAULT 0,
        prompt_eval_count INTEGER NOT NULL DEFAULT 0,
        reply             TEXT    NOT NULL DEFAULT '',
        error             TEXT
    )
    """,
    "CREATE INDEX bench_measurements_by_run ON bench_measurements(run_id, id)",
    """
    CREATE TABLE bench_batch_sessions (
        run_id       INTEGER NOT NULL REFERENCES bench_runs(id) ON DELETE CASCADE,
        session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        prompt_index INTEGER NOT NULL,
        PRIMARY KEY (run_id, session_id)
    )
    """,
    "CREATE INDEX bench_batch_sessions_by_session ON bench_batch_sessions(session_id)",
)

# Tool calling (issue 18): an assistant message's `tool_calls` (JSON list of {name, arguments}:
# the calls the model asked for) and `tool` messages (role 'tool', content = what the model was
# sent back, tool_name, tool_calls = the one call it answers, error = refused | error | timeout |
# failed, or NULL when the tool ran). The FTS index takes the calls too: its `thinking` column is
# the message's thinking followed by its tool_calls JSON, so a tool's name and arguments are
# found by search like its result is.
_FTS_THINKING = "{0}.thinking || coalesce(char(10) || {0}.tool_calls, '')"
_V3_TOOLS = (
    "ALTER TABLE messages ADD COLUMN tool_calls TEXT",  # JSON list or NULL
    "ALTER TABLE messages ADD COLUMN tool_name TEXT",
    "DROP TRIGGER messages_fts_ai",
    "DROP TRIGGER messages_fts_ad",
    "DROP TRIGGER messages_fts_au",
    "DROP VIEW messages_fts_source",
    f"""
    CREATE VIEW messages_fts_source AS
        SELECT id, content, {_FTS_THINKING.format("messages")} AS thinking
        FROM messages WHERE status <> 'streaming'
    """,
    f"""
    CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages
    WHEN new.status <> 'streaming'
    BEGIN
        INSERT INTO messages_fts(rowid, content, thinking)
        VALUES (new.id, new.content, {_FTS_THINKING.format("new")});
    END
    """,
    f"""
    CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages
    WHEN old.status <> 'streaming'
    BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
        VALUES ('delete', old.id, old.content, {_FTS_THINKING.format("old")});
    END
    """,
    f"""
    CREATE TRIGGER messages_fts_au AFTER UPDATE OF content, thinking, status, tool_calls ON messages
    BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content, thinking)
        SELECT 'delete', old.id, old.content, {_FTS_THINKING.format("old")}
        WHERE old.status <> 'streaming'
          AND (new.status = 'streaming' OR old.content IS NOT new.content
               OR old.thinking IS NOT new.thinking OR old.tool_calls IS NOT new.tool_calls);
        INSERT INTO messages_fts(rowid, content, thinking)
        SELECT new.id, new.content, {_FTS_THINKING.format("new")}
        WHERE new.status <> 'streaming'
          AND (old.status = 'streaming' OR old.content IS NOT new.content
               OR old.thinking IS NOT new.thinking OR old.tool_calls IS NOT new.tool_calls);
    END
    """,
)

# The host a session chats on (a [hosts.<name>] name; NULL: made before hosts were known, or
# on the one unnamed server). Opening the session switches back to it when it is configured.
_V4_HOST = ("ALTER TABLE sessions ADD COLUMN host TEXT",)

MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema: sessions, messages, attachments, FTS5 index", _V1),
    Migration(2, "saved compare, benchmark and batch runs", _V2),
    Migration(3, "tool calls: messages.tool_calls and tool_name, role 'tool', calls in the FTS index", _V3_TOOLS),
    Migration(4, "the host each chat session is on", _V4_HOST),
]


def schema_version() -> int:
    """The newest schema version this code knows (the number of migrations)."""
    return len(MIGRATIONS)


@dataclass(frozen=True)
class HeaderInfo:
    empty: bool  # zero-length (or missing) file: a brand-new database
    is_sqlite: bool
    user_version: int = 0
    application_id: int = 0


def read_header(data: bytes) -> HeaderInfo:
    """Interpret the first 100 bytes of a file without involving SQLite at all."""
    if not data:
        return HeaderInfo(empty=True, is_sqlite=True)
    if len(data) < 100 or not data.startswith(SQLITE_MAGIC):
        return HeaderInfo(empty=False, is_sqlite=False)
    return HeaderInfo(
        empty=False,
        is_sqlite=True,
        user_version=int.from_bytes(data[60:64], "big", signed=True),
        application_id=int.from_bytes(data[68:72], "big", signed=True),
    )
