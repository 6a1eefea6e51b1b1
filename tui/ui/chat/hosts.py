"""The chat over several hosts: which host a session is on, following it when a session opens,
and the model picker listing `model @ host` for every reachable host.

Kept apart from the pane's turn and stream code: the pane calls these at its header, picker and
session-open points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tui.service.untrusted import inert
from tui.ui.access import services, tui_app
from tui.ui.widgets.dialogs import PickDialog

if TYPE_CHECKING:
    from textual.app import App

    from tui.service.history import HistoryStore, Session
    from tui.service.providers.listing import HostModels


class SessionPane(Protocol):
    """What these functions need of the chat pane (tui.ui.chat.pane.ChatPane, which imports
    this module; naming it here would tie the two in a cycle)."""

    app: App[Any]
    session: Session | None  # the open one (None: a new chat not yet stored)
    store: HistoryStore | None  # None until the history is open
    session_model: str | None

    def notify(self, message: str, **kwargs: Any) -> None: ...
    def show_header(self) -> None: ...
    async def set_model(self, name: str) -> None: ...

#: How long the picker waits for each host (all asked at once).
LIST_TIMEOUT = 2.0
_ANY = "*"
_SEP = "\t"


def session_host(pane: SessionPane) -> str | None:
    """The host name a new session records: the current host's, when several are known."""
    hosts = services(pane).hosts
    return hosts.host.name if hosts.fleet else None


async def follow_session_host(pane: SessionPane) -> None:
    """A session was opened: chat on its host again when that host is configured (a toast says
    so); when it is not any more, say so and stay on the current host."""
    session = pane.session
    hosts = services(pane).hosts
    wanted = session.host if session is not None else None
    if not wanted or wanted == hosts.host.name:
        return
    if hosts.named(wanted) is None:
        pane.notify(f"This session was on host {wanted}, which is not configured any more; "
                    f"staying on {hosts.host.name}.", severity="warning", timeout=6)
        return
    tui_app(pane).chat_on_host(wanted, reason="this session's host")


async def record_host(pane: SessionPane) -> None:
    """The chat moved to another host: the open session is on it from now on."""
    name = session_host(pane)
    if pane.session is not None and pane.store is not None and pane.session.host != name and name:
        pane.session = await pane.store.update_session(pane.session.id, host=name)
    pane.show_header()


def _items(listing: list[HostModels]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    seen: dict[str, list[str]] = {}
    for entry in listing:
        for model in entry.models:
            seen.setdefault(model.name, []).append(entry.host.name)
    for model, names in seen.items():
        if len(names) > 1:
            items.append((f"{_ANY}{_SEP}{model}",
                          f"{inert(model)} @ any of {', '.join(inert(n) for n in names)} (a loaded one first)"))
    for entry in listing:
        for m in entry.models:
            details = " ".join(x for x in (m.details.parameter_size, m.details.quantization_level) if x)
            label = f"{inert(m.name)} @ {inert(entry.host.name)}" + (f"  {details}" if details else "")
            if entry.has_loaded(m.name):
                label += "  (loaded)"
            items.append((f"{entry.host.name}{_SEP}{m.name}", label))
    return items


async def pick_model_everywhere(pane: SessionPane) -> None:
    """Ctrl+O over a fleet: every reachable host's models as `model @ host` (the current host
    first); an unreachable one is named in the dialog's title and skipped."""
    from tui.service.providers.listing import list_everywhere, prefer_loaded

    hosts = services(pane).hosts
    pane.notify(f"Asking {len(hosts.known)} hosts for their models…", timeout=LIST_TIMEOUT)
    listing = await list_everywhere(hosts, timeout=LIST_TIMEOUT)
    skipped = [f"{inert(e.host.name)}: not reachable ({inert(e.error or '')}), skipped"
               for e in listing if e.error is not None]
    title = "Model for this session (model @ host)"
    if skipped:
        title += "\n" + "\n".join(skipped)
    current_model = pane.session.model if pane.session else pane.session_model
    current = f"{hosts.host.name}{_SEP}{current_model}"

    async def chosen(value: str | None) -> None:
        if not value:
            return
        host, _, model = value.partition(_SEP)
        if host == _ANY:
            entry, why = prefer_loaded(model, listing, hosts.host.name)
            host = entry.host.name
            pane.notify(why, timeout=5)
        if host != hosts.host.name:
            tui_app(pane).chat_on_host(host, reason=f"for {model}")
        await pane.set_model(model)
        await record_host(pane)

    pane.app.push_screen(PickDialog(title, _items(listing), current=current), chosen)


def header_host(pane: SessionPane) -> str | None:
    """The host name the chat header shows (None: one host only, nothing to tell apart)."""
    hosts = services(pane).hosts
    return hosts.host.name if hosts.fleet else None
