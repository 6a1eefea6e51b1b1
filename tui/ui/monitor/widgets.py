"""The Monitor's building blocks: fixed-scale sparkline text and a widget that redraws only
the cells that changed.

Every sample brings new numbers, but most of them read the same as a second ago. A card is
one :class:`Rows` widget drawn with Textual's line API: it compares each new line with the
one on screen and marks only the changed cells dirty, so Textual re-renders that line alone
and the terminal receives a few cells instead of the whole pane. (One widget per card, not
one per number: every widget touched costs a style/compositor pass, and at one sample per
second that adds up to more than the whole 1 % CPU budget.)
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget

from tui.ui.monitor.chart import bucket_size, column_peaks
from tui.ui.monitor.text import Line, line_text

__all__ = ["BARS", "Rows", "auto_top", "bucket_size", "changed_span", "changed_spans", "spark_text"]

BARS = "▁▂▃▄▅▆▇█"


def spark_text(
    values: Sequence[float | None],
    last_seq: int,
    width: int,
    *,
    capacity: int,
    lo: float = 0.0,
    hi: float = 100.0,
) -> str:
    """A one-row sparkline on a FIXED scale ``lo``–``hi`` (50 % is half height whatever the
    rest is; Textual's Sparkline scales to its data, so a flat line would sit at the bottom).

    Columns are the charts' fixed sample groups (see ``chart.column_peaks``): between group
    boundaries only the rightmost column can change. Each column shows the peak of its group;
    a column without any reading is blank, a reading of 0 is the lowest bar.
    """
    peaks = column_peaks(values, last_seq, width, capacity)
    span = (hi - lo) or 1.0
    top = len(BARS) - 1
    return "".join(
        " " if p is None else BARS[min(top, max(0, int((p - lo) / span * len(BARS))))] for p in peaks
    )


def auto_top(values: Sequence[float | None], floor: float) -> float:
    """Scale top for non-percent series (bytes/s, watts without a limit): the peak, at least ``floor``."""
    return max(floor, max((v for v in values if v is not None), default=0.0))


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


#: Equal cells between two changes of a line that make them two repaints rather than one (a
#: cursor move costs ~8 bytes; repainting equal cells costs at least one each, more with colours).
SPLIT_GAP = 8


def changed_spans(old: str, new: str) -> list[tuple[int, int]]:
    """`changed_span` split where SPLIT_GAP or more equal cells lie between changes (same-length,
    narrow texts only: otherwise the one span)."""
    span = changed_span(old, new)
    if span is None:
        return []
    if len(old) != len(new) or cell_len(new) != len(new) or cell_len(old) != len(old):
        return [span]
    start, end = span
    spans: list[tuple[int, int]] = []
    run_start, same = start, 0
    for i in range(start, end):
        if old[i] == new[i]:
            same += 1
            continue
        if same >= SPLIT_GAP and i - same > run_start:
            spans.append((run_start, i - same))
            run_start = i
        same = 0
    spans.append((run_start, end))
    return spans


class Rows(Widget):
    """Lines of styled text (see ``text.Line``) drawn with the line API.

    ``set(*lines)`` repaints only the cells that changed; a line whose text is the same but
    whose style changed is repainted whole. ``updates`` counts calls that changed anything
    and ``cells_repainted`` the cells marked dirty (for tests and benchmarks).
    """

    DEFAULT_CSS = """
    Rows { height: auto; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *lines: Line, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._lines: tuple[Line, ...] = tuple(lines)
        self.updates = 0
        self.cells_repainted = 0
        self._styles: dict[str, RichStyle] = {}

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
        width = self.size.width
        if len(old) != len(new) or not self.is_mounted or not width:
            self.cells_repainted += width * len(new)
            self.refresh(layout=len(old) != len(new))
            return True
        regions = []
        for y, (a, b) in enumerate(zip(old, new, strict=True)):
            if a == b:
                continue
            spans = changed_spans(line_text(a), line_text(b)) or [(0, width)]  # [] : a style-only change
            for start, end in spans:
                end = min(width, max(end, start + 1))
                regions.append(Region(start, y, end - start, 1))
                self.cells_repainted += end - start
        self.refresh(*regions)
        return True

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((cell_len(line_text(line)) for line in self._lines), default=0)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # the theme or the widget's colours changed

    def _rich_style(self, style: str) -> RichStyle:
        """A part's style ("bold $text-warning") over the widget's own, resolved once."""
        rich = self._styles.get(style)
        if rich is None:
            base = self.visual_style
            rich = (base + VisualStyle.parse(style)).rich_style if style else base.rich_style
            self._styles[style] = rich
        return rich

    def render_line(self, y: int) -> Strip:
        # Segments straight from the parts: a few microseconds, where going through
        # Content/Visual costs about a millisecond per line.
        # Widget.render_line would clear this via _render_content; ours never calls it, and
        # the set would otherwise keep every region ever refreshed.
        self._dirty_regions.clear()
        width = self.size.width
        base = self._rich_style("")
        if y >= len(self._lines):
            return Strip.blank(width, base)
        segments = [Segment(part, base) if isinstance(part, str) else Segment(part[0], self._rich_style(part[1]))
                    for part in self._lines[y]]
        return Strip(segments).crop_extend(0, width, base)
