"""The Tools view (palette → Tools): the MCP servers of [mcp.servers], their state (not started,
running, failed: reason) and their tools; Space switches the selected server or tool off (or
on again) until the app quits, s starts (or restarts) the selected server. A tool the open chat
always allows says so."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.service.untrusted import inert_short
from tui.ui.access import services

_STATE_STYLE = {"running": "$text-success", "failed": "$text-error", "starting": "$text-warning"}


class ToolsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="tools_close"),
        Binding("space", "toggle", "Switch off / on (until you quit)", id="tools_toggle"),
        Binding("s", "start", "Start / restart the server", id="tools_start"),
    ]
    DEFAULT_CSS = """
    ToolsScreen { align: center middle; }
    ToolsScreen > Vertical { width: 100%; max-width: 110; height: 100%; max-height: 36; border: round $primary;
                             background: $surface; padding: 0 1; }
    ToolsScreen .title { height: auto; }
    ToolsScreen OptionList { height: 1fr; }
    """

    def __init__(self, session_id: int | None = None) -> None:
        super().__init__()
        self.session_id = session_id  # the open chat's: the tools it always allows are marked

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Tools — MCP servers of [mcp.servers] · Space: off/on until you quit · "
                         "s: start/restart · Esc closes", classes="title", markup=False)
            yield OptionList(id="tools-list")

    def on_mount(self) -> None:
        self.show()
        self.query_one(OptionList).focus()
        self.set_interval(0.5, self.show)  # states change as servers start and stop

    def _hub(self):  # noqa: ANN202
        return services(self).tools

    def show(self) -> None:
        hub = self._hub()
        options = self.query_one(OptionList)
        highlighted = options.highlighted_option.id if options.highlighted_option else None
        items: list[Option] = []
        allowed = hub.allowed(self.session_id) if hub is not None else frozenset()
        if hub is None or not hub.servers:
            items.append(Option(Content("No MCP servers configured: add [mcp.servers.<name>] tables to the "
                                        "config (see the README's Tools section)."), id="none", disabled=True))
        else:
            for server in hub.servers.values():
                label = server.label
                style = _STATE_STYLE.get(server.state, "$text-muted")
                if server.off or not server.config.enabled:
                    style = "$text-muted"
                line = (Content.styled(("○ " if server.off or not server.config.enabled else "● ")
                                       + inert_short(server.name, 60), "bold")
                        + Content("  ") + Content.styled(inert_short(label, 200), style)
                        + Content.styled("  " + inert_short(server.config.where, 80), "$text-muted"))
                items.append(Option(line, id=f"server:{server.name}"))
                if server.state != "running":
                    if server.state == "not started" and server.config.enabled and not server.off:
                        items.append(Option(Content.styled("    tools listed once it starts (s starts it, "
                                                           "or the first chat turn)", "$text-muted"),
                                            disabled=True))
                    continue
                for tool in server.tools:
                    off = tool.name in hub.tools_off
                    mark = "✕ off" if off else "✓"
                    always = "  · always allowed in this chat" if tool.name in allowed and not off else ""
                    text = (Content("    ") + Content.styled(f"{mark} ", "$text-muted" if off else "$text-success")
                            + Content.styled(tool.name, "strike" if off else "bold")
                            + Content.styled(always, "$text-success")
                            + Content.styled(f"  {inert_short(tool.description.splitlines()[0] if tool.description else '', 80)}",
                                             "$text-muted"))
                    items.append(Option(text, id=f"tool:{tool.name}"))
        options.set_options(items)
        try:
            options.highlighted = options.get_option_index(highlighted) if highlighted else 0
        except Exception:  # noqa: BLE001 - the option went away
            options.highlighted = 0

    def _selected(self) -> tuple[str, str] | None:
        option = self.query_one(OptionList).highlighted_option
        if option is None or option.id is None or ":" not in option.id:
            return None
        kind, name = option.id.split(":", 1)
        return kind, name

    def action_toggle(self) -> None:
        hub, selected = self._hub(), self._selected()
        if hub is None or selected is None:
            return
        kind, name = selected
        if kind == "server":
            server = hub.servers[name]
            hub.set_server_off(name, not server.off)
            self.notify(f"Server {name}: {'off' if server.off else 'on'} until you quit", timeout=2)
        else:
            off = name not in hub.tools_off
            hub.set_tool_off(name, off)
            self.notify(f"Tool {name}: {'off' if off else 'on'} until you quit", timeout=2)
        self.show()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_toggle()

    def action_start(self) -> None:
        selected = self._selected()
        if selected is not None and selected[0] == "server":
            self._start(selected[1])

    @work(group="tools", exit_on_error=False, description="start a tool server")
    async def _start(self, name: str) -> None:
        hub = self._hub()
        if hub is None:
            return
        server = hub.servers[name]
        if not server.config.enabled:
            self.notify(f"{name} is disabled in the config (enabled = false).", severity="warning")
            return
        server = await (hub.restart(name) if server.state in ("running", "failed") else hub.start(name))
        self.show()
        if server.state == "failed":
            self.notify(f"{name} failed: {server.reason}", severity="error")
