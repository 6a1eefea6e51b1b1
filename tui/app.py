"""The App: wires the services in, switches panes, owns the global keys and the palette."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, cast

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher
from textual.worker import WorkerFailed

from tui.service import logs
from tui.service.connection import ConnectionMonitor, ConnectionState
from tui.service.hosts import cleartext_secret_warning
from tui.service.providers.protocol import Provider
from tui.service.services import Services
from tui.ui.access import Pane
from tui.ui.chat.pane import ChatPane
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList
from tui.ui.events import ConfigChanged, ConnectionChanged
from tui.ui.monitor.feed import MonitorFeed
from tui.ui.shell.banner import ConnectionBanner
from tui.ui.shell.key_bar import KeyBar
from tui.ui.shell.key_order import keep_key_order
from tui.ui.shell.pane_bar import PANES, PaneBar
from tui.ui.shell.resource_strip import ResourceStrip
from tui.ui.shell.status_line import StatusLine, steady
from tui.ui.shell.worker_errors import ReportingWorkerManager
from tui.ui.themes import builtin_theme_dir, load_themes

if TYPE_CHECKING:
    from tui.service.config import Config, ConfigIssue, ConfigStore
    from tui.service.history import HistoryStore
    from tui.simulator import Simulator
    from tui.ui.monitor.fleet import FleetFeed

log = logging.getLogger(__name__)


def _pane_class(pane_id: str) -> type[Widget]:  # a Pane
    import importlib

    module, name = OllamaTUI.LAZY_PANES[pane_id]
    return getattr(importlib.import_module(module), name)


def _import_markdown() -> None:
    from tui.ui.chat.markdown_lines import warm_up

    warm_up()


class OllamaTUI(App[None]):
    """ollama-tui: Chat, Models, Monitor and Settings over one Ollama server."""

    TITLE = "ollama-tui"
    CSS_PATH = ["app.tcss", "ui/chat/chat.tcss", "ui/models/models.tcss", "ui/monitor/monitor.tcss",
                "ui/settings/settings.tcss"]
    BINDINGS = [
        Binding("ctrl+p", "command_palette", "Command palette", priority=True, show=False, id="palette"),
        Binding("f1,alt+1", "show_pane('chat')", "Chat", priority=True, id="show_chat"),
        Binding("f2,alt+2", "show_pane('models')", "Models", priority=True, id="show_models"),
        Binding("f3,alt+3", "show_pane('monitor')", "Monitor", priority=True, id="show_monitor"),
        Binding("f4,alt+4", "show_pane('settings')", "Settings", priority=True, id="show_settings"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("f7", "toggle_resource_strip", "Resource strip", priority=True, id="resource_strip"),
        Binding("f10,alt+5", "compare", "Compare & bench models (again: back)", priority=True, id="compare"),
        Binding("question_mark", "help", "Help (outside text fields)", id="help"),
        Binding("r", "retry", "Retry connection now (outside text fields)", id="retry"),
        Binding("h", "change_host", "Change host (outside text fields)", id="change_host"),
        Binding("D", "demo", "Built-in demo instead (while the server is down)", id="demo"),
    ]
    # The panes other than Chat are built the first time they are needed (a key, the palette,
    # Settings applying values): the first frame, and a usable prompt, come sooner.
    LAZY_PANES = {"models": ("tui.ui.models.pane", "ModelsPane"),
                  "monitor": ("tui.ui.monitor.pane", "MonitorPane"),
                  "settings": ("tui.ui.settings.pane", "SettingsPane")}

    @classmethod
    def key_scopes(cls) -> list[tuple[str, type]]:
        """(where, class) of every set of bindings, for the help screen and the README: each
        pane, then the widgets inside it with keys of their own."""
        from tui.ui.chat.toolcall import ToolCallTurn
        from tui.ui.compare.screen import BenchScreen
        from tui.ui.models.library import FilterInput
        from tui.ui.models.pull_rows import PullList
        from tui.ui.settings.form import FieldInput
        from tui.ui.tools.screen import ToolsScreen

        lazy = [_pane_class(pane_id) for pane_id in cls.LAZY_PANES]
        return [("Chat", ChatPane), ("Chat: session list", SessionList), ("Chat: prompt", PromptArea),
                ("Chat: a tool call asking", ToolCallTurn), ("Tools view", ToolsScreen),
                ("Models", lazy[0]), ("Models: filter", FilterInput), ("Models: pull list", PullList),
                ("Monitor", lazy[1]), ("Settings", lazy[2]), ("Settings: a value", FieldInput),
                ("Compare & bench", BenchScreen)]

    def __init__(
        self,
        *,
        services: Services,
        theme: str | None = None,
        demo: bool = False,
        config_issues: Iterable[ConfigIssue] = (),
        log_level: str | None = None,
    ) -> None:
        super().__init__()
        keep_key_order()  # a text field's bound keys (⌫, ←, Ctrl+U, Enter) in the order typed
        # Every worker, whichever pane, screen or dialog starts it, is kept by this one manager:
        # a worker ending on an exception its code did not handle is shown and logged.
        self._workers = ReportingWorkerManager(self)
        self.log_level = log_level  # --log-level; None = [ui] log_level
        self._services = services
        self.default_model = services.default_model or self.config.chat.default_model
        self.demo = demo
        self._demo_simulator: Simulator | None = None  # the simulator D started (a first run with no server)
        self.config_issues = list(config_issues)
        self.key_overrides: dict[str, str] = {}  # [keys] as applied: action id → keys
        self.connection = ConnectionMonitor(self.client, self._on_connection_change)
        services.hosts.on_switch(self._host_switched)
        self._wanted_theme = theme or self.config.ui.theme
        self._was_down = False
        self._logging = False
        # One resource sampler feeds the Monitor pane and the resource strip (None → NVML).
        self.monitor = MonitorFeed(self, services.gpu_backend)
        self.sampler = self.monitor.sampler
        # One watch of the config's [hosts] for the Monitor's fleet section (made, with its
        # imports, at the first pane switch; started when the Monitor is first shown; fast while
        # it is on screen, slow otherwise).
        self._fleet: FleetFeed | None = None

    @property
    def fleet(self) -> FleetFeed:
        if self._fleet is None:
            from tui.ui.monitor.fleet import FleetFeed

            self._fleet = FleetFeed(self)
        return self._fleet

    # -- services -------------------------------------------------------------------------------

    @property
    def services(self) -> Services:
        """Everything the app is wired to (panes reach it through tui.ui.access.services)."""
        return self._services

    @property
    def client(self) -> Provider:
        """The current host's provider (it changes with the host: ask at each use)."""
        return self._services.hosts.provider

    @property
    def config(self) -> Config:
        """The config in use: the file as loaded or last saved."""
        return self._services.config

    @property
    def config_store(self) -> ConfigStore:
        return self._services.config_store

    @property
    def history(self) -> HistoryStore | None:
        """The chat history, None until it is opened (after the first frame)."""
        return self._services.history

    @property
    def db_path(self) -> Path | str:
        return self._services.db_path

    def get_driver_class(self) -> type[Any]:
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver":  # not Windows nor TEXTUAL_DRIVER's
            from tui.ui.shell.driver import QuietLinuxDriver

            return QuietLinuxDriver
        return driver

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield PaneBar()
        yield ConnectionBanner()
        with ContentSwitcher(initial="chat", id="panes"):
            yield ChatPane(id="chat")
        yield ResourceStrip()
        yield StatusLine()
        yield KeyBar()

    def on_load(self) -> None:
        # Before the first screen: an error while composing is logged too. Undone on unmount.
        logs.setup(self.log_level or self.config.ui.log_level,
                   secrets=self.config.secret_values())
        self._logging = True

    def _handle_exception(self, error: Exception) -> None:
        # An exception nothing handled (a message handler's, an exit_on_error worker's): Textual
        # prints it and exits; the log keeps its traceback too.
        cause = error.error if isinstance(error, WorkerFailed) else None  # the worker's exception
        shown = cause if isinstance(cause, BaseException) else error
        log.critical("ollama-tui stopped on an unexpected error",
                     exc_info=(type(shown), shown, shown.__traceback__))
        super()._handle_exception(error)

    def on_mount(self) -> None:
        themes, problems = load_themes(builtin_theme_dir(), self._user_theme_dir())
        for theme in themes:
            self.register_theme(theme)
        for problem in problems:
            self.notify(problem, title="Theme not loaded", severity="warning")
        if self._wanted_theme in self.available_themes:
            self.theme = self._wanted_theme
        else:
            self.notify(f"Unknown theme {self._wanted_theme!r}; using ollama-dark", severity="warning")
            self.theme = "ollama-dark"
        self.query_one(StatusLine).demo = self.demo
        self._show_host_name()
        if self.demo:
            self.notify("Demo mode: connected to the built-in Ollama simulator, not a real server.",
                        title="Demo", timeout=8)
        for issue in self.config_issues[:5]:
            self.notify(str(issue), title="Config problem (defaults used)", severity="warning", timeout=10)
        self._warn_cleartext_secrets()
        if self.config.keys:  # after the first frame: checking them imports every pane's module
            self.call_after_refresh(self._report_keys)
        # The prompt is painted first, then the history, the server and the sampler start.
        self.call_after_refresh(self._start_services)

    @work(name="start", exit_on_error=False, description="start the history, server watch and sampler")
    async def _start_services(self) -> None:
        # Their imports (httpx and its transport, aiosqlite: ~0.1 s) run in a thread, so keys
        # typed into the new prompt meanwhile are echoed at once.
        await asyncio.to_thread(self._import_services)
        self.run_worker(self._open_history(), name="history", exit_on_error=False,
                        description="open the chat history")
        self.run_worker(self.connection.run(), name="connection", group="connection",
                        exclusive=True, exit_on_error=False, description="watch the Ollama server")
        # The first sample (psutil, NVML's import and init) waits a moment more; the strip
        # fills in then.
        self.set_timer(0.5, self.monitor.start)
        # What the first reply or opened session needs (markdown-it, Pygments: ~0.2 s of
        # imports) is imported in a thread meanwhile, not when the user waits for it.
        self.set_timer(1.0, lambda: self.run_worker(self._warm(), name="warm", exit_on_error=False,
                                                    description="load markdown and highlighting"))

    async def _warm(self) -> None:
        await asyncio.to_thread(_import_markdown)
        if not self.is_headless:
            # What start-up made (modules, widgets, styles: ~90,000 objects) stays for the
            # app's life; moved out of the collector's sight, a full collection no longer
            # walks it (~60 ms each, a stall in a streaming reply and a tenth of idle CPU).
            # Not in headless test runs, where one process starts hundreds of apps.
            gc.freeze()

    def _import_services(self) -> None:
        from tui.service import history  # noqa: F401 - aiosqlite with it

        self.client.warm_up()

    async def _open_history(self) -> None:
        from tui.service.history import HistoryStore, HistoryUnavailable, move_aside
        from tui.service.untrusted import inert
        from tui.ui.widgets.dialogs import ConfirmDialog

        services = self._services
        try:
            services.history = await HistoryStore.open(self.db_path)
        except HistoryUnavailable as exc:
            # Never deleted, moved aside only if the user says so; otherwise memory only.
            moved = None
            if exc.path.is_file() and await self.push_screen_wait(ConfirmDialog(
                    f"{inert(str(exc))}\n\nMove it aside (renamed, not deleted) and start a new history?")):
                try:
                    moved = move_aside(exc.path)
                    services.history = await HistoryStore.open(self.db_path)
                except (OSError, HistoryUnavailable) as again:
                    self.notify(f"Could not start a new history: {again}", severity="error", timeout=15,
                                markup=False)
                    moved = None
                else:
                    self.notify(f"The old file is kept as {moved}.", title="New chat history", timeout=15,
                                markup=False)
            if moved is None:
                self.notify(f"{exc} — chats in this run are kept in memory only.",
                            title="History unavailable", severity="error", timeout=15, markup=False)
                services.history = await HistoryStore.open(":memory:")
        else:
            interrupted = await services.require_history().mark_interrupted()
            if interrupted:
                self.notify(f"{interrupted} reply(ies) cut off by the last exit were kept as 'stopped'.")
        await self.query_one(ChatPane).attach_history(services.attach_history(services.require_history()))

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast is plain text: model names, server errors, paths and config keys are
        never parsed as markup (a '[/]' in any of them would crash the toast) and their control
        characters are shown, not obeyed. `markup` is accepted (widgets pass it) and ignored."""
        from tui.service.untrusted import inert

        super().notify(inert(str(message)), title=inert(str(title)), severity=severity, timeout=timeout,
                       markup=False)

    def _user_theme_dir(self) -> Path:
        from tui.service.paths import config_dir

        return config_dir() / "themes"

    # -- connection -----------------------------------------------------------------------------

    def _on_connection_change(self, state: ConnectionState) -> None:
        line = self.query_one(StatusLine)
        before = line.state
        line.state = steady(before, state)
        self.query_one(ConnectionBanner).show_state(state)
        if before is None or before.status != state.status:
            self.refresh_bindings()  # r / h apply while the server is down
        if state.up and self._was_down:
            self.notify(f"Connected to {state.host} (Ollama {state.version})", title="Server is back")
        self._was_down = state.status == "down"
        for pane in self.query("#panes > *"):
            pane.post_message(ConnectionChanged(state))

    def action_retry(self) -> None:
        self.connection.retry_now()
        self.notify("Retrying…", timeout=2)

    def action_change_host(self) -> None:
        from tui.ui.shell.host_dialog import HostDialog

        def done(url: str | None) -> None:
            if url and url != self.client.base_url:
                hosts = self._services.hosts
                named = next((h for h in hosts.known.values() if h.url == url), None)
                if named is not None:  # a configured host's URL: that host, its own headers and kind
                    self.chat_on_host(named.name)
                    return
                hosts.switch(hosts.host.moved_to(url))  # the new host's client; the old one closed
                self.notify(f"Host set to {url}")
                self._warn_cleartext_secrets()

        self.push_screen(HostDialog(self.client.base_url), done)

    def _host_switched(self, provider: Provider) -> None:
        self.connection.client = provider
        self.connection.reset()
        if self.is_mounted:
            self._show_host_name()
            self.query_one(ChatPane).show_header()

    def _show_host_name(self) -> None:
        hosts = self._services.hosts
        self.query_one(StatusLine).host_name = hosts.host.name if hosts.fleet else None

    def chat_on_host(self, name: str, *, reason: str = "") -> bool:
        """Point the chat (and every pane) at the configured host `name`, as `h` does for a URL;
        a toast says so. False (and a toast saying why) when it is not configured."""
        hosts = self._services.hosts
        host = hosts.named(name)
        if host is None:
            self.notify(f"No host named {name} is configured.", severity="warning")
            return False
        if host.name != hosts.host.name or not host.same_server(hosts.host):
            try:
                hosts.switch(host)
            except ValueError as exc:
                self.notify(f"Cannot use host {name}: {exc}", severity="error")
                return False
            self._warn_cleartext_secrets()
        self.notify(f"Chat on host {name} ({host.url})" + (f": {reason}" if reason else ""), timeout=4)
        return True

    async def action_chat_on_host(self, name: str) -> None:
        """The palette's "Chat on host: NAME": switch, show the chat, the open session moves too."""
        from tui.ui.chat.hosts import record_host

        if self.chat_on_host(name):
            await self.action_show_pane("chat")
            await record_host(self.query_one(ChatPane))

    def _warn_cleartext_secrets(self) -> None:
        host = self._services.hosts.host
        headers = dict(host.headers) | ({"Authorization": "(the API key)"} if host.api_key else {})
        warning = cleartext_secret_warning(self.client.base_url, headers)
        if warning:
            self.notify(warning, title="Token sent unencrypted", severity="warning", timeout=20, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return self.connection.state.status == "down"
        if action == "demo":
            return self.connection.state.status == "down" and not self.demo
        return True

    def action_demo(self) -> None:
        """No server answers (a first run, say): talk to the built-in simulator instead."""
        from tui.simulator import Simulator

        simulator = Simulator(token_rate=60.0, pull_rate=40e6).start()
        simulator.preload("llama3.2")
        self._demo_simulator = simulator
        self.demo = True
        self.query_one(StatusLine).demo = True
        hosts = self._services.hosts
        hosts.switch(hosts.host.moved_to(simulator.url))
        self.notify("Connected to the built-in Ollama simulator, not a real server; h changes host.",
                    title="Demo", timeout=8)

    # -- panes ----------------------------------------------------------------------------------

    def built_pane(self, pane_id: str) -> Widget | None:
        """The pane if it was built already (it has not been, until it was first needed)."""
        panes = self.query_one("#panes", ContentSwitcher)
        return next((child for child in panes.children if child.id == pane_id), None)

    async def pane(self, pane_id: str) -> Widget:
        """The pane `pane_id`, built and mounted (hidden) if this is the first time."""
        pane = self.built_pane(pane_id)
        if pane is None:
            pane = _pane_class(pane_id)(id=pane_id)
            pane.display = False
            await self.query_one("#panes", ContentSwitcher).mount(pane)
        return pane

    async def action_show_pane(self, pane_id: str) -> None:
        pane = await self.pane(pane_id)
        switcher = self.query_one("#panes", ContentSwitcher)
        switcher.current = pane_id
        self.query_one(PaneBar).current = pane_id
        cast(Pane, pane).focus_default()
        self.refresh_bindings()
        self.fleet.set_visible(pane_id == "monitor")

    @property
    def current_pane(self) -> str:
        return self.query_one("#panes", ContentSwitcher).current or "chat"

    @work(group="request-pull", exit_on_error=False, description="hand a pull to the Models pane")
    async def request_pull(self, name: str) -> None:
        """Hand a model name to the Models pane's pull flow (from the chat's 'not installed')."""
        from tui.ui.models.pane import ModelsPane

        await self.action_show_pane("models")
        models = await self.pane("models")
        assert isinstance(models, ModelsPane)
        models.start_pull(name)

    def apply_config(self) -> None:
        """Use the config store's values now (after Settings saved): the panes built so far
        and the resource strip get ConfigChanged (a pane not built yet reads the config when it
        is); the monitor, the log and the theme follow here."""
        config = self.config
        self._services.apply_hosts()  # hosts added or changed apply now; the current one is kept
        self._show_host_name()
        for pane in self.query("#panes > *"):
            pane.post_message(ConfigChanged(config))
        self.query_one(ResourceStrip).post_message(ConfigChanged(config))  # [ui] resource_strip
        self.monitor.apply_config(config)  # the sampler, sampling already or not
        if self._fleet is not None or config.hosts:
            self.fleet.apply_config(config)  # [hosts] added, changed or removed: no restart
        self._report_keys()
        logs.set_level(self.log_level or config.ui.log_level)  # the flag wins
        logs.add_secrets(config.secret_values())
        theme = self.config.ui.theme
        if theme != self.theme:
            if theme in self.available_themes:
                self.theme = theme  # watch_theme sees it equal to the config: nothing re-saved
            else:
                self.notify(f"Unknown theme {theme!r}; keeping {self.theme}", severity="warning")

    def _report_keys(self) -> None:
        for issue in self._apply_keys():
            self.notify(str(issue), title="Config problem (default keys used)", severity="warning", timeout=10)

    def _apply_keys(self) -> list[ConfigIssue]:
        """Use the config's [keys] (Textual's keymap, by binding id; the prompt and the pane bar
        read it too); the entries that cannot apply come back as issues with their line."""
        if not self.config.keys and not self.key_overrides:
            return []  # the usual case: the key table (and the panes' modules) is not needed
        from tui.ui.keymap import resolve_keymap

        keymap, issues = resolve_keymap(self.config.keys, self.config.key_lines, self)
        if keymap != self.key_overrides:
            self.key_overrides = keymap
            self.set_keymap(keymap)
            self.query_one(PaneBar).refresh()
            for prompt in self.query(PromptArea):
                prompt.show_keys()
        return issues

    def action_compare(self, tab: str = "compare") -> None:
        """Open the Compare & bench screen on `tab` (F10 there goes back)."""
        from tui.ui.compare.screen import BenchScreen

        if isinstance(self.screen, BenchScreen):
            self.screen.action_close()
        else:
            self.push_screen(BenchScreen(tab))

    def action_help(self) -> None:
        from tui.ui.shell.help_screen import HelpScreen

        self.push_screen(HelpScreen())

    def action_tools(self) -> None:
        from tui.ui.tools.screen import ToolsScreen

        session = self.query_one(ChatPane).session
        self.push_screen(ToolsScreen(session.id if session is not None else None))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from tui.ui.keymap import keys_label

        for pane_id, key, title in PANES:
            key = keys_label(self.key_overrides.get(f"show_{pane_id}", key))  # [keys] may move it
            yield SystemCommand(f"Go to {title}", f"Show the {title} pane ({key})",
                                lambda p=pane_id: self.action_show_pane(p))
        yield SystemCommand("Help: keys", "List every key binding", self.action_help)
        yield SystemCommand("Change host", "Point the app at another Ollama server", self.action_change_host)
        for name, host in self._services.hosts.known.items():
            yield SystemCommand(f"Chat on host: {name}", f"Point the chat at {host.url} ({host.kind})",
                                lambda n=name: self.action_chat_on_host(n))
        yield SystemCommand("Retry connection", "Try to reach the server now", self.action_retry)
        yield SystemCommand("Tools", "MCP servers and their tools: state, switch off until you quit",
                            self.action_tools)
        for tab, title, help_text in (
                ("compare", "Compare models", "Stream one prompt on several models side by side (F10)"),
                ("benchmark", "Bench: benchmark models", "Tokens/s, first token, load time, VRAM over a prompt set"),
                ("batch", "Bench: batch run", "A prompt file against one model; each reply becomes a chat"),
                ("saved", "Bench: saved runs", "Reopen, export or delete earlier compare/benchmark/batch runs")):
            yield SystemCommand(title, help_text, lambda t=tab: self.action_compare(t))
        from tui.ui.models.pane import ModelsPane

        for title, help_text, action in ModelsPane.COMMANDS:
            yield SystemCommand(title, help_text, lambda a=action, t=title: self.run_worker(
                self._models_command(a), exit_on_error=False, description=f"run {t!r}"))
        yield from super().get_system_commands(screen)

    async def _models_command(self, action: str) -> None:
        """A Models command from the palette: show the pane (built if need be), then run it."""
        from tui.ui.models.pane import ModelsPane

        await self.action_show_pane("models")
        pane = await self.pane("models")
        assert isinstance(pane, ModelsPane)
        getattr(pane, f"action_{action}")()  # not run_action: a focused input would veto letter keys

    def watch_theme(self, theme: str) -> None:
        """Remember a theme chosen in the app (palette → Theme) in the config file."""
        if not self.is_mounted or theme == self.config.ui.theme or theme not in self._registered_themes:
            return
        try:
            self.config_store.set("ui.theme", theme)
            self.config_store.save()
        except Exception as exc:  # a conflict or an unwritable file must not break theming
            self.notify(f"Theme not saved to the config: {exc}", severity="warning")

    def action_toggle_resource_strip(self) -> None:
        self.query_one(ResourceStrip).toggle()

    async def on_unmount(self) -> None:
        try:
            await self.monitor.close()
            if self._fleet is not None:
                await self._fleet.close()
            await self._services.aclose()
        finally:
            simulator = self._demo_simulator
            if simulator is not None:
                await asyncio.to_thread(simulator.stop)
            if self._logging:
                self._logging = False
                logs.teardown()

