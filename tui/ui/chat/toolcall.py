"""A tool call the model made, in the conversation: the tool and its arguments, the question
(y runs it, n refuses, a allows that tool for the rest of the session), then what came of it,
the result folded under the call. Everything from the model or the tool is shown as inert text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.service.untrusted import inert, inert_short

Answer = Literal["run", "refuse", "always"]

_KIND_LABEL = {
    "ok": ("✓ ran", "$text-success"),
    "error": ("✕ the tool reported an error", "$text-error"),
    "timeout": ("✕ timed out", "$text-error"),
    "failed": ("✕ could not run", "$text-error"),
    "refused": ("✕ refused", "$text-warning"),
}


def call_line(name: str, arguments: Mapping[str, Any]) -> str:
    """`add(a=2, b=3)`-like one line: the tool and its arguments as JSON values (inert)."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return inert_short(f"{name}({args})", 2000)


class ToolCallTurn(Vertical, can_focus=True):
    """One tool call: asks (while `ask()` is awaited) and then shows its outcome."""

    BINDINGS = [
        Binding("y", "answer('run')", "Run the tool", id="tool_run"),
        Binding("n", "answer('refuse')", "Refuse", id="tool_refuse"),
        Binding("a", "answer('always')", "Always allow this tool (in this chat)", id="tool_always"),
    ]

    def __init__(self, name: str, arguments: Mapping[str, Any], *, result: str | None = None,
                 kind: str | None = None, message_id: int | None = None, note: str = "") -> None:
        super().__init__(classes="tool-turn")
        self.tool = name
        self.arguments = dict(arguments)
        self.result = result
        self.kind = kind
        self.message_id = message_id
        self.note = note
        self._answer: asyncio.Future[Answer] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("🔧 Tool call ", "bold $text-accent") + Content(call_line(self.tool, self.arguments)),
                     classes="tool-call")
        yield Static("", classes="tool-state")

    def on_mount(self) -> None:
        if self.kind is not None:
            self.call_after_refresh(self.show_outcome, self.result or "", self.kind, self.note)

    @property
    def asking(self) -> bool:
        return self._answer is not None and not self._answer.done()

    async def ask(self) -> Answer:
        """Ask whether to run the call; returns the answer (y, n or a)."""
        self._answer = asyncio.get_running_loop().create_future()
        self.add_class("-asking")
        self.query_one(".tool-state", Static).update(Content.from_markup(
            "[b]Run this tool?[/b]  [b]y[/b] run · [b]n[/b] refuse · [b]a[/b] always allow "
            "[b]$tool[/b] in this chat", tool=inert_short(self.tool, 80)))
        self.screen.set_focus(self)
        self.scroll_visible(animate=False)
        try:
            return await self._answer
        finally:
            self.remove_class("-asking")

    def action_answer(self, answer: Answer) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(answer)

    def running(self, note: str = "") -> None:
        self.query_one(".tool-state", Static).update(Content.styled(f"… running{note}", "$text-muted"))

    async def show_outcome(self, text: str, kind: str, note: str = "") -> None:
        """What came of the call; the text folded under it (what the model is sent)."""
        self.result, self.kind = text, kind
        label, style = _KIND_LABEL.get(kind, (kind, "$text-muted"))
        self.query_one(".tool-state", Static).update(Content.styled(label + (f" · {note}" if note else ""), style))
        for old in self.query(Collapsible):
            await old.remove()
        lines = text.count("\n") + 1
        chars = len(text)
        title = (f"Result ({lines} line{'s' if lines != 1 else ''}, {chars} character{'s' if chars != 1 else ''})"
                 if kind == "ok" else "Sent to the model")
        await self.mount(Collapsible(Static(Content(inert(text)), classes="tool-result"),
                                     title=title, collapsed=True))
