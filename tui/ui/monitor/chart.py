"""History charts for the Monitor pane: a metric's recent values and a size in, lines of text out.

Pure (no Textual): :func:`chart_lines` turns one series into ``height`` rows of block glyphs
on a FIXED scale (0–100 % is always the full height, whatever the data), with the y-axis
range written in a left gutter ("100%" at the top, "0%" at the bottom, the middle when the
chart is tall enough). :func:`chart_header` is the line above a chart: the reading, its
detail and the time span ("last 5 min"); :func:`side_by_side` puts two charts next to each
other, as the cards draw them (GPU utilization | VRAM, CPU | RAM).

Block glyphs (``▁▂▃▄▅▆▇█``), not braille: a block column is a filled bar, readable at two
rows as well as at twenty; it has eight levels per row where braille has four; it renders in
every terminal font (braille often draws as sparse dots or is missing); and one sample group
per cell keeps the fixed columns of the sparklines, so between group boundaries only the
rightmost column of a chart changes and a repaint is a few cells. Braille's extra horizontal
resolution buys little here: the 5-minute window at one sample a second is 300 samples, which
is already several samples per column at every realistic width.

Columns hold fixed groups of samples counted from the sampler's first one; each column shows
the peak of its group; a column without any reading is blank and a reading of the bottom of
the scale still shows the lowest glyph, so "no data" and "0 %" look different.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len

from tui.service.units import format_bytes
from tui.ui.monitor.text import MUTED, Line, fit

GLYPHS = " ▁▂▃▄▅▆▇█"  # a cell filled 0..8 eighths from the bottom
EIGHTHS = 8
TICK = "┤"  # a labelled row of the y-axis
AXIS = "│"  # an unlabelled one
GAP = 2  # cells between two charts side by side
MIN_HEIGHT = 2  # rows of a chart: the top and the bottom of the scale, both labelled
MAX_HEIGHT = 20  # taller charts only stretch the same samples
MIN_WIDTH = 28  # cells of one chart (gutter + plot) below which the pair is stacked
MIDDLE_FROM = 5  # rows from which the middle of the scale is labelled too

Value = float | None


@dataclass(frozen=True, slots=True)
class Axis:
    """The y-axis labels: the top and bottom of the scale, and its middle (shown when tall)."""

    top: str
    bottom: str
    middle: str | None = None


PERCENT = Axis("100%", "0%", "50%")


def bytes_axis(total: int | None) -> Axis:
    """0 to ``total`` bytes (the series itself is in percent of it); percent without a total.
    The labels are compact: "24 GiB", "7.6 GiB", "512 MiB"."""
    if not total:
        return PERCENT
    top, middle = (format_bytes(n, whole_from=100, drop_zeros=True) for n in (total, total / 2))
    return Axis(top, "0", middle)


def bucket_size(capacity: int, width: int) -> int:
    """Samples per column so that ``capacity`` samples (the history window) fit ``width``."""
    return max(1, math.ceil(max(1, capacity) / max(1, width)))


def column_peaks(values: Sequence[Value], last_seq: int, width: int, capacity: int) -> list[Value]:
    """The peak of each column's fixed group of samples (``None``: no reading in it).

    Sample ``last_seq`` is the newest (the last of ``values``); groups are counted from the
    sampler's first sample, so a column keeps its samples until the group boundary moves
    every column one to the left."""
    if width <= 0:
        return []
    size = bucket_size(capacity, width)
    first_bucket = last_seq // size - width + 1
    base = last_seq - len(values) + 1  # the sample number of values[0]
    peaks: list[Value] = [None] * width
    for col in range(max(0, (base // size) - first_bucket), width):
        start = (first_bucket + col) * size - base  # the column's samples, as indexes of values
        readings = [v for v in values[max(0, start) : max(0, start + size)] if v is not None and not math.isnan(v)]
        if readings:
            peaks[col] = max(readings)
    return peaks


def column_fills(peaks: Sequence[Value], height: int, lo: float, hi: float) -> list[int]:
    """Eighths of the chart's height filled per column: 0 without a reading, at least 1 with
    one, ``height * 8`` at or over ``hi``."""
    total = max(1, height) * EIGHTHS
    span = (hi - lo) or 1.0
    return [0 if p is None else max(1, min(total, round((p - lo) / span * total))) for p in peaks]


def plot_rows(fills: Sequence[int], height: int) -> list[str]:
    """The glyph rows of a chart, top row first.

    Built column by column (one string per distinct fill, reused) and turned into rows with
    ``zip``: about 20 times cheaper than picking each cell's glyph row by row."""
    if height <= 0:
        return []
    if not fills:
        return [""] * height
    made: dict[int, str] = {}
    columns = []
    for f in fills:
        column = made.get(f)
        if column is None:
            full, part = divmod(max(0, min(f, height * EIGHTHS)), EIGHTHS)
            column = made[f] = " " * (height - full - (part > 0)) + GLYPHS[part] * (part > 0) + GLYPHS[-1] * full
        columns.append(column)
    return ["".join(row) for row in zip(*columns, strict=True)]


def gutter(axis: Axis, height: int) -> list[str]:
    """The label of each row (top first): the top and bottom of the scale, the middle from
    MIDDLE_FROM rows; "" for the others."""
    labels = [""] * height
    if height <= 0:
        return labels
    labels[-1] = axis.bottom
    labels[0] = axis.top  # a one-row chart is labelled with its top
    if axis.middle and height >= MIDDLE_FROM:
        labels[(height - 1) // 2] = axis.middle
    return labels


def warn_rows(height: int, lo: float, hi: float, level: float | None) -> list[bool]:
    """Which rows (top first) lie over the warning ``level``: those whose middle is at or
    above it. Fixed per row, so the colour never changes with the reading: only glyphs do
    (a whole chart changing colour would repaint every cell of it)."""
    if level is None:
        return [False] * height
    span = (hi - lo) or 1.0
    return [lo + (height - r - 0.5) / height * span >= level for r in range(height)]


def chart_lines(
    values: Sequence[Value],
    *,
    last_seq: int,
    capacity: int,
    width: int,
    height: int,
    lo: float = 0.0,
    hi: float = 100.0,
    axis: Axis = PERCENT,
    style: str = "",
    level: float | None = None,
    warn_style: str = "",
) -> list[Line]:
    """``height`` lines of exactly ``width`` cells: the right-aligned axis labels, a tick, and
    the plot of the newest ``capacity`` samples on the scale ``lo``–``hi``; the rows over the
    warning ``level`` (see ``warn_rows``) in ``warn_style``."""
    if height <= 0 or width <= 0:
        return []
    labels = gutter(axis, height)
    label_w = max(cell_len(label) for label in labels)
    plot_w = width - label_w - 1
    if plot_w < 1:  # too narrow for a plot: the labels alone, cut
        return [fit(((label, MUTED),), width) for label in labels]
    rows = plot_rows(column_fills(column_peaks(values, last_seq, plot_w, capacity), height, lo, hi), height)
    over = warn_rows(height, lo, hi, level)
    lines: list[Line] = []
    for label, row, warn in zip(labels, rows, over, strict=True):
        row_style = warn_style if warn else style
        lines.append(((label.rjust(label_w) + (TICK if label else AXIS), MUTED), (row, row_style) if row_style else row))
    return lines


LABEL_W = 5  # "Util ", "VRAM "
VALUE_W = 7  # "⚠ 100% "


def chart_header(label: str, value: Line, detail: Line, span: str, width: int) -> Line:
    """``Util 37%   fan 41%      last 5 min``: label and reading in fixed columns (a changed
    value moves nothing else), the detail, and the time span at the right. Short of room the
    detail is cut first; the span goes only when the label and reading leave no room for it."""
    head: Line = (*fit(((label, MUTED),), LABEL_W), *fit(value, VALUE_W))
    used = sum(cell_len(p if isinstance(p, str) else p[0]) for p in (*head, *detail))
    room = width - LABEL_W - VALUE_W - cell_len(span) - 1  # cells left for the detail
    if not span or room < 4:
        return fit((*head, *detail), width)
    if used - LABEL_W - VALUE_W > room:
        detail = fit(detail, room)
        used = LABEL_W + VALUE_W + room
    return (*head, *detail, " " * (width - used - cell_len(span)), (span, MUTED))


def pair_widths(width: int) -> tuple[int, int] | None:
    """Cells of the left and right chart of a pair ``width`` cells wide, or ``None`` when
    they don't both get MIN_WIDTH (then they are stacked)."""
    left = (width - GAP) // 2
    right = width - GAP - left
    return (left, right) if left >= MIN_WIDTH else None


def side_by_side(left: Sequence[Line], right: Sequence[Line], left_width: int) -> list[Line]:
    """Two blocks of lines next to each other, the left one padded to ``left_width``."""
    blank: Line = ()
    out: list[Line] = []
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else blank
        b = right[i] if i < len(right) else blank
        out.append((*fit(a, left_width), " " * GAP, *b))
    return out


def fit_height(viewport: int, fixed: int, units: int) -> int:
    """Rows per chart so that ``units`` charts and ``fixed`` other rows fill ``viewport`` rows,
    within MIN_HEIGHT–MAX_HEIGHT (below the minimum the pane scrolls)."""
    if units <= 0:
        return MIN_HEIGHT
    return max(MIN_HEIGHT, min(MAX_HEIGHT, (viewport - fixed) // units))
