"""The state of the Ollama simulator, :class:`SimState`: its knobs, its models (in the registry,
installed, loaded) and blobs, the faults to inject and what it recorded, behind one lock, with the
helpers every endpoint uses; and the request-body readers the endpoints share. The endpoints
(``registry.py``, ``inference.py``) are functions taking a SimState; ``Simulator`` owns one.

Stdlib only, no textual.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui.simulator import catalogue as M
from tui.simulator.support import Name, parse_keep_alive, parse_name
from tui.simulator.wire import Abort, Fault, HTTPError

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


class SimState:
    """What one simulator knows and does between requests (thread-safe behind ``lock``)."""

    def __init__(
        self,
        *,
        token_rate: float,
        pull_rate: float,
        pull_tick: float,
        version: str,
        reply: str | ReplyFn | None,
    ) -> None:
        self.token_rate = float(token_rate)
        self.pull_rate = float(pull_rate)
        self.pull_tick = float(pull_tick)
        self.version = version
        self.reply = reply
        #: Put escapes, bidi overrides and markup into every string sent (see hostile.py).
        self.hostile = False
        self.requests: list[tuple[str, str, dict | None]] = []
        self.errors: list[str] = []  # tracebacks of simulator bugs (never printed)
        self.hangups: list[str] = []  # paths of requests the client gave up on while held (slow_first_byte, stall)
        self.connections = 0  # TCP connections accepted (a client that keeps its connections makes few)
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.faults: list[Fault] = []
        self.model_rates: dict[str, float] = {}
        self.load_times: dict[str, float] = {}  # model key -> seconds a (cold) load takes

        catalogue = M.builtin_catalogue()
        now = time.time()
        self.remote: dict[str, Remote] = {}
        for name, spec in catalogue.items():
            n = parse_name(name)
            assert n is not None
            self.remote[n.key] = Remote(n.short, spec)
        self.installed: dict[str, Installed] = {}
        self.blobs: dict[str, Blob] = {}
        for name, age_days in M.INSTALLED_AT_START.items():
            n = parse_name(name)
            assert n is not None
            spec = catalogue[name]
            self.installed[n.key] = Installed(n.short, spec, now - age_days * 86400)
            self.mark_complete(spec)
        self.loaded: dict[str, Loaded] = {}

    def record(self, method: str, path: str, body: Any) -> None:
        with self.lock:
            self.requests.append((method, path, body if isinstance(body, dict) else None))

    def record_hangup(self, path: str) -> None:
        with self.lock:
            self.hangups.append(path)

    def record_error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for i, f in enumerate(self.faults):
                if f.path == path or f.path == "*":
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            del self.faults[i]
                    return f
        return None

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once (and aborting the response) when the simulator stops."""
        if seconds > 0 and self.stopping.wait(seconds):
            raise Abort
        if self.stopping.is_set():
            raise Abort

    def sleep_until(self, deadline: float) -> None:
        self.sleep(deadline - time.monotonic())

    def mark_complete(self, spec: M.ModelSpec) -> None:
        for layer in spec.layers:
            blob = self.blobs.setdefault(layer.digest, Blob(layer.size))
            blob.completed = blob.total

    def prune_blobs(self) -> bool:
        """Drop complete blobs no installed model uses; True if any went."""
        used = {layer.digest for i in self.installed.values() for layer in i.spec.layers}
        gone = [d for d, b in self.blobs.items() if d not in used and b.owner is None and b.completed >= b.total]
        for d in gone:
            del self.blobs[d]
        return bool(gone)

    def purge_expired(self) -> None:
        now = time.time()
        for key in [k for k, m in self.loaded.items() if m.in_use == 0 and m.expires <= now]:
            del self.loaded[key]

    def lookup(self, n: Name) -> Installed | None:
        with self.lock:
            return self.installed.get(n.key)

    def find(self, raw: str) -> tuple[Name, Installed]:
        """The installed model a request names (`raw`, as sent), or the error Ollama answers:
        400 when no name or no valid one is given, 404 when it is not installed."""
        if not raw:
            raise HTTPError(400, "model is required")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        inst = self.lookup(n)
        if inst is None:
            raise HTTPError(404, f"model '{raw}' not found")
        return n, inst


def model_name(name: str) -> Name:
    """A model name parsed, or ValueError (for the Simulator's knobs: a test's typo)."""
    n = parse_name(name)
    if n is None:
        raise ValueError(f"invalid model name: {name!r}")
    return n


def body_str(body: dict, key: str) -> str:
    """A string field of a request body ("" when absent); another type is Go's 400."""
    v = body.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise HTTPError(400, f"json: cannot unmarshal {type(v).__name__} into Go struct field .{key} of type string")
    return v

def wants_stream(body: dict) -> bool:
    """Whether the request asks for a stream (Ollama streams unless `stream` is false)."""
    return body.get("stream") is not False

def body_keep_alive(body: dict) -> float | None:
    """A request's `keep_alive` in seconds (None: not given); a bad one is a 400."""
    try:
        return parse_keep_alive(body.get("keep_alive"))
    except ValueError as e:
        raise HTTPError(400, str(e)) from None
