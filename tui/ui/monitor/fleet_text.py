"""What the Monitor's fleet section says, as plain data: lines of (text, style) parts per host.

Pure functions over `HostRow`s (the sparkline helper aside, no Textual), so what a user reads is testable without a
terminal. Every string from a server or an exporter was made inert where it was parsed; the
host names and errors are made inert here once more (they are drawn as segments, never markup).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

from tui.service.fleet import HISTORY, FleetSnapshot, HostRow
from tui.service.metrics.gpus import RemoteGpu
from tui.service.metrics.node import NodeStats
from tui.service.metrics.serving import ServingStats
from tui.service.units import (
    NA,
    format_bytes,
    format_percent,
    format_power,
    format_temperature,
    format_used_total,
)
from tui.service.untrusted import inert
from tui.ui.monitor.text import (
    MUTED,
    OK,
    WARN,
    WARN_MARK,
    Levels,
    Line,
    Part,
    fit,
    level_for,
    over,
)
from tui.ui.monitor.widgets import spark_text

UP_MARK, DOWN_MARK, WAIT_MARK = "●", "✕", "◌"
SPARK = "$primary"
ENGINES = {"vllm": "vLLM", "llama.cpp": "llama.cpp"}
NAME_MIN, NAME_MAX = 8, 20


def name_width(rows: Sequence[HostRow]) -> int:
    """The host-name column: the longest name, within NAME_MIN..NAME_MAX cells."""
    longest = max((cell_len(inert(r.name)) for r in rows), default=0)
    return max(NAME_MIN, min(NAME_MAX, longest))


def history_spark(values: Sequence[float], width: int, samples: int) -> str:
    """The host's history (HISTORY samples) in `width` columns on a fixed 0–100 scale, newest on
    the right. Columns hold fixed groups of samples (the local Monitor's sparklines, see
    widgets.spark_text): between group boundaries only the rightmost column can change, so a
    moving reading repaints one cell, not the whole line."""
    return spark_text(values, max(0, samples - 1), width, capacity=HISTORY)


def title(snapshot: FleetSnapshot) -> str:
    rows = snapshot.rows
    up = sum(r.status == "up" for r in rows)
    down = sum(r.status == "down" for r in rows)
    text = f"Fleet · {len(rows)} host{'s' if len(rows) != 1 else ''} · {up} up"
    if down:
        text += f" · {DOWN_MARK} {down} down"
    if len(rows) - up - down:
        text += f" · {len(rows) - up - down} connecting"
    return text + pace_text(snapshot)


def pace_text(snapshot: FleetSnapshot) -> str:
    """How fresh the rows are: " · every 8 s, exporters every 16 s" (nothing before the pace is known)."""
    if snapshot.interval <= 0:
        return ""
    text = f" · every {snapshot.interval:g} s"
    if snapshot.exporter_every > 1 and any(r.box.gpus or r.box.node or r.box.serving or r.box.errors
                                           for r in snapshot.rows):
        text += f", exporters every {snapshot.exporter_interval:g} s"
    return text


def _lead(mark: Part, name: str, name_w: int) -> list[Part]:
    return [mark, " ", *fit(((inert(name), "bold"),), name_w), "  "]


def _sub(label: str, name_w: int) -> list[Part]:
    return ["  ", *fit(((label, MUTED),), name_w), "  "]


def server_text(row: HostRow) -> str:
    if row.kind != "ollama":
        return "OpenAI-compatible"
    return f"Ollama {inert(row.version)}" if row.version else "Ollama"


def latency_text(latency: float | None) -> str:
    return f"{latency * 1000:.0f} ms" if latency is not None else NA


def head_line(row: HostRow, name_w: int) -> Line:
    if row.status == "down":
        return (*_lead((DOWN_MARK, WARN), row.name, name_w), ("down", WARN), "  ",
                inert(row.error or "not reachable"))
    if row.status != "up":
        return (*_lead((WAIT_MARK, MUTED), row.name, name_w), ("connecting…", MUTED), "  ", (inert(row.url), MUTED))
    # Fixed columns: a new latency changes a few cells, nothing else moves.
    return (*_lead((UP_MARK, OK), row.name, name_w), ("up", OK), "    ", f"{server_text(row):<18}",
            f"{latency_text(row.latency):>7}", "  ", (inert(row.url), MUTED))


def loaded_line(row: HostRow, name_w: int) -> Line:
    if not row.loaded:
        return (*_sub("Loaded", name_w), ("no model loaded", MUTED))
    parts: list[Part] = []
    for i, m in enumerate(row.loaded):
        if i:
            parts.append((" · ", MUTED))
        parts.append(inert(m.name))
        vram = f" {format_bytes(m.size_vram)} VRAM"
        if m.size > m.size_vram:  # partly in RAM
            vram += f" of {format_bytes(m.size)}"
        parts.append((vram, MUTED))
    return (*_sub("Loaded", name_w), *parts)


def gpu_line(gpu: RemoteGpu, util: Sequence[float], vram: Sequence[float], name_w: int, width: int,
             samples: int, levels: Levels | None = None) -> Line:
    """One remote GPU; its VRAM use and temperature in warning colours at or over the levels of
    [monitor] (vram_warn, gpu_temp_warn: the same as this machine's GPUs), "⚠" before its label."""
    levels = levels or {}
    content = width - (2 + name_w + 2)
    fixed = 4 + 1 + 7 + 17 + 1 + 2 + 5 + 2 + 6 + 2
    spark = max(0, min(20, (content - fixed - 24) // 2))
    used_total = format_used_total(gpu.vram_used, gpu.vram_total)
    vram_hot = over(gpu.vram_percent, level_for(levels, "vram"))
    temp_hot = over(gpu.temperature, level_for(levels, "gpu_temp"))
    parts: list[Part] = [
        f"{format_percent(gpu.util):>4}", " ", (history_spark(util, spark, samples), SPARK),
        ("  VRAM ", MUTED), (f"{used_total:<17}", WARN) if vram_hot else f"{used_total:<17}", " ",
        (history_spark(vram, spark, samples), SPARK), "  ",
        (f"{format_temperature(gpu.temperature):>5}", WARN) if temp_hot else f"{format_temperature(gpu.temperature):>5}",
        "  ", f"{format_power(gpu.power):>6}", "  ",
        (inert(gpu.name) or "GPU", MUTED),
    ]
    label = f"{WARN_MARK} GPU {gpu.index}" if vram_hot or temp_hot else f"GPU {gpu.index}"
    return (*_sub(label, name_w), *parts)


def node_line(node: NodeStats, name_w: int) -> Line:
    ram = format_used_total(node.mem_used, node.mem_total)
    mem = f" ({format_percent(node.mem_percent)})" if node.mem_percent is not None else ""
    load = f"{node.load1:.2f}" if node.load1 is not None else NA
    return (*_sub("Node", name_w), ("CPU ", MUTED), f"{format_percent(node.cpu_percent):>4}",
            ("  RAM ", MUTED), f"{ram}{mem}", ("  load ", MUTED), load)


def _count(value: float | None) -> str:
    return NA if value is None else f"{value:g}"


def _rate(value: float | None) -> str:
    return NA if value is None else f"{value:,.0f}"


def serving_line(serving: ServingStats, name_w: int) -> Line:
    kv = format_percent(serving.kv_cache * 100) if serving.kv_cache is not None else NA
    parts: list[Part] = [
        _count(serving.running), (" running · ", MUTED), _count(serving.waiting), (" waiting · ", MUTED),
        ("KV cache ", MUTED), kv, (" · ", MUTED), _rate(serving.generation_rate), (" tok/s generated", MUTED),
    ]
    if serving.prompt_rate is not None:
        parts += [(" · ", MUTED), _rate(serving.prompt_rate), (" tok/s prompt", MUTED)]
    return (*_sub(ENGINES.get(serving.engine, inert(serving.engine)), name_w), *parts)


def error_line(error: str, name_w: int) -> Line:
    return (*_sub("", name_w), (f"{WARN_MARK} exporter {inert(error)}", WARN))


def host_lines(row: HostRow, width: int, name_w: int, levels: Levels | None = None) -> list[Line]:
    """Every line of one host, each exactly `width` cells (`levels`: [monitor]'s warning levels)."""
    lines: list[Line] = [head_line(row, name_w)]
    if row.up and row.has_ps:
        lines.append(loaded_line(row, name_w))
    box = row.box
    for i, gpu in enumerate(box.gpus):
        util = row.gpu_util[i] if i < len(row.gpu_util) else ()
        vram = row.gpu_vram[i] if i < len(row.gpu_vram) else ()
        lines.append(gpu_line(gpu, util, vram, name_w, width, row.samples, levels))
    if box.node is not None:
        lines.append(node_line(box.node, name_w))
    if box.serving is not None:
        lines.append(serving_line(box.serving, name_w))
    lines += [error_line(e, name_w) for e in box.errors]
    return [fit(line, width) for line in lines]
