"""The fleet watch against several Ollama simulators and exporters on loopback: a row per host
with version, latency, loaded models and remote GPUs; a host going down and coming back; a dead
host costing one probe at a time, never a pile of them."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

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


async def test_an_openai_compatible_host_is_up_from_a_ping_and_shows_its_serving_load():
    """No /api/ps there (FeatureUnavailable): the row is up from /v1/models, without loaded models,
    and its vLLM /metrics give running/waiting/KV-cache and the generated tokens/s."""
    from tui.service.openai import OpenAIClient
    from tui.simulator.openai import OpenAISimulator

    sim = OpenAISimulator(api_key="k").start()
    try:
        sim.metrics.running, sim.metrics.waiting, sim.metrics.kv_cache = 3, 1, 0.42
        client = OpenAIClient(sim.url + "/v1", api_key="k")
        watcher, seen, task = await watch([FleetHost("vllm", client, metrics=(sim.url + "/metrics",))],
                                          interval=0.1)
        try:
            await wait_until(lambda: (r := watcher.snapshot.row("vllm")).up and r.box.serving is not None)
            row = watcher.snapshot.row("vllm")
            assert (row.kind, row.has_ps, row.loaded, row.version) == ("openai", False, (), "OpenAI-compatible server")
            assert row.latency is not None and row.error is None
            serving = row.box.serving
            assert (serving.engine, serving.running, serving.waiting, serving.kv_cache) == ("vllm", 3, 1, 0.42)
            sim.metrics.generated_tokens += 500
            await wait_until(lambda: (watcher.snapshot.row("vllm").box.serving.generation_rate or 0) > 0)
        finally:
            await stop(task, client)
    finally:
        sim.stop()


async def test_fleet_hosts_are_made_from_the_config_and_kept_across_changes():
    from tui.service.config.model import HostConfig
    from tui.service.fleet import FleetHosts, exporter_headers
    from tui.service.ollama import OllamaClient as Ollama
    from tui.service.openai import OpenAIClient

    hosts = FleetHosts()
    ws = HostConfig("ws", "http://ws:11434", metrics=("http://ws:9400/metrics",), headers={"X-T": "1"})
    rack = HostConfig("rack", "http://rack:8000/v1", kind="openai", api_key="sk",
                      prometheus_labels={"Hostname": "rack"})
    assert hosts.update({"ws": ws, "rack": rack}) == []
    first = {h.name: h for h in hosts.hosts}
    assert isinstance(first["ws"].client, Ollama) and isinstance(first["rack"].client, OpenAIClient)
    assert first["ws"].headers == {"X-T": "1"} and first["rack"].matchers == {"Hostname": "rack"}
    moved = HostConfig("rack", "http://rack2:8000/v1", kind="openai")
    stale = hosts.update({"ws": ws, "rack": moved})
    assert stale == [first["rack"].client]  # the changed host's client is handed back to close
    assert {h.name: h for h in hosts.hosts}["ws"] is first["ws"]  # the unchanged one is kept
    await hosts.aclose()
    assert hosts.hosts == []
    # a token for the server is not sent to an exporter elsewhere (or over plain HTTP)
    https = HostConfig("s", "https://gpu1.lan", metrics=("http://gpu1.lan:9400/metrics",),
                       headers={"Authorization": "Bearer t"})
    assert exporter_headers(https) == {}


async def test_exporters_are_read_every_nth_probe_and_at_once_when_poked():
    """/api/ps every probe; the exporter page every 3rd probe of the host (its 1st, 4th…), and on
    the probe after a poke (the Monitor shown again). Counted at both simulators at the end of
    each probe (one host: no other probe of it is in flight then)."""
    with Simulator(token_rate=0) as sim, Exporter(gpus=1) as gpus:
        gpus.state.gpus[0].util = 40.0
        client = OllamaClient(sim.url, retries=0)
        counts: list[tuple[int, int]] = []  # (/api/ps answered, exporter pages served)
        rows = []

        def seen(snapshot: FleetSnapshot) -> None:
            counts.append((sum(1 for r in sim.requests if r[1] == "/api/ps"), len(gpus.requests)))
            rows.append(snapshot.row("box"))
            if len(counts) == 5:
                watcher.poke()

        watcher = FleetWatcher([FleetHost("box", client, metrics=(gpus.url + "/metrics",))], seen,
                               interval=0.02, exporter_every=3)
        task = asyncio.create_task(watcher.run())
        try:
            await wait_until(lambda: len(counts) >= 9, timeout=10)
        finally:
            await stop(task, client)
    assert counts[:9] == [(1, 1), (2, 1), (3, 1), (4, 2), (5, 2), (6, 3), (7, 3), (8, 3), (9, 4)]
    # between reads the last reading stays on the row; the history grows by one per read
    assert all(r.box.gpus and r.box.gpus[0].util == 40.0 for r in rows[:9])
    assert [r.samples for r in rows[:9]] == [1, 1, 1, 2, 2, 3, 3, 3, 4]
    assert [len(r.gpu_util[0]) for r in rows[:9]] == [1, 1, 1, 2, 2, 3, 3, 3, 4]
    assert (watcher.snapshot.interval, watcher.snapshot.exporter_interval) == (0.02, pytest.approx(0.06))


class _Clock:
    """httpcore's clock, moved on at will (its keep-alive expiry reads time.monotonic)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


@pytest.mark.parametrize("fleet_clients", [True, False])
async def test_probes_further_apart_than_httpx_keeps_a_connection_still_reuse_it(monkeypatch, fleet_clients):
    """httpx keeps an idle connection 5 s; a host of a 32-host fleet is probed every 8 s. The
    fleet's clients and exporter readers keep theirs for KEEPALIVE, so each probe does not connect
    again. httpcore's clock is moved on 10 s after each probe; the control (httpx's defaults)
    connects at every probe."""
    from httpcore._async import http11

    from tui.service.config.model import HostConfig
    from tui.service.fleet import KEEPALIVE, make_client
    from tui.service.metrics.reader import MetricsReader

    clock = _Clock()
    monkeypatch.setattr(http11, "time", clock)
    with Simulator(token_rate=0) as sim, Exporter(gpus=1) as gpus:
        if fleet_clients:
            client, reader = make_client(HostConfig("box", sim.url)), None
        else:
            client, reader = OllamaClient(sim.url, retries=0), MetricsReader()
        done = []

        def seen(snapshot: FleetSnapshot) -> None:
            done.append(snapshot)
            clock.ahead += 10.0

        watcher = FleetWatcher([FleetHost("box", client, metrics=(gpus.url + "/metrics",))], seen,
                               interval=0.02, exporter_every=1, reader=reader)
        task = asyncio.create_task(watcher.run())
        try:
            await wait_until(lambda: len(done) >= 4, timeout=10)
        finally:
            await stop(task, client)  # the watcher closes its reader
        probes = len(done)
        if fleet_clients:
            assert KEEPALIVE > 10.0 and (sim.connections, gpus.connections) == (1, 1)
        else:
            assert sim.connections >= probes - 1 and gpus.connections >= probes - 1


async def test_each_host_has_its_own_exporter_connection_and_a_removed_host_closes_it():
    """One reader (one kept-alive connection) per host; a host no longer watched leaves no
    connection open to its exporter, and the others keep theirs."""
    with Simulator(token_rate=0) as sim, Exporter(gpus=1) as ea, Exporter(gpus=1) as eb:
        ca, cb = OllamaClient(sim.url, retries=0), OllamaClient(sim.url, retries=0)
        a, b = FleetHost("a", ca, metrics=(ea.url + "/metrics",)), FleetHost("b", cb, metrics=(eb.url + "/metrics",))
        watcher, _seen, task = await watch([a, b], interval=0.02, exporter_every=1)
        try:
            await wait_until(lambda: len(ea.requests) >= 3 and len(eb.requests) >= 3, timeout=10)
            assert (ea.connections, eb.connections) == (1, 1)
            watcher.set_hosts([b])
            await wait_until(lambda: ea.open_connections == 0, timeout=5)
            served = len(eb.requests)
            await wait_until(lambda: len(eb.requests) >= served + 3, timeout=10)
            assert eb.connections == 1 and eb.open_connections == 1
        finally:
            await stop(task, ca, cb)
