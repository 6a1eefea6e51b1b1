"""tui.service.bench: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _WHERE)
