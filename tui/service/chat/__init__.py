"""tui.service.chat: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = [
    "ChatService",
    "NotSent",
    "ReplyResult",
    "TurnPlan",
    "TurnRequest",
    "build_request",
]

_WHERE = {
    "ChatService": "turns",
    "NotSent": "turns",
    "ReplyResult": "turns",
    "TurnPlan": "turns",
    "TurnRequest": "turns",
    "build_request": "turns",
}


__getattr__ = lazy_exports(__name__, _WHERE)
