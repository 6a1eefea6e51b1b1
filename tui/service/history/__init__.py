"""tui.service.history: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = [
    "HistoryError",
    "HistoryNotFound",
    "HistoryStore",
    "HistoryUnavailable",
    "Message",
    "Session",
    "build_match_query",
    "move_aside",
]

_WHERE = {
    "HistoryError": "store",
    "HistoryNotFound": "store",
    "HistoryStore": "store",
    "HistoryUnavailable": "store",
    "Message": "store",
    "Session": "store",
    "build_match_query": "store",
    "move_aside": "store",
}


__getattr__ = lazy_exports(__name__, _WHERE)
