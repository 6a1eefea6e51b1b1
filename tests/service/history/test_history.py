"""HistoryStore: files, migrations, sessions, messages, attachments, branches, recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tui.service.history import (
    HistoryError,
    HistoryNotFound,
    HistoryStore,
    HistoryUnavailable,
)
from tui.service.history import schema as schema

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def store(tmp_path):
    s = await HistoryStore.open(tmp_path / "history.db")
    yield s
    await s.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


# --------------------------------------------------------------------------- files & migrations


async def test_open_creates_private_file_and_dir(tmp_path):
    path = tmp_path / "data" / "ollama-tui" / "history.db"
    old = os.umask(0)  # even a permissive umask must not widen the modes
    try:
        s = await HistoryStore.open(path)
    finally:
        os.umask(old)
    try:
        ses = await s.create_session(model="m")
        await s.add_message(ses.id, "user", "hi")
        assert _mode(path) == 0o600
        assert _mode(path.parent) == 0o700
        wal = Path(str(path) + "-wal")
        if wal.exists():
            assert _mode(wal) & 0o077 == 0
    finally:
        await s.close()


async def test_pragmas(store):
    db = store.database.connection
    assert (await db.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"
    assert (await db.execute_fetchall("PRAGMA foreign_keys"))[0][0] == 1
    assert (await db.execute_fetchall("PRAGMA busy_timeout"))[0][0] >= 1000
    assert (await db.execute_fetchall("PRAGMA synchronous"))[0][0] == 1  # NORMAL


async def test_migrate_from_empty_file(tmp_path):
    path = tmp_path / "h.db"
    path.touch()
    s = await HistoryStore.open(path)
    await s.close()
    with _raw(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == schema.schema_version()
        assert c.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_schema")}
    assert {"sessions", "messages", "attachments", "messages_fts"} <= names


async def test_migrate_from_version_0(tmp_path):
    path = tmp_path / "h.db"
    with _raw(path) as c:  # a valid but blank SQLite database, user_version 0
        c.execute("CREATE TABLE t(x)")
        c.execute("DROP TABLE t")
    c.close()
    os.chmod(path, 0o644)
    assert path.read_bytes().startswith(schema.SQLITE_MAGIC)
    s = await HistoryStore.open(path)
    assert _mode(path) == 0o600  # an adopted database is made private too
    ses = await s.create_session(model="m")
    await s.add_message(ses.id, "user", "hello there")
    assert [h.message_id for h in await s.search("hello")] == [1]
    await s.close()
    with _raw(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == schema.schema_version()


async def test_forward_migrations_run_in_order(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    s = await HistoryStore.open(path)
    ses = await s.create_session(model="m", title="kept")
    await s.add_message(ses.id, "user", "survives the upgrade")
    await s.close()

    v2 = schema.Migration(
        schema.schema_version() + 1,
        "test: add a column",
        ("ALTER TABLE sessions ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0",),
    )
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, v2])
    s = await HistoryStore.open(path)
    try:
        assert (await s.get_session(ses.id)).title == "kept"
        assert [m.content for m in await s.messages(ses.id)] == ["survives the upgrade"]
        cols = {r[1] for r in await s.database.connection.execute_fetchall("PRAGMA table_info(sessions)")}
        assert "pinned" in cols
    finally:
        await s.close()
    with _raw(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == v2.version


async def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    s = await HistoryStore.open(path)
    await s.close()
    bad = schema.Migration(schema.schema_version() + 1, "broken", ("CREATE TABLE sessions(x)",))
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, bad])
    with pytest.raises(HistoryUnavailable):
        await HistoryStore.open(path)
    with _raw(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == bad.version - 1


async def test_a_version_2_database_gains_the_sessions_host_column(tmp_path):
    """Migrations 3 and 4: a history written before hosts were known keeps its sessions (host NULL);
    a session's host is stored, changed and read back."""
    path = tmp_path / "h.db"
    with _raw(path) as c:  # the database as version 2 of the app left it
        for migration in schema.MIGRATIONS[:2]:
            for statement in migration.statements:
                c.execute(statement)
        c.execute("PRAGMA user_version = 2")
        c.execute("INSERT INTO sessions (title, model, created_at, updated_at) VALUES ('old', 'm', 1, 1)")
    c.close()
    s = await HistoryStore.open(path)
    try:
        (old,) = await s.list_sessions()
        assert (old.title, old.host) == ("old", None)
        new = await s.create_session(model="m", host="big")
        assert (await s.get_session(new.id)).host == "big"
        assert (await s.update_session(old.id, host="rack")).host == "rack"
        assert (await s.update_session(new.id, host=None)).host is None
    finally:
        await s.close()
    with _raw(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == 4 == schema.schema_version()
        assert "host" in {r[1] for r in c.execute("PRAGMA table_info(sessions)")}


def _snapshot(tmp_path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database at all\n" * 10,
        b"SQLite format 3",  # truncated header
        b"\x00" * 4096,
        "{\"json\": true}".encode(),
    ],
)
async def test_not_a_database_is_left_untouched(tmp_path, content):
    path = tmp_path / "history.db"
    path.write_bytes(content)
    os.chmod(path, 0o644)
    before = _snapshot(tmp_path)
    with pytest.raises(HistoryUnavailable) as info:
        await HistoryStore.open(path)
    assert "not a SQLite database" in str(info.value)
    assert _snapshot(tmp_path) == before  # same bytes, no -wal/-shm/-journal created
    assert _mode(path) == 0o644


async def test_corrupt_database_is_unavailable(tmp_path):
    path = tmp_path / "history.db"
    path.write_bytes(schema.SQLITE_MAGIC + b"\xff" * 4080)
    before = path.read_bytes()
    with pytest.raises(HistoryUnavailable):
        await HistoryStore.open(path)
    assert path.read_bytes() == before


async def test_newer_schema_version_is_left_untouched(tmp_path):
    path = tmp_path / "history.db"
    s = await HistoryStore.open(path)
    ses = await s.create_session(model="m")
    await s.add_message(ses.id, "user", "from the future")
    await s.close()
    with _raw(path) as c:
        c.execute(f"PRAGMA user_version = {schema.schema_version() + 5}")
    c.close()
    before = _snapshot(tmp_path)
    with pytest.raises(HistoryUnavailable) as info:
        await HistoryStore.open(path)
    assert "newer" in str(info.value)
    assert info.value.path == path
    assert _snapshot(tmp_path) == before


async def test_other_programs_database_is_left_untouched(tmp_path):
    path = tmp_path / "other.db"
    with _raw(path) as c:
        c.execute("CREATE TABLE sessions(whatever)")
        c.execute("INSERT INTO sessions VALUES ('theirs')")
    c.close()
    before = _snapshot(tmp_path)
    with pytest.raises(HistoryUnavailable, match="another program"):
        await HistoryStore.open(path)
    assert _snapshot(tmp_path) == before

    path2 = tmp_path / "other2.db"
    with _raw(path2) as c:
        c.execute("PRAGMA application_id = 1234")
        c.execute("CREATE TABLE x(y)")
    c.close()
    before = path2.read_bytes()
    with pytest.raises(HistoryUnavailable, match="another program"):
        await HistoryStore.open(path2)
    assert path2.read_bytes() == before


async def test_in_memory_fallback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = await HistoryStore.open(":memory:")
    try:
        ses = await s.create_session(model="m")
        m = await s.add_message(ses.id, "user", "ephemeral", images=[("a.png", "image/png", b"1")])
        assert m.has_images
        assert [h.message_id for h in await s.search("ephemeral")] == [m.id]
    finally:
        await s.close()
    assert list(tmp_path.iterdir()) == []  # no file named ":memory:" was created


async def test_directory_path_is_unavailable(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(HistoryUnavailable):
        await HistoryStore.open(tmp_path / "adir")


async def test_closed_store_raises(tmp_path):
    s = await HistoryStore.open(tmp_path / "h.db")
    ses = await s.create_session(model="m")
    pending = [asyncio.create_task(s.add_message(ses.id, "user", f"{i}")) for i in range(5)]
    await asyncio.sleep(0)
    await s.close()
    for task in pending:  # operations queued behind close() fail cleanly
        try:
            await task
        except HistoryError:
            pass
    await s.close()  # idempotent
    with pytest.raises(HistoryError):
        await s.list_sessions()


# --------------------------------------------------------------------------- sessions


async def test_reopen_preserves_everything(tmp_path):
    path = tmp_path / "h.db"
    s = await HistoryStore.open(path)
    a = await s.create_session(
        title="Tea & ☕",
        model="llama3.2:3b",
        preset="precise",
        options={"temperature": 0.2, "num_ctx": 8192, "stop": ["\n\n"]},
        system_prompt="Be terse.",
        think=True,
        keep_alive="10m",
    )
    b = await s.create_session(model="qwen3", think="high", keep_alive=300)
    u = await s.add_message(a.id, "user", "Look at this", images=[("cat.png", "image/png", b"\x89PNG\x00\xff")])
    r = await s.add_message(
        a.id,
        "assistant",
        "A cat.",
        thinking="It is a cat.",
        model="llama3.2:3b",
        stats={"eval_count": 10, "eval_duration": 2_000_000_000, "ttft": 0.31},
    )
    e = await s.add_message(b.id, "assistant", "partial", status="error", error="boom")
    await s.close()

    s = await HistoryStore.open(path)
    try:
        a2 = await s.get_session(a.id)
        assert a2 is not None
        assert (a2.title, a2.model, a2.preset, a2.options, a2.system_prompt, a2.think, a2.keep_alive) == (
            "Tea & ☕",
            "llama3.2:3b",
            "precise",
            {"temperature": 0.2, "num_ctx": 8192, "stop": ["\n\n"]},
            "Be terse.",
            True,
            "10m",
        )
        assert a2.message_count == 2
        b2 = await s.get_session(b.id)
        assert (b2.think, b2.keep_alive, b2.options, b2.preset) == ("high", 300, {}, None)
        msgs = await s.messages(a.id)
        assert [(m.id, m.role, m.content, m.thinking, m.status) for m in msgs] == [
            (u.id, "user", "Look at this", "", "complete"),
            (r.id, "assistant", "A cat.", "It is a cat.", "complete"),
        ]
        assert msgs[0] == u
        assert msgs[1] == r
        assert msgs[1].stats == {"eval_count": 10, "eval_duration": 2_000_000_000, "ttft": 0.31}
        assert msgs[1].parent_id == u.id
        [att] = await s.attachments(u.id)
        assert (att.name, att.mime, att.data, att.size) == ("cat.png", "image/png", b"\x89PNG\x00\xff", 6)
        [err] = await s.messages(b.id)
        assert err == e and err.status == "error" and err.error == "boom"
    finally:
        await s.close()


async def test_update_session(store):
    ses = await store.create_session(model="a", think=True)
    upd = await store.update_session(ses.id, title="Renamed", model="b", options={"seed": 1}, think=None)
    assert (upd.title, upd.model, upd.options, upd.think) == ("Renamed", "b", {"seed": 1}, None)
    assert upd.updated_at >= ses.updated_at
    assert await store.get_session(ses.id) == upd
    upd = await store.update_session(ses.id, options=None, keep_alive=0, think=False)
    assert (upd.options, upd.keep_alive, upd.think) == ({}, 0, False)
    with pytest.raises(TypeError):
        await store.update_session(ses.id, colour="red")
    with pytest.raises(HistoryNotFound):
        await store.update_session(9999, title="x")
    assert await store.get_session(9999) is None


async def test_list_sessions_order_and_counts(store):
    a = await store.create_session(model="m", title="a")
    b = await store.create_session(model="m", title="b")
    c = await store.create_session(model="m", title="c")
    await store.add_message(a.id, "user", "1")
    await store.add_message(a.id, "assistant", "2")
    listed = await store.list_sessions()
    assert [x.title for x in listed] == ["a", "c", "b"]
    assert [x.message_count for x in listed] == [2, 0, 0]
    assert listed[0].last_activity is not None and listed[1].last_activity is None
    await store.update_session(b.id, title="b2")
    assert [x.title for x in await store.list_sessions()] == ["b2", "a", "c"]
    assert [x.title for x in await store.list_sessions(limit=1)] == ["b2"]
    assert c.id  # silence unused


async def test_add_message_validation(store):
    ses = await store.create_session(model="m")
    with pytest.raises(ValueError):
        await store.add_message(ses.id, "robot", "x")
    with pytest.raises(ValueError):
        await store.add_message(ses.id, "user", "x", status="done")
    with pytest.raises(HistoryNotFound):
        await store.add_message(12345, "user", "x")
    assert await store.count_messages(ses.id) == 0
    m = await store.add_message(ses.id, "user", "x")
    with pytest.raises(ValueError):
        await store.update_message(m.id, status="bogus")
    assert await store.update_message(424242, content="nobody") is False


async def test_add_message_bumps_session(store):
    ses = await store.create_session(model="m")
    await asyncio.sleep(0.01)
    m = await store.add_message(ses.id, "user", "x")
    after = await store.get_session(ses.id)
    assert after.updated_at > ses.updated_at
    assert after.last_activity == m.created_at


# --------------------------------------------------------------------------- messages


async def test_update_message_partial_and_final(store):
    ses = await store.create_session(model="m")
    m = await store.add_message(ses.id, "assistant", "", status="streaming", model="m")
    assert await store.update_message(m.id, content="Hel", thinking="hmm")
    got = await store.get_message(m.id)
    assert (got.content, got.thinking, got.status) == ("Hel", "hmm", "streaming")
    assert await store.update_message(
        m.id, content="Hello!", status="complete", stats={"eval_count": 2, "total_duration": 5}
    )
    got = await store.get_message(m.id)
    assert (got.content, got.status, got.stats) == ("Hello!", "complete", {"eval_count": 2, "total_duration": 5})
    assert await store.update_message(m.id) is True  # no-op on an existing message


async def test_attachments_are_loaded_only_on_demand(store):
    ses = await store.create_session(model="m")
    big = os.urandom(256 * 1024)
    u = await store.add_message(
        ses.id, "user", "two pics", images=[("a.jpg", "image/jpeg", big), ("b.png", "image/png", b"png")]
    )
    plain = await store.add_message(ses.id, "assistant", "nice")
    [m1, m2] = await store.messages(ses.id)
    assert [(a.name, a.mime, a.size) for a in m1.attachments] == [
        ("a.jpg", "image/jpeg", len(big)),
        ("b.png", "image/png", 3),
    ]
    assert not hasattr(m1.attachments[0], "data")
    assert m2.attachments == ()
    full = await store.attachments(u.id)
    assert [a.data for a in full] == [big, b"png"]
    assert full[1].base64() == "cG5n"
    assert await store.attachments(plain.id) == []
    many = await store.attachments_for([u.id, plain.id])
    assert list(many) == [u.id] and len(many[u.id]) == 2
    assert await store.attachments_for([]) == {}


async def test_paging_a_10000_message_session(store):
    ses = await store.create_session(model="m")
    other = await store.create_session(model="m")
    ids = []
    for i in range(10_000):
        m = await store.add_message(ses.id, "user" if i % 2 == 0 else "assistant", f"message {i}")
        ids.append(m.id)
        if i % 1000 == 0:
            await store.add_message(other.id, "user", f"noise {i}")
    assert await store.count_messages(ses.id) == 10_000

    page = await store.messages(ses.id)
    assert [m.id for m in page] == ids[-100:]  # newest 100, oldest-first
    assert page[-1].content == "message 9999"

    seen: list[int] = []
    before = None
    while True:
        page = await store.messages(ses.id, before_id=before, limit=750)
        if not page:
            break
        assert [m.id for m in page] == sorted(m.id for m in page)
        assert all(m.session_id == ses.id for m in page)
        seen = [m.id for m in page] + seen
        before = page[0].id
    assert seen == ids

    assert [m.id for m in await store.messages(ses.id, before_id=ids[50], limit=10)] == ids[40:50]
    assert [m.id for m in await store.messages(ses.id, before_id=ids[3], limit=10)] == ids[:3]
    assert await store.messages(ses.id, before_id=ids[0]) == []
    assert len(await store.messages(ses.id, limit=None)) == 10_000
    assert await store.messages(ses.id, limit=0) == []


async def test_cascade_delete(store):
    keep = await store.create_session(model="m")
    gone = await store.create_session(model="m")
    await store.add_message(keep.id, "user", "zebra kept")
    u = await store.add_message(gone.id, "user", "zebra gone", images=[("x.png", "image/png", b"x")])
    await store.add_message(gone.id, "assistant", "zebra reply", thinking="zebra thoughts")
    assert len(await store.search("zebra")) == 3

    assert await store.delete_session(gone.id) is True
    assert await store.delete_session(gone.id) is False
    assert await store.get_session(gone.id) is None
    assert await store.messages(gone.id, include_superseded=True) == []
    assert await store.attachments(u.id) == []
    assert [h.session_id for h in await store.search("zebra")] == [keep.id]
    for table in ("messages", "attachments"):
        rows = await store.database.connection.execute_fetchall(f"SELECT COUNT(*) FROM {table}")
        assert rows[0][0] == (1 if table == "messages" else 0)
    assert await store.check_integrity() == []


async def test_delete_message(store):
    ses = await store.create_session(model="m")
    a = await store.add_message(ses.id, "user", "alpha")
    b = await store.add_message(ses.id, "assistant", "beta")
    assert await store.delete_message(a.id)
    assert (await store.get_message(b.id)).parent_id is None
    assert await store.search("alpha") == []
    assert await store.check_integrity() == []


async def test_user_prompts(store):
    ses = await store.create_session(model="m")
    for text in ["first", "second", "second", "", "third"]:
        await store.add_message(ses.id, "user", text)
        await store.add_message(ses.id, "assistant", "reply to " + text)
    assert await store.user_prompts(ses.id) == ["first", "second", "third"]
    assert await store.user_prompts(ses.id, limit=2) == ["second", "third"]
    assert await store.user_prompts(9999) == []


# --------------------------------------------------------------------------- branches


async def test_supersede_from(store):
    ses = await store.create_session(model="m")
    u1 = await store.add_message(ses.id, "user", "question one")
    a1 = await store.add_message(ses.id, "assistant", "answer one")
    u2 = await store.add_message(ses.id, "user", "question two typo")
    a2 = await store.add_message(ses.id, "assistant", "answer two")
    u3 = await store.add_message(ses.id, "user", "question three")

    # Edit u2 and resend: u2 and everything after it moves to an earlier branch.
    assert await store.supersede_from(u2.id) == 3
    assert [m.id for m in await store.messages(ses.id)] == [u1.id, a1.id]
    assert await store.count_messages(ses.id) == 2
    assert await store.count_messages(ses.id, include_superseded=True) == 5
    u2b = await store.add_message(ses.id, "user", "question two fixed")
    assert u2b.parent_id == a1.id == u2.parent_id  # a sibling of the edited message
    a2b = await store.add_message(ses.id, "assistant", "answer two again")
    assert [m.content for m in await store.messages(ses.id)] == [
        "question one",
        "answer one",
        "question two fixed",
        "answer two again",
    ]
    everything = await store.messages(ses.id, include_superseded=True)
    assert [(m.id, m.branch) for m in everything] == [
        (u1.id, 0), (a1.id, 0), (u2.id, 1), (a2.id, 1), (u3.id, 1), (u2b.id, 0), (a2b.id, 0)
    ]
    assert everything[2].superseded and not everything[0].superseded
    hits = await store.search("typo")
    assert [(h.message_id, h.superseded) for h in hits] == [(u2.id, True)]
    assert (await store.get_session(ses.id)).message_count == 4

    # A second edit creates branch 2; already-superseded messages keep their branch.
    assert await store.supersede_from(u1.id) == 4
    assert await store.messages(ses.id) == []
    branches = {m.id: m.branch for m in await store.messages(ses.id, include_superseded=True)}
    assert branches == {u1.id: 2, a1.id: 2, u2.id: 1, a2.id: 1, u3.id: 1, u2b.id: 2, a2b.id: 2}
    assert await store.supersede_from(u2.id) == 0
    new = await store.add_message(ses.id, "user", "fresh start")
    assert new.parent_id is None
    with pytest.raises(HistoryNotFound):
        await store.supersede_from(99999)


# --------------------------------------------------------------------------- interruption


async def test_mark_interrupted_after_close(tmp_path):
    path = tmp_path / "h.db"
    a = await HistoryStore.open(path)
    ses = await a.create_session(model="m")
    m = await a.add_message(ses.id, "assistant", "", status="streaming")
    await a.update_message(m.id, content="half an ans")
    done = await a.add_message(ses.id, "assistant", "done")
    assert await a.search("ans") == []  # streaming messages are indexed when they end
    await a.close()  # closing without finishing the stream == the app went away

    b = await HistoryStore.open(path)
    try:
        assert await b.mark_interrupted() == 1
        got = await b.get_message(m.id)
        assert (got.status, got.error, got.content) == ("stopped", "interrupted", "half an ans")
        assert (await b.get_message(done.id)).status == "complete"
        assert [h.message_id for h in await b.search("ans")] == [m.id]
        assert await b.mark_interrupted() == 0
        assert await b.check_integrity() == []
    finally:
        await b.close()


async def test_mark_interrupted_spares_live_streams(tmp_path):
    path = tmp_path / "h.db"
    a = await HistoryStore.open(path)
    b = await HistoryStore.open(path)
    try:
        ses = await a.create_session(model="m")
        m = await a.add_message(ses.id, "assistant", "", status="streaming")
        assert await b.mark_interrupted() == 0  # a is alive and still streaming
        assert (await b.get_message(m.id)).status == "streaming"
        # a message whose writer process is gone (dead pid) is interrupted
        proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(proc.stdout)
        token = a.database.writer.split("\t")
        token[1] = str(dead_pid)
        dead = await a.add_message(ses.id, "assistant", "", status="streaming")
        await a.database.connection.execute("UPDATE messages SET writer = ? WHERE id = ?", ("\t".join(token), dead.id))
        orphan = await a.add_message(ses.id, "assistant", "", status="streaming")
        await a.database.connection.execute("UPDATE messages SET writer = NULL WHERE id = ?", (orphan.id,))
        assert await b.mark_interrupted() == 2
        assert (await b.get_message(m.id)).status == "streaming"
        assert (await b.get_message(dead.id)).status == "stopped"
        assert (await b.get_message(orphan.id)).status == "stopped"
    finally:
        await a.close()
        await b.close()


async def test_mark_interrupted_when_the_writer_is_a_zombie(tmp_path):
    """A writer killed but never reaped (a container whose init does not reap) is gone too."""
    import psutil

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = psutil.Process(child.pid).create_time()
        child.kill()
        deadline = asyncio.get_running_loop().time() + 10
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert asyncio.get_running_loop().time() < deadline, "the child never became a zombie"
            await asyncio.sleep(0.01)
        s = await HistoryStore.open(tmp_path / "h.db")
        try:
            ses = await s.create_session(model="m")
            m = await s.add_message(ses.id, "assistant", "half", status="streaming")
            host = s.database.writer.split("\t")[0]
            token = "\t".join([host, str(child.pid), f"{start:.2f}", "x"])
            await s.database.connection.execute("UPDATE messages SET writer = ? WHERE id = ?", (token, m.id))
            assert await s.mark_interrupted() == 1
            assert (await s.get_message(m.id)).status == "stopped"
        finally:
            await s.close()
    finally:
        child.wait()


async def test_partial_saves_survive_sigkill(tmp_path):
    path = tmp_path / "h.db"
    code = textwrap.dedent(
        f"""
        import asyncio, sys, time
        from tui.service.history import HistoryStore
        async def main():
            s = await HistoryStore.open({str(path)!r})
            ses = await s.create_session(model="m", title="killed")
            await s.add_message(ses.id, "user", "tell me a story")
            m = await s.add_message(ses.id, "assistant", "", status="streaming")
            text = ""
            for i in range(20):
                text += f"word{{i}} "
                await s.update_message(m.id, content=text)
            print("saved", m.id, flush=True)
            time.sleep(60)
        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("saved"), proc.stderr.read()
        message_id = int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    s = await HistoryStore.open(path)
    try:
        got = await s.get_message(message_id)
        assert got.content == "".join(f"word{i} " for i in range(20))
        assert got.status == "streaming"
        assert await s.mark_interrupted() == 1
        assert (await s.get_message(message_id)).status == "stopped"
        assert [x.title for x in await s.list_sessions()] == ["killed"]
        assert await s.check_integrity() == []
    finally:
        await s.close()


async def test_cancelled_write_leaves_no_open_transaction(store):
    ses = await store.create_session(model="m")
    outcomes = set()
    for i in range(60):
        task = asyncio.create_task(
            store.add_message(ses.id, "user", "maybe", images=[("a", "b", b"c" * 10000)])
        )
        for _ in range(i % 12):  # cancel at different points of the transaction
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
            outcomes.add("done")
        except asyncio.CancelledError:
            outcomes.add("cancelled")
    assert "cancelled" in outcomes
    m = await store.add_message(ses.id, "user", "after")
    assert (await store.messages(ses.id))[-1] == m
    assert not store.database.connection.in_transaction
    # every stored message is complete (no half-inserted message without its attachment)
    for msg in await store.messages(ses.id):
        if msg.content == "maybe":
            assert len(msg.attachments) == 1


async def test_tool_calls_and_tool_messages_are_stored_and_found(tmp_path) -> None:
    from tui.service.history import HistoryStore

    store = await HistoryStore.open(tmp_path / "h.db")
    try:
        ses = await store.create_session(title="t", model="llama3.2")
        await store.add_message(ses.id, "user", "use add a=2 b=3")
        reply = await store.add_message(ses.id, "assistant", "", status="streaming")
        calls = [{"name": "add", "arguments": {"a": 2, "b": 3}}]
        await store.update_message(reply.id, status="complete", tool_calls=calls)
        await store.add_message(ses.id, "tool", "5", tool_name="add", tool_calls=calls)
        await store.add_message(ses.id, "tool", "The user refused to run this tool call.",
                                tool_name="lookup", tool_calls=[{"name": "lookup", "arguments": {}}], error="refused")
        stored = await store.messages(ses.id)
        assert [m.role for m in stored] == ["user", "assistant", "tool", "tool"]
        assert stored[1].tool_calls == tuple(calls) and stored[2].tool_name == "add"
        assert stored[2].content == "5" and stored[3].error == "refused"
        assert [h.message_id for h in await store.search("lookup")] == [stored[3].id]
        assert stored[1].id in [h.message_id for h in await store.search("add")]  # the call, by name
        assert await store.check_integrity() == []
    finally:
        await store.close()
