"""tui.service.chat: the public names of this package (imported on first use)."""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
