"""Messages the App sends to its panes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.service.config import Config
    from tui.service.connection import ConnectionState


class ConfigChanged(Message, bubble=False):
    """Settings saved (or reloaded) the config: `config` is now in use."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config


class ConnectionChanged(Message, bubble=False):
    """The server's state as the connection watch sees it changed."""

    def __init__(self, state: ConnectionState) -> None:
        super().__init__()
        self.state = state
