"""The Monitor's history charts as pure text: glyphs for known values, the fixed scale, the
axis and time labels, sizes, the pair layout and the height the pane gives them."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from tui.ui.monitor import chart as ch
from tui.ui.monitor.text import line_text

GiB = 1024**3


def plot(values, *, width=None, height=2, capacity=None, **kw) -> list[str]:
    """The glyph rows only (no gutter), one column per sample."""
    width = width or len(values)
    peaks = ch.column_peaks(values, len(values), width, capacity or width)
    return ch.plot_rows(ch.column_fills(peaks, height, kw.get("lo", 0.0), kw.get("hi", 100.0)), height)


# --------------------------------------------------------------------------- glyphs and scale


def test_known_values_fill_eighths_of_the_height_from_the_bottom():
    # 2 rows = 16 eighths: 50 % fills the bottom row, 75 % half the top one, 100 % both
    assert plot([50.0, 75.0, 100.0, 25.0]) == [
        " ▄█ ",
        "███▄",
    ]
    # one row: 8 eighths, rounded
    assert plot([12.5, 37.5, 62.5, 87.5], height=1) == ["▁▃▅▇"]


def test_the_scale_is_fixed_not_fitted_to_the_data():
    """A flat 50 % is half the height, whatever else is in the window."""
    assert plot([50.0] * 4, height=4) == ["    ", "    ", "████", "████"]
    assert plot([10.0] * 3, height=1, hi=20.0) == ["▄▄▄"]


def test_zero_still_shows_and_no_reading_is_blank():
    assert plot([0.0, None, float("nan"), 0.4], height=3) == ["    ", "    ", "▁  ▁"]


def test_values_outside_the_scale_are_clamped():
    assert plot([-20.0, 150.0], height=2) == [" █", "▁█"]


def test_each_column_shows_the_peak_of_its_fixed_group():
    # 6 samples in 3 columns: (10, 90) (20, 30) (0, 100)
    assert plot([10.0, 90.0, 20.0, 30.0, 0.0, 100.0], width=3, height=1, capacity=6) == ["▇▂█"]


def test_between_group_boundaries_only_the_last_column_changes():
    capacity = 12  # 3 samples per column of a 4-column plot
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 10.0, 0.0]

    def rows(vals, last_seq):
        return [line_text(line) for line in ch.chart_lines(vals, last_seq=last_seq, capacity=capacity,
                                                           width=4 + 5, height=3)]

    before = rows(values, 10)
    after = rows(values[1:] + [100.0], 11)  # sample 11 joins samples 9 and 10
    assert [a[:-1] for a in after] == [b[:-1] for b in before]
    assert [a[-1] for a in after] != [b[-1] for b in before]


def test_a_short_history_is_right_aligned():
    assert plot([100.0, 100.0], width=5, capacity=5, height=1) == ["   ██"]


# --------------------------------------------------------------------------- labels and sizes


def test_percent_axis_labels_top_bottom_and_middle_when_tall():
    lines = [line_text(line) for line in ch.chart_lines([50.0], last_seq=1, capacity=10, width=20, height=5)]
    assert [line[:5] for line in lines] == ["100%┤", "    │", " 50%┤", "    │", "  0%┤"]
    short = [line_text(line) for line in ch.chart_lines([50.0], last_seq=1, capacity=10, width=20, height=2)]
    assert [line[:5] for line in short] == ["100%┤", "  0%┤"]  # no room for the middle


def test_byte_axis_labels_the_total():
    axis = ch.bytes_axis(24 * GiB)
    assert axis == ch.Axis("24 GiB", "0", "12 GiB")
    lines = [line_text(line) for line in ch.chart_lines([25.0], last_seq=1, capacity=10, width=30,
                                                         height=6, axis=axis)]
    assert lines[0].startswith("24 GiB┤") and lines[2].startswith("12 GiB┤") and lines[-1].startswith("     0┤")
    assert ch.bytes_axis(None) is ch.PERCENT and ch.bytes_axis(0) is ch.PERCENT


@pytest.mark.parametrize(("n", "label"), [
    (24 * GiB, "24 GiB"), (int(79.6 * GiB), "79.6 GiB"), (int(7.6 * GiB), "7.6 GiB"), (512 * 1024**2, "512 MiB"),
    (128 * GiB, "128 GiB"), (2 * 1024**4, "2 TiB"), (100, "100 B"),
])
def test_size_labels(n, label):
    assert ch.bytes_axis(n).top == label


@pytest.mark.parametrize(("width", "height"), [(20, 2), (37, 3), (60, 10), (97, 20), (6, 1)])
def test_every_line_is_exactly_the_asked_width_and_there_are_height_lines(width, height):
    lines = ch.chart_lines([float(i % 101) for i in range(300)], last_seq=300, capacity=300,
                           width=width, height=height)
    assert len(lines) == height
    assert all(cell_len(line_text(line)) == width for line in lines)


def test_plot_styles_and_a_too_narrow_chart():
    line = ch.chart_lines([50.0] * 3, last_seq=3, capacity=3, width=8, height=1, style="$warning")[0]
    assert line[-1] == ("▄▄▄", "$warning") and line[0] == ("100%┤", "$text-muted")
    assert [line_text(x) for x in ch.chart_lines([50.0], last_seq=1, capacity=1, width=3, height=2)] == ["10…", "0% "]
    assert ch.chart_lines([1.0], last_seq=1, capacity=1, width=0, height=3) == []


def test_header_has_the_reading_its_detail_and_the_time_span():
    header = ch.chart_header("Util", ("37%",), ("fan 41%",), "last 5 min", 40)
    assert line_text(header) == "Util 37%    fan 41%" + " " * 11 + "last 5 min"
    assert cell_len(line_text(header)) == 40
    # the value column is fixed: a longer reading moves nothing after it
    warned = ch.chart_header("Util", ("⚠ 100%",), ("fan 41%",), "last 5 min", 40)
    assert line_text(warned).index("fan") == line_text(header).index("fan")
    # short of room the detail is cut, the span stays; with no room left for it, it goes
    assert line_text(ch.chart_header("VRAM", ("25%",), ("6.0 / 24.0 GiB",), "last 5 min", 30)) == \
        "VRAM 25%    6.0 / … last 5 min"
    assert line_text(ch.chart_header("VRAM", ("25%",), ("6.0 / 24.0 GiB",), "last 5 min", 20)) == \
        "VRAM 25%    6.0 / 2…"


def test_pairs_side_by_side_until_too_narrow():
    assert ch.pair_widths(76) == (37, 37)
    assert ch.pair_widths(77) == (37, 38)
    assert ch.pair_widths(2 * ch.MIN_WIDTH + ch.GAP - 1) is None
    left = [(("ab", "x"),), ("c",)]
    right = [("RIGHT",)]
    assert [line_text(line) for line in ch.side_by_side(left, right, 4)] == ["ab    RIGHT", "c     "]


def test_height_fills_the_room_within_limits():
    assert ch.fit_height(viewport=36, fixed=16, units=2) == 10
    assert ch.fit_height(viewport=20, fixed=19, units=2) == ch.MIN_HEIGHT  # the pane scrolls
    assert ch.fit_height(viewport=200, fixed=10, units=1) == ch.MAX_HEIGHT
    assert ch.fit_height(viewport=30, fixed=10, units=0) == ch.MIN_HEIGHT


def test_rows_over_the_warning_level_keep_the_warning_style_whatever_the_reading():
    assert ch.warn_rows(10, 0.0, 100.0, 90.0) == [True] + [False] * 9  # the top row: 90-100 %
    assert ch.warn_rows(20, 0.0, 100.0, 90.0) == [True, True] + [False] * 18
    assert ch.warn_rows(2, 0.0, 100.0, 90.0) == [False, False]  # too coarse: the text still says ⚠
    assert ch.warn_rows(4, 0.0, 100.0, None) == [False] * 4
    for values in ([10.0] * 4, [99.0] * 4):  # a low and a high reading: the same styles per row
        lines = ch.chart_lines(values, last_seq=4, capacity=4, width=9, height=10, style="$primary",
                               level=90.0, warn_style="$warning")
        assert [line[-1][1] for line in lines] == ["$warning"] + ["$primary"] * 9
