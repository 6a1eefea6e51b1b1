"""The Settings pane's own question: the file changed on disk, what now?"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.ui.widgets.dialogs import DIALOG_CSS


class ConflictDialog(ModalScreen[str | None]):
    """Answers "overwrite", "reload" or None (keep editing)."""

    BINDINGS = [
        Binding("o,y", "answer('overwrite')", "Overwrite"),
        Binding("r", "answer('reload')", "Reload from disk"),
        Binding("n,escape", "answer(None)", "Keep editing"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConflictDialog")

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.assemble(
                (self.path, "bold"), " was changed by another program since it was loaded.\n"
                "Overwrite it with your version, or reload it and drop your unsaved changes?"))
            yield Static("o / y: overwrite    r: reload from disk    n / Esc: keep editing", classes="hint")

    def action_answer(self, value: str | None) -> None:
        self.dismiss(value)
