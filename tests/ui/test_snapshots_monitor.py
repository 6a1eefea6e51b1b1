"""Snapshots (pytest-textual-snapshot) of the Monitor pane at 80x24, 100x30, 120x40 and 200x60:
its history charts at each size, with one model loaded (the loaded-models lines keep their room).

Deterministic through the seams of test_snapshots.py: a fixed host reading, the counter-based
fake GPU, a sampler clock that only moves between samples and a sample budget (the charts hold
the same 21 samples every run), a fixed connection state and the server shown as
http://gpubox:11434. Update after a deliberate change: `uv run pytest
tests/ui/test_snapshots_monitor.py --snapshot-update`, look at the SVGs, commit them.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.test_snapshots import Ticks, _text, settle, still_app

SIZES = {"80x24": (80, 24), "100x30": (100, 30), "120x40": (120, 40), "200x60": (200, 60)}
SAMPLES = 20  # before the pane is shown; one more with it shown (it asks for the loaded models)


@pytest.mark.parametrize("size", SIZES)
def test_monitor_pane(snap_compare, make_app, sim, size):
    sim.preload("llama3.2")  # before the app starts: the status line and the pane agree
    ticks = Ticks(SAMPLES)
    app = still_app(make_app, sim.url, ticks)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await wait_for(pilot, lambda: ticks.left == 0 and app.sampler.last is not None
                       and app.sampler.last.seq >= SAMPLES)
        await pilot.press("f3")
        await wait_for(pilot, lambda: bool(app.query("HostCard")))
        app.query_one("HostCard").hostname = "gpubox"  # platform.node() of whichever box runs this
        seq = app.sampler.last.seq
        ticks.allow(1)
        await wait_for(pilot, lambda: app.sampler.last.seq > seq and app.sampler.last.ps_enabled)
        await wait_for(pilot, lambda: "1 model loaded" in _text(app))
        await pilot.pause(0.2)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
