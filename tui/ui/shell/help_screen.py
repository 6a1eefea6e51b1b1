"""The help screen: every key binding of the app, by where it applies, with the action name
[keys] rebinds it by (and the keys in use, [keys] applied)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tui.ui.keymap import binding_rows

KEY_WIDTH = 14  # longer key lists wrap in their cell, so the description keeps the room (80 columns)
NAME_WIDTH = 16  # the [keys] name: the longest (settings_duplicate_preset) wraps
MAX_WIDTH = 100


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 100%; max-width: 100; height: 100%; max-height: 40; border: round $primary;
                            background: $surface; padding: 0 1; }
    HelpScreen .title { height: auto; }
    HelpScreen DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content("Keys — ↑/↓ PgUp/PgDn scroll · Esc closes · the config's [keys] "
                                 "rebinds an action: quit = \"ctrl+w\""), classes="title")
            table: DataTable[str | Content] = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_column("Key", width=KEY_WIDTH, key="key")
            table.add_column("Action", width=NAME_WIDTH, key="name")
            # What is left of the box (border, padding, cell padding), so nothing is cut at 80 columns.
            room = min(self.app.size.width, MAX_WIDTH) - 4 - (KEY_WIDTH + 2) - (NAME_WIDTH + 2) - 2
            table.add_column("What it does", width=max(20, room), key="action")
            where_before = None
            for where, key, name, description in binding_rows(self.app):
                if where != where_before:
                    table.add_row(Content.styled(where, "bold underline"), "", "")
                    where_before = where
                table.add_row(key, name, description, height=None)
            yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def listed(self) -> list[tuple[str, str, str, str]]:
        """(where, key, action name, what it does) of every binding row, read back from the cells."""
        table = self.query_one(DataTable)
        rows, where = [], ""
        for row_key in table.rows:
            key, name, action = (str(cell) for cell in table.get_row(row_key))
            if action:
                rows.append((where, key, name, action))
            else:
                where = key
        return rows
