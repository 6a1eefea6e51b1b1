"""Markdown shown as lines: each finished block is rendered once; only the open one changes.

Textual's `Markdown` widget mounts a widget per block, so every appended frame re-flows the
whole conversation's layout — the cost grows with the reply and with history. Here a reply
is one widget using the line API: finished blocks (see `blocks.py`) are rendered once, with
Rich's Markdown, into cached strips; per frame only the open block is rendered again, and
only its lines are refreshed unless the height changed. An open code fence is rendered a
line at a time (plain) and highlighted once its closing fence arrives. Model text is given
to Rich's Markdown renderer (never parsed as Rich markup) and links are shown as text with
their address, never as terminal hyperlinks.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.theme import Theme
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tui.ui.chat.blocks import BlockSplitter, split_blocks

if TYPE_CHECKING:
    from rich.syntax import Syntax


@lru_cache(maxsize=1)
def _markdown_class() -> Any:
    """Rich's Markdown with one shared parser (building a parser costs more than a block).
    Imported on first use: an empty chat at start needs neither markdown-it nor Pygments."""
    from markdown_it import MarkdownIt
    from rich.markdown import CodeBlock, Markdown
    from rich.syntax import Syntax

    parser = MarkdownIt().enable("strikethrough").enable("table")

    class CachedLexerCodeBlock(CodeBlock):
        def __rich_console__(self, console: Any, options: Any) -> Any:
            yield Syntax(str(self.text).rstrip(), _lexer(self.lexer_name), theme=self.theme,
                         word_wrap=True, padding=1)

    class SharedParserMarkdown(Markdown):
        elements = {**Markdown.elements, "fence": CachedLexerCodeBlock, "code_block": CachedLexerCodeBlock}

        def __init__(self, markup: str, code_theme: str) -> None:  # the fields Rich's sets
            self.markup = markup
            self.parsed = parser.parse(markup)
            self.code_theme = code_theme
            self.justify = None
            self.style = "none"
            self.hyperlinks = False  # links as "text (address)", never terminal hyperlinks
            self.inline_code_lexer = None
            self.inline_code_theme = code_theme

    return SharedParserMarkdown


@lru_cache(maxsize=8)
def _rich_theme(primary: str, secondary: str, accent: str, dark: bool) -> Theme:
    code_bg = "#262626" if dark else "#e8e8e8"
    return Theme({
        "markdown.h1": f"bold {primary}",
        "markdown.h1.border": primary,
        "markdown.h2": f"bold underline {primary}",
        "markdown.h3": f"bold {secondary}",
        "markdown.h4": f"bold italic {secondary}",
        "markdown.h5": "underline",
        "markdown.h6": "italic",
        "markdown.code": f"bold {accent} on {code_bg}",
        "markdown.block_quote": secondary,
        "markdown.link": f"underline {accent}",
        "markdown.link_url": "dim underline",
        "markdown.item.bullet": f"bold {primary}",
        "markdown.item.number": f"bold {primary}",
        "markdown.hr": "dim",
    }, inherit=True)


class MarkdownLines(Widget):
    """A Markdown document that grows at the end (`append`) and renders only what changed."""

    DEFAULT_CSS = """
    MarkdownLines { height: auto; }
    """

    RESERVE = 8  # blank lines kept below a growing text: a layout change every 8 lines, not each
    # A fast stream gets more room: about a second of its lines (at most a third of the screen),
    # so that the whole-screen repaint of a layout change comes about once a second.
    RESERVE_SECONDS = 1.0
    HIGHLIGHT_MAX_LINES = 400  # longer code blocks are shown plain (see `_plain_code`)

    def __init__(self, text: str = "", *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.source = ""
        self._blocks: list[str] = []
        self._splitter = BlockSplitter()
        self._width = 0
        self._done: list[Strip] = []  # finished blocks, rendered at `_width`
        self._open: list[Strip] = []  # the open block
        self._fence_done: list[Strip] = []  # complete lines of an open code fence
        self._fence_used = 0  # chars of the open fence's text already in `_fence_done`
        self._open_dirty = False
        self._styled: dict[int, tuple[Strip, int, object, Strip]] = {}  # y → (line, width, style, drawn)
        self._growing = False  # text is still arriving (between the first append and finish)
        self._last_step = (0, 0.0)  # (lines used, monotonic time) when room was last added
        self._allocated = 0  # the height reserved while growing
        if text:
            self._blocks = split_blocks(text)
            self.source = text

    # -- content ------------------------------------------------------------------------------

    def append(self, text: str) -> None:
        if not text:
            return
        self.source += text
        self._growing = True
        first = len(self._done)
        before = self._tail(first)
        finished = self._splitter.feed(text)
        if finished:
            self._blocks.extend(finished)
            self._fence_done, self._fence_used = [], 0
            if self._width:
                for block in finished:
                    self._add_done(self._render_block(block, self._width))
        self._open_dirty = True
        self._changed(first, before)

    def finish(self) -> None:
        """No more text: the open block is final."""
        last = self._splitter.finish()
        self._growing, self._allocated = False, 0
        first = len(self._done)
        before = self._tail(first)
        self._fence_done, self._fence_used, self._open = [], 0, []
        if last is not None:
            self._blocks.append(last)
            if self._width:
                self._add_done(self._render_block(last, self._width))
        self._changed(first, before)

    # -- rendering ----------------------------------------------------------------------------

    def _code_theme(self) -> str:
        return "monokai" if self.app.current_theme.dark else "friendly"

    def _render_strips(self, renderable: RenderableType, width: int) -> list[Strip]:
        """Rich lines → strips, without the blank lines around the block."""
        theme = self.app.current_theme
        rich_theme = _rich_theme(theme.primary, theme.secondary or theme.primary,
                                 theme.accent or theme.primary, theme.dark)
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False, markup=False)
        with console.use_theme(rich_theme):
            lines = console.render_lines(renderable, options, pad=False, new_lines=False)
        strips = [Strip(line) for line in lines]
        while strips and _is_blank(strips[0]):
            strips.pop(0)
        while strips and _is_blank(strips[-1]):
            strips.pop()
        return strips

    def _render_block(self, block: str, width: int) -> list[Strip]:
        if block.count("\n") > self.HIGHLIGHT_MAX_LINES and block.lstrip(" ")[:3] in ("```", "~~~"):
            head, _, body = block.partition("\n")
            body = body.rstrip("\n")
            last = body.rfind("\n")
            if body[last + 1:].strip().startswith(head.strip()[:3]):
                body = body[:last] if last >= 0 else ""
            return self._plain_code(body, width, pad=(True, True))
        return self._render_strips(_markdown_class()(block, self._code_theme()), width)

    def _plain_code(self, code: str, width: int, pad: tuple[bool, bool] = (False, False)) -> list[Strip]:
        """A long code block without highlighting (Pygments needs ~0.2 ms a line: seconds for
        10,000), in the code block's colours, wrapped at the width."""
        from rich.cells import chop_cells
        from rich.segment import Segment
        from rich.syntax import Syntax

        style = Syntax.get_theme(self._code_theme()).get_background_style()
        inner = max(1, width - 2)
        blank = Strip([Segment(" " * width, style)], width)
        lines = [blank] if pad[0] else []
        for line in code.split("\n"):
            for piece in (chop_cells(line, inner) if line else [""]):
                lines.append(Strip([Segment(" " + piece, style)]).extend_cell_length(width, style))
        if pad[1]:
            lines.append(blank)
        return lines

    def _add_done(self, strips: list[Strip]) -> None:
        if not strips:
            return
        if self._done:
            self._done.append(Strip.blank(0))
        self._done.extend(strips)

    def _render_all(self, width: int) -> None:
        self._width = width
        self._done = []
        for block in self._blocks:
            self._add_done(self._render_block(block, width))
        self._fence_done, self._fence_used = [], 0
        self._open_dirty = True

    def _render_open(self) -> None:
        self._open_dirty = False
        text = self._splitter.open
        if not text.strip():
            self._open = []
            return
        if not self._splitter.in_fence:
            self._open = self._render_block(text, self._width)
            return
        # An open code fence (maybe after text of the same block): the text as Markdown,
        # then the code so far, a complete line rendered once, the partial line per frame.
        before, fence = text[: self._splitter.fence_start], text[self._splitter.fence_start:]
        head, _, code = fence.partition("\n")
        lexer = head.strip().lstrip("`~").strip().split(" ")[0] or "text"
        theme = self._code_theme()
        complete = code[: code.rfind("\n") + 1]
        if len(complete) > self._fence_used:
            chunk = complete[self._fence_used:]
            if len(self._fence_done) + chunk.count("\n") > self.HIGHLIGHT_MAX_LINES:
                self._fence_done.extend(self._plain_code(chunk.rstrip("\n"), self._width))
            else:
                self._fence_done.extend(self._render_strips(_code(chunk, lexer, theme), self._width))
            self._fence_used = len(complete)
        partial = code[len(complete):]
        lines = self._render_block(before, self._width) if before.strip() else []
        if lines:
            lines.append(Strip.blank(0))
        lines += self._render_strips(_code(" ", "text", theme), self._width)[:1]  # the padding line on top
        lines += self._fence_done
        if partial:
            lines += self._render_strips(_code(partial, lexer, theme), self._width)
        self._open = lines

    def _tail(self, first: int) -> list[Strip | None]:
        """The lines from `first` (a finished block's end) on: a gap line, then the open block."""
        gap: list[Strip | None] = [None] if self._done and self._open else []
        return self._done[first:] + gap + self._open

    def _changed(self, first: int, before: list[Strip | None]) -> None:
        """Refresh the lines from `first` on that differ from `before`; the layout only when
        the height changed (while growing, that is every RESERVE lines, not every line)."""
        if not self.is_mounted or not self._width:
            return
        if self._open_dirty:
            self._render_open()
        height = self._height()
        if height != self.virtual_size.height:
            self.virtual_size = Size(self._width, height)
            self.refresh(layout=True)
            return
        after = self._tail(first)
        common = min(len(before), len(after))
        start = next((i for i in range(common) if before[i] is not after[i] and before[i] != after[i]), common)
        end = max(len(before), len(after))
        while end > start and end <= common and (before[end - 1] is after[end - 1] or before[end - 1] == after[end - 1]):
            end -= 1
        if end > start:
            self.refresh(Region(0, first + start, self._width, end - start))

    def _used(self) -> int:
        gap = 1 if self._done and self._open else 0
        return len(self._done) + gap + len(self._open)

    def _height(self) -> int:
        """Lines used, plus blank room below while the text grows."""
        used = self._used()
        if self._growing and used > self._allocated:
            self._allocated = used + self._reserve(used)
        return max(used, self._allocated) if self._growing else used

    def _reserve(self, used: int) -> int:
        """Room for the next RESERVE_SECONDS of lines at the rate since the last step."""
        now = time.monotonic()
        last_used, last_time = self._last_step
        self._last_step = (used, now)
        rate = (used - last_used) / max(now - last_time, 1e-3) if last_time else 0.0
        most = max(self.RESERVE, self.app.size.height // 3 if self.is_attached else self.RESERVE)
        return int(min(most, max(self.RESERVE, rate * self.RESERVE_SECONDS)))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._width:
            self._render_all(width)
        if self._open_dirty:
            self._render_open()
        height = self._height()
        self.virtual_size = Size(width, height)
        return height

    def _line(self, y: int) -> Strip | None:
        if y < len(self._done):
            return self._done[y]
        y -= len(self._done) + (1 if self._done and self._open else 0)
        if 0 <= y < len(self._open):
            return self._open[y]
        return None

    def plain_lines(self) -> list[str]:
        """The rendered lines as text (what a user reads), without the room kept below."""
        return [(line.text if line is not None else "").rstrip() for line in self._tail(0)]

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        line = self._line(y)
        if line is None:
            return Strip.blank(width, style)
        cached = self._styled.get(y)  # cropping and styling cost more than the rest of a frame
        if cached is not None and cached[0] is line and cached[1] == width and cached[2] == style:
            return cached[3]
        strip = line.crop_extend(0, width, style).apply_style(style)
        self._styled[y] = (line, width, style, strip)  # holds `line`: `is` can't see a new one
        return strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._width:  # the theme changed: colours of the cached lines too
            self._render_all(self._width)
            self.refresh(layout=True)


def warm_up() -> None:
    """Import and build now (from a thread, at idle) what the first render needs."""
    _markdown_class()
    for name in ("python", "bash", "json"):
        _lexer(name)


def _code(code: str, lexer: str, theme: str) -> Syntax:
    from rich.syntax import Syntax

    return Syntax(code.rstrip("\n"), _lexer(lexer), theme=theme, word_wrap=True, padding=(0, 1))


@lru_cache(maxsize=64)
def _lexer(name: str) -> Any:
    """The Pygments lexer for a fence's language, looked up once per name: Rich looks a name
    up on every render, and Pygments' lookup scans every lexer (~2 ms, per frame while a code
    block streams). Unknown names fall back to plain text, as Rich's own lookup does."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:  # the options Rich passes for a lexer it looks up itself
        return get_lexer_by_name(name, stripnl=False, ensurenl=True, tabsize=4)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=4)


def _is_blank(strip: Strip) -> bool:
    """An empty line with no background (a code block's padding line has one: kept)."""
    return not strip.text.strip() and not any(seg.style is not None and seg.style.bgcolor is not None
                                              for seg in strip)
