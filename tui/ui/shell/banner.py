"""The banner shown while the Ollama server does not answer."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui.service.connection import ConnectionState


class ConnectionBanner(Static):
    DEFAULT_CSS = """
    ConnectionBanner { display: none; height: auto; background: $error 30%; color: $foreground;
                       padding: 0 1; text-style: bold; }
    ConnectionBanner.-down { display: block; }
    """

    def show_state(self, state: ConnectionState) -> None:
        down = state.status == "down"
        self.set_class(down, "-down")
        if down:
            reason = f" ({state.error})" if state.error else ""
            self.update(
                Content(
                    f"⚠ Ollama not reachable at {state.host} — retrying; "
                    f"press r to retry now, h to change host, D for the built-in demo{reason}"
                )
            )
