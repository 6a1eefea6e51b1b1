"""The Monitor's fleet section on the real App, against Ollama and OpenAI-compatible simulators and
exporter simulators (real dcgm-exporter / node_exporter / vLLM metric names and labels) on
127.0.0.1: a row for every host, remote GPU figures, loaded models, a vLLM host's load, a failing
exporter on its row, a host going down and coming back, a host added to the config file applied
without a restart, hostile labels shown as text, and no section (no watch) without [hosts]."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.service.monitor.gpu import FakeGpuBackend
from tui.service.ollama import OllamaClient
from tui.simulator import Simulator
from tui.simulator.exporter import Exporter
from tui.simulator.openai import OpenAISimulator
from tui.ui.monitor import fleet as fleet_module
from tui.ui.monitor.fleet import FleetCard
from tui.ui.monitor.pane import MonitorPane
from tui.ui.monitor.text import WARN, line_text

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def fast_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_module, "VISIBLE_INTERVAL", 0.2)
    monkeypatch.setattr(fleet_module, "PROBE_TIMEOUT", 1.0)
    monkeypatch.setattr(fleet_module, "VISIBLE_PROBE_RATE", 100.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def host_table(name: str, url: str, *, kind: str = "ollama", metrics: tuple[str, ...] = ()) -> str:
    lines = [f'[hosts."{name}"]', f'url = "{url}"', f'kind = "{kind}"']
    if metrics:
        lines.append("metrics = [" + ", ".join(f'"{m}"' for m in metrics) + "]")
    return "\n".join(lines) + "\n\n"


def write_config(tmp_path: Path, *tables: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text("".join(tables))
    return path


def fleet_card(app) -> FleetCard:
    return app.query_one(FleetCard)


def fleet_text(app) -> str:
    return fleet_card(app).plain


async def show_fleet(pilot, app) -> MonitorPane:
    await pilot.press("f3")
    pane = app.query_one(MonitorPane)
    card = fleet_card(app)
    await wait_for(pilot, lambda: card.display and card.lines)
    pane.scroll_to_widget(card, animate=False)
    return pane


async def test_every_host_has_its_row_gpus_models_serving_load_and_failing_exporter(sim, make_app, tmp_path):
    with Simulator(token_rate=0, version="0.9.1") as ws, Exporter(gpus=2, hostname="ws-node") as dcgm, \
            Exporter(gpus=1, node=False) as broken:
        dcgm.state.gpus[0].util, dcgm.state.gpus[0].used_mib = 93.0, 40_000
        dcgm.state.gpus[0].temperature, dcgm.state.gpus[0].power = 71.0, 312.0
        broken.state.status = 503
        vllm = OpenAISimulator().start()
        try:
            vllm.metrics.running, vllm.metrics.waiting, vllm.metrics.kv_cache = 3, 1, 0.42
            config = write_config(
                tmp_path,
                host_table("ws", ws.url, metrics=(dcgm.url + "/metrics",)),
                host_table("vllm-rack", vllm.url + "/v1", kind="openai", metrics=(vllm.url + "/metrics",)),
                host_table("flaky", sim.url, metrics=(broken.url + "/metrics",)),
            )
            async with OllamaClient(ws.url, retries=0) as client:  # a model loaded on ws
                await client.chat_once("llama3.2", [{"role": "user", "content": "hi"}])
            app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
            async with app.run_test(size=SIZE) as pilot:
                await show_fleet(pilot, app)
                await wait_for(pilot, lambda: "llama3.2:latest" in fleet_text(app) and "KV cache 42%" in fleet_text(app)
                               and "HTTP 503" in fleet_text(app) and "RAM 56.0 / 256.0 GiB" in fleet_text(app))
                vllm.metrics.generated_tokens += 4000  # the counter moves: a rate appears
                await wait_for(pilot, lambda: re.search(r"[1-9][\d,]* tok/s generated", fleet_text(app)))
                await pilot.pause()
                text = screen_text(app)
                assert "Fleet · 3 hosts · 3 up" in text
                assert re.search(r"● ws\s+up\s+Ollama 0\.9\.1\s+\d+ ms\s+" + re.escape(ws.url), text)
                assert re.search(r"Loaded\s+llama3\.2:latest \d+\.\d (?:MiB|GiB) VRAM", text)
                gpu0 = next(line for line in text.splitlines() if "GPU 0" in line and "93%" in line)
                assert "VRAM 39.1 / 79.6 GiB" in gpu0 and "71°C" in gpu0 and "312 W" in gpu0
                assert "NVIDIA H100 80GB HBM3" in gpu0 and "█" in gpu0  # its util sparkline, at 93 %
                assert re.search(r"GPU 1\s+0%", text)
                assert re.search(r"Node\s+CPU\s+25%\s+RAM 56\.0 / 256\.0 GiB \(22%\)\s+load 0\.50", text)
                assert re.search(r"● vllm-rack\s+up\s+OpenAI-compatible\s+\d+ ms", text)
                assert re.search(r"vLLM\s+3 running · 1 waiting · KV cache 42% · [1-9][\d,]* tok/s generated", text)
                assert f"⚠ exporter {broken.url}/metrics: HTTP 503 exporter failure" in text
                assert re.search(r"● flaky\s+up", text)  # its exporter failing does not make it down
        finally:
            vllm.stop()


async def test_a_host_going_down_and_coming_back_on_its_row(sim, make_app, tmp_path):
    port = free_port()
    box = Simulator(port=port, token_rate=0).start()
    config = write_config(tmp_path, host_table("box", f"http://127.0.0.1:{port}"), host_table("other", sim.url))
    app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await show_fleet(pilot, app)
            await wait_for(pilot, lambda: re.search(r"● box\s+up", fleet_text(app)))
            box.stop()
            await wait_for(pilot, lambda: re.search(r"✕ box\s+down\s+Ollama not reachable at", fleet_text(app)))
            text = screen_text(app)
            assert "Fleet · 2 hosts · 1 up · ✕ 1 down" in text
            assert re.search(r"● other\s+up", text)  # the rest go on
            box = Simulator(port=port, token_rate=0).start()
            await wait_for(pilot, lambda: re.search(r"● box\s+up", fleet_text(app)))
            assert "Fleet · 2 hosts · 2 up" in screen_text(app)
    finally:
        box.stop()


async def test_a_host_added_to_the_config_file_appears_without_a_restart(sim, make_app, tmp_path):
    with Simulator(token_rate=0, version="0.7.7") as new, Exporter(gpus=1) as gpus:
        gpus.state.gpus[0].name, gpus.state.gpus[0].util = "NVIDIA L40S", 61.0
        config = write_config(tmp_path, host_table("first", sim.url))
        app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
        async with app.run_test(size=SIZE) as pilot:
            await show_fleet(pilot, app)
            await wait_for(pilot, lambda: re.search(r"● first\s+up", fleet_text(app)))
            # what Settings does when the raw file is saved: write it, then apply it
            app.config_store.save_text(config.read_text() + host_table("added", new.url,
                                                                        metrics=(gpus.url + "/dcgm",)))
            app.apply_config()
            await wait_for(pilot, lambda: re.search(r"● added\s+up\s+Ollama 0\.7\.7", fleet_text(app))
                           and "NVIDIA L40S" in fleet_text(app))
            assert re.search(r"GPU 0\s+61%", screen_text(app))
            assert re.search(r"● first\s+up", screen_text(app))  # kept, not restarted
            # and removed again
            app.config_store.save_text(host_table("first", sim.url))
            app.apply_config()
            await wait_for(pilot, lambda: "added" not in fleet_text(app))
            assert "Fleet · 1 host · 1 up" in screen_text(app)


async def test_hostile_labels_and_names_are_shown_as_text(sim, make_app, tmp_path):
    hostile = "[bold red]x[/]\x1b[2J\x07"
    with Exporter(gpus=1, hostile=hostile) as gpus:
        gpus.state.gpus[0].name = "H100"
        config = write_config(tmp_path, host_table("[b]evil[/b]", sim.url, metrics=(gpus.url + "/metrics",)))
        app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
        async with app.run_test(size=SIZE) as pilot:
            await show_fleet(pilot, app)
            await wait_for(pilot, lambda: "H100" in fleet_text(app))
            await pilot.pause()
            text = screen_text(app)
            assert "H100[bold red]x[/]␛[2J␇" in text  # the label as written, its controls shown
            assert re.search(r"● \[b\]evil\[/b\]\s+up", text)


async def test_no_hosts_no_fleet_section_and_no_watch(sim, make_app):
    app = make_app(sim.url, gpu_backend=FakeGpuBackend([]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        pane = app.query_one(MonitorPane)
        await wait_for(pilot, lambda: pane.renders >= 1)
        assert not fleet_card(app).display and app.fleet.watcher is None
        assert "Fleet" not in screen_text(app)


async def test_the_watch_slows_down_while_the_monitor_is_hidden_and_draws_nothing(sim, make_app, tmp_path):
    config = write_config(tmp_path, host_table("one", sim.url))
    app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
    async with app.run_test(size=SIZE) as pilot:
        pane = await show_fleet(pilot, app)
        await wait_for(pilot, lambda: re.search(r"● one\s+up", fleet_text(app)))
        assert app.fleet.watcher.interval == 0.2
        await pilot.press("f1")
        assert app.fleet.watcher.interval == fleet_module.HIDDEN_INTERVAL
        drawn = pane.fleet_renders
        app.fleet.watcher.poke()  # a probe ends while hidden: remembered, not drawn
        published = app.fleet.published
        await wait_for(pilot, lambda: app.fleet.published > published)
        await pilot.pause()
        assert pane.fleet_renders == drawn
        await pilot.press("f3")
        assert app.fleet.watcher.interval == 0.2
        await wait_for(pilot, lambda: pane.fleet_renders > drawn)


async def test_the_title_says_the_pace_and_the_exporters_are_read_at_once_when_shown_again(sim, make_app, tmp_path):
    """Exporters every 2nd probe (0.2 s here: every 0.4 s), said in the section's title; hidden,
    the watch slows to 20 s, and coming back to the Monitor reads the exporters at once."""
    with Exporter(gpus=1) as gpus:
        gpus.state.gpus[0].util = 11.0
        config = write_config(tmp_path, host_table("one", sim.url, metrics=(gpus.url + "/dcgm",)))
        app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
        async with app.run_test(size=SIZE) as pilot:
            await show_fleet(pilot, app)
            await wait_for(pilot, lambda: re.search(r"GPU 0\s+11%", fleet_text(app)))
            await pilot.pause()
            assert "Fleet · 1 host · 1 up · every 0.2 s, exporters every 0.4 s" in screen_text(app)
            await pilot.press("f1")
            assert app.fleet.watcher.interval == fleet_module.HIDDEN_INTERVAL
            gpus.state.gpus[0].util = 66.0
            await pilot.press("f3")
            # well within the hidden pace: the poke reads the exporters whatever the probe count
            # (the strict count is tests/service/test_fleet.py's cadence test)
            await wait_for(pilot, lambda: re.search(r"GPU 0\s+66%", fleet_text(app)), timeout=5)


async def test_an_unchanged_host_is_not_rebuilt_nor_repainted(sim, make_app, tmp_path):
    """Two hosts; only one changes: the other's lines are reused and its cells left alone."""
    with Exporter(gpus=1) as gpus:
        config = write_config(tmp_path, host_table("a", sim.url, metrics=(gpus.url + "/dcgm",)),
                              host_table("b", sim.url))
        app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
        async with app.run_test(size=SIZE) as pilot:
            await show_fleet(pilot, app)
            card = fleet_card(app)
            await wait_for(pilot, lambda: "GPU 0" in card.plain and re.search(r"● b\s+up", card.plain))
            gpus.state.gpus[0].util = 77.0
            await wait_for(pilot, lambda: re.search(r"GPU 0\s+77%", card.plain))
            before = card.cells_repainted
            lines = card.lines
            gpus.state.gpus[0].util = 55.0
            await wait_for(pilot, lambda: re.search(r"GPU 0\s+55%", card.plain))
            # far fewer cells than the card holds (latency digits, the 77→55 and the sparklines)
            assert card.cells_repainted - before < card.size.width * len(lines) // 2


def test_the_pace_keeps_a_large_fleet_under_its_probe_rate(monkeypatch: pytest.MonkeyPatch):
    """2 s per host while shown, 20 s hidden; 32 hosts: every 8 s shown (4 probes/s), 32 s hidden."""
    from types import SimpleNamespace

    monkeypatch.setattr(fleet_module, "VISIBLE_INTERVAL", 2.0)
    monkeypatch.setattr(fleet_module, "VISIBLE_PROBE_RATE", 4.0)
    feed = fleet_module.FleetFeed.__new__(fleet_module.FleetFeed)
    for hosts, shown, hidden in ((3, 2.0, 20.0), (8, 2.0, 20.0), (32, 8.0, 32.0)):
        feed._config = SimpleNamespace(hosts={f"h{i}": None for i in range(hosts)})
        feed.visible = True
        assert feed.interval == shown
        feed.visible = False
        assert feed.interval == hidden


async def test_a_remote_gpu_over_the_warning_levels_is_shown_in_warning_colours(sim, make_app, tmp_path):
    with Exporter(gpus=2) as dcgm:
        hot = dcgm.state.gpus[0]
        hot.used_mib, hot.temperature = 78_000, 91.0  # 95 % of 80 GB; [monitor] warns at 90 % and 85 °C
        config = write_config(tmp_path, "[monitor]\nvram_warn = 90\ngpu_temp_warn = 85\n\n",
                              host_table("rack", sim.url, metrics=(dcgm.url + "/metrics",)))
        app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend([]))
        async with app.run_test(size=SIZE) as pilot:
            await show_fleet(pilot, app)
            await wait_for(pilot, lambda: re.search(r"GPU 1\s+0%", fleet_text(app)))
            lines = fleet_card(app).lines
            hot_line = next(line for line in lines if "⚠ GPU 0" in line_text(line))
            warned = {part[0].strip() for part in hot_line if isinstance(part, tuple) and part[1] == WARN}
            assert {"76.2 / 79.6 GiB", "91°C"} <= warned
            cool = next(line for line in lines if "GPU 1" in line_text(line))
            assert "⚠" not in line_text(cool)
            assert not any(isinstance(part, tuple) and part[1] == WARN for part in cool)
