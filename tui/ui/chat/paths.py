"""Completion of file paths typed in a dialog (image attachments, export targets)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Suggests the first existing entry that extends what was typed (~ expanded)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        expanded = os.path.expanduser(value)
        directory, prefix = os.path.split(expanded)
        try:
            names = sorted(os.listdir(directory or "."))
        except OSError:
            return None
        for name in names:
            if name.startswith(prefix) and name != prefix and not name.startswith("."):
                full = os.path.join(directory, name)
                suffix = "/" if os.path.isdir(full) else ""
                return value + name[len(prefix):] + suffix
        return None


IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
               ".gif": "image/gif", ".bmp": "image/bmp"}


def read_image(text: str) -> tuple[str, str, bytes]:
    """(name, mime, bytes) of an image file; ValueError with a plain reason otherwise."""
    path = Path(os.path.expanduser(text.strip()))
    mime = IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        raise ValueError(f"not an image type we send ({', '.join(sorted(IMAGE_TYPES))})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    if len(data) > 20 * 1024 * 1024:
        raise ValueError("larger than 20 MB")
    # A name from a non-UTF-8 file system holds lone surrogates: show those bytes as "�".
    name = os.fsencode(path.name).decode("utf-8", "replace")
    return name, mime, data
