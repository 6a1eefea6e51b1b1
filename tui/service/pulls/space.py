"""Disk space for pulls: where a local Ollama keeps its models, and whether a download fits."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tui.service.units import format_size

__all__ = ["default_models_dir", "ensure_free_space"]


def default_models_dir() -> Path:
    """Where a local Ollama keeps blobs: $OLLAMA_MODELS, else ~/.ollama/models, else the Linux
    service's /usr/share/ollama/.ollama/models when only that exists."""
    env = os.environ.get("OLLAMA_MODELS", "").strip()
    if env:
        return Path(env).expanduser()
    home = Path.home() / ".ollama" / "models"
    service = Path("/usr/share/ollama/.ollama/models")
    if not home.exists() and service.exists():
        return service
    return home


def ensure_free_space(models_dir: str | os.PathLike[str], needed_bytes: int | None) -> str | None:
    """A warning when the disk holding `models_dir` has less free space than `needed_bytes`.

    None when there is room, when the size is unknown, or when the disk cannot be read (the
    directory may not exist yet: its nearest existing parent is measured).
    """
    if not needed_bytes or needed_bytes <= 0:
        return None
    path = Path(models_dir).expanduser()
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return None
    if free >= needed_bytes:
        return None
    return (f"not enough disk space: needs {format_size(needed_bytes)}, "
            f"{format_size(free)} free on {path}")
