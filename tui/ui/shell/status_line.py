"""The one-line status bar: reachability, host, server version, what is loaded, latency, demo, pulls."""

from __future__ import annotations

from dataclasses import replace

from textual import work
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from tui.service.connection import ConnectionState
from tui.service.untrusted import inert
from tui.ui.access import services


def loaded_text(names: tuple[str, ...] | None) -> str | None:
    if names is None:
        return None
    if not names:
        return "nothing loaded"
    more = f" +{len(names) - 1}" if len(names) > 1 else ""
    return f"loaded {names[0].removesuffix(':latest')}{more}"


def steady(old: ConnectionState | None, new: ConnectionState) -> ConnectionState:
    """`new`, but keeping the latency shown before when it moved less than a quarter (and
    5 ms): a probe every few seconds should not repaint the line over SSH for 41 → 43 ms."""
    if old is None or old.latency is None or new.latency is None:
        return new
    kept = replace(new, latency=old.latency)
    if kept != old:
        return new
    moved = abs(new.latency - old.latency)
    return kept if moved < 0.005 or moved < 0.25 * old.latency else new


class StatusLine(Static):
    """Shows the connection state in words and symbols, never by colour alone. What is loaded
    (`/api/ps`) is asked once when the server comes up and again after each reply
    (`refresh_loaded`), not polled: the Models and Monitor panes poll while they are shown."""

    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; background: $panel; color: $foreground; padding: 0 1;
                 text-wrap: nowrap; text-overflow: ellipsis; }
    """

    state: reactive[ConnectionState | None] = reactive(None, layout=False)
    demo: reactive[bool] = reactive(False)
    active_pulls: reactive[int] = reactive(0)
    loaded: reactive[tuple[str, ...] | None] = reactive(None)
    host_name: reactive[str | None] = reactive(None)  # shown when several hosts are known

    def watch_state(self, old: ConnectionState | None, new: ConnectionState | None) -> None:
        if new is None or not new.up:
            self.loaded = None
        elif old is None or not old.up or old.host != new.host:
            self.refresh_loaded()

    @work(exclusive=True, group="status-ps", exit_on_error=False, description="ask what is loaded")
    async def refresh_loaded(self) -> None:
        try:
            running = await services(self).provider.ps()
        except Exception:  # noqa: BLE001 — the connection monitor reports an unreachable server
            self.loaded = None
            return
        self.loaded = tuple(m.name for m in running)

    def on_resize(self) -> None:
        self.refresh()

    def render(self) -> Content:
        state = self.state
        # (text, style, priority): the lowest priorities are dropped first when the line is narrow.
        parts: list[tuple[str, str, int]] = []
        if self.demo:
            parts.append((" DEMO ", "bold $text-accent reverse", 9))
        if state is None:
            parts.append(("starting…", "", 9))
        elif state.status == "up":
            parts.append(("● connected", "$text-success", 9))
            if self.host_name:
                parts.append((inert(self.host_name), "bold", 9))
            parts.append((state.host, "", 5))
            version = state.version or "?"
            parts.append((version if version[:1].isalpha() else f"Ollama {version}", "", 8))
            loaded = loaded_text(self.loaded)
            if loaded:
                parts.append((inert(loaded), "", 7))
            if state.latency is not None:
                parts.append((f"{state.latency * 1000:.0f} ms", "$text-muted", 1))
        elif state.status == "connecting":
            parts.append(("◌ connecting", "$text-warning", 9))
            if self.host_name:
                parts.append((inert(self.host_name), "bold", 9))
            parts.append((state.host, "", 8))
        else:
            parts.append(("✕ unreachable", "bold $text-error", 9))
            if self.host_name:
                parts.append((inert(self.host_name), "bold", 9))
            parts.append((state.host, "", 8))
            if state.retry_in:
                parts.append((f"retry in {state.retry_in:.0f} s", "", 6))
        if self.active_pulls:
            plural = "s" if self.active_pulls > 1 else ""
            parts.append((f"⇣ {self.active_pulls} pull{plural}", "$text-accent", 8))
        width = (self.size.width or 80) - 2
        while len(parts) > 1 and sum(len(p[0]) + 3 for p in parts) - 3 > width:
            parts.remove(min(parts, key=lambda p: p[2]))
        return Content(" · ").join(Content.styled(text, style) for text, style, _ in parts)
