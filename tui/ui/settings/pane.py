"""The Settings pane (placeholder until built)."""

from ..shell.placeholder import NotBuiltYet


class SettingsPane(NotBuiltYet):
    BINDINGS = []

    def __init__(self, **kwargs) -> None:
        super().__init__("Settings", **kwargs)
