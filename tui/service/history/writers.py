"""Ownership of streaming messages: every store has a writer token (host, pid, process start
time, random part) saved with the messages it streams, so that ``mark_interrupted`` can tell
a stream whose store is still open - here or in another live process - from one left behind
by a killed app.

This module must not import textual.
"""

from __future__ import annotations

import os
import socket
import uuid

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
