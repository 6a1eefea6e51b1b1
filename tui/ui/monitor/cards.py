"""The Monitor pane's cards: Host, one per GPU, "no GPU", and Ollama.

Each card is one :class:`Rows` widget: per snapshot it builds its lines (fixed columns:
label, value, sparkline, detail) and the widget repaints only the cells that changed. A
card over a warning level gets the ``-warn`` class (colour) and a "⚠" in its title and on
the value (text), never colour alone.

The Host and GPU cards start with two history charts side by side (CPU | RAM, utilization |
VRAM; see ``chart.py``), ``chart_height`` rows tall: the pane sets that height from the room
it has. A chart is rendered once per new sample and size (``ChartCard.chart``) and, being one
card's lines, repainted only where its cells changed.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from tui.service.monitor.gpu import GpuSample
from tui.service.monitor.snapshot import Snapshot
from tui.service.monitor.thresholds import metric_key
from tui.service.units import format_power, format_used_total
from tui.service.untrusted import inert
from tui.ui.monitor import chart as ch
from tui.ui.monitor import text as t
from tui.ui.monitor.widgets import Rows, auto_top, spark_text

SPARK = "$primary"
SPARK_WARN = "$warning"
#: Points below its level a reading must fall before a card's warning (title, colours) clears,
#: as the ThresholdWatcher's alerts do: a reading hovering about the level would otherwise
#: flip them every sample, and each flip repaints the whole card.
WARN_HYSTERESIS = 5.0


class Card(Rows):
    """A block of the pane, titled unless ``title`` is None; ``show(...)`` takes new data,
    a resize redraws it from the same data."""

    def __init__(self, title: str | None, *lines: t.Line, id: str | None = None) -> None:
        super().__init__(*lines, id=id, classes="monitor-card" if title is not None else None)
        self.bordered = title is not None  # a one-row top border holds the title
        self._title = ""
        self._shown: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._warned: set[str] = set()
        if title is not None:
            self.set_title(title, warn=False)

    def set_title(self, title: str, *, warn: bool) -> None:
        if title != self._title:
            self._title = title
            self.border_title = Text(inert(title))  # host names, URLs, GPU names: never markup
        self.set_class(warn, "-warn")  # no-op unless it changed; a leaf widget restyles alone

    def warned(self, key: str, value: float | None, level: float | None) -> bool:
        """Whether the card warns for ``key``: at or over ``level``, and from then on until the
        reading falls WARN_HYSTERESIS below it."""
        if value is None or level is None:
            self._warned.discard(key)
            return False
        warn = value >= (level - WARN_HYSTERESIS if key in self._warned else level)
        if warn:
            self._warned.add(key)
        else:
            self._warned.discard(key)
        return warn

    def show(self, *args: Any, **kwargs: Any) -> None:
        self._shown = (args, kwargs)
        self.set(*self.build(self.size.width or 76, *args, **kwargs))

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Build again from the data last shown (a new width or chart height)."""
        if self._shown is not None:
            args, kwargs = self._shown
            self.set(*self.build(self.size.width or 76, *args, **kwargs))

    def build(self, width: int, *args: Any, **kwargs: Any) -> list[t.Line]:
        raise NotImplementedError

    @property
    def rows(self) -> int:
        """Rows this card takes in the pane (its lines and its title border)."""
        return len(self.lines) + (1 if self.bordered else 0)


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """One chart of a card: its header (label, reading, detail) and its series on a scale."""

    label: str
    value: t.Line
    detail: t.Line
    key: str  # the history series (Snapshot.series)
    hi: float = 100.0
    axis: ch.Axis = ch.PERCENT
    level: float | None = None  # the warning level: rows over it are drawn in warning colours


class ChartCard(Card):
    """A card that starts with two history charts side by side (stacked when narrow)."""

    def __init__(self, title: str | None, *lines: t.Line, id: str | None = None) -> None:
        super().__init__(title, *lines, id=id)
        self.chart_height = ch.MIN_HEIGHT
        self.chart_units = 1  # chart heights stacked in the card: 1 side by side, 2 stacked
        self.charts_rendered = 0  # charts rendered (not taken from the cache), for tests
        self._charts: dict[tuple[Any, ...], list[t.Line]] = {}
        self._charts_seq = -1

    def set_chart_height(self, height: int) -> None:
        if height != self.chart_height:
            self.chart_height = height
            self.redraw()

    def chart(self, snap: Snapshot, spec: ChartSpec, width: int) -> list[t.Line]:
        """The chart's lines (header first), rendered once per sample and size."""
        if snap.seq != self._charts_seq:
            self._charts.clear()
            self._charts_seq = snap.seq
        capacity = _capacity(snap)
        key = (spec.key, width, self.chart_height, capacity, spec.hi, spec.axis, spec.level)
        plot = self._charts.get(key)
        if plot is None:
            self.charts_rendered += 1
            plot = self._charts[key] = ch.chart_lines(
                snap.series(spec.key), last_seq=snap.seq, capacity=capacity, width=width,
                height=self.chart_height, hi=spec.hi, axis=spec.axis, style=SPARK, level=spec.level,
                warn_style=SPARK_WARN)
        span = f"last {t.duration_text(snap.window)}"
        return [ch.chart_header(spec.label, spec.value, spec.detail, span, width), *plot]

    def chart_pair(self, snap: Snapshot, width: int, left: ChartSpec, right: ChartSpec) -> list[t.Line]:
        widths = ch.pair_widths(width)
        if widths is None:
            self.chart_units = 2
            return [*self.chart(snap, left, width), *self.chart(snap, right, width)]
        self.chart_units = 1
        lw, rw = widths
        return ch.side_by_side(self.chart(snap, left, lw), self.chart(snap, right, rw), lw)

    @property
    def chart_rows(self) -> int:
        """Rows of this card that are chart plot (the rest stays whatever the height)."""
        return self.chart_units * self.chart_height if self._shown is not None else 0


def _capacity(snap: Snapshot) -> int:
    return max(1, round(snap.window / snap.interval))


def _spark(snap: Snapshot, key: str, width: int, *, warn: bool = False, hi: float | None = 100.0,
           floor: float = 1.0) -> t.Line:
    values = snap.series(key)
    width = t.columns(width)[0]
    top = hi if hi is not None else auto_top(values, floor)
    return ((spark_text(values, snap.seq, width, capacity=_capacity(snap), hi=top), SPARK_WARN if warn else SPARK),)


class HostCard(ChartCard):
    def __init__(self, *, id: str | None = None) -> None:
        self.hostname = platform.node() or "this machine"
        self.show_cores = False
        super().__init__("Host", id=id)

    def toggle_cores(self) -> bool:
        self.show_cores = not self.show_cores
        self.redraw()  # with or without the per-core lines
        return self.show_cores

    def build(self, width: int, snap: Snapshot, levels: t.Levels) -> list[t.Line]:
        host = snap.host
        cpu_level, ram_level = levels.get("cpu"), levels.get("ram")
        cpu = host.cpu_percent if host else None
        ram = host.ram_percent if host else None
        cpu_warn, ram_warn = self.warned("cpu", cpu, cpu_level), self.warned("ram", ram, ram_level)
        title = f"Host · {self.hostname}"
        if host is None:
            title += f" · {snap.errors.get('host', 'no reading')}"
        self.set_title(f"{t.WARN_MARK} {title}" if cpu_warn or ram_warn else title, warn=cpu_warn or ram_warn)

        ram_text = format_used_total(host.ram_used, host.ram_total) if host else t.NA
        lines = self.chart_pair(
            snap, width,
            ChartSpec("CPU", t.percent(cpu, cpu_level), ((t.load_text(host), t.MUTED),), "cpu", level=cpu_level),
            ChartSpec("RAM", t.percent(ram, ram_level), t.plain(ram_text), "ram",
                      axis=ch.bytes_axis(host.ram_total if host else None), level=ram_level))
        if self.show_cores:
            lines += [(" " * t.LABEL_WIDTH, *line)
                      for line in t.per_core_lines(host.per_cpu if host else (), width - t.LABEL_WIDTH, cpu_level)]
        row = t.metric_row
        swap_text = format_used_total(host.swap_used, host.swap_total) if host else t.NA
        rx, tx = snap.series("net_rx"), snap.series("net_tx")
        net = tuple(None if a is None and b is None else (a or 0) + (b or 0) for a, b in zip(rx, tx, strict=False))
        net_top = auto_top(net, 1024.0)
        net_spark = spark_text(net, snap.seq, t.columns(width)[0], capacity=_capacity(snap), hi=net_top)
        lines += [
            row("Swap", t.percent(host.swap_percent if host else None), _spark(snap, "swap", width),
                t.plain(swap_text), width),
            row("Disk", t.percent(host.disk_percent if host else None), ((t.disk_where(host), t.MUTED),),
                (t.disk_free(host),), width),
            row("Net", (), ((net_spark, SPARK),), (t.net_text(host),), width),
        ]
        return lines


class GpuCard(ChartCard):
    def __init__(self, index: int, *, id: str | None = None) -> None:
        self.index = index
        super().__init__(f"GPU {index}", id=id)

    def build(self, width: int, snap: Snapshot, gpu: GpuSample, levels: t.Levels) -> list[t.Line]:
        i = gpu.index
        vram_level = t.level_for(levels, "vram", i)
        temp_level = t.level_for(levels, "gpu_temp", i)
        vram_warn = self.warned("vram", gpu.mem_percent, vram_level)
        temp_warn = self.warned("temp", gpu.temperature_c, temp_level)
        warn = vram_warn or temp_warn or gpu.error is not None
        self.set_title(t.gpu_title(gpu, snap.gpu.driver_version, warn), warn=warn)
        row = t.metric_row
        fan = t.plain(t.fan_text(gpu)) if gpu.fan_percent is not None else ((t.fan_text(gpu), t.MUTED),)
        return [
            *self.chart_pair(
                snap, width,
                ChartSpec("Util", t.percent(gpu.util_percent), fan, metric_key("gpu_util", i)),
                ChartSpec("VRAM", t.percent(gpu.mem_percent, vram_level),
                          t.plain(format_used_total(gpu.mem_used, gpu.mem_total)), metric_key("vram", i),
                          axis=ch.bytes_axis(gpu.mem_total), level=vram_level)),
            row("Temp", t.temperature(gpu.temperature_c, temp_level),
                _spark(snap, metric_key("gpu_temp", i), width, warn=temp_warn),
                ((t.temp_level_text(temp_level), t.MUTED),), width),
            row("Power", t.plain(format_power(gpu.power_w)),
                _spark(snap, metric_key("gpu_power", i), width, hi=gpu.power_limit_w),
                t.plain(t.power_limit_text(gpu)) if gpu.power_limit_w is not None
                else ((t.power_limit_text(gpu), t.MUTED),), width),
            *(t.fit(line, width) for line in t.gpu_process_lines(gpu, snap.ollama)),
        ]


class Header(Card):
    """The pane's first line: sampling interval and window, paused or not, the sample's cost."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(None, (("waiting for the first sample…", t.MUTED),), id=id)

    def build(self, width: int, interval: float, window: float, paused: bool,
              costs: dict[str, float]) -> list[t.Line]:
        every = f"every {interval:g} s · {t.duration_text(window)} of history"
        head: t.Line = ((f"{t.PAUSE_MARK} PAUSED (p resumes)", t.WARN), f" · {every}") if paused else (every,)
        return [t.fit((*head, "  ", (t.cost_text(costs, averaged=True), t.MUTED)), width)]


class NoGpuCard(Card):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("GPU", id=id)

    def build(self, width: int, message: str) -> list[t.Line]:
        return [t.fit(((message, t.MUTED),), width)]


class OllamaCard(Card):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Ollama", id=id)

    def build(self, width: int, snap: Snapshot, *, local_port: int | None, latency: float | None,
              host: str) -> list[t.Line]:
        ollama = snap.ollama
        self.set_title(f"Ollama · {host}", warn=False)
        cpu = t.metric_row("CPU", t.percent(ollama.cpu_percent),
                           _spark(snap, "ollama_cpu", width, hi=None, floor=100.0),
                           t.plain(t.rss_text(ollama)), width)
        # The latency moves every sample: first on the line, so a repaint stops right after it.
        server = (t.latency_text(latency), " · ", t.ollama_server_text(ollama, local_port))
        return [
            cpu,
            t.fit(server, width),
            t.fit(t.models_summary(snap.models, snap.ps_error, snap.ps_enabled), width),
            *(t.fit(line, width) for line in t.model_lines(snap.models, width)),
        ]
