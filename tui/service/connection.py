"""Watches whether the Ollama server answers: version, round-trip latency, reconnect with backoff."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Callable, Literal, Protocol

from tui.service.ollama.errors import OllamaError

Status = Literal["connecting", "up", "down"]


class _Pingable(Protocol):
    base_url: str
    #: (base URL, monotonic time, round-trip seconds) of the last light request answered.
    last_answer: tuple[str, float, float] | None

    async def ping(self) -> float: ...
    async def version(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ConnectionState:
    status: Status
    host: str
    version: str | None = None
    latency: float | None = None  # seconds, last successful round trip
    error: str | None = None  # why the last attempt failed (when down)
    retry_in: float | None = None  # seconds until the next attempt (when down)
    attempts: int = 0  # consecutive failed attempts

    @property
    def up(self) -> bool:
        return self.status == "up"


class ConnectionMonitor:
    """Polls the server: every `up_interval` while it answers, with exponential backoff while not.

    `on_change` is called (in the event loop) whenever the state changes in a way a user sees.
    """

    def __init__(
        self,
        client: _Pingable,
        on_change: Callable[[ConnectionState], None],
        *,
        up_interval: float = 5.0,
        first_backoff: float = 0.5,
        max_backoff: float = 15.0,
    ) -> None:
        self.client = client
        self.on_change = on_change
        self.up_interval = up_interval
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.state = ConnectionState("connecting", client.base_url)
        self._wake = asyncio.Event()

    def retry_now(self) -> None:
        """Skip the current wait and try again at once."""
        self._wake.set()

    def reset(self) -> None:
        """The host changed: start over as 'connecting'."""
        self._set(ConnectionState("connecting", self.client.base_url))
        self._wake.set()

    def _set(self, state: ConnectionState) -> None:
        if state != self.state:
            self.state = state
            self.on_change(state)

    def _recent_answer(self, host: str) -> float | None:
        """The round trip of a light request to ``host`` answered within the last interval
        (the Monitor's `/api/ps`, say): proof enough that the server is up, without a ping."""
        recent = self.client.last_answer
        if not (self.state.up and self.state.host == host and recent is not None):
            return None
        url, at, latency = recent
        return latency if url == host and time.monotonic() - at < self.up_interval else None

    async def check_once(self) -> ConnectionState:
        """One probe (or a recent answer to another request); updates and returns the state."""
        host = self.client.base_url
        try:
            latency = self._recent_answer(host)
            if latency is None:
                started = time.perf_counter()
                await self.client.ping()
                latency = time.perf_counter() - started
            version = self.state.version if self.state.up and self.state.host == host else None
            if version is None:
                version = await self.client.version()
        except OllamaError as exc:
            attempts = self.state.attempts + 1 if self.state.status == "down" else 1
            delay = min(self.max_backoff, self.first_backoff * 2 ** (attempts - 1))
            self._set(ConnectionState("down", host, error=exc.message, retry_in=delay, attempts=attempts))
        else:
            new = ConnectionState("up", host, version=version, latency=latency)
            # Latency jitter alone is not worth a repaint storm: report it, but only
            # when it moved by more than a millisecond.
            old = self.state
            if old.up and old.version == version and old.latency is not None and abs(old.latency - latency) < 0.001:
                self.state = replace(new, latency=old.latency)
            else:
                self._set(new)
        return self.state

    async def run(self) -> None:
        while True:
            state = await self.check_once()
            delay = self.up_interval if state.up else (state.retry_in or self.first_backoff)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
