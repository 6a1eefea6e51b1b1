"""A run's results as a table (the app's and the CLI's), and as Markdown, JSON and CSV files.

Model names, titles, prompts and replies are untrusted: the table, Markdown and CSV are made
inert (control and bidi characters by code point), the JSON writes them as \\u escapes."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

from tui.service.bench import BenchResult
from tui.service.bench.stats import ModelSummary, Spread
from tui.service.files import atomic_write
from tui.service.units import format_bytes
from tui.service.untrusted import inert, inert_json

COLUMNS = ("Model", "Runs", "tok/s (median)", "± spread", "First token", "Prompt tok/s", "Load", "Cold load",
           "Peak VRAM")


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def _spread_text(spread: Spread) -> str:
    """'±2.1 (95.0–99.8)': standard deviation, then the range."""
    if spread.low is None or spread.high is None:
        return "–"
    dev = f"±{spread.stdev:.1f} " if spread.stdev is not None else ""
    return f"{dev}({spread.low:.1f}–{spread.high:.1f})"


def row_cells(summary: ModelSummary) -> tuple[str, ...]:
    """The table row of one model, as text (the same in the app, the CLI and Markdown)."""
    m = summary.metrics
    runs = str(summary.runs) + (f" ({summary.failed} failed)" if summary.failed else "")
    return (
        summary.model, runs,
        _num(summary.median("tokens_per_s")), _spread_text(m["tokens_per_s"]),
        _num(summary.median("ttft_s"), 2, " s"), _num(summary.median("prompt_per_s")),
        _num(summary.median("load_s"), 2, " s"), _num(summary.cold_load_s, 2, " s"),
        "–" if summary.peak_vram is None else format_bytes(summary.peak_vram),
    )


def text_table(result: BenchResult) -> str:
    """A plain aligned table for a terminal or a log (what `ollama-tui bench` prints)."""
    rows = [COLUMNS, *(row_cells(s) for s in result.summaries())]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return inert("\n".join(lines))


def to_dict(result: BenchResult) -> dict[str, Any]:
    return {
        "id": result.id, "kind": result.kind, "title": result.title, "status": result.status,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(result.created_at)),
        "settings": result.settings, "hosts": result.hosts, "prompts": result.prompts,
        "models": [s.to_dict() for s in result.summaries()],  # fastest first
        "measurements": [m.to_dict() for m in result.measurements],
    }


def to_json(result: BenchResult) -> str:
    return inert_json(json.dumps(to_dict(result), indent=2, ensure_ascii=False, default=str)) + "\n"


CSV_FIELDS = ("model", "runs", "failed", "tokens_per_s_median", "tokens_per_s_min", "tokens_per_s_max",
              "tokens_per_s_stdev", "ttft_s_median", "prompt_per_s_median", "load_s_median", "total_s_median",
              "cold_load_s", "peak_vram_bytes")


def to_csv(result: BenchResult) -> str:
    """One row per model, fastest first, numbers unformatted (for a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for s in result.summaries():
        rate = s.metrics["tokens_per_s"]
        writer.writerow([s.model, s.runs, s.failed, rate.median, rate.low, rate.high, rate.stdev,
                         s.median("ttft_s"), s.median("prompt_per_s"), s.median("load_s"), s.median("total_s"),
                         s.cold_load_s, s.peak_vram])
    return inert(out.getvalue())


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: BenchResult) -> str:
    settings = result.settings
    lines = [f"# {result.kind.title()}: {_md_cell(result.title)}", "",
             f"- When: {time.strftime('%Y-%m-%d %H:%M', time.localtime(result.created_at))}",
             f"- Status: {result.status}"]
    for key in ("preset", "repeats", "prompt_set", "concurrency", "concurrent"):
        if settings.get(key) is not None:
            lines.append(f"- {key.replace('_', ' ').capitalize()}: {settings[key]}")
    if settings.get("options"):
        lines.append(f"- Options: `{json.dumps(settings['options'], sort_keys=True)}`")
    for ref, where in result.hosts.items():
        lines.append(f"- {_md_cell(ref)}: on {_md_cell(str(where.get('host')))} ({where.get('kind')})")
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for summary in result.summaries():
        lines.append("| " + " | ".join(_md_cell(c) for c in row_cells(summary)) + " |")
    lines += ["", "## Prompts", ""]
    lines += [f"{i}. {_md_cell(p)}" for i, p in enumerate(result.prompts, 1)]
    return inert("\n".join(lines) + "\n")


FORMATS = {"md": to_markdown, "json": to_json, "csv": to_csv}


def write_export(result: BenchResult, path: Path | str, fmt: str | None = None) -> Path:
    """Write the run to `path` atomically; the format comes from `fmt` or the file's suffix."""
    path = Path(path).expanduser()
    fmt = (fmt or path.suffix.lstrip(".") or "md").lower()
    if fmt == "markdown":
        fmt = "md"
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (md, json or csv)")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, FORMATS[fmt](result))
    return path
