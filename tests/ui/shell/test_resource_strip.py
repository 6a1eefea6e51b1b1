"""The one-line resource strip: GPU %, VRAM, CPU, RAM on every pane; F7 and the config toggle it."""

from __future__ import annotations

import re

import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.service.monitor.gpu import FakeGpuBackend, GpuSample
from tui.ui.chat.prompt import PromptArea
from tui.ui.shell.resource_strip import ResourceStrip

GiB = 1024**3
PCT = r"(?:⚠ )?\d+%"


def gpu(index: int = 0, util: float = 37.0, used: int = 6 * GiB, total: int = 24 * GiB) -> GpuSample:
    return GpuSample(index, f"Test GPU {index}", None, util, used, total, 50.0, 100.0, 300.0, 30.0)


def fast_app(make_app, url: str, backend, **kw):
    app = make_app(url, gpu_backend=backend, **kw)
    app.sampler.set_interval(0.05)
    return app


def strip_row(app) -> str:
    """The screen row just above the status line."""
    return screen_text(app).splitlines()[-3]


async def sampled(pilot, app) -> ResourceStrip:
    strip = app.query_one(ResourceStrip)
    await wait_for(pilot, lambda: "CPU" in strip.plain)
    await pilot.pause()
    return strip


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_strip_shows_gpu_vram_cpu_ram_on_the_chat_pane(sim, make_app, size):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
    async with app.run_test(size=size) as pilot:
        await sampled(pilot, app)
        row = strip_row(app)
        assert re.search(rf"GPU 37% · VRAM 25% 6\.0/24\.0 GiB · CPU {PCT} · RAM {PCT} \d+\.\d/\d+\.\d GiB", row), row
        assert isinstance(app.focused, PromptArea)  # the strip takes no focus


async def test_two_gpus_fit_in_80_columns(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu(0), gpu(1, util=80.0, used=7 * GiB, total=8 * GiB)]))
    async with app.run_test(size=(80, 24)) as pilot:
        strip = await sampled(pilot, app)
        row = strip_row(app)
        assert "GPU0 37%" in row and "GPU1 80%" in row and "CPU" in row and "RAM" in row, row
        assert len(strip.plain) <= 78


async def test_no_gpu_and_warning_marker(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu(used=23 * GiB)]))  # ~96 % VRAM
    async with app.run_test(size=(100, 30)) as pilot:
        await sampled(pilot, app)
        assert "VRAM ⚠ 96%" in strip_row(app)
    app = fast_app(make_app, sim.url, FakeGpuBackend(0))
    async with app.run_test(size=(100, 30)) as pilot:
        await sampled(pilot, app)
        assert re.search(rf"GPU none · CPU {PCT}", strip_row(app)), strip_row(app)


async def test_f7_toggles_the_strip_from_any_pane(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
    async with app.run_test(size=(80, 24)) as pilot:
        strip = await sampled(pilot, app)
        for key in ("f2", "f3", "f4", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert strip.display and "VRAM 25%" in screen_text(app), key
        await pilot.press("f7")  # from the chat prompt
        await pilot.pause()
        assert not strip.display and "VRAM 25%" not in screen_text(app)
        # a hidden strip does no work
        updates, samples = strip.updates, app.sampler.last.seq
        app.monitor.gpu.gpus = [gpu(util=90.0)]
        await wait_for(pilot, lambda: app.sampler.last.seq >= samples + 4)
        assert strip.updates == updates
        await pilot.press("f7")
        await pilot.pause()
        assert strip.display and "GPU 90%" in strip_row(app)


async def test_config_can_start_with_the_strip_off(sim, make_app, tmp_path):
    (tmp_path / "config.toml").write_text("[ui]\nresource_strip = false\n")
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
    async with app.run_test(size=(80, 24)) as pilot:
        strip = app.query_one(ResourceStrip)
        await wait_for(pilot, lambda: app.sampler.last is not None)
        await pilot.pause()
        assert not strip.display and "VRAM 25%" not in screen_text(app)
        await pilot.press("f7")
        await wait_for(pilot, lambda: "VRAM 25%" in strip_row(app))


async def test_saving_the_setting_hides_and_shows_the_strip_and_f7_still_wins(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend([gpu()]))
    async with app.run_test(size=(80, 24)) as pilot:
        strip = await sampled(pilot, app)
        assert strip.display and "VRAM 25%" in strip_row(app)
        app.config_store.set("ui.resource_strip", False)
        app.config_store.save()
        app.apply_config()  # what Settings does after saving
        await wait_for(pilot, lambda: not strip.display and "VRAM 25%" not in screen_text(app))
        await pilot.press("f7")  # F7 shows it again; saving other settings leaves it so
        await wait_for(pilot, lambda: "VRAM 25%" in strip_row(app))
        app.config_store.set("monitor.cpu_warn", 95.0)
        app.config_store.save()
        app.apply_config()
        await pilot.pause()
        assert strip.display and "VRAM 25%" in strip_row(app)
        app.config_store.set("ui.resource_strip", True)  # changed again: the setting applies
        app.config_store.save()
        app.apply_config()
        await pilot.pause()
        assert strip.display and "VRAM 25%" in strip_row(app)


async def test_small_moves_do_not_repaint_the_strip_big_ones_do(sim, make_app):
    backend = FakeGpuBackend([gpu(util=37.0)])
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(120, 30)) as pilot:
        await sampled(pilot, app)
        backend.gpus = [gpu(util=38.9)]  # jitter: the line stays as it was
        seen = backend.samples
        await wait_for(pilot, lambda: backend.samples >= seen + 3)
        await pilot.pause()
        assert "GPU 37%" in strip_row(app)
        backend.gpus = [gpu(util=45.0)]  # a real change shows at once
        await wait_for(pilot, lambda: "GPU 45%" in strip_row(app))
        backend.gpus = [gpu(util=43.0)]
        seen = backend.samples
        await wait_for(pilot, lambda: backend.samples >= seen + 3)
        await pilot.pause()
        assert "GPU 45%" in strip_row(app)
