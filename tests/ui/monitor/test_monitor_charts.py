"""The Monitor's history charts on the real app: they grow with the terminal, keep their
labels, leave the loaded models in view, and are rendered once per sample."""

from __future__ import annotations

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.monitor.test_monitor_fleet import fast_fleet, host_table, write_config  # noqa: F401 (autouse fixture)
from tests.ui.monitor.test_monitor_pane import fast_app, gpu, show_monitor
from tui.service.monitor.gpu import FakeGpuBackend
from tui.ui.monitor import chart as ch
from tui.ui.monitor.cards import GpuCard, HostCard
from tui.ui.monitor.fleet import FleetCard
from tui.ui.monitor.pane import FLEET_ROOM


def chart_block(text: str, header: str, below: str) -> list[str]:
    """The screen lines between a chart pair's header line and the first line after it."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if header in line)
    end = next(i for i in range(top + 1, len(lines)) if below in lines[i])
    return lines[top + 1 : end]


async def test_charts_grow_with_the_terminal_and_the_models_stay_in_view(sim, make_app):
    heights = {}
    for size in ((80, 24), (120, 40), (200, 60)):
        app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
        async with app.run_test(size=size) as pilot:
            await app.client.load("llama3.2")
            p = await show_monitor(pilot, app, samples=5)
            await wait_for(pilot, lambda p=p: bool(p.latest.models))
            await show_monitor(pilot, app, samples=2)  # the pane re-fits to the model line
            text = screen_text(app)
            card = p.query_one(GpuCard)
            rows = chart_block(text, "Util", "Temp")
            # every plot row on screen, labelled at the top and bottom of the scale
            assert len(rows) == card.chart_height == p.query_one(HostCard).chart_height
            assert "100%┤" in rows[0] and "24 GiB┤" in rows[0]
            assert "0%┤" in rows[-1] and " 0┤" in rows[-1]
            # the steady 37 % utilization and 25 % VRAM fill that many eighths of the height
            h = card.chart_height
            util_bottom, vram_bottom = rows[-1].split("┤")[1:]
            assert ch.GLYPHS[min(8, round(0.37 * h * 8))] * 5 in util_bottom
            assert ch.GLYPHS[min(8, round(0.25 * h * 8))] * 5 in vram_bottom
            assert text.count("last 3 s") == 4  # CPU, RAM, Util, VRAM: the window's span
            host_rows = chart_block(text, "CPU ", "Swap")
            assert len(host_rows) == h and "100%┤" in host_rows[0] and "GiB┤" in host_rows[0]
            # the loaded model's line is on screen, not scrolled away below the charts
            assert "llama3.2:latest" in text and "1 model loaded" in text
            heights[size] = card.chart_height
    assert heights[(80, 24)] == ch.MIN_HEIGHT
    assert heights[(80, 24)] < heights[(120, 40)] < heights[(200, 60)]


async def test_two_gpus_share_the_room(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu(0), gpu(1, name="Test RTX 3070")]))
    async with app.run_test(size=(120, 40)) as pilot:
        p = await show_monitor(pilot, app, samples=3)
        await pilot.pause()
        cards = list(p.query(GpuCard))
        heights = {p.query_one(HostCard).chart_height, *(c.chart_height for c in cards)}
        assert len(heights) == 1  # every chart the same height
        height = heights.pop()
        assert ch.MIN_HEIGHT < height < ch.MAX_HEIGHT
        assert p.max_scroll_y == 0  # and the whole pane fits: nothing scrolled away
        assert "no model loaded" in screen_text(app)


async def test_a_long_fleet_keeps_its_room_below_the_charts(sim, make_app, tmp_path):
    config = write_config(tmp_path, *(host_table(f"node{i:02d}", sim.url) for i in range(14)))
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]), config_path=config)
    async with app.run_test(size=(200, 60)) as pilot:
        p = await show_monitor(pilot, app, samples=3)
        fleet = p.query_one(FleetCard)
        await wait_for(pilot, lambda: fleet.display and "node13" in fleet.plain)
        await show_monitor(pilot, app, samples=2)
        assert fleet.rows > FLEET_ROOM  # more than the room kept: the rest scrolls
        in_view = p.scrollable_content_region.height - (fleet.virtual_region.y - int(p.scroll_y))
        assert in_view >= FLEET_ROOM  # title and the first hosts visible without scrolling
        assert "Fleet · 14 hosts" in screen_text(app)
        assert p.query_one(GpuCard).chart_height > ch.MIN_HEIGHT  # and the charts still grew


async def test_charts_are_rendered_once_per_sample_not_per_redraw(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
    async with app.run_test(size=(120, 40)) as pilot:
        p = await show_monitor(pilot, app, samples=3)
        await pilot.press("p")  # paused: the same snapshot is drawn again
        await wait_for(pilot, lambda: p.paused)
        await pilot.pause()
        card = p.query_one(GpuCard)
        rendered, renders = card.charts_rendered, p.renders
        p._draw()  # a redraw of the same sample (what a pause or a settings change does)
        card.redraw()
        await pilot.pause()
        assert p.renders > renders and card.charts_rendered == rendered
        await pilot.press("p")
        await wait_for(pilot, lambda: card.charts_rendered >= rendered + 2)  # a new sample: both charts
        assert card.charts_rendered - rendered <= 2 * (p.renders - renders)


def test_a_card_warning_clears_only_well_below_its_level():
    """A reading hovering about the level does not flip the card's title and colours each
    sample (each flip repaints the whole card)."""
    card = GpuCard(0)
    readings = [89.0, 90.0, 87.0, 91.0, 86.0, 84.9, 89.0, 90.0]
    assert [card.warned("vram", v, 90.0) for v in readings] == [False, True, True, True, True, False, False, True]
    assert not card.warned("vram", None, 90.0) and not card.warned("vram", 99.0, None)


async def test_on_a_narrow_terminal_the_pair_is_stacked(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
    async with app.run_test(size=(60, 30)) as pilot:
        p = await show_monitor(pilot, app, samples=3)
        await pilot.pause()
        card = p.query_one(GpuCard)
        assert card.chart_units == 2  # utilization above VRAM, each the card's full width
        lines = card.plain.splitlines()
        util, vram = (next(i for i, line in enumerate(lines) if line.startswith(label)) for label in ("Util", "VRAM"))
        assert vram == util + 1 + card.chart_height
        assert lines[util + 1].lstrip().startswith("100%┤") and lines[vram + 1].startswith("24 GiB┤")
