"""Write only the cells a frame changes, and scroll the terminal when a frame is the old screen moved up.

Textual repaints whole widget regions: a streamed reply that scrolls the conversation by a line
rewrites every row of it (~9 KB at 120x40), and some layout changes paint the same region twice.
Over SSH those bytes are the lag. `FrameDiff` keeps a copy of what the terminal shows (each
cell's style and character, as Textual wrote them) and turns each frame Textual writes into
 - a terminal scroll (DECSTBM + DL, VT102) where rows of the new screen are rows of the old one
   moved up (what following a growing reply does), and then
 - the cells that still differ, in runs (a cursor move costs ~8 bytes: short gaps are rewritten);
   where the terminal erases with the background colour (terminfo `bce`: xterm-256color, VTE,
   the Linux console), a long run of blanks is erased (ECH) rather than written.

It understands exactly what Textual's frames are made of: cursor moves (CSI row;col H), SGR
styles, printable text and newlines; a few private modes (cursor, mouse, paste, focus, sync) go
through unchanged. Anything else — or a character whose width it cannot be sure of — and the
frame goes out as written while the copy is forgotten (cells it does not know are always
written), so the worst case is Textual's own output.
"""

from __future__ import annotations

import re
from collections import Counter

from rich.cells import get_character_cell_size

Cell = tuple[str, str]  # (SGR sequence that styles it, "" for the default; the character, "" right of a wide one)
BLANK: Cell = ("", " ")

_TOKEN = re.compile(
    r"\x1b\[(\d+);(\d+)H"  # 1, 2: cursor position
    r"|\x1b\[([0-9;:]*)m"  # 3: SGR
    r"|(\x1b\[\?[0-9;]+[hl])"  # 4: private mode set/reset
    r"|(\r\n|\n|\r)"  # 5: new line
    r"|([^\x00-\x1f\x7f]+)"  # 6: text
)
# Private modes that change no cell: cursor, autowrap, mouse, focus, paste, sync, resize reports.
_HARMLESS_MODES = {"7", "25", "1000", "1002", "1003", "1004", "1006", "1015", "1016", "2004", "2026", "2048"}
_MODE = re.compile(r"\x1b\[\?([0-9;]+)[hl]")

ERASE_MIN = 12  # blank cells in a row that are erased (ECH) rather than written, where allowed
# Styles a blank can be erased with: colours only (an underline or reverse would not be erased alike).
_ERASABLE = re.compile(r"|\x1b\[(?:(?:[34]8;5;\d+|[34]8;2;\d+;\d+;\d+|[34]9|0)(?:;|m))+")
GAP = 6  # equal cells between two changed ones that are rewritten rather than jumped over
MIN_SCROLL_ROWS = 3  # changed rows that must agree on a distance before a scroll is tried
SCROLL_MIN_CELLS = 40  # cells a scroll must save (its escape sequences cost ~25 bytes)


def _differ(a: list[Cell | None], b: list[Cell | None]) -> int:
    """Cells that differ (an unknown one always does)."""
    if a == b:
        return 0
    return sum(1 for p, q in zip(a, b) if p != q or p is None)


class _Unknown(Exception):
    """A frame holding something the copy can't follow."""


class FrameDiff:
    """See the module docstring. `apply(data)` returns what to write instead of `data`."""

    def __init__(self, columns: int, rows: int, *, erase: bool = False) -> None:
        """`erase`: the terminal erases with the background colour (terminfo `bce`): a run of
        blank cells is sent as ECH (CSI n X), ~10 bytes, instead of one byte a cell."""
        self.columns, self.rows = columns, rows
        self.erase = erase
        self.screen: list[list[Cell | None]] = []
        self.forget()
        self.scrolls = 0  # terminal scrolls used (tests, benchmarks)

    def forget(self) -> None:
        """Nothing is known about the terminal's cells: the next frames are written whole."""
        self.screen = [[None] * self.columns for _ in range(self.rows)]

    def resize(self, columns: int, rows: int) -> None:
        if (columns, rows) != (self.columns, self.rows):
            self.columns, self.rows = columns, rows
            self.forget()

    # -- a frame ----------------------------------------------------------------------------

    def apply(self, data: str) -> str:
        try:
            before, wanted, extents, cursor, after = self._parse(data)
        except _Unknown:
            self.forget()
            return data
        if not wanted:
            return data
        out = [before]
        check = set(wanted)
        scroll = self._find_scroll(wanted, extents)
        if scroll is not None:
            top, bottom, count = scroll
            kept = {r: self.screen[r] for r in range(top, bottom + 1) if r not in wanted}
            wanted.update(kept)  # rows the scroll moves that the frame did not draw: as they were
            out.append(f"\x1b[0m\x1b[{top + 1};{bottom + 1}r\x1b[{top + 1};1H\x1b[{count}M\x1b[r")
            screen = self.screen
            screen[top:bottom + 1] = screen[top + count:bottom + 1] + [[BLANK] * self.columns
                                                                        for _ in range(count)]
            check.update(range(top, bottom + 1))
            self.scrolls += 1
        for y in sorted(check):
            self._write_row(y, wanted[y], out)
        if cursor is not None:
            out.append(f"\x1b[{cursor[1] + 1};{cursor[0] + 1}H")
        out.append(after)
        return "".join(out)

    def _parse(self, data: str) -> tuple[str, dict[int, list[Cell | None]], dict[int, list[int]],
                                         tuple[int, int] | None, str]:
        """(modes before the drawing, {row: the row as it should be}, {row: [min x, max x]},
        the final cursor, modes after)."""
        screen, columns, rows = self.screen, self.columns, self.rows
        wanted: dict[int, list[Cell | None]] = {}
        extents: dict[int, list[int]] = {}
        before: list[str] = []
        after: list[str] = []
        style = ""
        x = y = 0
        cursor: tuple[int, int] | None = None
        pos = 0
        drawn = False
        for match in _TOKEN.finditer(data):
            if match.start() != pos:
                raise _Unknown
            pos = match.end()
            row_, col_, sgr, mode, newline, text = match.groups()
            if row_ is not None:
                y, x = int(row_) - 1, int(col_) - 1
                cursor = (x, y)
            elif sgr is not None:
                style = "" if sgr in ("", "0") else style + match.group(0)
            elif text is not None:
                if not (0 <= y < rows and 0 <= x < columns):
                    raise _Unknown
                row = wanted.get(y)
                if row is None:
                    row = wanted[y] = list(screen[y])
                start = x
                if x and row[x] is not None and row[x][1] == "":
                    row[x - 1] = None  # half of a wide character overwritten: the terminal blanks it
                if text.isascii():
                    end = x + len(text)
                    if end > columns:
                        raise _Unknown
                    row[x:end] = [(style, ch) for ch in text]
                    x = end
                else:
                    for ch in text:
                        width = get_character_cell_size(ch)
                        if width == 1 and x < columns:
                            row[x] = (style, ch)
                        elif width == 2 and x + 1 < columns:
                            row[x] = (style, ch)
                            row[x + 1] = (style, "")
                        else:
                            raise _Unknown  # zero-width, or past the edge: not sure where it lands
                        x += width
                if x < columns and row[x] is not None and row[x][1] == "":
                    row[x] = None  # the other half of a wide character overwritten
                extent = extents.get(y)
                if extent is None:
                    extents[y] = [start, x]
                else:
                    extent[0], extent[1] = min(extent[0], start), max(extent[1], x)
                cursor = None
                drawn = True
            elif newline is not None:
                if newline != "\r":
                    if y >= rows - 1:
                        raise _Unknown  # a new line at the bottom scrolls the screen
                    y += 1
                x = 0
                cursor = None
            elif mode is not None:
                if not set(_MODE.match(mode).group(1).split(";")) <= _HARMLESS_MODES:
                    raise _Unknown
                if drawn:
                    after.append(mode)
                else:
                    before.append(mode)
        if pos != len(data):
            raise _Unknown
        if after and not drawn:
            raise _Unknown
        return "".join(before), wanted, extents, cursor, "".join(after)

    # -- scrolling ----------------------------------------------------------------------------

    def _find_scroll(self, wanted: dict[int, list[Cell | None]],
                     extents: dict[int, list[int]]) -> tuple[int, int, int] | None:
        """(top, bottom, count): scrolling rows top..bottom up by count leaves the fewest cells to
        write; None when no scroll saves SCROLL_MIN_CELLS.

        The distance is voted for by changed rows whose left half (of the columns the frame drew)
        was on the old screen some rows lower: the right edge may differ (a scroll bar's thumb
        moves). The rows to scroll are then the run where the scroll saves the most cells."""
        screen, rows = self.screen, self.rows
        changed = [y for y, row in wanted.items() if row != screen[y]]
        if len(changed) < MIN_SCROLL_ROWS:
            return None
        x0 = min(extents[y][0] for y in changed)
        x1 = max(extents[y][1] for y in changed)
        xm = x0 + max(8, (x1 - x0) // 2)

        def key(row: list[Cell | None]) -> tuple | None:
            part = row[x0:xm]
            return None if None in part else tuple(part)

        where: dict[tuple, list[int]] = {}
        for y, row in enumerate(screen):
            k = key(row)
            if k is not None:
                where.setdefault(k, []).append(y)
        votes: Counter[int] = Counter()
        for y in changed:
            lower = where.get(key(wanted[y]), ())  # type: ignore[arg-type]
            if 0 < len(lower) <= 3:  # a blank row is everywhere: no vote
                for y_old in lower:
                    if y_old > y:
                        votes[y_old - y] += 1
        if not votes:
            return None
        count, n = votes.most_common(1)[0]
        if n < MIN_SCROLL_ROWS:
            return None
        # gain[y]: cells row y needs fewer if old row y + count comes up to it
        gain = []
        for y in range(rows - count):
            want = wanted.get(y)
            if want is None:
                gain.append(0 if screen[y + count] == screen[y] else -self.columns)
            else:
                gain.append(_differ(want, screen[y]) - _differ(want, screen[y + count]))
        best, total, top, run_top, last = 0, 0, 0, 0, -1  # the run of rows with the largest gain
        for y, g in enumerate(gain):
            if total <= 0:
                total, run_top = 0, y
            total += g
            if total > best:
                best, top, last = total, run_top, y
        if last < 0:
            return None
        bottom = last + count
        blank = [BLANK] * self.columns
        for y in range(last + 1, bottom + 1):  # rows that come up blank at the bottom of the region
            want = wanted.get(y, screen[y])
            best -= _differ(want, blank) - _differ(want, screen[y])
        if best < SCROLL_MIN_CELLS:
            return None
        for r in range(top, bottom + 1):  # every cell the scroll moves must be known
            if None in screen[r] or (r in wanted and None in wanted[r]):
                return None
        return top, bottom, count

    # -- writing --------------------------------------------------------------------------

    def _write_row(self, y: int, want: list[Cell | None], out: list[str]) -> None:
        have = self.screen[y]
        if want == have:
            return
        columns = len(want)
        x = 0
        while x < columns:
            if want[x] == have[x] or want[x] is None:
                x += 1
                continue
            start = end = x  # a run of changes, with gaps shorter than GAP inside
            x += 1
            while x < columns:
                if want[x] != have[x] and want[x] is not None:
                    end = x
                elif x - end > GAP:
                    break
                x += 1
            self._write_run(y, start, end + 1, want, out)
        self.screen[y] = want

    def _write_run(self, y: int, start: int, end: int, want: list[Cell | None], out: list[str]) -> None:
        while start > 0 and want[start] is not None and want[start][1] == "":
            start -= 1  # the right half of a wide character: write the character
        columns = len(want)
        while end < columns and want[end] is not None and want[end][1] == "":
            end += 1
        out.append(f"\x1b[{y + 1};{start + 1}H")
        current = ""
        x = start
        while x < end:
            cell = want[x]
            if cell is None:  # not known (can't be, inside a run of drawn cells): stop here
                break
            style, ch = cell
            if not ch:
                x += 1
                continue
            blanks = 0
            if self.erase and ch == " " and _ERASABLE.fullmatch(style):
                while x + blanks < end and want[x + blanks] == cell:
                    blanks += 1
            if style != current:
                if current:
                    out.append("\x1b[0;" + style[2:] if style.startswith("\x1b[") else "\x1b[0m" + style)
                else:
                    out.append(style)
                current = style
            if blanks >= ERASE_MIN:  # erase with the background colour rather than write spaces
                out.append(f"\x1b[{blanks}X")
                x += blanks
                if x < end:
                    out.append(f"\x1b[{blanks}C")
                continue
            out.append(ch)
            x += 1
        if current:
            out.append("\x1b[0m")
