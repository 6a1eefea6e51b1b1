"""Errors of the chat history store (SQLite errors are wrapped in :class:`HistoryError`).

This module must not import textual.
"""

from __future__ import annotations

from pathlib import Path


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
