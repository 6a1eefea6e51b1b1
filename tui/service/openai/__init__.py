"""tui.service.openai: the client for OpenAI-compatible servers (vLLM, llama-server, LM Studio,
hosted APIs). Public names are imported on first use."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = ["OpenAIClient", "api_root"]

_WHERE = {"OpenAIClient": "client", "api_root": "client"}


__getattr__ = lazy_exports(__name__, _WHERE)
