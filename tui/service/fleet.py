"""Watches a fleet of hosts at once: for each, is it up, its version and latency, what it has
loaded (and how much VRAM that holds), and what its exporters say (GPUs, CPU/RAM, serving load).

One probe in flight per host: a host that does not answer costs its own row and nothing else (a
probe still running at the next tick is not started again, so timeouts never stack up). Each
update is an immutable `FleetSnapshot` handed to `on_update` in the event loop.

A probe asks the server (`/api/ps`, its version once it is up); its exporters are read every
`exporter_every`-th probe of that host (its first, and the first after `poke`): a page of
GPU figures costs more than the server's answer (a request and a parse), and a GPU's load is
worth reading every few seconds, not every probe.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from tui.service.metrics.box import BoxMetrics, read_box
from tui.service.metrics.reader import MetricsReader
from tui.service.ollama.errors import OllamaError
from tui.service.ollama.types import RunningModel

if TYPE_CHECKING:
    from tui.service.config.model import HostConfig
    from tui.service.providers.protocol import Provider

#: Samples of history kept per GPU (one per exporter read: at the default pace, four minutes).
HISTORY = 60
#: The exporters of a host are read every this many probes of it.
EXPORTER_EVERY = 2
#: Seconds an idle connection to a host or an exporter is kept for its next probe: longer than
#: the slowest pace (httpx keeps one 5 s, less than a probe period of a large fleet: each probe
#: connected again).
KEEPALIVE = 120.0


class FleetClient(Protocol):
    """What the fleet watch needs of a host's client (every `Provider` has it). A client whose
    `supports("ps")` is false (an OpenAI-compatible server) is asked `ping()` instead of `ps()`."""

    base_url: str
    kind: str

    def supports(self, feature: str) -> bool: ...
    async def ping(self) -> float: ...
    async def version(self) -> str: ...
    async def ps(self) -> list[RunningModel]: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FleetHost:
    """A host as the fleet watch sees it: its name, client, exporter endpoints and, for those who
    query a Prometheus server instead, the label matchers that pick its series there."""

    name: str
    client: FleetClient
    metrics: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    matchers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HostRow:
    name: str
    url: str
    status: str = "connecting"  # "connecting" | "up" | "down"
    kind: str = "ollama"  # the client's kind ("openai": no loaded models to ask for)
    version: str | None = None
    latency: float | None = None  # seconds (the /api/ps round trip)
    loaded: tuple[RunningModel, ...] = ()
    error: str | None = None  # why it is down
    box: BoxMetrics = field(default_factory=BoxMetrics)
    gpu_util: tuple[tuple[float, ...], ...] = ()  # per GPU, oldest first (short history)
    gpu_vram: tuple[tuple[float, ...], ...] = ()  # per GPU, % of its VRAM
    at: float = 0.0
    samples: int = 0  # exporter reads recorded for this host so far (the newest history entry's number + 1)

    @property
    def up(self) -> bool:
        return self.status == "up"

    @property
    def has_ps(self) -> bool:
        """Whether `loaded` is what the server said (an OpenAI-compatible server has no /api/ps)."""
        return self.kind == "ollama"


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    rows: tuple[HostRow, ...] = ()
    interval: float = 0.0  # seconds between two probes of a host
    exporter_every: int = 1  # its exporters are read every this many probes

    @property
    def exporter_interval(self) -> float:
        """Seconds between two reads of a host's exporters."""
        return self.interval * self.exporter_every

    def row(self, name: str) -> HostRow | None:
        return next((r for r in self.rows if r.name == name), None)


class FleetWatcher:
    def __init__(self, hosts: Sequence[FleetHost], on_update: Callable[[FleetSnapshot], None], *,
                 interval: float = 2.0, prometheus: str | None = None, probe_timeout: float | None = None,
                 reader: MetricsReader | None = None, exporter_every: int = EXPORTER_EVERY) -> None:
        self.on_update = on_update
        self.interval = interval
        self.exporter_every = max(1, exporter_every)
        self.prometheus = prometheus
        self.probe_timeout = probe_timeout if probe_timeout is not None else max(1.0, interval * 2)
        # One reader (one connection pool) per host: httpx checks every idle connection of a pool
        # at each request, so one pool for a fleet's exporters checked them all at every read.
        self._shared_reader = reader
        self._readers: dict[str, MetricsReader] = {}
        self._closing: list[MetricsReader] = []  # readers of hosts no longer watched
        self._hosts: list[FleetHost] = []
        self._rows: dict[str, HostRow] = {}
        self._history: dict[str, tuple[list[deque[float]], list[deque[float]]]] = {}
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._samples: dict[str, int] = {}
        self._probes: dict[str, int] = {}  # probes of each host since its exporters were last due
        self.probes_started = 0  # observable: a dead host must not pile probes up
        self._wake = asyncio.Event()
        self.set_hosts(hosts)

    @property
    def snapshot(self) -> FleetSnapshot:
        return FleetSnapshot(tuple(self._rows[h.name] for h in self._hosts if h.name in self._rows),
                             self.interval, self.exporter_every)

    def set_hosts(self, hosts: Sequence[FleetHost]) -> None:
        """Watch these hosts from now on (a config change): rows of hosts that stay are kept."""
        names = {h.name for h in hosts}
        for name in [n for n in self._rows if n not in names]:
            del self._rows[name]
            self._history.pop(name, None)
            self._samples.pop(name, None)
            self._probes.pop(name, None)
            task = self._in_flight.pop(name, None)
            if task is not None:
                task.cancel()
            reader = self._readers.pop(name, None)
            if reader is not None:
                self._closing.append(reader)
        self._hosts = list(hosts)
        for h in self._hosts:
            row = self._rows.get(h.name)
            if row is None or row.url != h.client.base_url or row.kind != h.client.kind:
                self._rows[h.name] = HostRow(h.name, h.client.base_url, kind=h.client.kind)
        self._wake.set()

    def poke(self) -> None:
        """Probe every host now, exporters included (the Monitor was shown: every figure fresh)."""
        self._probes.clear()
        self._wake.set()

    def _reader(self, name: str) -> MetricsReader:
        if self._shared_reader is not None:
            return self._shared_reader
        reader = self._readers.get(name)
        if reader is None:
            reader = self._readers[name] = MetricsReader(timeout=min(3.0, self.probe_timeout), keepalive=KEEPALIVE)
        return reader

    async def _close_readers(self, readers: list[MetricsReader]) -> None:
        await asyncio.sleep(0)  # let the cancelled probes unwind first
        await asyncio.gather(*(r.aclose() for r in readers), return_exceptions=True)

    def _exporters_due(self, name: str) -> bool:
        """Whether this probe of the host reads its exporters (its 1st, then every Nth)."""
        count = self._probes.get(name, 0)
        self._probes[name] = count + 1
        return count % self.exporter_every == 0

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                if self._closing:
                    stale, self._closing = self._closing, []
                    await self._close_readers(stale)
                for host in self._hosts:
                    task = self._in_flight.get(host.name)
                    if task is None or task.done():
                        self.probes_started += 1
                        self._in_flight[host.name] = asyncio.create_task(self._probe(host))
                try:
                    async with asyncio.timeout(self.interval):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            for task in self._in_flight.values():
                task.cancel()
            readers = [*self._closing, *self._readers.values()]
            if self._shared_reader is not None:
                readers.append(self._shared_reader)
            self._closing, self._readers = [], {}
            await self._close_readers(readers)

    async def _probe(self, host: FleetHost) -> None:
        kind = host.client.kind
        before = self._rows.get(host.name) or HostRow(host.name, host.client.base_url, kind=kind)
        # The exporters are read alongside the server: a box whose Ollama is down may still
        # report its GPUs, and one whose exporter fails still chats.
        metrics = None
        if (host.metrics or host.matchers) and self._exporters_due(host.name):
            metrics = asyncio.create_task(read_box(
                self._reader(host.name), host.metrics, headers=host.headers, previous=before.box,
                prometheus=self.prometheus if host.matchers else None, matchers=host.matchers))
        status, version, latency, loaded, error = "up", before.version, None, (), None
        try:
            async with asyncio.timeout(self.probe_timeout):
                started = time.perf_counter()
                if host.client.supports("ps"):
                    loaded = tuple(await host.client.ps())
                else:  # up from a cheap call; its load is in its serving metrics
                    await host.client.ping()
                latency = time.perf_counter() - started
                if not before.up or version is None:
                    version = await host.client.version()
        except TimeoutError:
            status, version, error = "down", None, f"no answer within {self.probe_timeout:g} s"
        except OllamaError as exc:
            status, version, error = "down", None, exc.message
        except BaseException:
            if metrics is not None:
                metrics.cancel()
            raise
        if metrics is None:  # not this probe: the last reading stays
            box, util, vram, samples = before.box, before.gpu_util, before.gpu_vram, before.samples
        else:
            try:
                async with asyncio.timeout(self.probe_timeout):
                    box = await metrics
            except TimeoutError:
                box = BoxMetrics(errors=(f"exporters: no answer within {self.probe_timeout:g} s",))
            util, vram = self._remember(host.name, box)
            samples = self._samples[host.name] = self._samples.get(host.name, 0) + 1
        row = HostRow(host.name, host.client.base_url, status, kind, version, latency, loaded, error, box, util,
                      vram, time.monotonic(), samples)
        if host.name in self._rows and any(h is host for h in self._hosts):
            self._rows[host.name] = row
            self.on_update(self.snapshot)

    def _remember(self, name: str, box: BoxMetrics) -> tuple[tuple[tuple[float, ...], ...], ...]:
        util_h, vram_h = self._history.setdefault(name, ([], []))
        while len(util_h) < len(box.gpus):
            util_h.append(deque(maxlen=HISTORY))
            vram_h.append(deque(maxlen=HISTORY))
        for i, gpu in enumerate(box.gpus):
            if gpu.util is not None:
                util_h[i].append(gpu.util)
            if gpu.vram_percent is not None:
                vram_h[i].append(gpu.vram_percent)
        n = len(box.gpus)
        return tuple(tuple(d) for d in util_h[:n]), tuple(tuple(d) for d in vram_h[:n])



# -- [hosts] tables → watched hosts ------------------------------------------------------------

#: A fleet probe is a glance, not a request someone waits on: short timeouts, no retries.
CONNECT_TIMEOUT = 2.0
REQUEST_TIMEOUT = 5.0


def make_client(host: HostConfig) -> Provider:
    """The client a [hosts.<name>] table asks for: OllamaClient for "ollama", OpenAIClient for
    "openai" (its API key as a bearer token); the table's headers go with every request."""
    if host.kind == "openai":
        from tui.service.openai import OpenAIClient

        return OpenAIClient(host.url, api_key=host.api_key, headers=dict(host.headers),
                            connect_timeout=CONNECT_TIMEOUT, request_timeout=REQUEST_TIMEOUT, keepalive=KEEPALIVE)
    from tui.service.ollama import OllamaClient

    return OllamaClient(host.url, headers=dict(host.headers), connect_timeout=CONNECT_TIMEOUT,
                        request_timeout=REQUEST_TIMEOUT, retries=0, keepalive=KEEPALIVE)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower()


def exporter_headers(host: HostConfig) -> dict[str, str]:
    """The host's headers go to its exporters only when every exporter is on the server's own
    scheme and hostname: a token for an HTTPS proxy is never sent to a plain-HTTP port."""
    if not host.headers or not host.metrics:
        return {}
    server = _origin(host.url)
    return dict(host.headers) if all(_origin(url) == server for url in host.metrics) else {}


class FleetHosts:
    """The watched hosts made from the config's [hosts] tables, kept across config changes: a host
    whose table did not change keeps its client (and its row's history); a changed or removed one's
    client is handed back by `update` for closing."""

    def __init__(self, factory: Callable[[HostConfig], Provider] = make_client) -> None:
        self.factory = factory
        self._made: dict[str, tuple[HostConfig, FleetHost]] = {}

    @property
    def hosts(self) -> list[FleetHost]:
        return [host for _config, host in self._made.values()]

    def update(self, tables: Mapping[str, HostConfig]) -> list[FleetClient]:
        """Follow `tables`; returns the clients no longer used (close them)."""
        stale: list[FleetClient] = []
        made: dict[str, tuple[HostConfig, FleetHost]] = {}
        for name, config in tables.items():
            old = self._made.pop(name, None)
            if old is not None and old[0] == config:
                made[name] = old
                continue
            if old is not None:
                stale.append(old[1].client)
            made[name] = (config, FleetHost(name, self.factory(config), tuple(config.metrics),
                                            exporter_headers(config), dict(config.prometheus_labels)))
        stale += [host.client for _config, host in self._made.values()]
        self._made = made
        return stale

    async def aclose(self) -> None:
        clients = self.update({})
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
