"""What the Monitor pane and the resource strip say, as plain data: lines of (text, style) parts.

Pure functions over snapshot pieces (no Textual import), so what a user reads is testable
without a terminal. A warning is always a "⚠" in the text as well as a colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.cells import cell_len, set_cell_size

from tui.service.monitor.gpu import GpuProcess, GpuReport, GpuSample
from tui.service.monitor.history import PsModel
from tui.service.monitor.host import HostSample
from tui.service.monitor.procs import OllamaProcs
from tui.service.monitor.thresholds import metric_key
from tui.service.units import (
    NA,
    format_bytes,
    format_percent,
    format_power,
    format_rate,
    format_temperature,
    format_used_total,
)
from tui.service.untrusted import inert

WARN = "bold $text-warning"
MUTED = "$text-muted"
OK = "$text-success"
WARN_MARK = "⚠"
PAUSE_MARK = "‖"

Part = str | tuple[str, str]
Line = tuple[Part, ...]
Levels = Mapping[str, float | None]


def line_text(line: Line) -> str:
    """The plain text of a line (what a user reads, without colours)."""
    return "".join(p if isinstance(p, str) else p[0] for p in line)


def fit(line: Line, width: int) -> Line:
    """``line`` cut (with "…") or padded with spaces to exactly ``width`` cells."""
    if width <= 0:
        return ()
    out: list[Part] = []
    used = 0
    for part in line:
        text, style = (part, "") if isinstance(part, str) else part
        size = cell_len(text)
        if used + size > width:
            room = width - used
            text = set_cell_size(text, room - 1) + "…" if room >= 1 else ""
            out.append((text, style) if style else text)
            return tuple(out)
        out.append(part)
        used += size
    if used < width:
        out.append(" " * (width - used))
    return tuple(out)


LABEL_WIDTH = 6
VALUE_WIDTH = 8
DETAIL_WIDTH = 26


def columns(width: int) -> tuple[int, int]:
    """(sparkline cells, detail cells) of a metric row ``width`` cells wide; the label and
    value columns are fixed, the detail shrinks on narrow screens, the sparkline takes the rest."""
    rest = max(0, width - LABEL_WIDTH - VALUE_WIDTH)
    detail = min(DETAIL_WIDTH, max(0, rest - 11))
    spark = max(0, rest - detail - (1 if detail else 0))
    return spark, detail


def metric_row(label: str, value: Line, middle: Line, detail: Line, width: int) -> Line:
    """``label  value  sparkline-or-text  detail`` in fixed columns (so a changed value moves
    nothing else on the line)."""
    spark_w, detail_w = columns(width)
    parts: list[Part] = [*fit(((label, MUTED),), LABEL_WIDTH), *fit(value, VALUE_WIDTH), *fit(middle, spark_w)]
    if detail_w:
        parts += [" ", *fit(detail, detail_w)]
    return tuple(parts)


def over(value: float | None, level: float | None) -> bool:
    return value is not None and level is not None and value >= level


def level_for(levels: Levels, metric: str, index: int | None = None) -> float | None:
    """Per-GPU key (``vram:1``) first, then the metric-wide level, as ThresholdWatcher does."""
    if index is not None and metric_key(metric, index) in levels:
        return levels[metric_key(metric, index)]
    return levels.get(metric)


def reading(text: str, value: float | None, level: float | None = None) -> Line:
    """A value as shown: muted "N/A" when unknown, "⚠ 92%" in warning colours when over."""
    if value is None:
        return ((NA, MUTED),)
    if over(value, level):
        return ((f"{WARN_MARK} {text}", WARN),)
    return (text,)


def percent(value: float | None, level: float | None = None) -> Line:
    return reading(format_percent(value), value, level)


def temperature(value: float | None, level: float | None = None) -> Line:
    return reading(format_temperature(value), value, level)


def plain(text: str) -> Line:
    return ((text, MUTED),) if text == NA else (text,)


# --------------------------------------------------------------------------- host


def load_text(host: HostSample | None) -> str:
    if host is None or host.load_avg is None:
        return f"load {NA}"
    return "load " + " ".join(f"{x:.2f}" for x in host.load_avg)


def net_text(host: HostSample | None) -> str:
    rx = host.net_rx_rate if host else None
    tx = host.net_tx_rate if host else None
    return f"↓{format_rate(rx)} ↑{format_rate(tx)}"


def disk_where(host: HostSample | None) -> str:
    if host is None:
        return NA
    return f"{format_used_total(host.disk_used, host.disk_total)} · {host.disk_path}"


def disk_free(host: HostSample | None) -> str:
    free = host.disk_free if host else None
    return f"{format_bytes(free)} free" if free is not None else f"free {NA}"


def per_core_lines(per_cpu: Sequence[float], width: int, level: float | None = None) -> list[Line]:
    """Per-core CPU as cells of "#3  88%" packed into lines of ``width`` cells."""
    if not per_cpu:
        return [((f"per-core CPU {NA}", MUTED),)]
    cell = 10
    per_line = max(1, width // cell)
    lines: list[Line] = []
    for start in range(0, len(per_cpu), per_line):
        parts: list[Part] = []
        for i, value in enumerate(per_cpu[start : start + per_line], start):
            text = f"#{i:<3d}{value:>3.0f}% "
            parts.append((text.ljust(cell), WARN) if over(value, level) else text.ljust(cell))
        lines.append(tuple(parts))
    return lines


# --------------------------------------------------------------------------- GPU


def no_gpu_text(report: GpuReport, seen_before: bool) -> str:
    reason = (report.reason or "").strip()
    if seen_before:
        return f"GPU unavailable: {reason or 'no reading'} (values resume when it answers again)"
    if not reason or reason.lower() == "no nvidia gpu found":
        return "no NVIDIA GPU found"
    return f"no NVIDIA GPU found: {reason}"


def gpu_title(gpu: GpuSample, driver: str | None, warn: bool) -> str:
    title = f"GPU {gpu.index} · {inert(gpu.name)}"
    if driver:
        title += f" · driver {inert(driver)}"
    return f"{WARN_MARK} {title}" if warn else title


def fan_text(gpu: GpuSample) -> str:
    return f"fan {format_percent(gpu.fan_percent)}"


def power_limit_text(gpu: GpuSample) -> str:
    if gpu.power_limit_w is None:
        return f"limit {NA}"
    return f"limit {gpu.power_limit_w:.0f} W"


def power_value(gpu: GpuSample) -> Line:
    return plain(format_power(gpu.power_w))


def temp_level_text(level: float | None) -> str:
    return f"warn at {level:.0f}°C" if level is not None else ""


def process_label(proc: GpuProcess, ollama: OllamaProcs) -> str:
    """"Ollama runner" / "Ollama server" for Ollama's own processes, else ""."""
    if ollama.server is not None and proc.pid == ollama.server.pid:
        return "Ollama server"
    if proc.is_ollama or any(r.pid == proc.pid for r in ollama.runners):
        return "Ollama runner"
    name = proc.name.lower()
    if name.startswith(("ollama_llama_server", "ollama")):
        return "Ollama runner"
    return ""


def gpu_process_lines(gpu: GpuSample, ollama: OllamaProcs) -> list[Line]:
    if gpu.error:
        return [((f"{WARN_MARK} {gpu.error}: readings N/A", WARN),)]
    if not gpu.processes:
        return [(("no processes on this GPU", MUTED),)]
    lines: list[Line] = []
    for proc in sorted(gpu.processes, key=lambda p: -(p.used_memory or 0)):
        label = process_label(proc, ollama)
        memory = format_bytes(proc.used_memory)
        head = f"{proc.pid:>7d} {inert(proc.name)[:24]:<24} {memory:>10}"
        lines.append((head, (f"  ◆ {label}", OK)) if label else (head,))
    return lines


# --------------------------------------------------------------------------- Ollama


def ollama_server_text(ollama: OllamaProcs, local_port: int | None) -> str:
    if ollama.server is not None:
        runners = len(ollama.runners)
        found = "by port" if ollama.method == "port" else "by name"
        return f"server pid {ollama.server.pid} ({found}) · {runners} runner{'s' if runners != 1 else ''}"
    if ollama.runners:
        return f"server not visible · {len(ollama.runners)} runner(s) found by name"
    if local_port is None:
        return "remote server: its process is not on this machine"
    return "server process not found on this machine"


def rss_text(ollama: OllamaProcs) -> str:
    return f"RSS {format_bytes(ollama.rss)}"


def latency_text(latency: float | None) -> str:
    return f"latency {latency * 1000:.0f} ms" if latency is not None else f"latency {NA}"


def models_summary(models: Sequence[PsModel], ps_error: str | None, enabled: bool) -> Line:
    if not enabled:
        return (("loaded models: not asked", MUTED),)
    if ps_error:
        return ((f"loaded models: {inert(ps_error)}", MUTED),)
    if not models:
        return (("no model loaded", MUTED),)
    return (f"{len(models)} model{'s' if len(models) != 1 else ''} loaded",)


def model_lines(models: Iterable[PsModel], width: int = 76) -> list[Line]:
    """One line per loaded model: name, size, how much of it sits in VRAM."""
    lines: list[Line] = []
    name_width = max(12, min(40, width - 40))
    for m in models:
        name = inert(m.name)
        if len(name) > name_width:
            name = name[: name_width - 1] + "…"
        frac = m.gpu_fraction
        if frac is None:
            share = f"VRAM {NA}"
        elif frac >= 0.995:
            share = f"100% GPU ({format_bytes(m.size_vram, unit='GB')} VRAM)"
        elif frac <= 0.005:
            share = "100% CPU (none in VRAM)"
        else:
            share = f"{frac * 100:.0f}% GPU / {100 - frac * 100:.0f}% CPU ({format_bytes(m.size_vram, unit='GB')} VRAM)"
        lines.append((f"  {name:<{name_width}} {format_bytes(m.size, unit='GB'):>8}  ", share))
    return lines


# --------------------------------------------------------------------------- header


def cost_text(costs: Mapping[str, float], *, averaged: bool = False) -> str:
    """"sample 8 ms: host 2 · procs 3 · gpu 1 · ps 2" — each source's own cost."""
    if not costs:
        return "sample cost N/A"
    parts = [f"{name} {seconds * 1000:.0f}" for name, seconds in costs.items()]
    head = "sample (avg)" if averaged else "sample"
    return f"{head} {sum(costs.values()) * 1000:.0f} ms: " + " · ".join(parts)


def mean_costs(history: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per-source mean over several samples (sources missing from some count only where present)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for costs in history:
        for name, seconds in costs.items():
            sums[name] = sums.get(name, 0.0) + seconds
            counts[name] = counts.get(name, 0) + 1
    return {name: sums[name] / counts[name] for name in sums}


def duration_text(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


# --------------------------------------------------------------------------- resource strip


def _used_total(used: int | None, total: int | None) -> str:
    return format_used_total(used, total, sep="/", unit="GiB")


def _cell(label: str, value: Line) -> Line:
    return ((label, MUTED), *value)


def strip_line(
    host: HostSample | None,
    gpu: GpuReport,
    levels: Levels,
    width: int,
    *,
    paused: bool = False,
) -> Line:
    """The one-line strip: GPU %, VRAM, CPU, RAM — the longest variant that fits ``width``."""
    sep: Part = (" · ", MUTED)
    cpu = host.cpu_percent if host else None
    ram_pct = host.ram_percent if host else None
    head: list[Line] = [((f"{PAUSE_MARK} paused", WARN),)] if paused else []

    def variant(verbose: int) -> Line:
        cells: list[Line] = list(head)
        if not gpu.available:
            cells.append(_cell("GPU ", ((NA if verbose < 2 else "none", MUTED),)))
        for g in gpu.gpus:
            name = "GPU " if len(gpu.gpus) == 1 else f"GPU{g.index} "
            vram_level = level_for(levels, "vram", g.index)
            if g.error:
                cells.append(_cell(name, ((NA, MUTED),)))
                continue
            if verbose >= 2:
                cells.append(_cell(name, percent(g.util_percent)))
                vram = percent(g.mem_percent, vram_level)
                cells.append(_cell("VRAM ", (*vram, f" {_used_total(g.mem_used, g.mem_total)}")))
            elif verbose == 1:
                cells.append(_cell(name, percent(g.util_percent)))
                cells.append(_cell("VRAM ", percent(g.mem_percent, vram_level)))
            else:
                cells.append(_cell(name, (*percent(g.util_percent), " ", *percent(g.mem_percent, vram_level))))
        cells.append(_cell("CPU ", percent(cpu, levels.get("cpu"))))
        ram = percent(ram_pct, levels.get("ram"))
        if verbose >= 2 and host is not None:
            ram = (*ram, f" {_used_total(host.ram_used, host.ram_total)}")
        cells.append(_cell("RAM ", ram))
        out: list[Part] = []
        for i, cell in enumerate(cells):
            if i:
                out.append(sep)
            out.extend(cell)
        return tuple(out)

    for verbose in (2, 1, 0):
        line = variant(verbose)
        if len(line_text(line)) <= width:
            return line
    return variant(0)
