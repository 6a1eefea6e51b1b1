"""The widgets of one conversation: a user turn, an assistant reply (streamed), a notice."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.service.untrusted import inert
from tui.ui.chat.markdown_lines import MarkdownLines


def stats_line(stats: dict[str, Any] | None, status: str, error: str | None, num_ctx: int | None) -> Content:
    """'412 tokens · 96.3 tok/s · first token 0.21 s · prompt 38 · load 1.2 s · ctx 450/4096'."""
    parts: list[str] = []
    if status == "stopped":
        parts.append("■ stopped")
    elif status == "error":
        parts.append(f"✕ error: {inert(error or 'unknown')}")
    elif status == "streaming":
        parts.append("… streaming")
    if stats:
        eval_count = stats.get("eval_count") or 0
        eval_ns = stats.get("eval_duration") or 0
        if eval_count:
            parts.append(f"{eval_count} tokens")
        if eval_count and eval_ns:
            parts.append(f"{eval_count / eval_ns * 1e9:.1f} tok/s")
        if stats.get("ttft") is not None:
            parts.append(f"first token {stats['ttft']:.2f} s")
        if stats.get("prompt_eval_count"):
            parts.append(f"prompt {stats['prompt_eval_count']}")
        if stats.get("load_duration"):
            parts.append(f"load {stats['load_duration'] / 1e9:.2f} s")
        used = (stats.get("prompt_eval_count") or 0) + eval_count
        if num_ctx and used:
            share = used / num_ctx
            warn = " ⚠ context nearly full" if share >= 0.9 else (" ⚠ context filling" if share >= 0.75 else "")
            parts.append(f"ctx {used}/{num_ctx}{warn}")
    style = "$text-error" if status == "error" else "$text-muted"
    return Content.styled(" · ".join(parts), style)


class UserTurn(Static):
    """What the user sent: literal text, never markup."""

    def __init__(self, text: str, attachments: tuple[str, ...] = (), *, message_id: int | None = None) -> None:
        body = Content.styled("You", "bold $text-primary") + Content("\n") + Content(inert(text))
        if attachments:
            body += Content.styled("\n📎 " + ", ".join(inert(a) for a in attachments), "$text-muted")
        super().__init__(body, classes="user-turn")
        self.message_id = message_id
        self.text = text


class Notice(Static):
    """A line from the app itself in the conversation (errors, hints)."""

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__(Content(inert(text)), classes="notice -error" if error else "notice")


class AssistantTurn(Vertical):
    """A reply: an optional thinking block, the Markdown body, a stats line.

    While streaming, text arrives through `feed()`; it is buffered and appended to the
    Markdown at most once per frame interval (appending what arrived since the last frame is
    far cheaper than a token at a time). `MarkdownLines` renders each finished block once and
    only the open block per frame, so a frame costs the same at token 10 and token 10,000.
    """

    FRAME_INTERVAL = 1 / 12

    def __init__(self, model: str, *, content: str = "", thinking: str = "", message_id: int | None = None,
                 status: str = "complete", stats: dict[str, Any] | None = None, error: str | None = None,
                 num_ctx: int | None = None) -> None:
        super().__init__(classes="assistant-turn")
        self.model = model
        self.message_id = message_id
        self.content = content
        self.thinking = thinking
        self.status = status
        self.stats = stats
        self.error = error
        self.num_ctx = num_ctx
        self._pending_content: list[str] = []
        self._pending_thinking: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stream_done = False
        self._done_event = asyncio.Event()  # ends the pause between frames when the stream ends
        self.on_flushed: Any = None  # callback after each frame (the view follows the stream)

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(inert(self.model), "bold $text-secondary"), classes="who")
        if self.thinking:  # most replies have none: no box (five widgets fewer per turn)
            yield self._thinking_box(inert(self.thinking), collapsed=self.status != "streaming")
        yield MarkdownLines(inert(self.content), classes="body")
        yield Static(stats_line(self.stats, self.status, self.error, self.num_ctx), classes="stats")

    @staticmethod
    def _thinking_box(text: str, *, collapsed: bool) -> Collapsible:
        """The folding block of the thinking text (`text` already made inert)."""
        return Collapsible(MarkdownLines(text, classes="thinking-text"), title="Thinking",
                           collapsed=collapsed, classes="thinking")

    # -- streaming --------------------------------------------------------------------------

    def start_stream(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop())

    def feed(self, content: str, thinking: str) -> None:
        """Called per chunk: only buffers (cheap); the flush loop renders."""
        if content:
            self._pending_content.append(inert(content))
        if thinking:
            self._pending_thinking.append(inert(thinking))
        self._wake.set()

    async def _flush_once(self) -> None:
        if self._pending_thinking:
            text = "".join(self._pending_thinking)
            self._pending_thinking.clear()
            had_thinking = bool(self.thinking)
            self.thinking += text
            if had_thinking:
                self.query_one(".thinking-text", MarkdownLines).append(text)
            else:  # the first thinking of this reply: its box goes in above the answer
                await self.mount(self._thinking_box(text, collapsed=False), before=self.query_one(".body"))
        if self._pending_content:
            text = "".join(self._pending_content)
            self._pending_content.clear()
            if not self.content and self.thinking:
                self.query_one(Collapsible).collapsed = True  # the answer began: fold the thinking
            self.content += text
            self.query_one(".body", MarkdownLines).append(text)
        if self.on_flushed is not None:
            self.on_flushed()

    async def _flush_loop(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._flush_once()
                if self._stream_done:
                    return
                try:  # the next frame after FRAME_INTERVAL, or at once when the stream ends
                    await asyncio.wait_for(self._done_event.wait(), self.FRAME_INTERVAL)
                except asyncio.TimeoutError:
                    pass
        except asyncio.CancelledError:
            pass

    async def finish(self, status: str, stats: dict[str, Any] | None, error: str | None,
                     message_id: int | None = None) -> None:
        """The stream ended: render what is still buffered, then the stats line."""
        self._stream_done = True
        self._done_event.set()
        if self._flusher is not None:
            self._wake.set()
            await self._flusher
            self._flusher = None
        await self._flush_once()
        for part in self.query(MarkdownLines):
            part.finish()
        self.status, self.stats, self.error = status, stats, error
        if message_id is not None:
            self.message_id = message_id
        self.query_one(".stats", Static).update(stats_line(stats, status, error, self.num_ctx))
