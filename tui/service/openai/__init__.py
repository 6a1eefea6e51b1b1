"""tui.service.openai: the client for OpenAI-compatible servers (vLLM, llama-server, LM Studio,
hosted APIs). Public names are imported on first use."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["OpenAIClient", "api_root"]

_WHERE = {"OpenAIClient": "client", "api_root": "client"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
