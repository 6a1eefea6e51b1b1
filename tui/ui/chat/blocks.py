"""Cut streamed Markdown into finished top-level blocks, as the text arrives.

A block is finished when nothing that comes later can change how it renders:
- a fenced code block, once its closing fence has arrived;
- anything else, once a blank line is followed by a line that starts a new block (not an
  indented continuation, which could belong to a list item).

The stream is scanned once, a complete line at a time, so feeding is O(new text). Cutting
the whole text at once and cutting it chunk by chunk give the same blocks (tested).
"""

from __future__ import annotations


def _fence(line: str) -> tuple[str, int] | None:
    """('`', 3) for a line opening/closing a fence: up to 3 spaces, then ``` or ~~~."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or not stripped:
        return None
    char = stripped[0]
    if char not in "`~":
        return None
    count = len(stripped) - len(stripped.lstrip(char))
    if count < 3:
        return None
    if char == "`" and "`" in stripped[count:]:
        return None  # an info string may not contain a backtick
    return char, count


class BlockSplitter:
    """Feed text; get back the blocks that became final. `open` is what is still growing."""

    def __init__(self) -> None:
        self.open = ""  # the text of the unfinished block(s)
        self._scan = 0  # offset in `open` of the first line not yet looked at
        self._fence: tuple[str, int] | None = None
        self._blank_at: int | None = None  # offset of the first blank line after content
        self.fence_start = 0  # offset in `open` of the open fence's first line (when in_fence)

    @property
    def in_fence(self) -> bool:
        """The open text ends inside a fenced code block."""
        return self._fence is not None

    def feed(self, text: str) -> list[str]:
        self.open += text
        done: list[str] = []
        while True:
            end = self.open.find("\n", self._scan)
            if end < 0:
                return done
            start, self._scan = self._scan, end + 1
            cut = self._line(start, self.open[start:end].rstrip("\r"))
            if cut is not None:
                block_end, rest = cut
                block = self.open[:block_end]
                self.open = self.open[rest:]
                self._scan -= rest
                if self._blank_at is not None:
                    self._blank_at -= rest
                if self._fence is not None:
                    self.fence_start -= rest
                if block.strip():
                    done.append(block.lstrip("\r\n"))

    def _line(self, start: int, line: str) -> tuple[int, int] | None:
        """Look at one complete line; (block end, where the rest begins) when a block ends."""
        if self._fence is not None:
            mark = _fence(line)
            char, count = self._fence
            if mark is not None and mark[0] == char and mark[1] >= count and not line.strip().strip(char):
                self._fence = None
                return self._scan, self._scan  # the closing fence ends the code block
            return None
        if not line.strip():
            if self._blank_at is None and self.open[:start].strip():
                self._blank_at = start
            return None
        cut = None
        if self._blank_at is not None:
            if line[0] not in " \t":
                cut = (self._blank_at, start)  # a new block begins: the one before is final
            self._blank_at = None
        mark = _fence(line)
        if mark is not None:
            self._fence, self.fence_start = mark, start
        return cut

    def finish(self) -> str | None:
        """The stream ended: whatever is open is final."""
        block, self.open, self._scan, self._fence, self._blank_at = self.open, "", 0, None, None
        return block.lstrip("\r\n") if block.strip() else None


def split_blocks(text: str) -> list[str]:
    """All blocks of a finished text."""
    splitter = BlockSplitter()
    blocks = splitter.feed(text)
    last = splitter.finish()
    return blocks + ([last] if last is not None else [])
