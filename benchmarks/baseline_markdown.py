"""Calibration app: what rendering the benchmark's Markdown reply costs in bare Textual.

`python -m benchmarks.baseline_markdown MODE [TOKENS]` shows a prompt-like line; on Enter it
displays benchmarks/textgen.markdown_reply(TOKENS) in a scrolling view, following the bottom:

  oneshot  one textual Markdown widget, the whole reply in a single update
  append   textual Markdown.append, one append per 1/12 s with what "arrived" in that time
           (the reply split into 30 parts: a 4,000-token reply at ~1,600 tok/s)
  rich     a single Static showing rich.markdown.Markdown (one widget, no per-block widgets)
  static   a single Static with the raw text (no Markdown at all)

`benchmarks/stream.py --baseline` drives it exactly like the real app (Enter -> last word
on screen, CPU, bytes), to separate the app's own costs from Textual's.
"""

from __future__ import annotations

import asyncio
import sys

from rich.markdown import Markdown as RichMarkdown
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from benchmarks.textgen import markdown_reply
from tui.simulator.support import tokenize


class Baseline(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self, mode: str, tokens: int) -> None:
        super().__init__()
        self.mode = mode
        self.text = markdown_reply(tokens, seed=1, final="ZEBRAFINAL")

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="view")
        yield Static("Ask anything (Enter shows the reply)", id="prompt")

    async def on_key(self, event) -> None:
        if event.key != "enter":
            return
        view = self.query_one("#view", VerticalScroll)
        view.anchor()
        if self.mode == "oneshot":
            await view.mount(Markdown(self.text))
        elif self.mode == "rich":
            await view.mount(Static(RichMarkdown(self.text)))
        elif self.mode == "static":
            await view.mount(Static(self.text, markup=False))
        else:
            md = Markdown("")
            await view.mount(md)
            pieces = tokenize(self.text)
            step = -(-len(pieces) // 30)
            for i in range(0, len(pieces), step):
                await md.append("".join(pieces[i:i + step]))
                await asyncio.sleep(1 / 12)
        self.query_one("#prompt", Static).update(f"{len(tokenize(self.text))} tokens done")


if __name__ == "__main__":
    Baseline(sys.argv[1] if len(sys.argv) > 1 else "oneshot",
             int(sys.argv[2]) if len(sys.argv) > 2 else 4000).run()
