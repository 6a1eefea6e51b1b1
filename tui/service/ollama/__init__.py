"""tui.service.ollama: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = [
    "OllamaClient",
]

_WHERE = {
    "OllamaClient": "client",
}


__getattr__ = lazy_exports(__name__, _WHERE)
