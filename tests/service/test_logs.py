"""The log file: where it is, what it holds (and never holds), its mode, rotation, and setup
that can be undone (one pytest process starts hundreds of apps)."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from tui.service import logs, paths

SECRET = "Bearer s3cr3t-t0ken-value"


@pytest.fixture
def logging_set_up(tmp_home):
    """logs.setup() under a temp HOME; everything it did undone afterwards."""
    before = list(logging.getLogger().handlers)
    yield paths.log_path()
    while logs.active_path() is not None:
        logs.teardown()
    assert logging.getLogger().handlers == before


def read(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_file_is_in_the_state_dir_private_with_time_level_and_name(logging_set_up, tmp_home):
    path = logs.setup()
    assert path == tmp_home / ".local/state/ollama-tui/ollama-tui.log" == logging_set_up
    assert not path.exists()  # made when the first record comes, not at every start
    logging.getLogger("tui.service.pulls").warning("pull of %s failed", "llama3.2")
    assert mode(path) == 0o600
    line = read(path).splitlines()[0]
    date, time, rest = line.split(" ", 2)
    assert len(date) == 10 and date[4] == "-" and ":" in time
    assert rest == "WARNING tui.service.pulls: pull of llama3.2 failed"


def test_warning_by_default_and_debug_on_request(logging_set_up):
    path = logs.setup()
    log = logging.getLogger("tui.ui.monitor.feed")
    log.info("not kept")
    log.warning("kept")
    logs.set_level("debug")
    log.debug("now kept")
    logging.getLogger("httpx").debug("GET http://x/ — other libraries stay at WARNING")
    logging.getLogger().setLevel(logging.DEBUG)  # someone else's choice (pytest's caplog does this)
    try:
        logging.getLogger("httpcore").debug("send_request_headers — still not written")
        logging.getLogger("asyncio").warning("a library's warning is written")
    finally:
        logging.getLogger().setLevel(logging.WARNING)
    text = read(path)
    assert "not kept" not in text and "kept" in text and "now kept" in text
    assert "other libraries" not in text and "still not written" not in text
    assert "WARNING asyncio: a library's warning is written" in text
    with pytest.raises(ValueError, match="unknown log level"):
        logs.setup("verbose")
    assert logs.level_number("ERROR") == logging.ERROR


def test_exceptions_are_written_with_their_traceback(logging_set_up):
    path = logs.setup()
    try:
        raise RuntimeError("the sampler broke")
    except RuntimeError:
        logging.getLogger("tui.service.monitor").exception("GPU backend init failed")
    text = read(path)
    assert "ERROR tui.service.monitor: GPU backend init failed" in text
    assert "Traceback (most recent call last):" in text and "RuntimeError: the sampler broke" in text


def test_header_values_and_url_passwords_never_reach_the_file(logging_set_up):
    path = logs.setup(secrets=[SECRET, "x-api-key-123456"])
    log = logging.getLogger("tui.service.ollama")
    log.warning("request with headers %s", {"Authorization": SECRET, "X-Api-Key": "x-api-key-123456"})
    log.warning("the token alone: s3cr3t-t0ken-value; another scheme: Basic dXNlcjpwYXNz")
    log.warning("connecting to http://me:hunter2@example.com:11434/api/tags")
    try:
        raise ValueError(f"server refused {SECRET}")
    except ValueError:
        log.exception("in a traceback too")
    text = read(path)
    for secret in ("s3cr3t-t0ken-value", "x-api-key-123456", "hunter2", "dXNlcjpwYXNz"):
        assert secret not in text
    assert "http://me:***@example.com:11434/api/tags" in text
    assert "Basic ***" in text and "server refused ***" in text


def test_setup_is_counted_and_undone(logging_set_up):
    root = logging.getLogger()
    before = list(root.handlers)
    logs.setup("debug")  # the CLI
    logs.setup("debug")  # the App
    assert len(root.handlers) == len(before) + 1  # one handler, not two
    logs.teardown()
    assert logs.active_path() == logging_set_up
    logs.teardown()
    assert root.handlers == before and logs.active_path() is None
    assert logging.getLogger("tui").level == logging.NOTSET
    logs.teardown()  # one too many is harmless


def test_another_file_moves_the_handler(logging_set_up, tmp_path):
    logs.setup()
    other = tmp_path / "elsewhere" / "app.log"
    assert logs.setup(path=other) == other
    logging.getLogger("tui").warning("here")
    assert "here" in read(other)
    assert len([h for h in logging.getLogger().handlers if isinstance(h, logs.PrivateRotatingFileHandler)]) == 1


def test_the_file_rotates_small_and_every_file_is_private(logging_set_up, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 400)
    path = logs.setup()
    log = logging.getLogger("tui")
    for i in range(60):
        log.warning("line %d %s", i, "x" * 40)
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["ollama-tui.log", "ollama-tui.log.1", "ollama-tui.log.2", "ollama-tui.log.3"]
    assert all(mode(f) == 0o600 for f in files)
    assert all(f.stat().st_size <= 400 for f in files)
    assert "line 59" in read(path)


def test_a_wider_file_left_by_an_older_run_is_made_private(logging_set_up):
    path = logging_set_up
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("old\n")
    path.chmod(0o644)
    logs.setup()
    logging.getLogger("tui").error("new")
    assert mode(path) == 0o600 and read(path).startswith("old\n")
