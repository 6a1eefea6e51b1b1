"""tui.service.metrics: remote boxes' GPUs, CPU/RAM and serving load from the exporters clusters
already run (dcgm-exporter, node_exporter, vLLM / llama.cpp /metrics, a Prometheus server).
Public names are imported on first use."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = ["BoxMetrics", "MetricsError", "MetricsReader", "NodeStats", "RemoteGpu", "Sample", "ServingStats",
           "read_box", "parse"]

_WHERE = {"BoxMetrics": "box", "read_box": "box", "MetricsError": "exposition", "Sample": "exposition",
          "parse": "exposition", "MetricsReader": "reader", "NodeStats": "node", "RemoteGpu": "gpus",
          "ServingStats": "serving"}


__getattr__ = lazy_exports(__name__, _WHERE)
