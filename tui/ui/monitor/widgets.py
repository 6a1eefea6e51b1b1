"""The Monitor's building blocks: text and sparklines that repaint only what changed.

Every sample brings new numbers, but most of them read the same as a second ago. These
widgets compare what they would show with what they show and, when something differs,
mark only the changed lines (or sparkline columns) dirty, so the terminal receives a few
cells instead of the whole pane.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget

from .text import Line, line_text

BARS = "▁▂▃▄▅▆▇█"


def bucket_size(capacity: int, width: int) -> int:
    """Samples per column so that ``capacity`` samples (the history window) fit ``width``."""
    return max(1, math.ceil(max(1, capacity) / max(1, width)))


def spark_text(
    values: Sequence[float | None],
    last_seq: int,
    width: int,
    *,
    capacity: int,
    lo: float = 0.0,
    hi: float = 100.0,
) -> str:
    """A sparkline on a FIXED scale ``lo``–``hi`` (50 % is half height whatever the rest is).

    Columns hold fixed groups of samples counted from the sampler's first one (sample
    ``last_seq`` is the newest, the last of ``values``), so between group boundaries only
    the rightmost column can change. Each column shows the peak of its group; a column
    without any reading is blank, a reading of 0 is the lowest bar.
    """
    if width <= 0:
        return ""
    size = bucket_size(capacity, width)
    first_bucket = last_seq // size - width + 1
    peaks: list[float | None] = [None] * width
    base = last_seq - len(values) + 1
    for i, value in enumerate(values):
        if value is None or value != value:  # None or NaN
            continue
        col = (base + i) // size - first_bucket
        if 0 <= col < width:
            peak = peaks[col]
            if peak is None or value > peak:
                peaks[col] = value
    span = (hi - lo) or 1.0
    top = len(BARS) - 1
    return "".join(
        " " if p is None else BARS[min(top, max(0, int((p - lo) / span * len(BARS))))] for p in peaks
    )


def changed_span(old: str, new: str) -> tuple[int, int] | None:
    """Cells ``[start, end)`` that differ between two one-line texts; ``None`` when equal.

    Texts with wide characters (CJK model names) are compared as a whole line, since a
    character index is then not a cell column."""
    if old == new:
        return None
    if cell_len(old) != len(old) or cell_len(new) != len(new):
        return 0, max(cell_len(old), cell_len(new))
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    if len(old) != len(new):  # everything after the first difference moved
        return start, max(len(old), len(new))
    end = len(new)
    while end > start and old[end - 1] == new[end - 1]:
        end -= 1
    return start, end


class Readout(Widget):
    """One or more lines of text; a line is repainted only when its text or style changed."""

    DEFAULT_CSS = """
    Readout { height: auto; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *lines: Line, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: tuple[Line, ...] = tuple(lines)
        self.updates = 0  # how often the shown text changed (tests, benchmarks)

    @property
    def lines(self) -> tuple[Line, ...]:
        return self._lines

    @property
    def plain(self) -> str:
        return "\n".join(line_text(line) for line in self._lines)

    def set(self, *lines: Line) -> bool:
        """Show these lines; returns whether anything changed."""
        old, new = self._lines, tuple(lines)
        if old == new:
            return False
        self._lines = new
        self.updates += 1
        if len(old) != len(new) or not self.is_mounted:
            self.refresh(layout=len(old) != len(new))
            return True
        width = max(1, self.content_size.width)
        regions = []
        for y, (a, b) in enumerate(zip(old, new)):
            if a != b:
                span = changed_span(line_text(a), line_text(b))
                start, end = span if span is not None else (0, width)  # a style-only change
                regions.append(Region(start, y, max(1, min(width, end) - start), 1))
        self.refresh(*regions)
        return True

    def render(self) -> Content:
        return Content("\n").join(Content.assemble(*line) for line in self._lines)


class Spark(Widget):
    """A one-line sparkline with a fixed scale (Textual's Sparkline scales to its data, so a
    flat 50 % would look like 0); repaints only the columns that changed.

    ``hi=None`` scales to the data's peak (for bytes/s), never below ``floor``.
    """

    DEFAULT_CSS = """
    Spark { height: 1; width: 1fr; }
    """

    def __init__(self, *, lo: float = 0.0, hi: float | None = 100.0, floor: float = 1.0,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lo, self.hi, self.floor = lo, hi, floor
        self._values: Sequence[float | None] = ()
        self._seq = 0
        self._capacity = 1
        self._bars = ""
        self.updates = 0

    @property
    def bars(self) -> str:
        return self._bars

    def set_series(self, values: Sequence[float | None], seq: int, capacity: int,
                   hi: float | None = None) -> None:
        self._values, self._seq, self._capacity = values, seq, capacity
        if hi is not None:
            self.hi = hi
        self._redraw()

    def _scale_top(self) -> float:
        if self.hi is not None:
            return self.hi
        peak = max((v for v in self._values if v is not None), default=0.0)
        return max(self.floor, peak)

    def _redraw(self) -> None:
        width = self.content_size.width if self.is_mounted else 0
        bars = spark_text(self._values, self._seq, width, capacity=self._capacity,
                          lo=self.lo, hi=self._scale_top())
        old = self._bars
        if bars == old:
            return
        self._bars = bars
        self.updates += 1
        if len(old) != len(bars):
            self.refresh()
            return
        first = next(i for i, (a, b) in enumerate(zip(old, bars)) if a != b)
        last = len(bars) - next(i for i, (a, b) in enumerate(zip(reversed(old), reversed(bars))) if a != b)
        self.refresh(Region(first, 0, last - first, 1))

    def on_resize(self) -> None:
        self._redraw()

    def render(self) -> Content:
        return Content(self._bars)


class MetricRow(Horizontal):
    """``label  value  sparkline  detail`` — one metric on one line."""

    DEFAULT_CSS = """
    MetricRow { height: 1; width: 1fr; }
    """

    def __init__(self, label: str, *, spark: Spark | None = None, middle: Readout | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.label = Readout((label,), classes="metric-label")
        self.value = Readout(classes="metric-value")
        self.spark = spark
        self.middle = middle
        self.detail = Readout(classes="metric-detail")

    def compose(self) -> ComposeResult:
        yield self.label
        yield self.value
        if self.spark is not None:
            yield self.spark
        if self.middle is not None:
            self.middle.add_class("metric-middle")
            yield self.middle
        yield self.detail
