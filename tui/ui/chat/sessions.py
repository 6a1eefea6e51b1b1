"""The session list: title, model and when, most recent first."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.service.units import ago
from tui.service.untrusted import inert


def ellipsize(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class SessionList(OptionList):
    BINDINGS = [
        Binding("n", "command('new')", "New session"),
        Binding("r", "command('rename')", "Rename session"),
        Binding("d,delete", "command('delete')", "Delete session"),
        Binding("e", "command('export_md')", "Export Markdown"),
        Binding("j", "command('export_json')", "Export JSON"),
    ]

    class Command(Message):
        """A session-list key, handled by the chat pane."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def on_focus(self) -> None:
        # With no session open nothing is highlighted, and Enter/r/d would do nothing.
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def action_command(self, name: str) -> None:
        self.post_message(self.Command(name))

    def show_sessions(self, sessions: list[Any], current_id: int | None) -> None:
        highlighted = None
        options = []
        # Two lines per session, never wrapped: long titles and model names end in "…".
        width = max(8, (self.scrollable_content_region.width or 22) - 1)
        for index, session in enumerate(sessions):
            when = f" · {ago(session.updated_at)}"
            label = Content.assemble(
                (ellipsize(inert(session.title or "New chat"), width), "bold"),
                "\n",
                (ellipsize(inert(session.model), width - len(when)) + when, "$text-muted"),
            )
            options.append(Option(label, id=str(session.id)))
            if session.id == current_id:
                highlighted = index
        previous = self.highlighted
        self.set_options(options)
        if previous is not None and options and self.has_focus:
            # Keep the cursor where the user had it: a reply finishing refreshes the list while
            # they move through it.
            highlighted = min(previous, len(options) - 1)
        if highlighted is not None:
            self.highlighted = highlighted
