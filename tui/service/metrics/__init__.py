"""tui.service.metrics: remote boxes' GPUs, CPU/RAM and serving load from the exporters clusters
already run (dcgm-exporter, node_exporter, vLLM / llama.cpp /metrics, a Prometheus server).
Public names are imported on first use."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BoxMetrics", "MetricsError", "MetricsReader", "NodeStats", "RemoteGpu", "Sample", "ServingStats",
           "read_box", "parse"]

_WHERE = {"BoxMetrics": "box", "read_box": "box", "MetricsError": "exposition", "Sample": "exposition",
          "parse": "exposition", "MetricsReader": "reader", "NodeStats": "node", "RemoteGpu": "gpus",
          "ServingStats": "serving"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
