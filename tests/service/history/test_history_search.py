"""Full-text search over the history: FTS kept in step, query escaping, snippets, scale."""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.service.history import HistoryStore, build_match_query
from tui.service.history import schema as schema

HOSTILE = [
    '"',
    '""',
    '"""',
    '"unterminated phrase',
    'a"b',
    "*",
    "**",
    "foo*bar",
    "*foo",
    "-",
    "-foo",
    "foo -bar",
    ":",
    "content:",
    "content:foo",
    "thinking: zebra",
    "{content thinking}: zebra",
    "rank:1",
    "rowid = 1",
    "NEAR(",
    "NEAR(zebra apple, 2)",
    "NEAR/3",
    "AND",
    "AND OR",
    "OR",
    "NOT",
    "zebra AND",
    "NOT zebra",
    "zebra OR",
    "(",
    ")",
    "(zebra",
    "^zebra",
    "+",
    "'",
    "\\",
    "%",
    "_",
    "; DROP TABLE messages; --",
    "日本語",
    "🙂",
    "🙂 zebra",
    "Ünïcödé",
    "\x00",
    "zebra\x00apple",
    "\u200b",
    "\t\n  ",
    "ـ",
    "x" * 5000,
    " ".join(["zebra"] * 300),
]


@pytest.fixture
async def store(tmp_path):
    s = await HistoryStore.open(tmp_path / "history.db")
    yield s
    await s.close()


async def _ids(store, query, **kw):
    return [h.message_id for h in await store.search(query, **kw)]


async def test_fts_in_step_with_insert_update_delete(store):
    ses = await store.create_session(model="m", title="Fruit talk")
    a = await store.add_message(ses.id, "user", "I like apples")
    b = await store.add_message(ses.id, "assistant", "Bananas are better", thinking="consider kiwis")
    assert await _ids(store, "apples") == [a.id]
    assert await _ids(store, "kiwis") == [b.id]  # thinking is indexed too

    await store.update_message(a.id, content="I like oranges")
    assert await _ids(store, "apples") == []
    assert await _ids(store, "oranges") == [a.id]
    await store.update_message(b.id, thinking="consider mangoes")
    assert await _ids(store, "kiwis") == []
    assert await _ids(store, "mangoes") == [b.id]
    assert await _ids(store, "bananas") == [b.id]
    await store.update_message(b.id, status="error", error="x")  # status only: still indexed
    assert await _ids(store, "bananas") == [b.id]

    await store.delete_message(a.id)
    assert await _ids(store, "oranges") == []
    await store.delete_session(ses.id)
    assert await _ids(store, "bananas") == []
    assert await store.check_integrity() == []


async def test_streaming_messages_are_indexed_when_final(store):
    ses = await store.create_session(model="m")
    m = await store.add_message(ses.id, "assistant", "", status="streaming")
    for i in range(1, 30):
        await store.update_message(m.id, content="token " * i + "zebrafish")
    assert await _ids(store, "zebrafish") == []
    await store.update_message(m.id, status="stopped", error="stopped by user")
    assert await _ids(store, "zebrafish") == [m.id]
    await store.update_message(m.id, status="streaming")  # e.g. continued generation
    await store.update_message(m.id, content="now about otters")
    assert await _ids(store, "zebrafish") == []
    await store.update_message(m.id, status="complete")
    assert await _ids(store, "otters") == [m.id]
    streaming_then_deleted = await store.add_message(ses.id, "assistant", "ghost", status="streaming")
    await store.delete_message(streaming_then_deleted.id)
    assert await store.check_integrity() == []


async def test_hit_fields_and_snippet(store):
    ses = await store.create_session(model="m", title="Cooking [b]markup[/b]")
    filler = " ".join(f"word{i}" for i in range(60))
    m = await store.add_message(
        ses.id, "assistant", f"{filler}\nthe secret\ningredient is <b>saffron</b> [red]x[/red] {filler}"
    )
    [hit] = await store.search("saffron")
    assert hit.message_id == m.id
    assert hit.session_id == ses.id
    assert hit.session_title == "Cooking [b]markup[/b]"
    assert hit.role == "assistant"
    assert hit.created_at == m.created_at
    assert hit.superseded is False
    assert "«saffron»" in hit.snippet
    assert "\n" not in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) < 200  # a window, not the whole message


async def test_query_semantics(store):
    ses = await store.create_session(model="m")
    m1 = await store.add_message(ses.id, "user", "docker compose keeps restarting")
    m2 = await store.add_message(ses.id, "assistant", "compose the docker file first")
    m3 = await store.add_message(ses.id, "user", "Café au lait, s'il vous plaît")
    m4 = await store.add_message(ses.id, "user", "AND OR NOT are just words here")
    m5 = await store.add_message(ses.id, "user", 'she said "quote" and left; e-mail me: a*b')

    assert await _ids(store, "docker compose") == [m2.id, m1.id]  # all words, newest first
    assert await _ids(store, '"docker compose"') == [m1.id]  # quoted: phrase
    assert await _ids(store, "dock") == [m2.id, m1.id]  # last word is a prefix
    assert await _ids(store, "dock ") == []  # ...unless followed by a space
    assert await _ids(store, '"dock"') == []  # ...or quoted
    assert await _ids(store, "dock comp") == []  # earlier words are whole words
    assert await _ids(store, "cafe") == [m3.id]  # diacritics folded
    assert await _ids(store, "CAFÉ AU") == [m3.id]
    assert await _ids(store, "AND OR NOT") == [m4.id]
    assert await _ids(store, '"quote"') == [m5.id]
    assert await _ids(store, "e-mail") == [m5.id]
    assert await _ids(store, "a*b") == [m5.id]
    assert await _ids(store, "restarting", limit=0) == []
    for empty in ["", "   ", "*", '"', "-", "::", "🙂"]:
        assert await store.search(empty) == []


async def test_search_within_one_session(store):
    a = await store.create_session(model="m", title="A")
    b = await store.create_session(model="m", title="B")
    ma = await store.add_message(a.id, "user", "common words")
    mb = await store.add_message(b.id, "user", "common words")
    assert await _ids(store, "common") == [mb.id, ma.id]
    assert await _ids(store, "common", session_id=a.id) == [ma.id]
    assert [h.session_title for h in await store.search("common")] == ["B", "A"]


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_never_raise(store, query):
    ses = await store.create_session(model="m")
    await store.add_message(ses.id, "user", "zebra apple 日本語 Ünïcödé foo bar")
    hits = await store.search(query)
    assert isinstance(hits, list)


async def test_hostile_queries_find_literal_words(store):
    ses = await store.create_session(model="m")
    m = await store.add_message(ses.id, "user", "zebra apple NEAR and or not")
    assert await _ids(store, "NEAR(zebra apple, 2)") == []  # 2 is not in the text
    assert await _ids(store, "(zebra apple") == [m.id]
    assert await _ids(store, "zebra NEAR(") == [m.id]
    assert await _ids(store, "NEAR(zebra") == []  # "near zebra" is a phrase, like "e-mail"
    assert await _ids(store, "content:zebra") == []  # "content" is just a word
    assert await _ids(store, "zebra AND") == [m.id]
    assert await _ids(store, "-zebra") == [m.id]
    assert await _ids(store, "^zebra") == [m.id]


def _memory_fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for migration in schema.MIGRATIONS:
        for statement in migration.statements:
            conn.execute(statement)
    conn.execute("INSERT INTO sessions (id, created_at, updated_at) VALUES (1, 0, 0)")
    conn.execute(
        "INSERT INTO messages (session_id, role, content, thinking, created_at)"
        " VALUES (1, 'user', 'alpha beta gamma', 'delta', 0)"
    )
    return conn


_FTS = _memory_fts()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.text(alphabet='"*-:^(){}+ NEARANDORNOTabc,./\\', max_size=30))
def test_any_text_is_a_valid_query(text):
    match = build_match_query(text)
    if match is None:
        return
    _FTS.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (match,)).fetchall()


async def test_100k_messages_searchable(tmp_path):
    path = tmp_path / "big.db"
    s = await HistoryStore.open(path)
    sessions = [await s.create_session(model="m", title=f"chat {i}") for i in range(50)]
    await s.close()

    rng = random.Random(7)
    words = [f"w{i}" for i in range(2000)]
    with sqlite3.connect(path) as conn:  # bulk load through the same triggers
        conn.executemany(
            "INSERT INTO messages (session_id, role, content, created_at) VALUES (?, ?, ?, ?)",
            (
                (
                    sessions[i % 50].id,
                    "user" if i % 2 == 0 else "assistant",
                    " ".join(rng.choices(words, k=30)) + (" needle" if i == 12_345 else ""),
                    float(i),
                )
                for i in range(100_000)
            ),
        )
    conn.close()

    s = await HistoryStore.open(path)
    try:
        [hit] = await s.search("needle")
        assert hit.message_id == 12_346
        assert "«needle»" in hit.snippet
        common = await s.search("w1")
        assert len(common) == 50
        assert [h.message_id for h in common] == sorted((h.message_id for h in common), reverse=True)
        assert common[0].message_id > 99_000  # newest first
        assert len(await s.search("w42 w43", limit=10)) == 10
        assert await s.count_messages(sessions[0].id) == 2000
        assert len(await s.list_sessions()) == 50
        assert await s.check_integrity() == []
    finally:
        await s.close()
