"""The one-line status bar: host, server version, reachability, latency, demo mode, pulls."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ...service.connection import ConnectionState


class StatusLine(Static):
    """Shows the connection state in words and symbols, never by colour alone."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; background: $panel; color: $foreground; padding: 0 1; }
    """

    state: reactive[ConnectionState | None] = reactive(None, layout=False)
    demo: reactive[bool] = reactive(False)
    active_pulls: reactive[int] = reactive(0)

    def render(self) -> Content:
        state = self.state
        parts: list[Content] = []
        if self.demo:
            parts.append(Content.styled(" DEMO ", "bold $text-accent reverse"))
        if state is None:
            parts.append(Content("starting…"))
        elif state.status == "up":
            latency = f" · {state.latency * 1000:.0f} ms" if state.latency is not None else ""
            parts.append(Content.styled("● connected", "$text-success"))
            parts.append(Content(f"{state.host} · Ollama {state.version or '?'}{latency}"))
        elif state.status == "connecting":
            parts.append(Content.styled("◌ connecting", "$text-warning"))
            parts.append(Content(state.host))
        else:
            retry = f" · retry in {state.retry_in:.0f} s" if state.retry_in else ""
            parts.append(Content.styled("✕ unreachable", "bold $text-error"))
            parts.append(Content(f"{state.host}{retry}"))
        if self.active_pulls:
            parts.append(Content.styled(f"⇣ {self.active_pulls} pull{'s' if self.active_pulls > 1 else ''}", "$text-accent"))
        return Content("  ").join(parts)
