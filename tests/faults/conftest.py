"""Fault-suite fixtures: keep Pilot's idle waits short while an in-process simulator streams."""

from __future__ import annotations

import socket

import pytest

from tests.ui.conftest import make_app  # noqa: F401 - the Pilot fixture, shared


@pytest.fixture(autouse=True)
def bounded_idle_wait(monkeypatch):
    """Pilot waits after each key until the *process* is idle (up to 1 s). A simulator streaming in
    this process never looks idle, so cap the wait; every check waits on a condition instead."""
    import textual.app
    import textual.pilot
    from textual._wait import wait_for_idle

    async def short_wait(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
        await wait_for_idle(min_sleep, min(max_sleep, 0.05))

    for module in (textual.app, textual.pilot):
        monkeypatch.setattr(module, "wait_for_idle", short_wait)


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fast_reconnect(app) -> None:
    """Probe the server often, so a test sees it go and come back in well under a second."""
    app.connection.up_interval = 0.1
    app.connection.first_backoff = 0.05
    app.connection.max_backoff = 0.2
