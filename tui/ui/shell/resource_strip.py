"""The one-line resource strip above the status line: GPU %, VRAM, CPU, RAM on every pane."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual import on

from tui.ui.access import tui_app
from tui.ui.events import ConfigChanged
from tui.ui.monitor import text as t
from tui.ui.monitor.feed import MonitorFeed, Sampled
from tui.ui.monitor.widgets import Rows

STEP = 3.0  # percentage points a value moves before the strip shows it (the Monitor pane is exact)


class ResourceStrip(Rows):
    """Fed by the app's sampler; shows the longest variant that fits the width, a "⚠" on a
    value over its warning level, and "‖ paused" while sampling is paused. Toggled with F7
    (``toggle``) or by the [ui] resource_strip setting (``set_shown``); a hidden strip does
    no work. Values move in steps of at least `STEP` points, so an idle machine's jitter
    (CPU 2 % → 3 % → 2 %) does not repaint the line every second over SSH."""

    DEFAULT_CSS = """
    ResourceStrip { height: 1; width: 1fr; background: $panel; color: $foreground; padding: 0 1; }
    """

    wants_models = False  # the strip shows no model: the feed need not ask /api/ps for it

    def __init__(self, *, id: str | None = "resource-strip") -> None:
        super().__init__((("resources: waiting for the first sample…", t.MUTED),), id=id)
        self.feed: MonitorFeed | None = None
        self._latest: Sampled | None = None
        self._shown: dict[str, tuple[float, Any]] = {}
        self._setting = True  # [ui] resource_strip as last read

    def on_mount(self) -> None:
        app = tui_app(self)
        self._setting = bool(app.config.ui.resource_strip)
        self.display = self._setting
        self.feed = app.monitor
        self.feed.subscribe(self)

    def on_config_changed(self, event: ConfigChanged) -> None:
        """Settings saved: only a changed [ui] resource_strip overrides the F7 toggle."""
        setting = bool(event.config.ui.resource_strip)
        if setting != self._setting:
            self._setting = setting
            self.set_shown(setting)

    def on_unmount(self) -> None:
        if self.feed is not None:
            self.feed.unsubscribe(self)

    def toggle(self) -> bool:
        self.set_shown(not self.display)
        return self.display

    def set_shown(self, shown: bool) -> None:
        self.display = shown
        if shown:
            self._draw()

    @on(Sampled)
    def _sampled(self, message: Sampled) -> None:
        message.stop()
        self._latest = message
        if self.display:
            self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        message, feed = self._latest, self.feed
        if message is None or feed is None or not self.display:
            return
        snap = message.snapshot
        width = self.size.width or 80
        host, gpu = snap.host, snap.gpu
        if host is not None:
            cpu, _ = self._hold("cpu", host.cpu_percent)
            ram, ram_used = self._hold("ram", host.ram_percent, host.ram_used)
            host = replace(host, cpu_percent=cpu, ram_percent=ram, ram_used=ram_used)
        gpus = []
        for g in gpu.gpus:
            util, _ = self._hold(f"gpu{g.index}", g.util_percent)
            _, mem_used = self._hold(f"vram{g.index}", g.mem_percent, g.mem_used)
            gpus.append(replace(g, util_percent=util, mem_used=mem_used))
        gpu = replace(gpu, gpus=tuple(gpus))
        self.set(t.fit(t.strip_line(host, gpu, feed.levels, width, paused=message.paused), width))

    def _hold(self, key: str, value: float | None, extra: Any = None) -> tuple[float | None, Any]:
        """The value (and what goes with it) last shown, unless `value` moved `STEP` or more."""
        shown = self._shown.get(key)
        if value is None:
            self._shown.pop(key, None)
            return None, extra
        if shown is not None and abs(value - shown[0]) < STEP:
            return shown
        self._shown[key] = (value, extra)
        return value, extra
