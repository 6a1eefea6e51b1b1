"""The Monitor pane's cards: Host, one per GPU, "no GPU", and Ollama.

Each card builds its widgets once and, per snapshot, hands them their new text and series;
the widgets repaint only what changed. A card over a warning level gets the ``-warn`` class
(colour) and a "⚠" in its title and on the value (text), never colour alone.
"""

from __future__ import annotations

import platform

from textual.app import ComposeResult
from textual.containers import Vertical

from ...service.gpu import GpuSample
from ...service.monitor_snapshot import Snapshot
from ...service.thresholds import metric_key
from ...service.units import format_power, format_used_total
from . import text as t
from .widgets import MetricRow, Readout, Spark


class Card(Vertical):
    """A titled block of the pane."""

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.add_class("monitor-card")
        self._title = ""
        self.set_title(title, warn=False)

    def set_title(self, title: str, *, warn: bool) -> None:
        if title != self._title:
            self._title = title
            self.border_title = title
        self.set_class(warn, "-warn")


def _capacity(snap: Snapshot) -> int:
    return max(1, round(snap.window / snap.interval))


class HostCard(Card):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Host", id=id)
        self.hostname = platform.node() or "this machine"
        self.cpu = MetricRow("CPU", spark=Spark(), id="host-cpu")
        self.cores = Readout(id="host-cores")
        self.ram = MetricRow("RAM", spark=Spark(), id="host-ram")
        self.swap = MetricRow("Swap", spark=Spark(), id="host-swap")
        self.disk = MetricRow("Disk", middle=Readout(), id="host-disk")
        self.net = MetricRow("Net", spark=Spark(hi=None, floor=1024.0), id="host-net")
        self.show_cores = False

    def compose(self) -> ComposeResult:
        yield self.cpu
        yield self.cores
        yield self.ram
        yield self.swap
        yield self.disk
        yield self.net

    def on_mount(self) -> None:
        self.cores.display = self.show_cores

    def toggle_cores(self) -> bool:
        self.show_cores = not self.show_cores
        self.cores.display = self.show_cores
        return self.show_cores

    def show(self, snap: Snapshot, levels: t.Levels) -> None:
        host = snap.host
        cap, seq = _capacity(snap), snap.seq
        cpu_level, ram_level = levels.get("cpu"), levels.get("ram")
        cpu = host.cpu_percent if host else None
        ram = host.ram_percent if host else None
        warn = t.over(cpu, cpu_level) or t.over(ram, ram_level)
        title = f"Host · {self.hostname}"
        if host is None:
            title += f" · {snap.errors.get('host', 'no reading')}"
        self.set_title(f"{t.WARN_MARK} {title}" if warn else title, warn=warn)

        self.cpu.value.set(t.percent(cpu, cpu_level))
        self.cpu.spark.set_series(snap.series("cpu"), seq, cap)
        self.cpu.spark.set_class(t.over(cpu, cpu_level), "-warn")
        self.cpu.detail.set((t.load_text(host),))
        if self.show_cores:
            width = max(10, self.content_size.width)
            self.cores.set(*t.per_core_lines(host.per_cpu if host else (), width, cpu_level))

        self.ram.value.set(t.percent(ram, ram_level))
        self.ram.spark.set_series(snap.series("ram"), seq, cap)
        self.ram.spark.set_class(t.over(ram, ram_level), "-warn")
        self.ram.detail.set(t.plain(format_used_total(host.ram_used if host else None,
                                                      host.ram_total if host else None)))

        self.swap.value.set(t.percent(host.swap_percent if host else None))
        self.swap.spark.set_series(snap.series("swap"), seq, cap)
        self.swap.detail.set(t.plain(format_used_total(host.swap_used if host else None,
                                                       host.swap_total if host else None)))

        self.disk.value.set(t.percent(host.disk_percent if host else None))
        self.disk.middle.set(((t.disk_where(host), t.MUTED),))
        self.disk.detail.set((t.disk_free(host),))

        rx = snap.series("net_rx")
        tx = snap.series("net_tx")
        combined = tuple(None if a is None and b is None else (a or 0) + (b or 0) for a, b in zip(rx, tx))
        self.net.spark.set_series(combined, seq, cap)
        self.net.detail.set((t.net_text(host),))


class GpuCard(Card):
    def __init__(self, index: int, *, id: str | None = None) -> None:
        super().__init__(f"GPU {index}", id=id)
        self.index = index
        self.util = MetricRow("Util", spark=Spark())
        self.vram = MetricRow("VRAM", spark=Spark())
        self.temp = MetricRow("Temp", spark=Spark())
        self.power = MetricRow("Power", spark=Spark(hi=None, floor=1.0))
        self.processes = Readout(classes="gpu-processes")

    def compose(self) -> ComposeResult:
        yield self.util
        yield self.vram
        yield self.temp
        yield self.power
        yield self.processes

    def show(self, snap: Snapshot, gpu: GpuSample, levels: t.Levels) -> None:
        i, cap, seq = gpu.index, _capacity(snap), snap.seq
        vram_level = t.level_for(levels, "vram", i)
        temp_level = t.level_for(levels, "gpu_temp", i)
        vram_warn = t.over(gpu.mem_percent, vram_level)
        temp_warn = t.over(gpu.temperature_c, temp_level)
        warn = vram_warn or temp_warn or gpu.error is not None
        self.set_title(t.gpu_title(gpu, snap.gpu.driver_version, warn), warn=warn)

        self.util.value.set(t.percent(gpu.util_percent))
        self.util.spark.set_series(snap.series(metric_key("gpu_util", i)), seq, cap)
        self.util.detail.set(t.plain(t.fan_text(gpu)) if gpu.fan_percent is not None
                             else ((t.fan_text(gpu), t.MUTED),))

        self.vram.value.set(t.percent(gpu.mem_percent, vram_level))
        self.vram.spark.set_series(snap.series(metric_key("vram", i)), seq, cap)
        self.vram.spark.set_class(vram_warn, "-warn")
        self.vram.detail.set(t.plain(format_used_total(gpu.mem_used, gpu.mem_total)))

        self.temp.value.set(t.temperature(gpu.temperature_c, temp_level))
        self.temp.spark.set_series(snap.series(metric_key("gpu_temp", i)), seq, cap)
        self.temp.spark.set_class(temp_warn, "-warn")
        self.temp.detail.set(((t.temp_level_text(temp_level), t.MUTED),))

        self.power.value.set(t.plain(format_power(gpu.power_w)))
        self.power.spark.set_series(snap.series(metric_key("gpu_power", i)), seq, cap,
                                    hi=gpu.power_limit_w)
        self.power.detail.set(t.plain(t.power_limit_text(gpu)) if gpu.power_limit_w is not None
                              else ((t.power_limit_text(gpu), t.MUTED),))

        self.processes.set(*t.gpu_process_lines(gpu, snap.ollama))


class NoGpuCard(Card):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("GPU", id=id)
        self.message = Readout()

    def compose(self) -> ComposeResult:
        yield self.message

    def show(self, text: str) -> None:
        self.message.set(((text, t.MUTED),))


class OllamaCard(Card):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Ollama", id=id)
        self.cpu = MetricRow("CPU", spark=Spark(hi=None, floor=100.0), id="ollama-cpu")
        self.server = Readout(id="ollama-server")
        self.models = Readout(id="ollama-models")

    def compose(self) -> ComposeResult:
        yield self.cpu
        yield self.server
        yield self.models

    def show(self, snap: Snapshot, *, local_port: int | None, latency: float | None, host: str) -> None:
        ollama = snap.ollama
        self.set_title(f"Ollama · {host}", warn=False)
        self.cpu.value.set(t.percent(ollama.cpu_percent))
        self.cpu.spark.set_series(snap.series("ollama_cpu"), snap.seq, _capacity(snap))
        self.cpu.detail.set(t.plain(t.rss_text(ollama)))
        self.server.set((t.ollama_server_text(ollama, local_port), "  ", t.latency_text(latency)))
        width = max(20, self.content_size.width)
        self.models.set(t.models_summary(snap.models, snap.ps_error, snap.ps_enabled),
                        *t.model_lines(snap.models, width))
