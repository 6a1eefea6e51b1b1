"""FrameDiff (tui/ui/shell/frame_diff.py): what a terminal shows after the shortened frames is
exactly what it shows after Textual's own, checked on a terminal emulator (pyte)."""

from __future__ import annotations

import random

import pyte
import pytest

from tui.ui.shell.frame_diff import FrameDiff

COLS, ROWS = 30, 12
STYLES = ["", "\x1b[48;5;16m", "\x1b[1;38;5;110;48;5;16m", "\x1b[38;5;231;48;5;16m", "\x1b[4m"]
WORDS = ["alpha", "be", "日本", "…", " ", "   ", "x", "streaming", "ok", " " * 14]


class Term:
    def __init__(self) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.Stream(self.screen)

    def feed(self, data: str) -> None:
        self.stream.feed(data)

    def cells(self) -> list[list[tuple]]:
        return [[(c.data, c.fg, c.bg, c.bold, c.underscore, c.reverse)
                 for c in (self.screen.buffer[y][x] for x in range(COLS))] for y in range(ROWS)]


def render_row(y: int, x: int, pieces: list[tuple[str, str]]) -> str:
    """A row fragment as Textual writes it: cursor move, then each segment styled and reset."""
    out = [f"\x1b[{y + 1};{x + 1}H"]
    for style, text in pieces:
        out.append(f"{style}{text}\x1b[0m" if style else text)
    return "".join(out)


def random_pieces(rng: random.Random, width: int) -> list[tuple[str, str]]:
    pieces, used = [], 0
    while used < width:
        text = rng.choice(WORDS)
        size = sum(2 if ch == "日" or ch == "本" else 1 for ch in text)
        if used + size > width:
            text, size = " " * (width - used), width - used
        pieces.append((rng.choice(STYLES), text))
        used += size
    return pieces


def frame(rows: dict[int, tuple[int, list[tuple[str, str]]]] | list[tuple[int, int, list[tuple[str, str]]]],
          cursor: tuple[int, int] | None = None) -> str:
    items = sorted([(y, x, p) for y, (x, p) in rows.items()] if isinstance(rows, dict) else rows)
    parts = [render_row(y, x, pieces) for y, x, pieces in items]
    data = "\n".join(parts)
    if cursor:  # Textual ends a frame by putting the cursor where the app wants it
        data += f"\x1b[{cursor[1] + 1};{cursor[0] + 1}H"
    return data


def check(frames: list[str], erase: bool = False) -> FrameDiff:
    plain, diffed, diff = Term(), Term(), FrameDiff(COLS, ROWS, erase=erase)
    for data in frames:
        plain.feed(data)
        diffed.feed(diff.apply(data))
        assert diffed.cells() == plain.cells()
        if data.endswith("H"):
            assert (diffed.screen.cursor.x, diffed.screen.cursor.y) == (plain.screen.cursor.x, plain.screen.cursor.y)
    return diff


@pytest.mark.parametrize("erase", [False, True])
@pytest.mark.parametrize("seed", range(40))
def test_random_frames_leave_the_same_screen(seed: int, erase: bool) -> None:
    rng = random.Random(seed)
    frames = [frame({y: (0, random_pieces(rng, COLS)) for y in range(ROWS)})]  # a full paint first
    for _ in range(30):
        rows = {}
        for _ in range(rng.randint(1, ROWS)):
            x = rng.randint(0, COLS - 3)
            rows[rng.randrange(ROWS)] = (x, random_pieces(rng, rng.randint(1, COLS - x)))
        frames.append(frame(rows, cursor=(rng.randrange(COLS), rng.randrange(ROWS))))
    check(frames, erase)


@pytest.mark.parametrize("erase", [False, True])
@pytest.mark.parametrize("seed", range(20))
def test_a_region_scrolled_up_is_sent_as_a_scroll_and_leaves_the_same_screen(seed: int, erase: bool) -> None:
    """A sidebar (cols 0-7) that does not move and a conversation (cols 8-) that scrolls."""
    rng = random.Random(seed)
    side = {y: [(rng.choice(STYLES), rng.choice(["  ", "日", "ab"]) + "      ")] for y in range(ROWS)}
    lines = [random_pieces(rng, COLS - 8) for _ in range(60)]
    top, bottom = 1, ROWS - 2
    full = [(y, 0, side[y]) for y in range(ROWS)] + [(y, 8, lines[y - top]) for y in range(top, bottom + 1)]
    frames = [frame(full)]
    first = 0
    while first + (bottom - top) + 5 < len(lines):
        first += rng.randint(1, 5)
        frames.append(frame({y: (8, lines[first + y - top]) for y in range(top, bottom + 1)}, cursor=(9, ROWS - 1)))
    diff = check(frames, erase)
    assert diff.scrolls >= len(frames) // 2  # most moves (a random line may repeat: then cells win)


def test_an_identical_frame_writes_only_the_cursor() -> None:
    diff = FrameDiff(COLS, ROWS)
    data = frame({y: (0, [("\x1b[48;5;16m", "x" * COLS)]) for y in range(ROWS)}, cursor=(3, 4))
    assert diff.apply(data) != "\x1b[5;4H"
    assert diff.apply(data) == "\x1b[5;4H"


def test_a_growing_line_writes_only_the_new_characters() -> None:
    diff = FrameDiff(COLS, ROWS)
    diff.apply(frame({y: (0, [("", " " * COLS)]) for y in range(ROWS)}))
    diff.apply(frame({3: (0, [("\x1b[1m", "hello"), ("", " " * (COLS - 5))])}))
    out = diff.apply(frame({3: (0, [("\x1b[1m", "hello world"), ("", " " * (COLS - 11))])}))
    assert out == "\x1b[4;6H\x1b[1m world\x1b[0m"


@pytest.mark.parametrize("data", ["\x1b[2J", "\x1b[?1049h", "ab\x07", "e\u0301", "\x1b]0;title\x07"])
def test_anything_it_does_not_understand_goes_out_as_written_and_is_forgotten(data: str) -> None:
    diff = FrameDiff(COLS, ROWS)
    full = frame({y: (0, [("", "y" * COLS)]) for y in range(ROWS)})
    diff.apply(full)
    assert diff.apply(data) == data
    assert diff.apply(full).count("y") == COLS * ROWS  # nothing is known any more: all is written again


def test_harmless_modes_pass_and_keep_what_is_known() -> None:
    diff = FrameDiff(COLS, ROWS)
    full = frame({y: (0, [("", "y" * COLS)]) for y in range(ROWS)})
    diff.apply(full)
    assert diff.apply("\x1b[?25l") == "\x1b[?25l"
    assert diff.apply("\x1b[?2026h" + full) == "\x1b[?2026h"


def test_a_resize_forgets_the_screen() -> None:
    diff = FrameDiff(COLS, ROWS)
    full = frame({y: (0, [("", "y" * COLS)]) for y in range(ROWS)})
    diff.apply(full)
    diff.resize(COLS, ROWS + 1)
    diff.resize(COLS, ROWS)
    assert diff.apply(full).count("y") == COLS * ROWS


def test_where_the_terminal_erases_with_the_background_a_blank_run_is_erased() -> None:
    diff = FrameDiff(COLS, ROWS, erase=True)
    diff.apply(frame({y: (0, [("", "x" * COLS)]) for y in range(ROWS)}))
    out = diff.apply(frame({2: (0, [("\x1b[48;5;16m", " " * 20), ("\x1b[1m", "ab"), ("\x1b[4m", " " * 8)])}))
    assert out == "\x1b[3;1H\x1b[48;5;16m\x1b[20X\x1b[20C\x1b[0;1mab\x1b[0;4m        \x1b[0m"
