"""Full-text search across every session (SQLite FTS5); Enter opens the session at the hit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.service.untrusted import inert
from tui.ui.widgets.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from tui.service.history import HistoryStore


class SearchScreen(ModalScreen[tuple[int, int] | None]):
    """Returns (session_id, message_id) of the chosen hit, or None."""

    BINDINGS = [Binding("escape", "cancel", "Close search")]
    DEFAULT_CSS = DIALOG_CSS.format(name="SearchScreen") + """
    SearchScreen > Vertical { width: 100; }
    SearchScreen OptionList { max-height: 20; }
    """

    def __init__(self, store: HistoryStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Search all chats")
            yield Input(placeholder="words to find (prefix match)")
            yield OptionList()
            yield Static("", classes="hint", id="search-count")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @work(exclusive=True, group="search", exit_on_error=False, description="search history")
    async def run_search(self, query: str) -> None:
        hits = await self.store.search(query, limit=50) if query.strip() else []
        options = []
        for hit in hits:
            when = datetime.fromtimestamp(hit.created_at).strftime("%Y-%m-%d %H:%M")
            label = Content.assemble(
                (inert(hit.session_title), "bold"), (f"  {hit.role} · {when}", "$text-muted"),
                ("  (earlier branch)" if hit.superseded else "", "$text-muted"),
                "\n", inert(hit.snippet),
            )
            options.append(Option(label, id=f"{hit.session_id}:{hit.message_id}"))
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        if options:
            option_list.highlighted = 0
        count = f"{len(hits)} match{'es' if len(hits) != 1 else ''}" if query.strip() else ""
        self.query_one("#search-count", Static).update(count + ("  ↑/↓ choose · Enter open" if hits else ""))

    def on_key(self, event) -> None:
        if event.key in ("up", "down"):
            event.stop()
            event.prevent_default()
            option_list = self.query_one(OptionList)
            option_list.action_cursor_up() if event.key == "up" else option_list.action_cursor_down()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        option_list = self.query_one(OptionList)
        if option_list.highlighted is not None:
            self._choose(option_list.get_option_at_index(option_list.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id:
            session_id, message_id = option_id.split(":")
            self.dismiss((int(session_id), int(message_id)))

    def action_cancel(self) -> None:
        self.dismiss(None)
