"""Writing a whole file atomically: a reader sees the old file or the new one, never half.

The data goes to a temp file in the same folder (created 0600), is flushed and fsynced, takes
its mode, and then replaces the target with os.replace (or, with ``exclusive=True``, is linked
in only where no file is yet); the folder is fsynced last, so the rename itself survives a
power cut. On any failure the temp file is removed and the target is as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path | str, data: bytes | str, mode: int = 0o600, *, exclusive: bool = False) -> bool:
    """Write ``data`` (a str is written as UTF-8, newlines as they are) to ``path`` with ``mode``.

    ``exclusive=True`` never replaces a file: it returns False where one exists (or appears
    meanwhile), True once written. The folder must exist. Raises OSError.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if exclusive:
            written = _link_new(tmp, path, raw, mode)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
            written = True
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if written:
        fsync_folder(path.parent)
    return written


def _link_new(tmp: str, path: Path, raw: bytes, mode: int) -> bool:
    try:
        os.link(tmp, path)  # atomic, and never replaces a file that appeared meanwhile
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links here (some FUSE mounts): an exclusive create instead
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    return True


def fsync_folder(folder: Path | str) -> None:
    """Make a rename or a new name in ``folder`` durable; best effort (not every system can)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
