"""`files.atomic_write`: the one atomic write (config, chat and benchmark exports)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tui.service import files
from tui.service.files import atomic_write


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_content_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    assert atomic_write(target, "line\r\nnext ✓\n") is True
    assert target.read_bytes() == "line\r\nnext ✓\n".encode()  # UTF-8, newlines untouched
    assert mode_of(target) == 0o600
    atomic_write(target, b"\x00new", 0o640)
    assert target.read_bytes() == b"\x00new"
    assert mode_of(target) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.md"]


@pytest.mark.parametrize("step", ["fsync", "chmod", "replace"])
def test_a_failure_midway_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch, step: str) -> None:
    target = tmp_path / "config.toml"
    target.write_text("old")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, step, boom)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_interrupted_write_leaves_no_temp(tmp_path: Path, monkeypatch) -> None:
    """A KeyboardInterrupt (not an OSError) between write and rename cleans up too."""
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "x", "data")
    assert list(tmp_path.iterdir()) == []


def test_the_folder_is_fsynced_after_the_rename(tmp_path: Path, monkeypatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    atomic_write(tmp_path / "x", "data")
    assert synced == ["file", "dir"]


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    assert atomic_write(target, "first", exclusive=True) is True
    assert mode_of(target) == 0o600
    assert atomic_write(target, "second", exclusive=True) is False
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_exclusive_without_hard_links(tmp_path: Path, monkeypatch) -> None:
    """Some FUSE mounts have no hard links: an exclusive create instead, still never replacing."""
    def no_link(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_link)
    target = tmp_path / "config.toml"
    assert atomic_write(target, "first", exclusive=True) is True
    assert atomic_write(target, "second", exclusive=True) is False
    assert target.read_text() == "first"
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
