"""tui.service.bench: the public names of this package (imported on first use)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BatchRun",
    "BenchPlan",
    "BenchResult",
    "BenchmarkRun",
    "CompareRun",
    "DEFAULT_SEED",
    "Run",
    "missing_models",
    "preset_options",
    "turn_request",
    "vram_in_use",
]

_WHERE = {
    "BatchRun": "runner",
    "BenchPlan": "runner",
    "BenchResult": "runner",
    "BenchmarkRun": "runner",
    "CompareRun": "runner",
    "DEFAULT_SEED": "runner",
    "Run": "runner",
    "missing_models": "runner",
    "preset_options": "runner",
    "turn_request": "runner",
    "vram_in_use": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
