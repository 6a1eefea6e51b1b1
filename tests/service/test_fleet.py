"""The fleet watch against several Ollama simulators and exporters on loopback: a row per host
with version, latency, loaded models and remote GPUs; a host going down and coming back; a dead
host costing one probe at a time, never a pile of them."""

from __future__ import annotations

import asyncio
import socket

from tests.conftest import wait_until
from tui.service.fleet import FleetHost, FleetSnapshot, FleetWatcher
from tui.service.ollama import OllamaClient
from tui.simulator import Simulator
from tui.simulator.exporter import Exporter


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def watch(hosts, **kw) -> tuple[FleetWatcher, list[FleetSnapshot], asyncio.Task]:
    seen: list[FleetSnapshot] = []
    watcher = FleetWatcher(hosts, seen.append, **kw)
    return watcher, seen, asyncio.create_task(watcher.run())


async def stop(task: asyncio.Task, *clients) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    for c in clients:
        await c.aclose()


async def test_every_host_has_a_row_with_its_version_models_and_gpus():
    with Simulator(token_rate=0, version="0.9.1") as a, Simulator(token_rate=0) as b, Exporter(gpus=2) as gpus:
        gpus.state.gpus[0].util = 93.0
        ca, cb = OllamaClient(a.url, retries=0), OllamaClient(b.url, retries=0)
        await ca.chat_once("llama3.2", [{"role": "user", "content": "hi"}])  # loads a model on a
        watcher, seen, task = await watch([FleetHost("ws", ca, metrics=(gpus.url + "/metrics",)),
                                           FleetHost("rack", cb)], interval=0.1)
        try:
            await wait_until(lambda: len(seen) > 0 and all(r.up for r in seen[-1].rows)
                             and seen[-1].row("ws").box.gpus, timeout=10)
            ws, rack = seen[-1].rows
            assert (ws.name, ws.version, rack.version) == ("ws", "0.9.1", "0.33.0")
            assert [m.name for m in ws.loaded] == ["llama3.2:latest"] and ws.loaded[0].size_vram > 0
            assert rack.loaded == () and ws.latency is not None and ws.latency < 1
            assert [g.util for g in ws.box.gpus] == [93.0, 0.0] and ws.box.gpus[0].name.startswith("NVIDIA H100")
            await wait_until(lambda: len(watcher.snapshot.row("ws").gpu_util[0]) >= 3, timeout=10)
            assert set(watcher.snapshot.row("ws").gpu_util[0]) == {93.0}  # a short history per GPU
        finally:
            await stop(task, ca, cb)


async def test_a_host_that_goes_down_says_so_on_its_row_and_comes_back():
    port = closed_port()
    client = OllamaClient(f"http://127.0.0.1:{port}", retries=0, connect_timeout=0.3)
    with Simulator(token_rate=0) as other:
        oc = OllamaClient(other.url, retries=0)
        watcher, seen, task = await watch([FleetHost("gone", client), FleetHost("fine", oc)], interval=0.1)
        try:
            await wait_until(lambda: watcher.snapshot.row("gone").status == "down"
                             and watcher.snapshot.row("fine").up, timeout=10)
            assert "not reachable" in watcher.snapshot.row("gone").error
            with Simulator(port=port, token_rate=0):
                await wait_until(lambda: watcher.snapshot.row("gone").up, timeout=10)
                assert watcher.snapshot.row("gone").version == "0.33.0"
        finally:
            await stop(task, client, oc)


async def test_a_host_that_hangs_costs_one_probe_at_a_time():
    """A listening socket that never answers: each probe waits its timeout; no new probe for that
    host starts while one is in flight, so probes started ≈ elapsed / timeout, not / interval."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        client = OllamaClient(f"http://127.0.0.1:{silent.getsockname()[1]}", retries=0)
        watcher, seen, task = await watch([FleetHost("hung", client)], interval=0.05, probe_timeout=0.5)
        try:
            await wait_until(lambda: watcher.snapshot.row("hung").status == "down", timeout=5)
            assert watcher.snapshot.row("hung").error == "no answer within 0.5 s"
            assert watcher.probes_started <= 2  # ~10 ticks went by; one probe was in flight
        finally:
            await stop(task, client)


async def test_an_exporter_that_fails_is_named_and_the_host_still_counts_as_up():
    with Simulator(token_rate=0) as sim, Exporter(gpus=1) as broken:
        broken.state.status = 503
        client = OllamaClient(sim.url, retries=0)
        watcher, seen, task = await watch([FleetHost("box", client, metrics=(broken.url + "/metrics",))],
                                          interval=0.1)
        try:
            await wait_until(lambda: watcher.snapshot.row("box").up and watcher.snapshot.row("box").box.errors,
                             timeout=10)
            assert watcher.snapshot.row("box").box.errors == (f"{broken.url}/metrics: HTTP 503 exporter failure",)
        finally:
            await stop(task, client)


async def test_hosts_added_and_removed_apply_without_a_restart():
    with Simulator(token_rate=0) as a, Simulator(token_rate=0) as b:
        ca, cb = OllamaClient(a.url, retries=0), OllamaClient(b.url, retries=0)
        watcher, seen, task = await watch([FleetHost("a", ca)], interval=5.0)
        try:
            await wait_until(lambda: watcher.snapshot.row("a") is not None and watcher.snapshot.row("a").up)
            watcher.set_hosts([FleetHost("a", ca), FleetHost("b", cb)])
            await wait_until(lambda: watcher.snapshot.row("b") is not None and watcher.snapshot.row("b").up,
                             timeout=3)  # at once, not at the next 5 s tick
            watcher.set_hosts([FleetHost("b", cb)])
            assert [r.name for r in watcher.snapshot.rows] == ["b"]
        finally:
            await stop(task, ca, cb)
