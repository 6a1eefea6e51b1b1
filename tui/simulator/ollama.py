"""Built-in Ollama simulator: a real HTTP server on 127.0.0.1 that speaks Ollama's wire format.

Used by the test-suite (over real HTTP on a random port), by `ollama-tui --demo` and by the
benchmarks. `python -m tui.simulator [--port N]` runs one in the foreground.

Stdlib only; never imports textual. The protocol is described in /work/shared/ollama-api.md.
`Simulator` (here, written out whole: its server's lifecycle and its knobs) owns a `SimState`
(`state.py`: models, blobs, faults, records, behind one lock); the endpoints are functions taking
that state, in `registry.py` (tags/show/pull/create/...) and `inference.py` (ps/chat/generate/
embed), routed by `ROUTES` below; `http.py` speaks HTTP (and misbehaves on purpose), `catalogue.py`
holds the models and `support.py` names, durations, times, tokens and texts.
"""

from __future__ import annotations

import argparse
import math
import selectors
import signal
import socket
import sys
import threading
import time
from dataclasses import fields
from typing import Any, Generic, Self, TypeVar, overload

from tui.simulator import catalogue as M
from tui.simulator import inference, registry
from tui.simulator.http import Response, Routes, SimServer
from tui.simulator.state import Installed, Remote, ReplyFn, SimState, model_name
from tui.simulator.wire import FAULT_KINDS, HUGE_SIZE, Fault, Request

__all__ = ["Simulator", "main", "FAULT_KINDS"]

T = TypeVar("T")


def handle_root(state: SimState, req: Request, resp: Response) -> None:
    resp.text(200, "Ollama is running")


def handle_version(state: SimState, req: Request, resp: Response) -> None:
    resp.json(200, {"version": state.version})


#: path -> {method: endpoint}
ROUTES: Routes = {
    "/": {"GET": handle_root, "HEAD": handle_root},
    "/api/version": {"GET": handle_version, "HEAD": handle_version},
    "/api/tags": {"GET": registry.handle_tags, "HEAD": registry.handle_tags},
    "/api/ps": {"GET": inference.handle_ps},
    "/api/pull": {"POST": registry.handle_pull},
    "/api/push": {"POST": registry.handle_push},
    "/api/create": {"POST": registry.handle_create},
    "/api/copy": {"POST": registry.handle_copy},
    "/api/delete": {"DELETE": registry.handle_delete},
    "/api/show": {"POST": registry.handle_show},
    "/api/chat": {"POST": inference.handle_chat},
    "/api/generate": {"POST": inference.handle_generate},
    "/api/embed": {"POST": inference.handle_embed},
    "/api/embeddings": {"POST": inference.handle_embeddings},
}


class _OnState(Generic[T]):
    """An attribute of the Simulator that is its state's, read and set through the Simulator."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, sim: None, owner: type) -> Self: ...
    @overload
    def __get__(self, sim: Simulator, owner: type) -> T: ...
    def __get__(self, sim: Simulator | None, owner: type) -> T | Self:
        return self if sim is None else getattr(sim.state, self.name)

    def __set__(self, sim: Simulator, value: T) -> None:
        setattr(sim.state, self.name, value)


class Simulator:
    """A fake Ollama server on 127.0.0.1. Thread-safe; concurrent streams are fine.

    token_rate: tokens/s for chat/generate streams (0 or math.inf: no sleeps).
    pull_rate: bytes/s per pull; pull_tick: seconds between progress lines of a layer.
    reply: fixed reply text, or fn(model, messages) -> text (model is the normalized name,
    messages what the client sent; generate passes [system?, user]); None = a built-in
    deterministic Markdown reply mentioning the last user message.

    `requests` lists (method, path, JSON body or None) of every request received; `errors`
    holds tracebacks of internal simulator errors (nothing is ever printed).
    """

    # The knobs and records, kept on the state the endpoints read (see SimState).
    token_rate: _OnState[float] = _OnState()
    pull_rate: _OnState[float] = _OnState()
    pull_tick: _OnState[float] = _OnState()
    version: _OnState[str] = _OnState()
    reply: _OnState[str | ReplyFn | None] = _OnState()
    hostile: _OnState[bool] = _OnState()
    requests: _OnState[list[tuple[str, str, dict | None]]] = _OnState()
    errors: _OnState[list[str]] = _OnState()
    hangups: _OnState[list[str]] = _OnState()
    connections: _OnState[int] = _OnState()

    def __init__(
        self,
        *,
        port: int = 0,
        token_rate: float = 200.0,
        pull_rate: float = 200e6,
        pull_tick: float = 0.05,
        version: str = "0.33.0",
        reply: str | ReplyFn | None = None,
        hostile: bool = False,
    ) -> None:
        self.state = SimState(token_rate=token_rate, pull_rate=pull_rate, pull_tick=pull_tick,
                              version=version, reply=reply)
        self.hostile = hostile
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None

    # -------------------------------------------------------------------- lifecycle
    def start(self) -> Simulator:
        with self.state.lock:
            if self._server is not None:
                if self.state.stopping.is_set():
                    raise RuntimeError("a stopped Simulator cannot be restarted")
                return self
            server = SimServer(("127.0.0.1", self.port), self.state, ROUTES)
            self._server = server
            self.port = server.server_port
            self.url = f"http://127.0.0.1:{self.port}"
            self._wake = socket.socketpair()
            self._thread = threading.Thread(target=self._serve, name=f"ollama-sim:{self.port}", daemon=True)
            self._thread.start()
        return self

    def _serve(self) -> None:
        server, wake = self._server, self._wake
        assert server is not None and wake is not None
        sel = selectors.DefaultSelector()
        sel.register(server.socket, selectors.EVENT_READ)
        sel.register(wake[0], selectors.EVENT_READ)
        try:
            while not self.state.stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is wake[0] or self.state.stopping.is_set():
                        return
                    server._handle_request_noblock()
        finally:
            sel.close()

    def stop(self) -> None:
        with self.state.lock:
            server = self._server
            if server is None or self.state.stopping.is_set():
                return
            self.state.stopping.set()
        wake = self._wake
        if wake is not None:
            try:
                wake[1].send(b"x")
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        server.server_close()
        server.cut_connections()
        deadline = time.monotonic() + 2.0
        with server.track_lock:
            threads = list(server.threads)
        for t in threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        if wake is not None:
            for s in wake:
                s.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Simulator {self.url} token_rate={self.token_rate} pull_rate={self.pull_rate}>"

    # -------------------------------------------------------------------- knobs
    def set_model_rate(self, model: str, tokens_per_s: float) -> None:
        with self.state.lock:
            self.state.model_rates[model_name(model).key] = float(tokens_per_s)

    def set_model_load_time(self, model: str, seconds: float) -> None:
        """How long loading `model` takes (whatever token_rate says): for cold-load measurements."""
        with self.state.lock:
            self.state.load_times[model_name(model).key] = max(0.0, float(seconds))

    def inject(
        self,
        path: str,
        kind: str,
        *,
        status: int = 500,
        message: str = "simulated failure",
        after: int = 0,
        delay: float = 0.0,
        times: int | None = 1,
        size: int = HUGE_SIZE,
    ) -> None:
        """Misbehave on the next request(s) to `path` ("*" = any).

        Before answering: `status` (an error status with `message`), `slow_first_byte` (wait
        `delay` s; a client hanging up meanwhile is noted in `hangups`), `empty_body`,
        `non_json`. Mid-stream, after `after` lines: `error_mid_stream`, `drop` (close),
        `reset` (TCP RST), `malformed_line`, `truncated`, `huge` (that line, or a whole
        body, carries `size` more bytes), `stall` (send nothing, keeping the connection open,
        for `delay` s, then carry on; 0 = until the client hangs up - a half-open connection; a
        client hanging up meanwhile is noted in `hangups`; a whole body stalls halfway). `times` requests are affected (None: every one).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        with self.state.lock:
            self.state.faults.append(Fault(path, kind, int(status), message, int(after), float(delay), times, int(size)))

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def add_remote_model(self, name: str, layers: list[int], **details: Any) -> None:
        n = model_name(name)
        if not layers:
            raise ValueError("a model needs at least one layer")
        with self.state.lock:
            self.state.remote[n.key] = Remote(n.short, M.custom_spec(n.key, list(layers), dict(details)))

    def publish_update(self, name: str) -> None:
        """Publish a newer version of a remote model: a re-pull changes its digest."""
        n = model_name(name)
        with self.state.lock:
            remote = self.state.remote.get(n.key)
            if remote is None:
                raise KeyError(f"{name!r} is not in the simulated registry")
            remote.version += 1
            remote.spec = M.updated_spec(remote.spec, f"{n.key}#v{remote.version}")

    def preload(self, name: str, keep_alive: float = math.inf) -> None:
        """Load an installed model now, as a first chat would (the demo starts with one loaded)."""
        n = model_name(name)
        inst = self.state.lookup(n)
        if inst is None:
            raise KeyError(f"{name!r} is not installed")
        inference.acquire(self.state, n, inst, keep_alive, {})
        inference.release(self.state, n)

    def installed(self) -> list[str]:
        with self.state.lock:
            return [i.name for i in sorted(self.state.installed.values(), key=lambda i: -i.modified)]

    def loaded(self) -> list[str]:
        with self.state.lock:
            self.state.purge_expired()
            return [m.name for m in sorted(self.state.loaded.values(), key=lambda m: -m.expires)]

    def add_installed(self, name: str, *, size: int, like: str = "llama3.2") -> None:
        """Install `name` at once as a copy of `like` whose weights take `size` bytes (e.g. a
        model too big for the machine, for the won't-fit warning)."""
        base = self.state.installed[model_name(like).key].spec
        same = {f.name: getattr(base, f.name) for f in fields(base) if f.name != "layers"}
        spec = M.make_spec(name, model_size=size, **same)
        with self.state.lock:
            self.state.installed[model_name(name).key] = Installed(model_name(name).short, spec, time.time())
            self.state.mark_complete(spec)

    def install(self, *names: str) -> None:
        """Install registry models at once, as if pulled `catalogue.LONG_NAMED[name]` days ago
        (now for any other): e.g. `sim.install(*catalogue.LONG_NAMED)` for long real-world names."""
        now = time.time()
        with self.state.lock:
            for name in names:
                n = model_name(name)
                remote = self.state.remote.get(n.key)
                if remote is None:
                    raise KeyError(f"{name!r} is not in the simulated registry")
                age_days = M.LONG_NAMED.get(name, 0.0)
                self.state.installed[n.key] = Installed(n.short, remote.spec, now - age_days * 86400)
                self.state.mark_complete(remote.spec)


# ======================================================================= CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tui.simulator",
                                 description="Run the built-in Ollama simulator on 127.0.0.1 (Ctrl-C stops).")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    ap.add_argument("--token-rate", type=float, default=200.0, help="tokens/s for chat/generate (0 = no delay)")
    ap.add_argument("--pull-rate", type=float, default=200e6, help="bytes/s per pull (0 = instant)")
    ap.add_argument("--pull-tick", type=float, default=0.05, help="seconds between pull progress lines")
    ap.add_argument("--version", default="0.33.0", help="version reported by /api/version")
    ap.add_argument("--hostile", action="store_true",
                    help="put terminal escapes, bidi overrides and markup into every string sent")
    args = ap.parse_args(argv)
    sim = Simulator(port=args.port, token_rate=args.token_rate, pull_rate=args.pull_rate,
                    pull_tick=args.pull_tick, version=args.version, hostile=args.hostile)
    try:
        sim.start()
    except OSError as e:
        print(f"cannot listen on 127.0.0.1:{args.port}: {e}", file=sys.stderr)
        return 1
    print(sim.url, flush=True)
    print("Ollama simulator running; press Ctrl-C to stop.", file=sys.stderr, flush=True)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not in the main thread
        pass
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

