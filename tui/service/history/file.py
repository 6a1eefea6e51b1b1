"""The chat history file on disk: created with safe permissions, checked to be our database
before anything writes to it, and moved aside (never deleted) when it is unusable.

This module must not import textual.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from tui.service.history import schema as schema
from tui.service.history.errors import HistoryUnavailable


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
