"""The frozen snapshot the Monitor pane renders, and how a raw sample maps to history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tui.service.monitor.gpu import GpuReport
from tui.service.monitor.history import PsModel
from tui.service.monitor.host import HostSample
from tui.service.monitor.procs import OllamaProcs
from tui.service.monitor.thresholds import Alert, metric_key

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Snapshot:
    """Everything the Monitor pane shows, frozen at one moment.

    History keys: ``cpu``, ``ram``, ``swap`` (percent), ``net_rx``, ``net_tx`` (bytes/s),
    ``ollama_cpu`` (server+runners, % of one core), ``ollama_rss`` (bytes), and per GPU
    ``gpu_util:N``, ``vram:N`` (percent), ``gpu_temp:N`` (°C), ``gpu_power:N`` (W).
    Every series has one entry per element of ``times`` (``None`` = no reading).
    """

    seq: int
    time: float  # sampler clock (monotonic) at the start of the sample
    wall_time: float  # time.time() at the start of the sample
    interval: float
    window: float
    host: HostSample | None
    ollama: OllamaProcs
    gpu: GpuReport
    models: tuple[PsModel, ...] = ()
    ps_error: str | None = None  # None: ps fine (or not configured, see ps_enabled)
    ps_enabled: bool = False
    errors: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # source -> error text
    costs: Mapping[str, float] = field(default_factory=lambda: _EMPTY)  # source -> seconds
    times: tuple[float, ...] = ()
    history: Mapping[str, tuple[float | None, ...]] = field(default_factory=lambda: _EMPTY)
    alerts: tuple[Alert, ...] = ()  # new alerts raised by this sample

    def series(self, key: str) -> tuple[float | None, ...]:
        return self.history.get(key, ())

    @property
    def free_vram(self) -> int | None:
        """Free VRAM summed over GPUs that report it; ``None`` without a usable GPU."""
        if not self.gpu.available:
            return None
        values = [g.mem_free for g in self.gpu.gpus if g.mem_free is not None]
        return sum(values) if values else None

    @property
    def free_ram(self) -> int | None:
        return self.host.ram_available if self.host is not None else None

    @property
    def sample_cost(self) -> float:
        return sum(self.costs.values())


@dataclass(frozen=True, slots=True)
class RawSample:
    """What one worker-thread pass collected, before it becomes a Snapshot."""

    time: float
    wall_time: float
    host: HostSample | None
    ollama: OllamaProcs
    gpu: GpuReport
    errors: dict[str, str]
    costs: dict[str, float]


def history_values(host: HostSample | None, ollama: OllamaProcs, gpu: GpuReport) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    if host is not None:
        values.update(
            cpu=host.cpu_percent,
            ram=host.ram_percent,
            swap=host.swap_percent,
            net_rx=host.net_rx_rate,
            net_tx=host.net_tx_rate,
        )
    values["ollama_cpu"] = ollama.cpu_percent
    rss = ollama.rss
    values["ollama_rss"] = float(rss) if rss is not None else None
    for g in gpu.gpus:
        values[metric_key("gpu_util", g.index)] = g.util_percent
        values[metric_key("vram", g.index)] = g.mem_percent
        values[metric_key("gpu_temp", g.index)] = g.temperature_c
        values[metric_key("gpu_power", g.index)] = g.power_w
    return values


def threshold_values(host: HostSample | None, gpu: GpuReport) -> dict[str, float | None]:
    """The values ThresholdWatcher looks at: cpu, ram, vram:N, gpu_temp:N."""
    values: dict[str, float | None] = {
        "cpu": host.cpu_percent if host else None,
        "ram": host.ram_percent if host else None,
    }
    for g in gpu.gpus:
        values[metric_key("vram", g.index)] = g.mem_percent
        values[metric_key("gpu_temp", g.index)] = g.temperature_c
    return values
