"""The row of pane names at the top (F1–F4); clickable, but the keys are the way in."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tui.ui.keymap import bound_keys, key_label

PANES: tuple[tuple[str, str, str], ...] = (
    ("chat", "F1", "Chat"),
    ("models", "F2", "Models"),
    ("monitor", "F3", "Monitor"),
    ("settings", "F4", "Settings"),
)


class PaneBar(Static):
    DEFAULT_CSS = """
    PaneBar { height: 1; background: $panel; padding: 0 1; }
    """

    current: reactive[str] = reactive("chat")

    def render(self) -> Content:
        items = []
        for pane_id, key, title in PANES:
            key = key_label(bound_keys(self, f"show_{pane_id}", key.lower())[0])  # [keys] may move it
            label = f" {key} {title} "
            if pane_id == self.current:
                # Shown by a marker and reverse video, not by colour alone.
                items.append(Content.styled(f"▸{label}", "bold reverse $text-primary"))
            else:
                # Built, not parsed: the key's label comes from [keys] ("ctrl+[" opens a tag).
                items.append(Content(f" {label}").stylize(f"@click=app.show_pane('{pane_id}')"))
        return Content(" ").join(items)
