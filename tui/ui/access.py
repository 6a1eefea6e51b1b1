"""Typed access from a widget to the App and its services (no `getattr` probing).

Every widget of this app runs inside `OllamaTUI`. What the panes may ask of it is the `TuiApp`
protocol below (the App satisfies it; a test checks), so the UI modules depend on that, not on
tui.app, which imports them. `services(widget)` is the App's `Services`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from tui.service.config import Config
    from tui.service.connection import ConnectionMonitor
    from tui.service.monitor import Sampler
    from tui.service.providers.protocol import Provider
    from tui.service.services import Services
    from tui.ui.monitor.feed import MonitorFeed
    from tui.ui.monitor.fleet import FleetFeed


class TuiApp(Protocol):
    """What a pane may ask of the App, besides Textual's own App API."""

    services: Services
    default_model: str
    key_overrides: dict[str, str]  # the [keys] in use: action id → keys (empty: the defaults)
    connection: ConnectionMonitor
    monitor: MonitorFeed
    fleet: FleetFeed
    sampler: Sampler

    @property
    def client(self) -> Provider: ...

    @property
    def config(self) -> Config: ...

    @property
    def current_pane(self) -> str: ...

    @classmethod
    def key_scopes(cls) -> list[tuple[str, type]]: ...

    async def request_pull(self, name: str) -> None: ...
    def chat_on_host(self, name: str, *, reason: str = "") -> bool: ...

    def apply_config(self) -> None: ...

    def push_screen(self, *args: Any, **kwargs: Any) -> Any: ...

    async def push_screen_wait(self, *args: Any, **kwargs: Any) -> Any: ...


def tui_app(node: DOMNode) -> TuiApp:
    """The App `node` runs in, as the panes see it."""
    return cast("TuiApp", node.app)


def services(node: DOMNode) -> Services:
    """The services of the App `node` runs in."""
    return tui_app(node).services


class Pane(Protocol):
    """What the App asks of each of its panes (Chat, Models, Monitor, Settings)."""

    def focus_default(self) -> None:
        """Focus what a user of this pane types into first."""
