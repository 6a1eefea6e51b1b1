"""Full-text search of the chat history: the safe FTS5 query built from what a user typed,
the search itself with plain-text snippets, and the index's integrity check and rebuild
(functions over a :class:`~tui.service.history.db.HistoryDatabase`).

This module must not import textual.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from typing import Any

from tui.service.history.db import HistoryDatabase, fetchall
from tui.service.history.records import SearchHit

SNIPPET_OPEN = "«"
SNIPPET_CLOSE = "»"
SNIPPET_ELLIPSIS = "…"
SNIPPET_TOKENS = 16


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


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def search(
    database: HistoryDatabase, query: str, limit: int = 50, *, session_id: int | None = None
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
    async with database.read() as db:
        rows = await fetchall(db, sql, params)
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


async def check_integrity(database: HistoryDatabase) -> list[str]:
    """SQLite's and FTS5's integrity checks; [] when all is well."""
    problems: list[str] = []
    async with database.read() as db:
        rows = await fetchall(db, "PRAGMA quick_check")
        problems += [r[0] for r in rows if r[0] != "ok"]
        rows = await fetchall(db, "PRAGMA foreign_key_check")
        problems += [f"foreign key: {tuple(r)}" for r in rows]
        try:
            # rank = 1: also compare the index with the messages it should hold.
            await db.execute(
                "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)"
            )
        except sqlite3.Error as e:
            problems.append(f"search index out of step with the messages: {e}")
    return problems


async def rebuild_search_index(database: HistoryDatabase) -> None:
    """Rebuild the FTS index from the messages (repair; normally never needed)."""
    async with database.write() as db:
        await db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
