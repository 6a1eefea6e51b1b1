"""The log file: what went wrong (with tracebacks), in the XDG state dir.

One handler on the root logger writes `paths.log_path()` (rotated at 1 MB, 3 old files kept,
each created 0600). The `tui` loggers log at the chosen level (WARNING unless --log-level or
[ui] log_level say otherwise); other libraries' loggers stay at WARNING, so their debug lines
(httpx's request lines, with URLs) never land in the file.

`setup()` is counted: the CLI and the App both call it, each pairs it with `teardown()`, and the
handler is removed (and its file closed) when the last user is done. A test process that
starts hundreds of apps therefore never piles handlers up.

Header values (`[server.headers]`, e.g. a bearer token) and URL passwords are scrubbed from
every line written, traceback included.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

from tui.service import paths

LEVELS = ("debug", "info", "warning", "error")
DEFAULT_LEVEL = "warning"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOGGER = "tui"

# scheme://user:password@host → scheme://user:***@host
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")
# "Bearer abc…", "Basic dXNl…": the credential part of an Authorization value
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{4,}")


def level_number(name: str | None) -> int:
    """logging's number for one of LEVELS (case-insensitive); ValueError for anything else."""
    value = (name or DEFAULT_LEVEL).strip().lower()
    if value not in LEVELS:
        raise ValueError(f"unknown log level {name!r} (one of: {', '.join(LEVELS)})")
    return logging.getLevelName(value.upper())


class RedactingFormatter(logging.Formatter):
    """A Formatter that scrubs known secrets from the whole line, the traceback included."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(FORMAT)
        self.secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        found: set[str] = set()
        for value in secrets:
            value = str(value).strip()
            if len(value) >= 3:
                found.add(value)
            # "Bearer <token>": the token alone may be quoted somewhere too
            found.update(part for part in value.split() if len(part) >= 6)
        self.secrets = tuple(sorted(found, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = _URL_PASSWORD.sub(r"\1***@", text)
        return _AUTH_SCHEME.sub(r"\1\2***", text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def _ours_or_a_warning(record: logging.LogRecord) -> bool:
    """Other libraries' records only from WARNING up, whatever the root logger's level (httpx's
    debug lines carry URLs)."""
    return record.levelno >= logging.WARNING or record.name == LOGGER or record.name.startswith(LOGGER + ".")


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (the live one and each new one after a rollover) are
    created mode 0600: a log may quote prompts, model names and hosts."""

    def _open(self):  # type: ignore[override]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a file left by an older version may be wider
        except OSError:
            pass
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115


_handler: PrivateRotatingFileHandler | None = None
_users = 0


def setup(level: str | None = None, *, path: Path | None = None, secrets: Iterable[str] = ()) -> Path:
    """Send log records to the log file (`path`, default `paths.log_path()`), the `tui` loggers
    at `level` (one of LEVELS; None = warning). Idempotent and counted: pair each call with
    `teardown()`. A call naming another file moves logging there. Returns the file's path.

    Raises ValueError for an unknown level; an unusable folder is not an error (logging then
    reports its own failure to stderr once per record, as the stdlib does).
    """
    global _handler, _users
    number = level_number(level)
    target = Path(path) if path is not None else paths.log_path()
    if _handler is not None and Path(_handler.baseFilename) != target.absolute():
        _remove()
    if _handler is None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            pass
        # delay: the file is made when the first record comes, not at every start
        _handler = PrivateRotatingFileHandler(target, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                              encoding="utf-8", delay=True)
        _handler.setFormatter(RedactingFormatter())
        _handler.addFilter(_ours_or_a_warning)
        logging.getLogger().addHandler(_handler)
        _users = 0
    _users += 1
    formatter = _handler.formatter
    assert isinstance(formatter, RedactingFormatter)
    formatter.set_secrets([*formatter.secrets, *secrets])
    logging.getLogger(LOGGER).setLevel(number)
    return target


def set_level(level: str | None) -> None:
    """Change the `tui` loggers' level (Settings saved a new [ui] log_level)."""
    logging.getLogger(LOGGER).setLevel(level_number(level))


def add_secrets(secrets: Iterable[str]) -> None:
    """Scrub these values too from now on (a header added at run time)."""
    if _handler is not None and isinstance(_handler.formatter, RedactingFormatter):
        _handler.formatter.set_secrets([*_handler.formatter.secrets, *secrets])


def teardown() -> None:
    """Undo one `setup()`; the last one removes the handler and closes the file."""
    global _users
    if _handler is None:
        return
    _users -= 1
    if _users <= 0:
        _remove()


def _remove() -> None:
    global _handler, _users
    handler, _handler, _users = _handler, None, 0
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()
    logging.getLogger(LOGGER).setLevel(logging.NOTSET)


def active_path() -> Path | None:
    """The file being written, or None when logging is not set up."""
    return Path(_handler.baseFilename) if _handler is not None else None
