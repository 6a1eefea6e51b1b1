"""The Monitor pane on the real app with fake GPUs: cards and values, no GPU, NVML failing,
a GPU lost mid-run, warnings (marker + one notification), pause, hidden-pane economy,
loaded models from the simulator, per-core CPU, settings applied live."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pynvml
import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.service.monitor.gpu import FakeGpuBackend, GpuProcess, GpuSample, NvmlBackend
from tui.ui.monitor.cards import GpuCard, NoGpuCard
from tui.ui.monitor.pane import MonitorPane
from tui.ui.monitor.widgets import BARS

GiB = 1024**3
FAST = 0.05  # seconds between samples in these tests
PCT = r"(?:⚠ )?\d+%"  # a host reading (over its level on a busy test machine)


def gpu(index: int = 0, *, name: str = "Test RTX 4090", util: float | None = 37.0,
        used: int | None = 6 * GiB, total: int | None = 24 * GiB, temp: float | None = 55.0,
        power: float | None = 120.0, limit: float | None = 350.0, fan: float | None = 41.0,
        processes: tuple[GpuProcess, ...] = (), error: str | None = None) -> GpuSample:
    return GpuSample(index, name, f"GPU-{index}", util, used, total, temp, power, limit, fan, processes, error)


def fast_app(make_app, url: str, backend: Any, **kw: Any):
    app = make_app(url, gpu_backend=backend, **kw)
    app.sampler.set_interval(FAST)
    app.sampler.set_window(3.0)
    return app


def pane(app) -> MonitorPane:
    return app.query_one(MonitorPane)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def show_monitor(pilot, app, samples: int = 2) -> MonitorPane:
    await pilot.press("f3")
    p = pane(app)
    start = p.renders
    await wait_for(pilot, lambda: p.renders >= start + samples)
    await pilot.pause()
    return p


# --------------------------------------------------------------------------- cards and values


async def test_one_gpu_card_shows_every_reading_at_80x24(sim, make_app):
    runner = GpuProcess(4242, "ollama", 5 * GiB)
    backend = FakeGpuBackend([gpu(processes=(runner, GpuProcess(99, "python3", 512 * 1024**2)))])
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await show_monitor(pilot, app)
        text = screen_text(app)
        assert "GPU 0 · Test RTX 4090" in text
        assert re.search(r"Util\s+37%", text)
        assert re.search(r"VRAM\s+25%", text) and "6.0 / 24.0 GiB" in text
        assert re.search(r"Temp\s+55°C", text)
        assert re.search(r"Power\s+120 W", text) and "limit 350 W" in text
        assert "fan 41%" in text
        # processes with their GPU memory, the Ollama runner named as such
        assert re.search(r"4242 ollama\s+5\.0 GiB\s+◆ Ollama runner", text)
        assert re.search(r"99 python3\s+512\.0 MiB", text)
        # host readings are real (psutil): check they are there and well formed
        assert re.search(rf"CPU\s+{PCT}", text) and re.search(r"load \d+\.\d\d", text)
        assert re.search(rf"RAM\s+{PCT}\s.*GiB", text)
        for label in ("Swap", "Disk", "Net", "free", "Ollama ·"):
            assert label in text
        assert not app.query(NoGpuCard).first().display


async def test_two_gpus_get_a_card_each(sim, make_app):
    backend = FakeGpuBackend([gpu(0), gpu(1, name="Test RTX 3070", used=2 * GiB, total=8 * GiB, fan=None)])
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await show_monitor(pilot, app)
        assert len(app.query(GpuCard)) == 2
        text = screen_text(app)
        assert "GPU 0 · Test RTX 4090" in text and "GPU 1 · Test RTX 3070" in text
        assert "6.0 / 24.0 GiB" in text and "2.0 / 8.0 GiB" in text
        assert "fan N/A" in text  # the fanless card
        assert "no processes on this GPU" in text


async def test_no_gpu_says_so(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend(0))
    async with app.run_test(size=(80, 24)) as pilot:
        await show_monitor(pilot, app)
        text = screen_text(app)
        assert "no NVIDIA GPU found" in text
        assert not app.query(GpuCard)
        assert re.search(rf"CPU\s+{PCT}", text)  # the rest of the pane works


async def test_nvml_failing_on_every_call_is_a_reason_not_a_crash(sim, make_app):
    backend = FakeGpuBackend(1, fail=pynvml.NVMLError(pynvml.NVML_ERROR_DRIVER_NOT_LOADED))
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app, samples=3)
        assert "no NVIDIA GPU found: driver not loaded" in screen_text(app)
        assert backend.samples >= 3 and p.renders >= 3


async def test_a_backend_that_raises_is_caught(sim, make_app):
    backend = FakeGpuBackend(1, fail=RuntimeError("boom"), leak=True)
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await show_monitor(pilot, app, samples=3)
        assert "no NVIDIA GPU found: GPU read failed: boom" in screen_text(app)


class UnsupportedNvml:
    """An NVML with one GPU whose every reading fails with NVMLError (not supported)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("NVML_", "NVMLError")):
            return getattr(pynvml, name)
        if name.startswith("nvmlDevice"):
            def fail(*_a: Any) -> Any:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            return fail
        raise AttributeError(name)

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int: return 1
    def nvmlDeviceGetHandleByIndex(self, i: int) -> int: return i
    def nvmlSystemGetDriverVersion(self) -> str: return "550.0"


async def test_nvml_readings_not_supported_show_na(sim, make_app):
    app = fast_app(make_app, sim.url, NvmlBackend(nvml=UnsupportedNvml()))
    async with app.run_test(size=(80, 24)) as pilot:
        await show_monitor(pilot, app, samples=3)
        text = screen_text(app)
        assert "GPU 0 · GPU 0 · driver 550.0" in text
        for label in ("Util", "VRAM", "Temp", "Power"):
            assert re.search(rf"{label}\s+N/A", text), label
        assert "fan N/A" in text and "limit N/A" in text


async def test_gpu_disappearing_mid_run(sim, make_app):
    backend = FakeGpuBackend(1, fail_after=4)
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        p = pane(app)
        await wait_for(pilot, lambda: p.query(GpuCard) and p.query_one(GpuCard).display)
        await wait_for(pilot, lambda: app.query_one(NoGpuCard).display)
        await pilot.pause()
        text = screen_text(app)
        assert "GPU unavailable: GPU lost" in text
        assert "Fake RTX 4090" not in text
        before = p.renders
        await wait_for(pilot, lambda: p.renders >= before + 3)  # still sampling, no crash


async def test_gpu_readings_lost_per_field(sim, make_app):
    backend = FakeGpuBackend(1, fail_after=3, fail_mode="fields")
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app, samples=1)
        await wait_for(pilot, lambda: backend.samples > 4 and p.renders >= 5)
        await pilot.pause()
        text = screen_text(app)
        assert "⚠ GPU 0 · Fake RTX 4090" in text and "GPU lost: readings N/A" in text
        assert re.search(r"Util\s+N/A", text)


# --------------------------------------------------------------------------- warnings


async def test_threshold_crossing_marks_the_card_and_notifies_once(sim, make_app):
    calm, hot = gpu(used=12 * GiB), gpu(used=int(23 * GiB))  # 50 % and ~96 % VRAM
    backend = FakeGpuBackend([calm])
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app)
        card = p.query_one(GpuCard)
        assert "⚠" not in card.border_title and not card.has_class("-warn")
        backend.gpus = [hot]
        await wait_for(pilot, lambda: p.latest is not None and p.latest.gpu.gpus[0].mem_percent > 90)
        start = p.renders
        await wait_for(pilot, lambda: p.renders >= start + 5)  # several samples over the level
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"VRAM\s+⚠ 96%", text)
        assert "⚠ GPU 0 · Test RTX 4090" in text  # the card's title, not only its colour
        assert p.query_one(GpuCard).has_class("-warn")
        vram_notes = [n for n in notes(app) if "VRAM at 96%" in n]
        assert len(vram_notes) == 1, notes(app)
        # back below the level minus hysteresis, then over again: a second notification
        backend.gpus = [calm]
        await wait_for(pilot, lambda: p.latest.gpu.gpus[0].mem_percent < 60)
        await wait_for(pilot, lambda: not p.query_one(GpuCard).has_class("-warn"))
        backend.gpus = [hot]
        await wait_for(pilot, lambda: len([n for n in notes(app) if "VRAM at 96%" in n]) == 2)


# --------------------------------------------------------------------------- pause, hidden


async def test_pause_stops_sampling_and_updates(sim, make_app):
    backend = FakeGpuBackend(1)
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app)
        await pilot.press("p")
        await wait_for(pilot, lambda: p.paused)
        await pilot.pause()
        assert "‖ PAUSED (p resumes)" in screen_text(app)
        assert "‖ paused" in str(app.query_one("ResourceStrip").plain)
        samples, renders = backend.samples, p.renders
        await asyncio.sleep(10 * FAST)  # ten intervals: nothing may happen
        await pilot.pause()
        assert backend.samples == samples and p.renders == renders
        await pilot.press("p")
        await wait_for(pilot, lambda: backend.samples > samples and p.renders > renders)
        assert "PAUSED" not in screen_text(app)


async def test_hidden_pane_keeps_history_but_draws_nothing(sim, make_app):
    backend = FakeGpuBackend(1)
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        strip = app.query_one("ResourceStrip")
        await wait_for(pilot, lambda: backend.samples >= 8 and strip.updates >= 3)
        assert app.built_pane("monitor") is None  # not even built until first shown
        # /api/ps is not asked for a pane nobody looks at
        assert app.monitor.ps_latency is None
        assert app.sampler.last.history["gpu_util:0"].count(None) == 0
        await pilot.press("f3")
        p = pane(app)
        await wait_for(pilot, lambda: p.renders >= 1)
        await pilot.pause()
        # the bottom row of the utilization chart (left of the VRAM chart's axis)
        util_row = next(line for line in p.query_one(GpuCard).plain.splitlines() if "0%┤" in line).split("┤")[1]
        assert sum(ch in BARS for ch in util_row) >= 3  # the history collected while hidden is drawn
        await pilot.press("f1")
        await pilot.pause()
        hidden_at = p.renders
        seen = backend.samples
        await wait_for(pilot, lambda: backend.samples >= seen + 4)
        await pilot.pause()
        assert p.renders == hidden_at


async def test_only_changed_cells_are_repainted(sim, make_app):
    backend = FakeGpuBackend([gpu()])  # the same readings every time
    app = fast_app(make_app, sim.url, backend)
    app.sampler.set_window(2 * FAST)  # two samples of history: the sparklines are full at once
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app, samples=3)
        card = p.query_one(GpuCard)
        updates, cells = card.updates, card.cells_repainted
        start = p.renders
        await wait_for(pilot, lambda: p.renders >= start + 5)
        assert (card.updates, card.cells_repainted) == (updates, cells)  # nothing changed, nothing drawn
        backend.gpus = [gpu(util=36.0)]  # same sparkline bar as 37 %, one digit differs
        await wait_for(pilot, lambda: card.updates > updates)
        await pilot.pause()
        assert card.cells_repainted - cells == 1
        assert re.search(r"Util\s+36%", screen_text(app))


# --------------------------------------------------------------------------- Ollama card


async def test_loaded_models_from_ps(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend(1))
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app)
        await wait_for(pilot, lambda: "no model loaded" in screen_text(app))
        await app.client.load("llama3.2")
        await wait_for(pilot, lambda: p.latest.models and p.renders and "llama3.2" in screen_text(app))
        await pilot.pause()
        text = screen_text(app)
        assert "1 model loaded" in text
        assert re.search(r"llama3\.2:latest\s+\d+\.\d GB\s+100% GPU", text)
        assert re.search(r"latency \d+ ms", text)
        assert f"Ollama · {sim.url}" in text


async def test_ps_is_asked_at_most_every_two_seconds_however_fast_the_sampling(sim, make_app):
    from tui.ui.monitor.feed import PS_MAX_RATE

    app = fast_app(make_app, sim.url, FakeGpuBackend(1))
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app)
        loop = asyncio.get_running_loop()
        started, asked = loop.time(), len([r for r in sim.requests if r[1] == "/api/ps"])
        first = p.renders
        # more than one PS_MAX_RATE period, and many samples (0.05 s apart) in it
        await wait_for(pilot, lambda: loop.time() - started > 1.5 * PS_MAX_RATE and p.renders >= first + 30)
        elapsed = loop.time() - started
        asked = len([r for r in sim.requests if r[1] == "/api/ps"]) - asked
        assert 1 <= asked <= elapsed / PS_MAX_RATE + 1, (asked, elapsed)


async def test_server_down_is_shown_in_the_ollama_card(make_app):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = fast_app(make_app, f"http://127.0.0.1:{port}", FakeGpuBackend(1))
    async with app.run_test(size=(100, 30)) as pilot:
        p = await show_monitor(pilot, app)
        await wait_for(pilot, lambda: p.latest.ps_error is not None and p.renders >= 3)
        await pilot.pause()
        assert "loaded models:" in screen_text(app)
        assert re.search(rf"CPU\s+{PCT}", screen_text(app))


# --------------------------------------------------------------------------- keys and settings


async def test_per_core_cpu_on_demand(sim, make_app):
    app = fast_app(make_app, sim.url, FakeGpuBackend(0))
    async with app.run_test(size=(80, 24)) as pilot:
        await show_monitor(pilot, app)
        assert "#0 " not in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: "#0 " in screen_text(app))
        assert re.search(r"#0\s+\d+%", screen_text(app))
        await pilot.press("c")
        await wait_for(pilot, lambda: "#0 " not in screen_text(app))


async def test_saved_settings_change_interval_window_and_levels(sim, make_app):
    backend = FakeGpuBackend([gpu(used=12 * GiB)])  # 50 % VRAM
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app)
        for key, value in (("monitor.interval", 0.5), ("monitor.window", 60), ("monitor.vram_warn", 40.0)):
            assert app.config_store.set(key, value) == [], key
        app.config_store.save()
        app.apply_config()  # what Settings does after saving
        assert app.sampler.interval == 0.5 and app.sampler.window == 60
        await wait_for(pilot, lambda: p.query_one(GpuCard).has_class("-warn"))
        await pilot.pause()
        text = screen_text(app)
        assert re.search(r"VRAM\s+⚠ 50%", text)
        assert "every 0.5 s · 1 min of history" in text
        await wait_for(pilot, lambda: any("VRAM at 50%" in n for n in notes(app)))


async def test_quitting_shuts_the_gpu_backend_down(sim, make_app):
    backend = FakeGpuBackend(1)
    app = fast_app(make_app, sim.url, backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: backend.samples >= 2)
    assert backend.shutdown_calls >= 1
    assert not app.sampler.running


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_keys_are_in_the_footer(sim, make_app, size):
    app = fast_app(make_app, sim.url, FakeGpuBackend(1))
    async with app.run_test(size=size) as pilot:
        await show_monitor(pilot, app)
        footer = screen_text(app).splitlines()[-1]
        assert "p Pause/resume sampling" in footer and "c Per-core CPU" in footer


class OneSpike(FakeGpuBackend):
    """VRAM at 96 % for exactly one sample (the 5th), 50 % otherwise."""

    def sample(self):
        self.gpus = [gpu(used=int(23 * GiB)) if self.samples == 4 else gpu(used=12 * GiB)]
        return super().sample()


async def test_a_one_sample_spike_is_marked_but_not_notified(sim, make_app):
    backend = OneSpike([gpu()])
    app = fast_app(make_app, sim.url, backend)
    raised = []
    check = app.monitor._notify_alerts
    app.monitor._notify_alerts = lambda snap: (raised.extend(snap.alerts), check(snap))
    async with app.run_test(size=(80, 24)) as pilot:
        p = await show_monitor(pilot, app)
        await wait_for(pilot, lambda: backend.samples >= 15 and p.renders >= 10)
        assert [a.key for a in raised if a.metric == "vram"] == ["vram:0"]  # the watcher saw the spike...
        assert not [n for n in notes(app) if "VRAM" in n]  # ...but it was no news
        assert not p.query_one(GpuCard).has_class("-warn")
