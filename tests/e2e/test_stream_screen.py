"""A reply streamed in a real terminal leaves exactly the screen that the same conversation,
opened again from history, draws: no cell left behind by the partial writes and terminal scrolls
of the driver's FrameDiff (tui/ui/shell/frame_diff.py). tmux at 120x40, the installed app, the
simulator at 400 tokens/s; cells compared with their colours and attributes."""

from __future__ import annotations

import re

import pyte
import pytest

from tests.e2e.tmux import TmuxApp, needs_tmux
from tests.waiting import wait_sync
from tui.simulator import Simulator

pytestmark = [needs_tmux, pytest.mark.timeout(120)]

WIDTH, HEIGHT = 120, 40
WORDS = "cache entries expire when the clock passes their deadline and the next read fetches a fresh copy"


def long_reply() -> str:
    """~140 lines at this width: paragraphs, a list, code, a table, a quote; taller than the view."""
    words = WORDS.split()
    parts = []
    for n in range(1, 7):
        sentence = " ".join(words[(n * 7 + i) % len(words)] for i in range(60)).capitalize() + "."
        parts.append(f"## Part {n}\n\n{sentence} {sentence}\n")
        parts.append("\n".join(f"- item {n}.{i}: {' '.join(words[i:i + 6])}" for i in range(5)) + "\n")
        code = "\n".join(f"    value_{i} = cache.get('key-{n}-{i}')  # {words[i]}" for i in range(8))
        parts.append(f"```python\ndef part_{n}(cache):\n{code}\n    return value_0\n```\n")
        parts.append("| key | hits | misses |\n|---|---|---|\n" +
                     "\n".join(f"| k{i} | {i * 7} | {i * 3} |" for i in range(4)) + "\n")
        parts.append(f"> Note {n}: {' '.join(words[n:n + 12])}\n")
    return "\n".join(parts) + "\nThe end: STREAMDONE"


def cells(styled: str) -> list[list[tuple]]:
    """The captured screen (tmux capture-pane -e) as cells: character, colours, attributes; a
    blank's foreground, bold and italics are not seen, so not compared (a blank erased with ECH
    has the default foreground, one written as a space the style's)."""
    screen = pyte.Screen(WIDTH, HEIGHT)
    pyte.Stream(screen).feed(styled.rstrip("\n").replace("\n", "\r\n"))
    return [[(c.data, None if c.data == " " else c.fg, c.bg, c.data != " " and c.bold,
              c.data != " " and c.italics, c.underscore, c.reverse, c.strikethrough)
             for c in (screen.buffer[y][x] for x in range(WIDTH))] for y in range(HEIGHT)]


def conversation(screen: str, styled: str) -> list[list[tuple]]:
    """The conversation's cells: right of the session list, between the header and the prompt."""
    lines = screen.split("\n")
    left = lines[2].index("▕") + 1
    bottom = max(y for y, line in enumerate(lines) if line[left:].strip().strip("─") == ""
                 and line[left:].count("─") > WIDTH // 2)  # the rule above the prompt
    return [row[left:] for row in cells(styled)[2:bottom]]


def settled(app: TmuxApp) -> tuple[str, str]:
    """The screen (text, styled) once its conversation, colours included, is the same in two
    captures 0.2 s apart: a history page's first paint can come before its code blocks' colours,
    and the status line, the resource strip's CPU % and the key bar go on changing outside it."""
    last: list = []

    def same_twice() -> tuple[str, str] | None:
        text, styled = app.screen(), app.screen(styled=True)
        now = conversation(text, styled)
        found = (text, styled) if last and last[-1] == now else None
        last.append(now)
        return found

    return wait_sync(same_twice, 20.0, 0.2, what="the conversation settled")


def test_a_streamed_reply_leaves_the_screen_history_draws(tmp_path):
    text = long_reply()
    with Simulator(token_rate=400, reply=text) as sim:
        app = TmuxApp(["--host", sim.url], tmp_path, width=WIDTH, height=HEIGHT)
        try:
            app.wait_for("Ollama 0.33.0")
            app.type("Tell me about caches")
            app.press("Enter")
            app.wait_for(lambda s: re.search(r"\d+ tokens ·", s) is not None, timeout=60)
            streamed, streamed_styled = settled(app)
            assert "STREAMDONE" in streamed  # followed to the end: the newest text is on screen
            app.press("C-l")  # the session list
            app.press("Enter")  # open the session: drawn from history
            # Drawn again from history once its stats line lacks "· ctx" (see below).
            app.wait_for(lambda s: "STREAMDONE" in s and re.search(r"tokens ·.*ctx", s) is None)
            reopened, reopened_styled = settled(app)
        finally:
            app.close()
    before, after = conversation(streamed, streamed_styled), conversation(reopened, reopened_styled)
    assert len(before) > 30
    stats = next(y for y, row in enumerate(before) if re.search(r"\d+ tokens ·", "".join(c[0] for c in row)))
    # History does not keep the context size the reply was asked with: its stats line ends
    # before "· ctx used/size". Up to there, and blank after it, the row is the same.
    cut = "".join(c[0] for c in before[stats]).index(" · ctx")
    assert after[stats][:cut] == before[stats][:cut]
    assert "".join(c[0] for c in after[stats][cut:]).strip() == ""
    before[stats] = after[stats] = []
    diff = [(y, [(x, c, d) for x, (c, d) in enumerate(zip(a, b)) if c != d])
            for y, (a, b) in enumerate(zip(before, after)) if a != b]
    assert diff == [], diff  # row, then each differing cell: column, streamed, from history
    written = app.bytes_written()
    assert b"M\x1b[r" in written  # the reply's lines came up by terminal scrolls (DECSTBM + DL)
    assert re.search(rb"\x1b\[\d+X", written)  # and blank runs were erased (xterm-256color has bce)
