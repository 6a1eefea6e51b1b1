"""The app's one resource Sampler and who receives its snapshots.

``MonitorFeed`` builds the :class:`~tui.service.monitor.Sampler` from the config, runs it
as a worker, turns new threshold alerts into notifications (once each: the watcher has
hysteresis) and posts every snapshot as a :class:`Sampled` message to its subscribers (the
Monitor pane and the resource strip). A subscriber that is not displayed just keeps the
latest snapshot; the sampler keeps collecting, so history is there when it is shown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message

from tui.service.monitor import Sampler, Snapshot
from tui.service.monitor.gpu import GpuBackend, NvmlBackend
from tui.service.monitor.procs import ProcessScanner, local_port_from_host
from tui.service.monitor.thresholds import Alert, ThresholdWatcher, fit_warning
from tui.service.ollama.names import same_model
from tui.service.untrusted import inert

if TYPE_CHECKING:
    from textual.app import App

    from tui.service.config import Config, MonitorConfig
    from tui.service.ollama.types import RunningModel

log = logging.getLogger(__name__)

ALERT_AFTER = 3  # samples a value must stay over its warning level before it is notified
PS_MAX_RATE = 2.0  # seconds: /api/ps is asked at most this often (loaded models change rarely)


class Sampled(Message):
    """A new snapshot (or a change of the paused state) for a subscriber."""

    def __init__(self, snapshot: Snapshot, paused: bool) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.paused = paused

    def can_replace(self, message: Message) -> bool:
        # A subscriber that lags behind only needs the newest snapshot.
        return isinstance(message, Sampled)


class ModelsNotAsked(Exception):
    """/api/ps is only asked while someone looks at the loaded models."""


class Subscriber(Protocol):
    """A widget the feed sends its snapshots to (the Monitor pane, the resource strip)."""

    def post_message(self, message: Message) -> bool: ...

    @property
    def wants_models(self) -> bool:
        """Whether the loaded models are on screen now (the feed then asks /api/ps)."""
        ...


def warn_levels(monitor_config: MonitorConfig) -> dict[str, float | None]:
    return {
        "cpu": monitor_config.cpu_warn,
        "ram": monitor_config.ram_warn,
        "vram": monitor_config.vram_warn,
        "gpu_temp": monitor_config.gpu_temp_warn,
    }


class MonitorFeed:
    """Owns the sampler for the app; see the module docstring.

    ``subscribe(widget)``: the widget (a :class:`Subscriber`) receives :class:`Sampled`
    messages. While a subscriber's ``wants_models`` is true the feed asks Ollama's ``/api/ps``
    with each sample; otherwise the last answer is reused (no request per second for a hidden
    pane).
    """

    def __init__(self, app: App[Any], gpu_backend: GpuBackend | None = None) -> None:
        # Imported here: tui.ui.access names this class for its types.
        from tui.ui.access import tui_app

        self.app = app  # Textual's App API: workers, timers, toasts
        self.tui = tui_app(app)  # what the app adds: its config, client and connection
        config = self.tui.config
        self.gpu = gpu_backend if gpu_backend is not None else NvmlBackend()
        # While no server is found, a full process scan looks for a newly started one every 10 s
        # (a scan reads every process's name: ~2 ms for 65 processes, ~0.02 ms more for each).
        self.scanner = ProcessScanner(local_port_from_host(self.tui.client.base_url), rescan_interval=10.0)
        self.thresholds = ThresholdWatcher(warn_levels(config.monitor))
        self.sampler = Sampler(
            self.gpu,
            interval=config.monitor.interval,
            window=config.monitor.window,
            ps_fetch=self._fetch_ps,
            thresholds=self.thresholds,
            process_scanner=self.scanner,
        )
        self._subscribers: list[Subscriber] = []
        self._ps_cache: list[RunningModel] | None = None
        self._ps_at = float("-inf")  # monotonic time of the last /api/ps answer
        self._ps_host = self.tui.client.base_url
        self.ps_latency: float | None = None  # last /api/ps round trip, seconds
        self.alerts_shown = 0
        self._pending: dict[str, tuple[Alert, int]] = {}  # alert key -> (alert, seq it was raised at)

    # -- lifecycle
    def start(self) -> None:
        self.app.run_worker(self._run(), name="monitor", group="monitor", exclusive=True,
                            exit_on_error=False, description="sample CPU, RAM, GPU and the loaded models")

    async def _run(self) -> None:
        try:
            await self.sampler.run(self._on_snapshot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the sampler is built not to raise; if it does, say so once
            log.exception("resource sampler stopped")
            self.app.notify(f"The resource monitor stopped: {inert(str(exc)) or type(exc).__name__}",
                            title="Monitor", severity="error", markup=False)

    async def close(self) -> None:
        """Stop sampling and release NVML (in a thread: a hung driver call must not block)."""
        self.sampler.stop()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.sampler.close), timeout=2.0)
        except Exception:
            log.exception("closing the resource sampler failed")

    # -- subscribers
    def subscribe(self, widget: Subscriber) -> None:
        if widget not in self._subscribers:
            self._subscribers.append(widget)
        if self.sampler.last is not None:
            widget.post_message(Sampled(self.sampler.last, self.paused))

    def unsubscribe(self, widget: Subscriber) -> None:
        if widget in self._subscribers:
            self._subscribers.remove(widget)

    def _publish(self, snapshot: Snapshot) -> None:
        message_paused = self.paused
        for widget in list(self._subscribers):
            widget.post_message(Sampled(snapshot, message_paused))

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        self._notify_alerts(snapshot)
        self._publish(snapshot)

    def _notify_alerts(self, snapshot: Snapshot) -> None:
        """Notify each new alert once it has held for ALERT_AFTER samples: the watcher's
        hysteresis stops repeats, this stops a one-sample spike from becoming a toast."""
        for alert in snapshot.alerts:
            self._pending[alert.key] = (alert, snapshot.seq)
        if not self._pending:
            return
        active = self.thresholds.active
        for key, (alert, since) in list(self._pending.items()):
            if key not in active:  # back below the level (minus hysteresis) already
                del self._pending[key]
            elif snapshot.seq - since + 1 >= ALERT_AFTER:
                del self._pending[key]
                self.alerts_shown += 1
                self.app.notify(f"⚠ {alert.message}", title="Resource warning", severity="warning", timeout=8)

    # -- control
    @property
    def paused(self) -> bool:
        return self.sampler.paused

    def toggle_pause(self) -> bool:
        """Pause or resume sampling (the strip and the pane both freeze); returns paused."""
        if self.sampler.paused:
            self.sampler.resume()
        else:
            self.sampler.pause()
        if self.sampler.last is not None:
            self._publish(self.sampler.last)
        return self.sampler.paused

    @property
    def levels(self) -> Mapping[str, float | None]:
        return self.thresholds.levels

    @property
    def local_port(self) -> int | None:
        return self.scanner.port

    def apply_config(self, config: Config) -> None:
        """Take new [monitor] settings (interval, window, warning levels) at once; the App
        calls this after Settings saved (the resource strip hears of [ui] resource_strip
        itself, by ConfigChanged)."""
        monitor = config.monitor
        self.sampler.set_interval(monitor.interval)
        self.sampler.set_window(monitor.window)
        self.thresholds.set_levels(warn_levels(monitor))
        if self.sampler.last is not None:
            self._publish(self.sampler.last)

    # -- will a model fit?
    async def fit_warning(self, name: str, size: int | None) -> str | None:
        """Why loading `name` (`size` bytes on disk) probably won't fit in free VRAM + RAM
        (less the configured margin), or None: it fits, it is loaded already, or nothing has
        been sampled yet to judge by."""
        snapshot = self.sampler.last
        host = snapshot.host if snapshot is not None else None
        if not size or snapshot is None or host is None or host.ram_available is None:
            return None
        try:
            if any(same_model(name, m.name) for m in await self.tui.client.ps()):
                return None
        except Exception:  # OllamaError and the like: the request itself will say what is wrong
            return None
        gpu = snapshot.gpu
        free_vram = sum(g.mem_free or 0 for g in gpu.gpus) if gpu.available and gpu.gpus else None
        margin = self.tui.config.monitor.fit_margin
        return fit_warning(size, free_vram, host.ram_available, margin, name=name)

    # -- /api/ps
    def _models_wanted(self) -> bool:
        return any(w.wants_models for w in self._subscribers)

    async def _fetch_ps(self) -> list[RunningModel]:
        client = self.tui.client
        if client.base_url != self._ps_host:  # the host was changed in the app
            self._ps_host = client.base_url
            self._ps_cache = None
            self.ps_latency = None
            self.scanner.port = local_port_from_host(client.base_url)
        if self.tui.connection.state.status == "down":
            self._ps_cache = None
            raise ConnectionError("server not reachable")
        if not self._models_wanted():
            if self._ps_cache is None:
                raise ModelsNotAsked("updating…")
            return self._ps_cache
        started = time.perf_counter()
        if self._ps_cache is not None and started - self._ps_at < PS_MAX_RATE - 0.05:
            return self._ps_cache
        result = await client.ps()
        self._ps_at = time.perf_counter()
        self.ps_latency = self._ps_at - started
        self._ps_cache = result
        return result
