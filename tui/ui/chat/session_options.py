"""F12: the open session's own settings, kept with it: option overrides (`key=value …`) and
a system prompt of its own, which replaces the model's or `[chat] system_prompt` for this
session (empty: those apply again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.service.chat.options import format_overrides, parse_overrides
from tui.ui.chat.header import one_line
from tui.ui.chat.prompt import PromptArea
from tui.ui.widgets.dialogs import DIALOG_CSS

OVERRIDES_TITLE = ("Session overrides (key=value …; key= clears): temperature top_p top_k min_p "
                   "repeat_penalty num_ctx num_predict seed stop format")


@dataclass(frozen=True)
class SessionSettings:
    """What the dialog was left with: the overrides and the session's system prompt (None:
    none of its own)."""

    options: dict[str, Any]
    system_prompt: str | None


class SessionOptionsDialog(ModalScreen[SessionSettings | None]):
    """Two fields: the overrides (one line) and the system prompt (several lines: the newline
    key of the chat prompt). Enter in either saves both; Tab moves between them; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="SessionOptionsDialog") + """
    SessionOptionsDialog .label { margin-top: 1; height: auto; }
    SessionOptionsDialog PromptArea { height: auto; min-height: 3; max-height: 8; border: tall $border-blurred; }
    SessionOptionsDialog PromptArea:focus { border: tall $border; }
    """

    def __init__(self, options: dict[str, Any], system_prompt: str | None, *, inherited: str | None) -> None:
        """`inherited`: the system prompt the session gets without one of its own."""
        super().__init__()
        self.options = dict(options)
        self.system_prompt = system_prompt or ""
        self.inherited = inherited or ""

    def compose(self) -> ComposeResult:
        fallback = f"now: “{one_line(self.inherited, 60)}”" if self.inherited.strip() else "now none"
        with Vertical():
            yield Static(Content(OVERRIDES_TITLE))
            yield Input(format_overrides(self.options), id="overrides")
            yield Static(Content(f"System prompt for this session — empty: the model's or [chat] one ({fallback})"),
                         classes="label")
            # The chat prompt's widget: Enter saves, and a new line takes the chat's newline key.
            yield PromptArea(id="system-prompt", placeholder="none of its own")
            yield Static("", classes="error")
            yield Static("Enter: OK    Tab: next field    Ctrl+J: new line    Esc: cancel", classes="hint")

    def on_mount(self) -> None:
        prompt = self.query_one(PromptArea)
        prompt.text = self.system_prompt
        prompt.move_cursor(prompt.document.end)
        self.set_focus(self.query_one(Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save()

    @on(PromptArea.Submitted)
    def on_prompt_submitted(self, event: PromptArea.Submitted) -> None:
        event.stop()
        self._save()

    def _save(self) -> None:
        values, errors = parse_overrides(self.query_one(Input).value)
        if errors:
            self.query_one(".error", Static).update(Content(f"✕ {'; '.join(errors)}"))
            return
        # The field shows the current overrides: what is left in it is the new set (a key
        # deleted from the text is cleared, as `key=` is).
        options = {k: v for k, v in values.items() if v is not None}
        prompt = self.query_one(PromptArea).text
        self.dismiss(SessionSettings(options, prompt if prompt.strip() else None))

    def action_cancel(self) -> None:
        self.dismiss(None)
