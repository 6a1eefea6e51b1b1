"""The one-line resource strip above the status line: GPU %, VRAM, CPU, RAM on every pane."""

from __future__ import annotations

from textual import on

from ..monitor import text as t
from ..monitor.feed import MonitorFeed, Sampled
from ..monitor.widgets import Rows


class ResourceStrip(Rows):
    """Fed by the app's sampler; shows the longest variant that fits the width, a "⚠" on a
    value over its warning level, and "‖ paused" while sampling is paused. Toggled with F7
    (``toggle``) or by the [ui] resource_strip setting (``set_shown``); a hidden strip does
    no work."""

    DEFAULT_CSS = """
    ResourceStrip { height: 1; width: 1fr; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = "resource-strip") -> None:
        super().__init__((("resources: waiting for the first sample…", t.MUTED),), id=id)
        self.feed: MonitorFeed | None = None
        self._latest: Sampled | None = None

    def on_mount(self) -> None:
        config = getattr(self.app, "config", None)
        ui = getattr(config, "ui", None)
        self.display = bool(getattr(ui, "resource_strip", True))
        self.feed = getattr(self.app, "monitor", None)
        if isinstance(self.feed, MonitorFeed):
            self.feed.subscribe(self)

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
        self.set(t.fit(t.strip_line(snap.host, snap.gpu, feed.levels, width, paused=message.paused), width))
