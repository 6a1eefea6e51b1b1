"""Typed access from a widget to the App and its services (no `getattr` probing).

Every widget of this app runs inside `OllamaTUI`; `tui_app(widget)` says so to the type
checker, `services(widget)` is the App's `Services`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from tui.app import OllamaTUI
    from tui.service.services import Services


def tui_app(node: DOMNode) -> OllamaTUI:
    """The OllamaTUI `node` runs in."""
    return cast("OllamaTUI", node.app)


def services(node: DOMNode) -> Services:
    """The services of the App `node` runs in."""
    return tui_app(node).services


class Pane(Protocol):
    """What the App asks of each of its panes (Chat, Models, Monitor, Settings)."""

    def focus_default(self) -> None:
        """Focus what a user of this pane types into first."""
