"""tui.service.monitor: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

__all__ = [
    "History",
    "HostSample",
    "OllamaProcs",
    "ProcInfo",
    "PsModel",
    "Sampler",
    "Snapshot",
    "ThresholdWatcher",
    "buffer_length",
]

_WHERE = {
    "History": "sampler",
    "HostSample": "sampler",
    "OllamaProcs": "sampler",
    "ProcInfo": "sampler",
    "PsModel": "sampler",
    "Sampler": "sampler",
    "Snapshot": "sampler",
    "ThresholdWatcher": "sampler",
    "buffer_length": "sampler",
}


__getattr__ = lazy_exports(__name__, _WHERE)
