"""The Monitor's fleet section: the [hosts] of the config, each with its state, its loaded models,
its GPUs (with a short history), CPU/RAM and serving load, as its exporters say.

`FleetFeed` is the App's one `FleetWatcher`, made from `Config.hosts` and remade on a config
change (unchanged hosts keep their clients and histories). It starts the first time the Monitor
is shown with hosts configured, probes every `VISIBLE_INTERVAL` seconds while the Monitor is on
screen and every `HIDDEN_INTERVAL` seconds otherwise (the rows stay fresh enough to show at once
when the pane comes back, at a tenth of the cost); with many hosts, slower, so that the probes
of the whole fleet stay under `VISIBLE_PROBE_RATE` (`HIDDEN_PROBE_RATE`) a second. A host's
exporters are read every `EXPORTER_EVERY`-th probe (tui/service/fleet.py), and at once when the
Monitor is shown; the section's title says both paces. Updates are coalesced: all probes that end
within `COALESCE` seconds make one `FleetUpdated` message.

`FleetCard` is one `Rows` widget for every host: a host's lines are rebuilt only when its row
changed, and only the changed cells of the screen are repainted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget

from tui.service.fleet import FleetHosts, FleetSnapshot, FleetWatcher, HostRow
from tui.ui.monitor import fleet_text as ft
from tui.ui.monitor.cards import Card
from tui.ui.monitor.text import Levels, Line

if TYPE_CHECKING:
    from textual.app import App

    from tui.service.config import Config

log = logging.getLogger(__name__)

VISIBLE_INTERVAL = 2.0  # seconds between probes of a host while the Monitor is shown
HIDDEN_INTERVAL = 20.0  # … while it is not
# With many hosts, at most this many probes a second in all (each ~2.4 ms of CPU on a slow core:
# a request to the server, and every EXPORTER_EVERY-th probe one to each exporter, its page
# parsed): 32 hosts are probed every 8 s while shown, their exporters read every 16 s.
VISIBLE_PROBE_RATE = 4.0
HIDDEN_PROBE_RATE = 1.0
PROBE_TIMEOUT = 4.0  # seconds a probe may take, whatever the pace
COALESCE = 0.1  # seconds: probes ending this close together make one repaint


class FleetUpdated(Message):
    def __init__(self, snapshot: FleetSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FleetUpdated)  # only the newest matters


class FleetFeed:
    """Owns the app's FleetWatcher; see the module docstring."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.hosts = FleetHosts()
        self.watcher: FleetWatcher | None = None
        self.visible = False
        self.latest = FleetSnapshot()
        self.published = 0  # FleetUpdated messages posted (tests, benchmarks)
        self._subscribers: list[Widget] = []
        self._flush: Timer | None = None
        # Imported here: tui.ui.access names this class for its types.
        from tui.ui.access import tui_app

        self._config: Config = tui_app(app).config

    @property
    def configured(self) -> bool:
        return bool(self._config.hosts)

    @property
    def interval(self) -> float:
        """Seconds between two probes of a host: 2 s while the Monitor is shown (20 s when not),
        longer with so many hosts that it would exceed VISIBLE_PROBE_RATE (HIDDEN_PROBE_RATE)."""
        hosts = len(self._config.hosts)
        if self.visible:
            return max(VISIBLE_INTERVAL, hosts / VISIBLE_PROBE_RATE)
        return max(HIDDEN_INTERVAL, hosts / HIDDEN_PROBE_RATE)

    # -- subscribers
    def subscribe(self, widget: Widget) -> None:
        if widget not in self._subscribers:
            self._subscribers.append(widget)

    def unsubscribe(self, widget: Widget) -> None:
        if widget in self._subscribers:
            self._subscribers.remove(widget)

    def _on_update(self, snapshot: FleetSnapshot) -> None:
        self.latest = snapshot
        if self._flush is None:
            self._flush = self.app.set_timer(COALESCE, self._publish, name="fleet-publish")

    def _publish(self) -> None:
        self._flush = None
        self.published += 1
        for widget in list(self._subscribers):
            widget.post_message(FleetUpdated(self.latest))

    # -- lifecycle
    def set_visible(self, visible: bool) -> None:
        """The Monitor was shown (start if need be, probe now) or hidden (slow down)."""
        self.visible = visible
        if visible:
            self.start()
        if self.watcher is not None:
            self.watcher.interval = self.interval
            if visible:
                self.watcher.poke()

    def start(self) -> None:
        if self.watcher is not None or not self.configured:
            return
        self.hosts.update(self._config.hosts)
        self.watcher = FleetWatcher(self.hosts.hosts, self._on_update, interval=self.interval,
                                    prometheus=self._config.monitor.prometheus or None,
                                    probe_timeout=PROBE_TIMEOUT)
        self.latest = self.watcher.snapshot
        self.app.run_worker(self.watcher.run(), name="fleet", group="fleet", exclusive=True,
                            exit_on_error=False, description="watch the [hosts] fleet")
        self._publish()

    def apply_config(self, config: Config) -> None:
        """Follow the config's [hosts] and [monitor] prometheus (Settings saved, the file changed)."""
        self._config = config
        if self.watcher is None:
            if self.visible:
                self.start()
            else:
                self._publish()  # a section hidden or shown by the change
            return
        stale = self.hosts.update(config.hosts)
        self.watcher.prometheus = config.monitor.prometheus or None
        self.watcher.interval = self.interval
        self.watcher.set_hosts(self.hosts.hosts)  # probes the new ones now
        if stale:
            self.app.run_worker(self._close(stale), name="fleet-close", group="fleet-close", exit_on_error=False,
                                description="close the clients of hosts no longer watched")
        self.latest = self.watcher.snapshot
        self._publish()

    @staticmethod
    async def _close(clients: list[Any]) -> None:
        await asyncio.sleep(0)  # let the cancelled probes unwind first
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)

    async def close(self) -> None:
        if self._flush is not None:
            self._flush.stop()
        await self.hosts.aclose()


class FleetCard(Card):
    """Every host of the fleet, a few lines each (see fleet_text.host_lines)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Fleet", id=id)
        # host name -> (the row drawn, width, name column, its lines)
        self._drawn: dict[str, tuple[HostRow, int, int, list[Line]]] = {}
        self.rebuilt = 0  # host rows whose lines were rebuilt (tests)
        self._levels: dict[str, float | None] = {}

    def build(self, width: int, snapshot: FleetSnapshot, levels: Levels | None = None) -> list[Line]:
        """`levels`: [monitor]'s warning levels (remote GPUs warn as this machine's do)."""
        self.set_title(ft.title(snapshot), warn=False)
        name_w = ft.name_width(snapshot.rows)
        levels = dict(levels or {})
        if levels != self._levels:  # new levels from Settings: every row again
            self._levels, self._drawn = levels, {}
        lines: list[Line] = []
        drawn: dict[str, tuple[HostRow, int, int, list[Line]]] = {}
        for row in snapshot.rows:
            cached = self._drawn.get(row.name)
            if cached is None or cached[0] is not row or cached[1] != width or cached[2] != name_w:
                self.rebuilt += 1
                cached = (row, width, name_w, ft.host_lines(row, width, name_w, levels))
            drawn[row.name] = cached
            lines += cached[3]
        self._drawn = drawn
        return lines
