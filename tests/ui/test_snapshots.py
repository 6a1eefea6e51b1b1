"""Snapshots (pytest-textual-snapshot) of every pane at 80x24 and 120x40, against the simulator
(the Monitor's, at four sizes, are in test_snapshots_monitor.py).

Deterministic through the app's own seams: the resource sampler gets a fixed host reading, the
fake GPU, a clock that only moves between samples and a sample budget (so the sparklines hold
the same samples every run); the connection state is set once through the app's callback (no
random port or measured latency on screen); the chat shows a session stored long ago with fixed
stats, and the server is shown as http://gpubox:11434. Update after a deliberate UI change: `uv run pytest tests/ui/test_snapshots.py
--snapshot-update`, look at the SVGs, commit them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tests.ui.conftest import wait_for
from tui.service.connection import ConnectionState
from tui.service.monitor import Sampler
from tui.service.monitor.gpu import FakeGpuBackend
from tui.service.monitor.host import HostSample

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
LONG_AGO = 1_700_000_000.0  # 2023-11-14: the session list shows a date, not "3s ago"

REPLY = """Here is how to list the models you have installed:

```python
import httpx

for model in httpx.get("http://127.0.0.1:11434/api/tags").json()["models"]:
    print(model["name"])
```

`ollama list` does the same from the shell."""

STATS = {"total_duration": 2_400_000_000, "load_duration": 300_000_000, "prompt_eval_count": 18,
         "prompt_eval_duration": 100_000_000, "eval_count": 64, "eval_duration": 2_000_000_000,
         "ttft": 0.42}


class FixedHost:
    """The same machine every sample; CPU follows a fixed wave so the sparkline has a shape."""

    def __init__(self) -> None:
        self.n = 0

    def prime(self) -> None:
        pass

    def sample(self) -> HostSample:
        self.n += 1
        cpu = (12.0, 35.0, 61.0, 48.0, 22.0)[self.n % 5]
        gib = 1024 ** 3
        return HostSample(time=float(self.n), cpu_percent=cpu, per_cpu=(cpu, cpu / 2), load_avg=(0.5, 0.4, 0.3),
                          ram_used=12 * gib, ram_total=64 * gib, ram_available=52 * gib, ram_percent=18.75,
                          swap_used=0, swap_total=8 * gib, swap_percent=0.0, disk_path="/srv/ollama",
                          disk_used=400 * gib, disk_total=1000 * gib, disk_free=600 * gib, disk_percent=40.0,
                          net_rx_rate=2_048_000.0, net_tx_rate=512_000.0)


class Ticks:
    """The sampler's clock and sleep: time moves only between samples, and only `allow`ed
    samples are taken (then the sampler waits), so every run draws the same history."""

    def __init__(self, samples: int) -> None:
        self.now = 1000.0
        self.left = samples
        self._more: asyncio.Event | None = None

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return LONG_AGO + self.now

    async def sleep(self, delay: float) -> None:
        self._more = self._more or asyncio.Event()
        while self.left <= 0:
            self._more.clear()
            await self._more.wait()
        self.left -= 1
        self.now += delay

    def allow(self, samples: int) -> None:
        self.left += samples
        if self._more is not None:
            self._more.set()


def still_app(make_app, url: str, ticks: Ticks):
    """The real app on the simulator, its sampler made deterministic (before it starts)."""
    app = make_app(url, gpu_backend=FakeGpuBackend(1))
    # The name shown for the server (requests still go to the simulator on its random port:
    # the HTTP client is made first, on the real URL).
    app.client.warm_up()
    app.client.base_url = "http://gpubox:11434"
    feed = app.monitor

    async def ps():
        models = await feed._fetch_ps()
        feed.ps_latency = 0.004
        return models

    feed.sampler = app.sampler = Sampler(
        feed.gpu, interval=1.0, window=60.0, ps_fetch=ps, clock=ticks.clock, wall_clock=ticks.wall,
        sleep=ticks.sleep, thresholds=feed.thresholds, host_probe=FixedHost(), find_ollama=False)
    return app


def store_a_chat(db: Path) -> None:
    """A session written long ago, with a reply and its stats, straight into the history file."""
    from tui.service.history import HistoryStore

    async def write() -> None:
        store = await HistoryStore.open(db)
        session = await store.create_session(title="Listing my models from Python", model="llama3.2",
                                             preset="balanced")
        await store.add_message(session.id, "user", "How do I list my models from Python?", model="llama3.2")
        await store.add_message(session.id, "assistant", REPLY, model="llama3.2", stats=STATS)
        await store.close()

    asyncio.run(write())
    with sqlite3.connect(db) as conn:
        conn.execute("update sessions set created_at = ?, updated_at = ?", (LONG_AGO, LONG_AGO))
        conn.execute("update messages set created_at = ?", (LONG_AGO,))


async def settle(app, pilot) -> None:
    """Connected (a fixed state, as the connection monitor would report it), history open."""
    await wait_for(pilot, lambda: app.history is not None and app.connection.state.up)
    app.workers.cancel_group(app, "connection")  # no later probe with a measured latency
    app.query_one("StatusLine").state = None  # nor the measured one kept (the line's hysteresis)
    app._on_connection_change(ConnectionState("up", "http://gpubox:11434", "0.33.0", latency=0.004))
    status = app.query_one("StatusLine")
    await wait_for(pilot, lambda: status.loaded is not None)


@pytest.fixture
def chat_db(tmp_path: Path) -> Path:
    db = tmp_path / "history.sqlite3"
    store_a_chat(db)
    return db


def shoot(snap_compare, make_app, sim, size: str, steps, samples: int = 5) -> bool:
    """Start the still app, settle it, run the pane's `steps(app, pilot, ticks)`, compare."""
    ticks = Ticks(samples)
    app = still_app(make_app, sim.url, ticks)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await wait_for(pilot, lambda: ticks.left == 0)  # the sampler has drawn its samples
        await steps(app, pilot, ticks)
        await pilot.pause(0.2)
        app.clear_notifications()
        await pilot.pause()

    return snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_chat_pane(snap_compare, make_app, sim, chat_db, size):
    async def steps(app, pilot, ticks) -> None:
        pane = app.query_one("ChatPane")
        await wait_for(pilot, lambda: pane.query_one("SessionList").option_count == 1)
        await pilot.press("ctrl+l", "enter")  # open the stored session, back in the prompt
        await wait_for(pilot, lambda: pane.session is not None and pane.query(".assistant-turn"))

    assert shoot(snap_compare, make_app, sim, size, steps)


def test_chat_session_list_over_the_conversation_at_80x24(snap_compare, make_app, sim, chat_db):
    """Below 100 columns the list is hidden (test_chat_pane[80x24]); Ctrl+L shows it on top."""
    async def steps(app, pilot, ticks) -> None:
        pane = app.query_one("ChatPane")
        await wait_for(pilot, lambda: pane.query_one("SessionList").option_count == 1)
        await pilot.press("ctrl+l", "enter", "ctrl+l")  # open the session, then the list again
        await wait_for(pilot, lambda: pane.session is not None and pane.query(".assistant-turn")
                       and pane.query_one("SessionList").has_focus)

    assert shoot(snap_compare, make_app, sim, "80x24", steps)


@pytest.mark.parametrize("size", SIZES)
def test_models_pane(snap_compare, make_app, sim, size):
    async def steps(app, pilot, ticks) -> None:
        await pilot.press("f2")
        await wait_for(pilot, lambda: "qwen3:8b" in _text(app) and "Loaded models none" in _text(app))

    assert shoot(snap_compare, make_app, sim, size, steps)


@pytest.mark.parametrize("size", SIZES)
def test_settings_pane(snap_compare, make_app, sim, size):
    async def steps(app, pilot, ticks) -> None:
        await pilot.press("f4")
        await wait_for(pilot, lambda: "[presets.balanced]" in _text(app))

    assert shoot(snap_compare, make_app, sim, size, steps)


def _text(app) -> str:
    from tests.screen import screen_text

    return screen_text(app)
