"""The Monitor pane (placeholder until built)."""

from ..shell.placeholder import NotBuiltYet


class MonitorPane(NotBuiltYet):
    BINDINGS = []

    def __init__(self, **kwargs) -> None:
        super().__init__("Monitor", **kwargs)
