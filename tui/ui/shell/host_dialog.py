"""A small dialog to point the app at another Ollama host."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.service.hosts import parse_host
from tui.service.untrusted import inert


class HostDialog(ModalScreen[str | None]):
    """Returns the parsed URL, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    HostDialog { align: center middle; }
    HostDialog > Vertical { width: 70; max-width: 95%; height: auto; border: round $primary;
                            background: $surface; padding: 0 1; }
    HostDialog #host-error { color: $text-error; height: auto; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Ollama host (host, host:port, :port or http(s)://…) — Enter to connect, Esc to cancel")
            yield Input(value=self.current, id="host-input")
            yield Static("", id="host-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            url = parse_host(event.value)
        except ValueError as exc:
            self.query_one("#host-error", Static).update(Content(f"✕ {inert(str(exc))}"))
            return
        self.dismiss(url)

    def action_cancel(self) -> None:
        self.dismiss(None)
