"""Hosts as values, and the registry holding one live provider for the current host.

`Host` is what names a server: a name to show, its URL, the kind of provider that speaks to it
and the headers sent with every request (a token, say: never in its repr). `HostRegistry`
makes the provider for a host when first asked (`factory(host)`), keeps it while the host is
current, and on `switch` makes the new host's provider and closes the old one. Nothing holds a
client of its own: whoever needs the server asks the registry for `provider` when it does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from tui.service.providers.protocol import Provider

if TYPE_CHECKING:
    from tui.service.config.model import HostConfig

__all__ = ["Host", "HostRegistry", "ProviderFactory", "ollama_factory", "provider_factory", "SERVER_HOST"]

#: The name of the [server] host in the table when [hosts.<name>] tables are configured too.
SERVER_HOST = "default"

log = logging.getLogger(__name__)

#: How often a switched-away provider that a pull still holds is looked at again (seconds).
HELD_POLL = 0.25


@dataclass(frozen=True, slots=True)
class Host:
    """One server: `name` (shown), `url` (base URL), `kind` (which provider), `headers`,
    `api_key` (an OpenAI-compatible server's bearer token). Neither secret is in a repr."""

    name: str
    url: str
    kind: str = "ollama"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False, hash=False)
    api_key: str | None = field(default=None, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # A read-only copy: the caller's dict changing later does not change the host.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @classmethod
    def at(cls, url: str, *, kind: str = "ollama", headers: Mapping[str, str] | None = None) -> Host:
        """The host at `url`, named by it."""
        return cls(url, url, kind, dict(headers or {}))

    def moved_to(self, url: str) -> Host:
        """This host's kind and headers at another URL (the change-host dialog)."""
        return Host(url, url, self.kind, dict(self.headers), self.api_key)

    @classmethod
    def from_config(cls, config: HostConfig) -> Host:
        """A [hosts.<name>] table as a Host (its URL as requests go to it)."""
        from tui.service.hosts import parse_host

        return cls(config.name, parse_host(config.url), config.kind or "ollama", dict(config.headers),
                   config.api_key)

    def same_server(self, other: Host) -> bool:
        """The same URL, kind, headers and key: nothing a client was made from changed."""
        return (self.url, self.kind, dict(self.headers), self.api_key) == (
            other.url, other.kind, dict(other.headers), other.api_key)


ProviderFactory = Callable[[Host], Provider]


def ollama_factory(*, connect_timeout: float = 3.0, request_timeout: float = 30.0,
                   retries: int = 2, pull_stall_timeout: float | None = None) -> ProviderFactory:
    """A factory making an OllamaClient for an "ollama" host with these timeouts."""

    def make(host: Host) -> Provider:
        if host.kind != "ollama":
            raise ValueError(f"no provider for hosts of kind {host.kind!r}")
        from tui.service.ollama import OllamaClient

        stall = {} if pull_stall_timeout is None else {"pull_stall_timeout": pull_stall_timeout}
        return OllamaClient(host.url, headers=dict(host.headers), connect_timeout=connect_timeout,
                            request_timeout=request_timeout, retries=retries, **stall)

    return make


def provider_factory(*, connect_timeout: float = 3.0, request_timeout: float = 30.0,
                     retries: int = 2, pull_stall_timeout: float | None = None) -> ProviderFactory:
    """A factory making an OpenAIClient for an "openai" host (its API key passed, never logged)
    and an OllamaClient for any other."""
    ollama = ollama_factory(connect_timeout=connect_timeout, request_timeout=request_timeout,
                            retries=retries, pull_stall_timeout=pull_stall_timeout)

    def make(host: Host) -> Provider:
        if host.kind == "openai":
            from tui.service.openai.client import OpenAIClient

            return OpenAIClient(host.url, api_key=host.api_key, headers=dict(host.headers),
                                connect_timeout=connect_timeout, request_timeout=request_timeout)
        return ollama(host if host.kind == "ollama" else Host(host.name, host.url, "ollama", dict(host.headers)))

    return make


class HostRegistry:
    """The current host and its one live provider (see the module docstring).

    `provider` may be handed in for the first host (a test's client with short timeouts).
    `on_switch` callbacks get the new provider after a switch (a pull manager, say, that holds
    one)."""

    def __init__(self, host: Host, factory: ProviderFactory, *, provider: Provider | None = None,
                 known: Iterable[Host] = ()) -> None:
        self._host = host
        self._factory = factory
        self._provider = provider
        self._table: dict[str, Host] = {}
        self._fill(known)
        self._listeners: list[Callable[[Provider], None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._holds: dict[int, int] = {}  # id(provider) → the blocks holding it open (hold)
        self._ending = False

    @classmethod
    def fixed(cls, provider: Provider) -> HostRegistry:
        """A registry of the one host `provider` speaks to (a headless run's); no switching."""

        def refuse(host: Host) -> Provider:
            raise ValueError(f"this registry holds {provider.base_url} only, not {host.url}")

        return cls(Host.at(provider.base_url), refuse, provider=provider)

    def __repr__(self) -> str:
        return f"HostRegistry({self._host!r})"

    @property
    def host(self) -> Host:
        return self._host

    @property
    def provider(self) -> Provider:
        """The current host's provider (made on first use)."""
        if self._provider is None:
            self._provider = self._factory(self._host)
        return self._provider

    @property
    def key(self) -> str:
        """What identifies the current server in caches: the URL requests go to."""
        return self.provider.base_url

    # -- the host table ---------------------------------------------------------------------

    def _fill(self, known: Iterable[Host]) -> None:
        self._table = {h.name: h for h in known}

    @property
    def known(self) -> dict[str, Host]:
        """Every host the config names (and the [server] one), by name: a copy."""
        return dict(self._table)

    def named(self, name: str) -> Host | None:
        return self._table.get(name)

    @property
    def fleet(self) -> bool:
        """More than one host is known: names are worth showing."""
        return len(self._table) > 1

    def set_known(self, known: Iterable[Host]) -> bool:
        """Replace the table (the config was saved). The current host stays current when its name
        is still there; when its URL, kind, headers or key changed, it is switched to the new
        values. True when that switch happened."""
        self._fill(known)
        fresh = self._table.get(self._host.name) or next(
            (h for h in self._table.values() if h.same_server(self._host)), None)
        if fresh is not None and not fresh.same_server(self._host):
            self.switch(fresh)
            return True
        if fresh is not None:
            self._host = fresh
        return False

    @asynccontextmanager
    async def borrow(self, host: Host) -> AsyncIterator[Provider]:
        """A provider for `host` for a moment (the current one when `host` is current, else one
        made for it and closed afterwards): listing another host's models, a pull aimed there."""
        if host.name == self._host.name and host.same_server(self._host):
            async with self.hold(self.provider) as provider:  # a switch meanwhile waits for it
                yield provider
            return
        provider = self._factory(host)
        try:
            yield provider
        finally:
            await self._close(provider)

    @asynccontextmanager
    async def hold(self, provider: Provider) -> AsyncIterator[Provider]:
        """Keep `provider` open for the block even if its host is switched away meanwhile: a pull
        runs to its end on the server it started on (a switch closes the old provider once
        nothing holds it; the app's end closes it anyway)."""
        key = id(provider)
        self._holds[key] = self._holds.get(key, 0) + 1
        try:
            yield provider
        finally:
            self._holds[key] -= 1
            if not self._holds[key]:
                del self._holds[key]

    def on_switch(self, callback: Callable[[Provider], None]) -> None:
        self._listeners.append(callback)

    def switch(self, host: Host) -> Provider:
        """Make `host` current: its provider is made now; the old one is closed (in the
        background when an event loop runs; `aclose_retired` waits for that)."""
        new = self._factory(host)  # a bad URL raises here, and nothing changed
        old, self._host, self._provider = self._provider, host, new
        if old is not None:
            self._retire(old)
        for callback in list(self._listeners):
            callback(new)
        return new

    def _retire(self, old: Provider) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: nothing was opened that a loop would have to close
        task = loop.create_task(self._close(old))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, provider: Provider) -> None:
        while id(provider) in self._holds and not self._ending:
            await asyncio.sleep(HELD_POLL)  # a pull still runs on it
        try:
            await provider.aclose()
        except Exception:  # a broken pool must not break the switch
            log.warning("closing the old host's client failed", exc_info=True)

    async def aclose_retired(self) -> None:
        """Wait until the providers of earlier hosts are closed."""
        if self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    async def aclose(self) -> None:
        """Close the current provider (the app is ending) and the old ones, held or not."""
        self._ending = True
        await self.aclose_retired()
        if self._provider is not None:
            await self._provider.aclose()
