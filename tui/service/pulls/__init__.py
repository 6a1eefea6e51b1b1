"""tui.service.pulls: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = [
    "ProviderOpener",
    "PullJob",
    "PullManager",
    "ensure_free_space",
]

_WHERE = {
    "PullJob": "manager",
    "PullManager": "manager",
    "ProviderOpener": "manager",
    "ensure_free_space": "space",
}


__getattr__ = lazy_exports(__name__, _WHERE)
