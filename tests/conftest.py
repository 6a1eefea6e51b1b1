"""Shared fixtures: a running simulator, a client on it, and an isolated HOME."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from tests.waiting import wait_until
from tui.service.ollama import OllamaClient


@pytest.fixture(autouse=True)
def _robust_pilot_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot's wait after a key press counts widgets removed meanwhile as done (tests/pilot_wait.py)."""
    from tests import pilot_wait

    pilot_wait.install(monkeypatch)


@pytest.fixture
def sim():
    """A started Simulator on a random loopback port, as fast as possible; stopped afterwards."""
    from tui.simulator import Simulator

    simulator = Simulator(port=0, token_rate=0, pull_rate=1e12, pull_tick=0.001).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest_asyncio.fixture
async def client(sim):
    """An OllamaClient on the simulator, with short backoff so retry tests stay fast."""
    c = OllamaClient(sim.url, connect_timeout=2.0, request_timeout=10.0, retries=2, backoff=0.01)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
def tmp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and the XDG dirs inside a temp dir; OLLAMA_HOST unset."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        path = home / sub
        path.mkdir(parents=True)
        monkeypatch.setenv(var, str(path))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    return home


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    """`await until(lambda: cond)`: a bounded wait on an observable condition."""
    return wait_until
