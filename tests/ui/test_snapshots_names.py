"""Snapshots of the Models pane with long real-world model names (the simulator's `LONG_NAMED`)
at 80x24, 100x30, 120x40 and 200x60: every name whole from 100 columns up (the details beside the
table at 200, yielding to the names at 120), the tags kept at 80.

Deterministic as tests/ui/test_snapshots.py is (its still app, fixed host readings and connection
state); the Modified column is steady because the simulator dates each model a fixed number of
days (not hours) before now. Update after a deliberate UI change: `uv run pytest
tests/ui/test_snapshots_names.py --snapshot-update`, look at the SVGs, commit them.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.test_snapshots import Ticks, settle, still_app
from tui.simulator.catalogue import LONG_NAMED

SIZES = {"80x24": (80, 24), "100x30": (100, 30), "120x40": (120, 40), "200x60": (200, 60)}


@pytest.mark.parametrize("size", SIZES)
def test_models_pane_with_long_names(snap_compare, make_app, sim, size):
    from tests.screen import screen_text

    sim.install(*LONG_NAMED)
    ticks = Ticks(5)
    app = still_app(make_app, sim.url, ticks)

    async def run_before(pilot) -> None:
        await settle(app, pilot)
        await wait_for(pilot, lambda: ticks.left == 0)
        await pilot.press("f2")
        await wait_for(pilot, lambda: ":Q4_K_M" in screen_text(app) and "Loaded models none" in screen_text(app))
        pane = app.query_one("ModelsPane")
        if pane.details_visible:  # the first model's details, fetched
            await wait_for(pilot, lambda: "context length" in screen_text(app))
        await pilot.pause(0.2)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
