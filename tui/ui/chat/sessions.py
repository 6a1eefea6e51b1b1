"""The session list: title, model and when, most recent first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.service.units import ago
from tui.service.untrusted import inert
from tui.ui.access import services
from tui.ui.chat.paths import PathSuggester
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog

if TYPE_CHECKING:
    from tui.service.history import Session


def ellipsize(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class SessionList(OptionList):
    """The stored sessions. Its keys act on the highlighted one: rename, delete, export; the
    chat pane hears of what changed (Renamed, Deleted) and `n` (NewSession)."""

    BINDINGS = [
        Binding("n", "new_session", "New session", id="sessions_new"),
        Binding("r", "rename", "Rename session", id="sessions_rename"),
        Binding("d,delete", "delete_session", "Delete session", id="sessions_delete"),
        Binding("e", "export('md')", "Export Markdown", id="sessions_export_md"),
        Binding("j", "export('json')", "Export JSON", id="sessions_export_json"),
    ]

    class NewSession(Message):
        """`n`: start a new chat."""

    class Renamed(Message):
        """A session got a new title (`session`: as stored now)."""

        def __init__(self, session: Session) -> None:
            super().__init__()
            self.session = session

    class Deleted(Message):
        """A session was deleted."""

        def __init__(self, session_id: int) -> None:
            super().__init__()
            self.session_id = session_id

    _listed: tuple[list[Session], int | None] | None = None  # what show_sessions was last given
    _label_width = 0  # ... and the width its labels were cut to

    def on_resize(self) -> None:
        # Shown again (below 100 columns it is hidden until Ctrl+L) or at another width: the
        # labels were cut for the old one.
        if self._listed is not None and self._width() != self._label_width:
            self.show_sessions(*self._listed)

    def _width(self) -> int:
        return max(8, (self.scrollable_content_region.width or 22) - 1)

    def on_focus(self) -> None:
        # With no session open nothing is highlighted, and Enter/r/d would do nothing.
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def action_new_session(self) -> None:
        self.post_message(self.NewSession())

    async def highlighted_session(self) -> Session | None:
        """The highlighted session as stored (None, said, when there is none)."""
        history = services(self).history
        if history is None or self.highlighted is None:
            self.notify("This chat has no messages yet.", severity="warning")
            return None
        option = self.get_option_at_index(self.highlighted)
        return await history.get_session(int(option.id or 0))

    async def action_rename(self) -> None:
        session = await self.highlighted_session()
        if session is None:
            return
        store = services(self).require_history()

        async def done(title: str | None) -> None:
            if title and title.strip():
                self.post_message(self.Renamed(await store.update_session(session.id, title=title.strip())))

        self.app.push_screen(TextDialog(f"Rename “{inert(session.title)}”", session.title), done)

    async def action_delete_session(self) -> None:
        session = await self.highlighted_session()
        if session is None:
            return
        store = services(self).require_history()

        async def done(yes: bool) -> None:
            if not yes:
                return
            await store.delete_session(session.id)
            self.post_message(self.Deleted(session.id))
            self.notify(f"Deleted “{session.title}”.")

        self.app.push_screen(ConfirmDialog(
            f"Delete the session “{inert(session.title)}” and its {session.message_count} messages? "
            "This cannot be undone."), done)

    async def action_export(self, fmt: str) -> None:
        from tui.service.chat.export import export_session

        session = await self.highlighted_session()
        if session is None:
            return
        store = services(self).require_history()
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", session.title).strip("-")[:40] or f"session-{session.id}"
        default = str(Path.cwd() / f"{safe}.{ 'md' if fmt == 'md' else 'json'}")

        async def done(path: str | None) -> None:
            if not path:
                return
            try:
                await export_session(store, session.id, Path(path).expanduser(), fmt)
            except OSError as exc:
                self.notify(f"Export failed: {exc}", severity="error")
            else:
                self.notify(f"Exported to {path}")

        self.app.push_screen(TextDialog(f"Export “{inert(session.title)}” as {fmt.upper()} to", default,
                                        suggester=PathSuggester()), done)

    def show_sessions(self, sessions: list[Session], current_id: int | None) -> None:
        highlighted = None
        options = []
        # Two lines per session, never wrapped: long titles and model names end in "…".
        self._listed = (sessions, current_id)
        self._label_width = width = self._width()
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
