"""The help screen: every key binding of the app, by where it applies."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..keymap import binding_rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $primary;
                                  background: $surface; padding: 0 1; }
    HelpScreen DataTable { height: auto; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("Keys — Esc closes this help", classes="title")
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Where", "Key", "Action")
            for where, key, description in binding_rows(self.app):
                table.add_row(where, key, description)
            yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
