"""Shared state and helpers of the Ollama simulator (stdlib only, no textual)."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from tui.simulator import catalogue as M
from tui.simulator.support import Name, parse_keep_alive, parse_name
from tui.simulator.wire import Abort, Fault, HTTPError

if TYPE_CHECKING:  # pragma: no cover
    from http.server import ThreadingHTTPServer

ReplyFn = Callable[[str, list[dict]], str]


def quote(s: str) -> str:
    """Go's %q, near enough."""
    return json.dumps(s, ensure_ascii=False)


def is_fast(rate: float) -> bool:
    return rate <= 0 or math.isinf(rate)


@dataclass
class Installed:
    name: str  # shortest display name, with tag
    spec: M.ModelSpec
    modified: float  # epoch seconds


@dataclass
class Loaded:
    name: str
    spec: M.ModelSpec
    num_ctx: int
    keep_alive: float  # seconds; FOREVER; 0 = unload when idle
    expires: float  # epoch seconds or math.inf
    in_use: int = 0


@dataclass
class Blob:
    total: int
    completed: int = 0
    owner: object | None = None  # the pull stream currently advancing it


@dataclass
class Remote:
    name: str
    spec: M.ModelSpec
    version: int = 0


class SimulatorBase:
    """State (behind one lock) and the helpers every endpoint uses."""

    def __init__(
        self,
        *,
        port: int,
        token_rate: float,
        pull_rate: float,
        pull_tick: float,
        version: str,
        reply: str | ReplyFn | None,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.token_rate = float(token_rate)
        self.pull_rate = float(pull_rate)
        self.pull_tick = float(pull_tick)
        self.version = version
        self.reply = reply
        #: Put escapes, bidi overrides and markup into every string sent (see sim_hostile).
        self.hostile = False
        self.requests: list[tuple[str, str, dict | None]] = []
        self.errors: list[str] = []  # tracebacks of simulator bugs (never printed)
        self.hangups: list[str] = []  # paths of requests the client gave up on while held (slow_first_byte, stall)
        self.connections = 0  # TCP connections accepted (a client that keeps its connections makes few)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._faults: list[Fault] = []
        self._model_rates: dict[str, float] = {}
        self._load_times: dict[str, float] = {}  # model key -> seconds a (cold) load takes
        self._server: ThreadingHTTPServer | None = None  # a SimServer (http.py)
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None

        catalogue = M.builtin_catalogue()
        now = time.time()
        self._remote: dict[str, Remote] = {}
        for name, spec in catalogue.items():
            n = parse_name(name)
            assert n is not None
            self._remote[n.key] = Remote(n.short, spec)
        self._installed: dict[str, Installed] = {}
        self._blobs: dict[str, Blob] = {}
        for name, age_days in M.INSTALLED_AT_START.items():
            n = parse_name(name)
            assert n is not None
            spec = catalogue[name]
            self._installed[n.key] = Installed(n.short, spec, now - age_days * 86400)
            self._mark_complete(spec)
        self._loaded: dict[str, Loaded] = {}

    def add_installed(self, name: str, *, size: int, like: str = "llama3.2") -> None:
        """Install `name` at once as a copy of `like` whose weights take `size` bytes (e.g. a
        model too big for the machine, for the won't-fit warning)."""
        base = self._installed[self._name(like).key].spec
        same = {f.name: getattr(base, f.name) for f in fields(base) if f.name != "layers"}
        spec = M.make_spec(name, model_size=size, **same)
        with self._lock:
            self._installed[self._name(name).key] = Installed(self._name(name).short, spec, time.time())
            self._mark_complete(spec)

    def install(self, *names: str) -> None:
        """Install registry models at once, as if pulled `catalogue.LONG_NAMED[name]` days ago
        (now for any other): e.g. `sim.install(*catalogue.LONG_NAMED)` for long real-world names."""
        now = time.time()
        with self._lock:
            for name in names:
                n = self._name(name)
                remote = self._remote.get(n.key)
                if remote is None:
                    raise KeyError(f"{name!r} is not in the simulated registry")
                age_days = M.LONG_NAMED.get(name, 0.0)
                self._installed[n.key] = Installed(n.short, remote.spec, now - age_days * 86400)
                self._mark_complete(remote.spec)

    @staticmethod
    def _name(name: str) -> Name:
        n = parse_name(name)
        if n is None:
            raise ValueError(f"invalid model name: {name!r}")
        return n

    def _record(self, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append((method, path, body if isinstance(body, dict) else None))

    def _record_hangup(self, path: str) -> None:
        with self._lock:
            self.hangups.append(path)

    def _record_error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, f in enumerate(self._faults):
                if f.path == path or f.path == "*":
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            del self._faults[i]
                    return f
        return None

    def _sleep(self, seconds: float) -> None:
        """Sleep, waking at once (and aborting the response) when the simulator stops."""
        if seconds > 0 and self._stopping.wait(seconds):
            raise Abort
        if self._stopping.is_set():
            raise Abort

    def _sleep_until(self, deadline: float) -> None:
        self._sleep(deadline - time.monotonic())

    def _mark_complete(self, spec: M.ModelSpec) -> None:
        for layer in spec.layers:
            blob = self._blobs.setdefault(layer.digest, Blob(layer.size))
            blob.completed = blob.total

    def _prune_blobs(self) -> bool:
        """Drop complete blobs no installed model uses; True if any went."""
        used = {layer.digest for i in self._installed.values() for layer in i.spec.layers}
        gone = [d for d, b in self._blobs.items() if d not in used and b.owner is None and b.completed >= b.total]
        for d in gone:
            del self._blobs[d]
        return bool(gone)

    def _purge_expired(self) -> None:
        now = time.time()
        for key in [k for k, m in self._loaded.items() if m.in_use == 0 and m.expires <= now]:
            del self._loaded[key]

    def _lookup(self, n: Name) -> Installed | None:
        with self._lock:
            return self._installed.get(n.key)

    @staticmethod
    def _str(body: dict, key: str) -> str:
        v = body.get(key)
        if v is None:
            return ""
        if not isinstance(v, str):
            raise HTTPError(400, f"json: cannot unmarshal {type(v).__name__} into Go struct field .{key} of type string")
        return v

    @staticmethod
    def _stream(body: dict) -> bool:
        return body.get("stream") is not False

    def _keep_alive(self, body: dict) -> float | None:
        try:
            return parse_keep_alive(body.get("keep_alive"))
        except ValueError as e:
            raise HTTPError(400, str(e)) from None

