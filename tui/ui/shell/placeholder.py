"""An honest placeholder for a pane that is not built yet."""

from __future__ import annotations

from textual.widgets import Static


class NotBuiltYet(Static):
    DEFAULT_CSS = """
    NotBuiltYet { width: 1fr; height: 1fr; content-align: center middle; color: $text-muted; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(f"{title} — not built yet.\nThis pane arrives in a later release.", id=id)
