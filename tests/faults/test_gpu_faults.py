"""Scenario 10 through the real NVML backend (the fake-backend cases are in tests/ui/
test_monitor_pane.py): every NVML call raising, and the GPU vanishing mid-run → N/A, no crash."""

from __future__ import annotations

import re

import pynvml

from tests.screen import screen_text
from tests.service.monitor.test_gpu import Err, FakeNvml, device
from tests.ui.conftest import wait_for
from tests.ui.monitor.test_monitor_pane import fast_app, pane
from tui.service.monitor.gpu import NvmlBackend
from tui.simulator import Simulator
from tui.ui.shell.resource_strip import ResourceStrip

UNKNOWN = pynvml.NVML_ERROR_UNKNOWN
READINGS = ("util", "mem", "temp", "power_mw", "limit_mw", "pm_limit_mw", "fan", "compute", "graphics")


async def test_10_nvml_raising_on_every_reading_shows_na(make_app):
    nvml = FakeNvml([device(**{key: Err(UNKNOWN) for key in (*READINGS, "name", "uuid")})])
    with Simulator(token_rate=0) as sim:
        app = fast_app(make_app, sim.url, NvmlBackend(nvml, process_name=lambda pid: "?"))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f3")
            p = pane(app)
            await wait_for(pilot, lambda: p.renders >= 3 and re.search(r"Util\s+N/A", screen_text(app)))
            text = screen_text(app)
            for label in ("Util", "VRAM", "Temp", "Power"):
                assert re.search(rf"{label}\s+N/A", text), label
            assert nvml.calls["name"] >= 3  # it kept asking every sample, and nothing broke
            await pilot.press("f1")
            assert app.current_pane == "chat"


async def test_10_nvml_gpu_vanishing_mid_run_shows_na_and_sampling_goes_on(make_app):
    dev = device()
    nvml = FakeNvml([dev])
    with Simulator(token_rate=0) as sim:
        app = fast_app(make_app, sim.url, NvmlBackend(nvml, process_name=lambda pid: "ollama"))
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("f3")
            p = pane(app)
            await wait_for(pilot, lambda: "RTX 4090" in screen_text(app) and p.renders >= 2)
            for key in READINGS:  # the card falls off the bus
                dev[key] = Err(pynvml.NVML_ERROR_GPU_IS_LOST)
            await wait_for(pilot, lambda: "GPU lost" in screen_text(app))
            assert re.search(r"Util\s+N/A", screen_text(app))
            before = p.renders
            await wait_for(pilot, lambda: p.renders >= before + 3, timeout=20)  # still sampling
            strip = app.query_one(ResourceStrip)  # the strip under every pane says the same
            await pilot.press("f1")
            await wait_for(pilot, lambda: strip.display and "GPU N/A" in screen_text(app))
            assert app.current_pane == "chat"
