"""ConnectionMonitor against real sockets: up, down with backoff, recovery, retry now."""

from __future__ import annotations

import asyncio
import socket

from tui.service.connection import ConnectionMonitor
from tui.service.ollama import OllamaClient
from tui.simulator import Simulator


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_up_reports_version_and_latency(sim):
    changes = []
    async with OllamaClient(sim.url, retries=0) as client:
        monitor = ConnectionMonitor(client, changes.append)
        state = await monitor.check_once()
    assert state.up and state.version == "0.33.0" and state.latency is not None
    assert changes[-1] == state


async def test_down_backs_off_then_recovers_when_the_server_appears():
    port = _closed_port()
    changes = []
    async with OllamaClient(f"http://127.0.0.1:{port}", retries=0, connect_timeout=0.5) as client:
        monitor = ConnectionMonitor(client, changes.append, first_backoff=0.5, max_backoff=2.0)
        delays = [(await monitor.check_once()).retry_in for _ in range(4)]
        assert monitor.state.status == "down" and "not reachable" in monitor.state.error
        assert delays == [0.5, 1.0, 2.0, 2.0]
        with Simulator(port=port):
            state = await monitor.check_once()
        assert state.up and state.attempts == 0


async def test_retry_now_wakes_the_loop():
    port = _closed_port()
    changes = []
    async with OllamaClient(f"http://127.0.0.1:{port}", retries=0, connect_timeout=0.5) as client:
        monitor = ConnectionMonitor(client, changes.append, first_backoff=60, max_backoff=60)
        task = asyncio.create_task(monitor.run())
        try:
            while monitor.state.status != "down":
                await asyncio.sleep(0.01)
            with Simulator(port=port):
                monitor.retry_now()  # without this the next try is 60 s away
                async with asyncio.timeout(5):
                    while not monitor.state.up:
                        await asyncio.sleep(0.01)
        finally:
            task.cancel()


async def test_a_recent_ps_answer_stands_in_for_the_ping(sim):
    """While the Monitor asks /api/ps every few seconds, the watch sends no pings of its own;
    when those answers stop, it pings again."""
    changes = []
    async with OllamaClient(sim.url, retries=0) as client:
        monitor = ConnectionMonitor(client, changes.append, up_interval=5.0)
        assert (await monitor.check_once()).up
        pings = sum(1 for r in sim.requests if r[:2] == ("GET", "/"))
        assert pings == 1
        await client.ps()
        state = await monitor.check_once()
        assert state.up and state.latency is not None
        assert sum(1 for r in sim.requests if r[:2] == ("GET", "/")) == 1  # no new ping
        url, _at, latency = client.last_answer
        client.last_answer = (url, _at - 10.0, latency)  # that answer is older than the interval
        assert (await monitor.check_once()).up
        assert sum(1 for r in sim.requests if r[:2] == ("GET", "/")) == 2


async def test_an_answer_from_the_old_host_is_not_a_ping_of_the_new_one(sim):
    async with OllamaClient(sim.url, retries=0) as client:
        monitor = ConnectionMonitor(client, lambda s: None)
        assert (await monitor.check_once()).up
        await client.ps()
        with Simulator() as other:
            client.set_base_url(other.url)
            monitor.reset()
            assert (await monitor.check_once()).up
            assert [r[:2] for r in other.requests if r[:2] == ("GET", "/")] == [("GET", "/")]
