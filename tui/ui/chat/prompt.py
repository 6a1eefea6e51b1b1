"""The multi-line prompt: Enter sends, Ctrl+J (or Alt/Shift+Enter) inserts a newline, ↑/↓ recall.

TextArea takes its keys (Enter, ↑/↓) before bindings apply, so the prompt reads its keys itself:
the bindings' defaults, or the config's [keys] (prompt_send, prompt_newline, prompt_earlier,
prompt_later) as the app applied them."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from tui.ui.keymap import bound_keys, key_label


class PromptArea(TextArea):
    BINDINGS = [
        Binding("enter", "submit", "Send", show=True, id="prompt_send"),
        Binding("ctrl+j,alt+enter,shift+enter", "newline", "Newline", show=False, id="prompt_newline"),
        Binding("up", "noop", "Earlier prompt (on the first line)", show=False, id="prompt_earlier"),
        Binding("down", "noop", "Later prompt (on the last line)", show=False, id="prompt_later"),
    ]
    DEFAULT_KEYS: ClassVar[dict[str | None, str]] = {binding.id: binding.key for binding in BINDINGS}

    class Submitted(Message):
        def __init__(self, prompt: "PromptArea", text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                         compact=True, highlight_cursor_line=False, **kwargs)
        # A blinking cursor repaints twice a second forever: bytes over SSH and CPU while idle.
        self.cursor_blink = False
        self.recall: list[str] = []
        self._recall_index: int | None = None
        self._draft = ""

    def keys_of(self, action_id: str) -> tuple[str, ...]:
        """The keys of one of the prompt's actions now ("prompt_send", …)."""
        return bound_keys(self, action_id, self.DEFAULT_KEYS[action_id])

    def on_mount(self) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        """The placeholder names the keys in use (after [keys] changed too)."""
        send, newline = (key_label(self.keys_of(action)[0]) for action in ("prompt_send", "prompt_newline"))
        self.placeholder = f"Ask anything — {send} sends, {newline} newline"

    async def _on_key(self, event: events.Key) -> None:
        if event.key in self.keys_of("prompt_send"):
            event.prevent_default()
            event.stop()
            self.action_submit()
            return
        if event.key in self.keys_of("prompt_newline"):
            event.prevent_default()
            event.stop()
            self.insert("\n")
            return
        if event.key in self.keys_of("prompt_earlier") and self.cursor_location[0] == 0 and self.recall:
            event.prevent_default()
            event.stop()
            self._recall(-1)
            return
        if event.key in self.keys_of("prompt_later") and self._recall_index is not None and \
                self.cursor_location[0] == self.document.line_count - 1:
            event.prevent_default()
            event.stop()
            self._recall(+1)
            return
        if event.key in ("up", "down"):
            # The documenting binding below shadows TextArea's own up/down: move the cursor here.
            event.prevent_default()
            event.stop()
            self.action_cursor_up() if event.key == "up" else self.action_cursor_down()
            return
        await super()._on_key(event)

    def _recall(self, step: int) -> None:
        if self._recall_index is None:
            self._draft = self.text
            index = len(self.recall)
        else:
            index = self._recall_index
        index += step
        if index >= len(self.recall):
            self._recall_index = None
            self.text = self._draft
        else:
            self._recall_index = max(0, index)
            self.text = self.recall[self._recall_index]
        self.move_cursor(self.document.end)

    def action_noop(self) -> None:
        """↑/↓ are handled in _on_key; the binding only documents them."""

    def action_newline(self) -> None:
        self.insert("\n")

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))

    def remember(self, text: str) -> None:
        if text.strip() and (not self.recall or self.recall[-1] != text):
            self.recall.append(text)
        self._recall_index = None
