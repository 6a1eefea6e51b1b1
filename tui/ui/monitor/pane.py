"""The Monitor pane: live host, GPU and Ollama readings with history charts (CPU | RAM and,
per GPU, utilization | VRAM) and sparklines of the recent past, and below them, when the
config has [hosts], the fleet: one block of lines per host.

The charts take the height the other rows leave (``_fit_charts``): all of them the same
number of rows, between ``chart.MIN_HEIGHT`` (the pane then scrolls) and ``chart.MAX_HEIGHT``;
the fleet counts for at most FLEET_ROOM rows, so a long fleet list does not squash them.

The app's one Sampler (see ``feed.py``) posts a snapshot per sample, and its one FleetWatcher
(see ``fleet.py``) a fleet snapshot as probes end. While the pane is hidden it only remembers
the newest ones; when shown it renders them, and from then on each new one — and every widget
repaints only what changed.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.events import Resize, Show

from tui.service.monitor.snapshot import Snapshot
from tui.ui.access import tui_app
from tui.ui.monitor import chart as ch
from tui.ui.monitor import text as t
from tui.ui.monitor.cards import (
    ChartCard,
    GpuCard,
    Header,
    HostCard,
    NoGpuCard,
    OllamaCard,
)
from tui.ui.monitor.feed import MonitorFeed, Sampled
from tui.ui.monitor.fleet import FleetCard, FleetFeed, FleetUpdated

COST_PERIOD = 5.0  # seconds over which the header's per-source sample costs are averaged
FLEET_ROOM = 20  # rows of the fleet that the charts leave in view (the rest scrolls)


class MonitorPane(VerticalScroll, can_focus=True):
    """Host, GPU(s) and Ollama cards. Keys: p/space pause, c per-core CPU."""

    BINDINGS = [
        Binding("p,space", "toggle_pause", "Pause/resume sampling", id="monitor_pause"),
        Binding("c", "toggle_cores", "Per-core CPU", id="monitor_cores"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed: MonitorFeed | None = None
        self.fleet: FleetFeed | None = None
        self.fleet_renders = 0  # fleet snapshots drawn
        self.latest: Snapshot | None = None
        self.paused = False
        self.renders = 0  # snapshots drawn (a hidden pane draws none)
        self._gpu_cards: dict[int, GpuCard] = {}
        self._costs: deque[tuple[int, dict[str, float]]] = deque(maxlen=64)
        self._shown_costs: dict[str, float] | None = None
        self._costs_at = 0
        self._seen_gpu = False

    def compose(self) -> ComposeResult:
        yield Header(id="monitor-header")
        yield HostCard(id="host-card")
        yield NoGpuCard(id="no-gpu-card")
        yield Vertical(id="gpu-cards")
        yield OllamaCard(id="ollama-card")
        yield FleetCard(id="fleet-card")

    def on_mount(self) -> None:
        self._header = self.query_one(Header)
        self._host = self.query_one(HostCard)
        self._no_gpu = self.query_one(NoGpuCard)
        self._gpu_box = self.query_one("#gpu-cards", Vertical)
        self._ollama = self.query_one(OllamaCard)
        self._no_gpu.display = False
        self._fleet = self.query_one(FleetCard)
        self.feed = tui_app(self).monitor
        self.feed.subscribe(self)
        self.fleet = tui_app(self).fleet
        self._fleet.display = self.fleet.configured
        self.fleet.subscribe(self)

    def on_unmount(self) -> None:
        if self.feed is not None:
            self.feed.unsubscribe(self)
        if self.fleet is not None:
            self.fleet.unsubscribe(self)

    def focus_default(self) -> None:
        self.focus()

    @property
    def wants_models(self) -> bool:
        """Ask Ollama for the loaded models only while they are on screen."""
        return self.is_mounted and self.display

    # -- snapshots
    @on(Sampled)
    def _sampled(self, message: Sampled) -> None:
        message.stop()
        self.latest, self.paused = message.snapshot, message.paused
        if self.display:
            self._draw()

    @on(FleetUpdated)
    def _fleet_updated(self, message: FleetUpdated) -> None:
        message.stop()
        if self.display:
            self._draw_fleet()

    @on(Show)
    def _shown(self) -> None:
        if self.latest is not None:
            self._draw()
        self._draw_fleet()

    @on(Resize)
    def _resized(self) -> None:
        self._fit_charts()

    def _chart_cards(self) -> list[ChartCard]:
        cards: list[ChartCard] = [self._host] if self._host.display else []
        if self._gpu_box.display:
            cards += [card for card in self._gpu_cards.values() if card.display]
        return cards

    def _fit_charts(self) -> None:
        """Give the charts the rows the rest of the pane leaves, all the same height."""
        if not self.is_mounted or self.latest is None:
            return
        viewport = self.scrollable_content_region.height
        if viewport <= 0:
            return
        fixed = 0
        for card in (self._header, self._host, self._no_gpu, *self._gpu_cards.values(), self._ollama):
            if card.display and (not isinstance(card, GpuCard) or self._gpu_box.display):
                fixed += card.rows - (card.chart_rows if isinstance(card, ChartCard) else 0)
        if self._fleet.display:
            fixed += min(self._fleet.rows, FLEET_ROOM)
        cards = self._chart_cards()
        height = ch.fit_height(viewport, fixed, sum(card.chart_units for card in cards))
        for card in cards:
            card.set_chart_height(height)

    def _draw_fleet(self) -> None:
        fleet = self.fleet
        if fleet is None:
            return
        shown = fleet.configured
        if self._fleet.display != shown:
            self._fleet.display = shown
        if shown:
            self.fleet_renders += 1
            rows = self._fleet.rows
            self._fleet.show(fleet.latest, self.feed.levels if self.feed is not None else None)
            if min(rows, FLEET_ROOM) != min(self._fleet.rows, FLEET_ROOM):
                self._fit_charts()

    def _draw(self) -> None:
        snap, feed = self.latest, self.feed
        if snap is None or feed is None:
            return
        self.renders += 1
        levels = feed.levels
        self._draw_header(snap)
        self._host.show(snap, levels)
        self._draw_gpus(snap, levels)
        app = tui_app(self)
        latency = feed.ps_latency if feed.ps_latency is not None else app.connection.state.latency
        self._ollama.show(snap, local_port=feed.local_port, latency=latency, host=app.client.base_url)
        self._fit_charts()

    def _draw_header(self, snap: Snapshot) -> None:
        sampler = self.feed.sampler if self.feed is not None else snap  # settings may be newer
        # Per-source costs jitter every sample; show their mean over ~5 s, renewed every ~5 s,
        # so the header is not repainted each second.
        if not self._costs or self._costs[-1][0] != snap.seq:
            self._costs.append((snap.seq, dict(snap.costs)))
        every = max(1, round(COST_PERIOD / sampler.interval))
        if self._shown_costs is None or snap.seq - self._costs_at >= every:
            recent = [costs for seq, costs in self._costs if seq > snap.seq - every]
            self._shown_costs, self._costs_at = t.mean_costs(recent), snap.seq
        self._header.show(sampler.interval, sampler.window, self.paused, self._shown_costs)

    def _draw_gpus(self, snap: Snapshot, levels: t.Levels) -> None:
        report = snap.gpu
        box, no_gpu = self._gpu_box, self._no_gpu
        available = bool(report.available and report.gpus)
        if box.display != available:
            box.display = available
            no_gpu.display = not available
        if not available:
            no_gpu.show(t.no_gpu_text(report, self._seen_gpu))
            return
        self._seen_gpu = True
        present = set()
        for gpu in report.gpus:
            present.add(gpu.index)
            card = self._gpu_cards.get(gpu.index)
            if card is None:
                card = self._gpu_cards[gpu.index] = GpuCard(gpu.index, id=f"gpu-card-{gpu.index}")
                box.mount(card)
            card.show(snap, gpu, levels)
        for index in set(self._gpu_cards) - present:
            self._gpu_cards.pop(index).remove()

    # -- keys and settings
    def action_toggle_pause(self) -> None:
        if self.feed is None:
            return
        paused = self.feed.toggle_pause()
        self.notify("Sampling paused (p resumes)" if paused else "Sampling resumed", timeout=2)

    def action_toggle_cores(self) -> None:
        shown = self._host.toggle_cores()
        if shown and self.latest is not None:
            self._draw()
        else:
            self._fit_charts()

