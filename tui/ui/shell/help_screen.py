"""The help screen: every key binding of the app, by where it applies."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.ui.keymap import binding_rows

KEY_WIDTH = 18  # longer key lists wrap in their cell, so Action keeps the room (80 columns)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100%; max-width: 100; height: 100%; max-height: 40; border: round $primary;
                            background: $surface; padding: 0 1; }
    HelpScreen .title { height: 1; }
    HelpScreen DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys — ↑/↓ PgUp/PgDn scroll · Esc closes", classes="title")
            table: DataTable[str | Content] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_column("Key", width=KEY_WIDTH, key="key")
            table.add_column("Action", key="action")
            where_before = None
            for where, key, description in binding_rows(self.app):
                if where != where_before:
                    table.add_row(Content.styled(where, "bold underline"), "")
                    where_before = where
                table.add_row(key, description, height=None)
            yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def listed(self) -> list[tuple[str, str, str]]:
        """(where, key, action) of every binding row, read back from the table's cells."""
        table = self.query_one(DataTable)
        rows, where = [], ""
        for row_key in table.rows:
            key, action = (str(cell) for cell in table.get_row(row_key))
            if action:
                rows.append((where, key, action))
            else:
                where = key
        return rows
