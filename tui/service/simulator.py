"""Built-in Ollama simulator: a real HTTP server on 127.0.0.1 that speaks Ollama's wire format.

Used by the test-suite (over real HTTP on a random port), by `ollama-tui --demo` and by the
benchmarks. `python -m tui.service.simulator [--port N]` runs one in the foreground.

Stdlib only; never imports textual. See /work/shared/ollama-api.md for the protocol.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tui.service import sim_models as M
from tui.service.sim_server import (
    FAULT_KINDS,
    Abort,
    Collector,
    Fault,
    HTTPError,
    Request,
    Response,
    SimServer,
)
from tui.service.sim_support import (
    FOREVER,
    Name,
    check_options,
    default_reply,
    json_reply,
    last_user_text,
    parse_keep_alive,
    parse_name,
    pick_tool,
    rfc3339_local,
    rfc3339_utc,
    thinking_text,
    token_ids,
    tokenize,
    tool_arguments,
)

__all__ = ["Simulator", "main"]

DEFAULT_KEEP_ALIVE = 300.0  # seconds (Ollama's 5m)
DEFAULT_NUM_CTX = 4096
THINK_LEVELS = ("low", "medium", "high", "max")

ReplyFn = Callable[[str, list[dict]], str]


def _q(s: str) -> str:
    """Go's %q, near enough."""
    return json.dumps(s, ensure_ascii=False)


def _fast(rate: float) -> bool:
    return rate <= 0 or math.isinf(rate)


@dataclass
class _Installed:
    name: str  # shortest display name, with tag
    spec: M.ModelSpec
    modified: float  # epoch seconds


@dataclass
class _Loaded:
    name: str
    spec: M.ModelSpec
    num_ctx: int
    keep_alive: float  # seconds; FOREVER; 0 = unload when idle
    expires: float  # epoch seconds or math.inf
    in_use: int = 0


@dataclass
class _Blob:
    total: int
    completed: int = 0
    owner: object | None = None  # the pull stream currently advancing it


@dataclass
class _Remote:
    name: str
    spec: M.ModelSpec
    version: int = 0


class Simulator:
    """A fake Ollama server. Thread-safe; several concurrent streams are fine."""

    def __init__(
        self,
        *,
        port: int = 0,
        token_rate: float = 200.0,
        pull_rate: float = 200e6,
        pull_tick: float = 0.05,
        version: str = "0.33.0",
        reply: str | ReplyFn | None = None,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.token_rate = float(token_rate)
        self.pull_rate = float(pull_rate)
        self.pull_tick = float(pull_tick)
        self.version = version
        self.reply = reply
        self.requests: list[tuple[str, str, dict | None]] = []
        self.errors: list[str] = []  # tracebacks of simulator bugs (never printed)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._faults: list[Fault] = []
        self._model_rates: dict[str, float] = {}
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None

        catalogue = M.builtin_catalogue()
        now = time.time()
        self._remote: dict[str, _Remote] = {}
        for name, spec in catalogue.items():
            n = parse_name(name)
            assert n is not None
            self._remote[n.key] = _Remote(n.short, spec)
        self._installed: dict[str, _Installed] = {}
        self._blobs: dict[str, _Blob] = {}
        for name, age_days in M.INSTALLED_AT_START.items():
            n = parse_name(name)
            assert n is not None
            spec = catalogue[name]
            self._installed[n.key] = _Installed(n.short, spec, now - age_days * 86400)
            self._mark_complete(spec)
        self._loaded: dict[str, _Loaded] = {}

    # =================================================================== lifecycle
    def start(self) -> Simulator:
        with self._lock:
            if self._server is not None:
                if self._stopping.is_set():
                    raise RuntimeError("a stopped Simulator cannot be restarted")
                return self
            server = SimServer(("127.0.0.1", self.port), self)
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
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is wake[0] or self._stopping.is_set():
                        return
                    server._handle_request_noblock()
        finally:
            sel.close()

    def stop(self) -> None:
        with self._lock:
            server = self._server
            if server is None or self._stopping.is_set():
                return
            self._stopping.set()
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

    # =================================================================== public knobs
    def set_model_rate(self, model: str, tokens_per_s: float) -> None:
        with self._lock:
            self._model_rates[self._name(model).key] = float(tokens_per_s)

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
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 or None")
        with self._lock:
            self._faults.append(Fault(path, kind, int(status), message, int(after), float(delay), times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def add_remote_model(self, name: str, layers: list[int], **details: Any) -> None:
        n = self._name(name)
        if not layers:
            raise ValueError("a model needs at least one layer")
        with self._lock:
            self._remote[n.key] = _Remote(n.short, M.custom_spec(n.key, list(layers), dict(details)))

    def publish_update(self, name: str) -> None:
        """Publish a newer version of a remote model: a re-pull changes its digest."""
        n = self._name(name)
        with self._lock:
            remote = self._remote.get(n.key)
            if remote is None:
                raise KeyError(f"{name!r} is not in the simulated registry")
            remote.version += 1
            remote.spec = M.updated_spec(remote.spec, f"{n.key}#v{remote.version}")

    def installed(self) -> list[str]:
        with self._lock:
            return [i.name for i in sorted(self._installed.values(), key=lambda i: -i.modified)]

    def loaded(self) -> list[str]:
        with self._lock:
            self._purge_expired()
            return [m.name for m in sorted(self._loaded.values(), key=lambda m: -m.expires)]

    # =================================================================== internals
    @staticmethod
    def _name(name: str) -> Name:
        n = parse_name(name)
        if n is None:
            raise ValueError(f"invalid model name: {name!r}")
        return n

    def _record(self, method: str, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append((method, path, body if isinstance(body, dict) else None))

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
            blob = self._blobs.setdefault(layer.digest, _Blob(layer.size))
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

    def _lookup(self, n: Name) -> _Installed | None:
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

    # =================================================================== simple endpoints
    def _h_root(self, req: Request, resp: Response) -> None:
        resp.text(200, "Ollama is running")

    def _h_version(self, req: Request, resp: Response) -> None:
        resp.json(200, {"version": self.version})

    def _h_tags(self, req: Request, resp: Response) -> None:
        with self._lock:
            items = sorted(self._installed.values(), key=lambda i: -i.modified)
        resp.json(200, {"models": [
            {"name": i.name, "model": i.name, "modified_at": rfc3339_local(i.modified), "size": i.spec.size,
             "digest": i.spec.digest, "details": i.spec.details()}
            for i in items
        ]})

    def _h_ps(self, req: Request, resp: Response) -> None:
        with self._lock:
            self._purge_expired()
            items = sorted(self._loaded.values(), key=lambda m: -m.expires)
            models = []
            for m in items:
                size, vram = M.runtime_size(m.spec, m.num_ctx)
                models.append({
                    "name": m.name, "model": m.name, "size": size, "digest": m.spec.digest,
                    "details": m.spec.details(), "expires_at": rfc3339_local(m.expires),
                    "size_vram": vram, "context_length": m.num_ctx,
                })
        resp.json(200, {"models": models})

    def _h_show(self, req: Request, resp: Response) -> None:
        raw = self._str(req.body, "model") or self._str(req.body, "name")
        if not raw:
            raise HTTPError(400, "model is required")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        inst = self._lookup(n)
        if inst is None:
            raise HTTPError(404, f"model '{raw}' not found")
        spec = inst.spec
        system = self._str(req.body, "system")
        if system:
            spec = replace(spec, system=system)
        resp.json(200, M.show_response(inst.name, spec, rfc3339_local(inst.modified), bool(req.body.get("verbose"))))

    def _h_delete(self, req: Request, resp: Response) -> None:
        raw = self._str(req.body, "model") or self._str(req.body, "name")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, f"name {_q(raw)} is invalid")
        with self._lock:
            inst = self._installed.pop(n.key, None)
            if inst is not None:
                self._prune_blobs()
        if inst is None:
            raise HTTPError(404, f"model '{raw}' not found")
        resp.empty(200)

    def _h_copy(self, req: Request, resp: Response) -> None:
        src_raw, dst_raw = self._str(req.body, "source"), self._str(req.body, "destination")
        src = parse_name(src_raw)
        if src is None:
            raise HTTPError(400, f"source {_q(src_raw)} is invalid")
        dst = parse_name(dst_raw)
        if dst is None:
            raise HTTPError(400, f"destination {_q(dst_raw)} is invalid")
        with self._lock:
            inst = self._installed.get(src.key)
            if inst is None:
                raise HTTPError(404, f"model {_q(src_raw)} not found")
            existing = self._installed.get(dst.key)
            name = existing.name if existing is not None else dst.short
            self._installed[dst.key] = _Installed(name, inst.spec, time.time())
        resp.empty(200)

    # =================================================================== pull / push / create
    def _h_pull(self, req: Request, resp: Response) -> None:
        raw = self._str(req.body, "model") or self._str(req.body, "name")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        out = resp if self._stream(req.body) else Collector(resp)
        self._pull_into(n, out)
        out.line({"status": "success"})
        out.end_stream()

    def _pull_into(self, n: Name, out: Response | Collector) -> _Installed:
        out.line({"status": "pulling manifest"})
        with self._lock:
            remote = self._remote.get(n.key)
        if remote is None:
            out.stream_error("pull model manifest: file does not exist")
            raise AssertionError("unreachable")
        spec = remote.spec
        for layer in spec.layers:
            self._download(layer, out)
        out.line({"status": "verifying sha256 digest"})
        out.line({"status": "writing manifest"})
        with self._lock:
            old = self._installed.get(n.key)
            inst = _Installed(old.name if old is not None else remote.name, spec, time.time())
            self._installed[n.key] = inst
            self._mark_complete(spec)
            removed = old is not None and old.spec.digest != spec.digest and self._prune_blobs()
        if removed:
            out.line({"status": "removing unused layers"})
        return inst

    def _download(self, layer: M.Layer, out: Response | Collector) -> None:
        base = {"status": f"pulling {layer.digest[:12]}", "digest": f"sha256:{layer.digest}", "total": layer.size}
        with self._lock:
            blob = self._blobs.setdefault(layer.digest, _Blob(layer.size))
            done = blob.completed
        out.line({**base, "completed": done} if done else base)
        if done >= layer.size:
            return
        me = object()
        rate, tick = self.pull_rate, self.pull_tick
        fast = _fast(rate) or tick <= 0
        step = layer.size if fast else max(1, int(rate * tick))
        next_tick = time.monotonic()
        try:
            while True:
                if not fast:
                    next_tick += tick
                    self._sleep_until(next_tick)
                else:
                    with self._lock:
                        waiting = blob.owner is not None and blob.owner is not me
                    # another stream is downloading this blob: poll its progress, don't spin
                    self._sleep(0.005 if waiting else 0.0)
                with self._lock:
                    if blob.owner is None:
                        blob.owner = me
                    if blob.owner is me:
                        blob.completed = min(blob.total, blob.completed + step)
                    completed = blob.completed
                out.line({**base, "completed": completed})
                if completed >= layer.size:
                    return
        finally:
            with self._lock:
                if blob.owner is me:
                    blob.owner = None

    def _h_push(self, req: Request, resp: Response) -> None:
        raw = self._str(req.body, "model") or self._str(req.body, "name")
        if not raw:
            raise HTTPError(400, "model is required")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        out = resp if self._stream(req.body) else Collector(resp)
        out.line({"status": "retrieving manifest"})
        inst = self._lookup(n)
        if inst is None:
            out.stream_error(f"model '{raw}' not found")
            return
        if n.namespace.lower() == "library":
            out.stream_error("you are not authorized to push to this namespace, create the model under a namespace you own")
            return
        for layer in inst.spec.layers:
            base = {"status": f"pushing {layer.digest[:12]}", "digest": f"sha256:{layer.digest}", "total": layer.size}
            out.line(base)
            out.line({**base, "completed": layer.size})
        out.line({"status": "pushing manifest"})
        out.line({"status": "success"})
        out.end_stream()

    def _h_create(self, req: Request, resp: Response) -> None:
        body = req.body
        raw = self._str(body, "model") or self._str(body, "name")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        from_raw = self._str(body, "from")
        if not from_raw:
            if body.get("files"):
                raise HTTPError(400, "the simulator only supports creating models 'from' another model")
            raise HTTPError(400, "neither 'from' or 'files' was specified")
        fn = parse_name(from_raw)
        if fn is None:
            raise HTTPError(400, "invalid model name")
        params = body.get("parameters") or {}
        if not isinstance(params, dict):
            raise HTTPError(400, "json: cannot unmarshal parameters into Go struct field .parameters of type map")
        err = check_options(params)
        if err:
            raise HTTPError(400, err)
        messages = body.get("messages")
        if messages is not None and not (isinstance(messages, list) and all(isinstance(m, dict) for m in messages)):
            raise HTTPError(400, "json: cannot unmarshal messages into Go struct field .messages")
        with self._lock:
            base = self._installed.get(fn.key)
            in_registry = fn.key in self._remote
        if base is None and not in_registry:
            raise HTTPError(404, f"model '{from_raw}' not found")
        out = resp if self._stream(body) else Collector(resp)
        if base is None:
            base = self._pull_into(fn, out)
        spec = base.spec

        lic = body.get("license")
        license_text = "\n".join(lic) if isinstance(lic, list) else lic if isinstance(lic, str) else spec.license
        merged = {**spec.parameters, **params} if params else dict(spec.parameters)
        new = replace(
            spec,
            system=self._str(body, "system") if "system" in body else spec.system,
            template=self._str(body, "template") if "template" in body else spec.template,
            license=license_text,
            parameters=merged,
            messages=list(messages) if messages is not None else list(spec.messages),
            parent_model=base.name,
        )
        layers: list[M.Layer] = []
        quantize = self._str(body, "quantize").upper()
        for layer in spec.layers:
            if layer.kind not in ("model", "projector"):
                continue
            if layer.kind == "model" and quantize and quantize != spec.quantization_level:
                if spec.quantization_level not in ("F16", "F32", "BF16"):
                    out.stream_error("quantization is only supported for F16 and F32 models")
                out.line({"status": f"quantizing {spec.quantization_level} model to {quantize}"})
                layer = M.Layer(M.sha(f"{layer.digest}:{quantize}"), int(layer.size * 0.3), "model")
                new.quantization_level = quantize
                out.line({"status": f"creating new layer sha256:{layer.digest}"})
            else:
                out.line({"status": f"using existing layer sha256:{layer.digest}"})
            layers.append(layer)
        old_digests = {layer.digest for layer in spec.layers}
        texts = [
            ("template", new.template), ("system", new.system), ("license", new.license),
            ("params", M.params_blob(new.parameters) if new.parameters else ""),
            ("messages", json.dumps(new.messages) if new.messages else ""),
        ]
        for kind, text in texts:
            if not text:
                continue
            layer = M.text_layer(kind, text)
            verb = "using existing" if layer.digest in old_digests else "creating new"
            out.line({"status": f"{verb} layer sha256:{layer.digest}"})
            layers.append(layer)
        layers.append(M.config_layer(n.key, new.details()))
        new.layers = layers
        out.line({"status": "writing manifest"})
        with self._lock:
            existing = self._installed.get(n.key)
            self._installed[n.key] = _Installed(existing.name if existing else n.short, new, time.time())
            self._mark_complete(new)
        out.line({"status": "success"})
        out.end_stream()

    # =================================================================== loading
    def _load_time(self, spec: M.ModelSpec) -> float:
        if _fast(self.token_rate):
            return 0.0
        return min(0.5, spec.size / 1e9 * 4.0 / self.token_rate)

    def _acquire(self, n: Name, inst: _Installed, keep_alive: float | None, options: dict) -> float:
        """Make sure the model is loaded and mark it in use; returns the load time (0 if it was)."""
        explicit_ctx = options.get("num_ctx")
        num_ctx = int(explicit_ctx or inst.spec.parameters.get("num_ctx") or DEFAULT_NUM_CTX)
        num_ctx = max(1, min(num_ctx, inst.spec.context_length))
        with self._lock:
            self._purge_expired()
            cur = self._loaded.get(n.key)
            if cur is not None and cur.spec.digest == inst.spec.digest and (not explicit_ctx or cur.num_ctx == num_ctx):
                if keep_alive is not None:
                    cur.keep_alive = keep_alive
                cur.in_use += 1
                cur.expires = self._expiry(cur.keep_alive)
                return 0.0
            if cur is not None and cur.in_use == 0:
                del self._loaded[n.key]
        started = time.monotonic()
        self._sleep(self._load_time(inst.spec))
        elapsed = max(time.monotonic() - started, 1e-6)
        with self._lock:
            ka = keep_alive if keep_alive is not None else DEFAULT_KEEP_ALIVE
            cur = self._loaded.get(n.key)
            if cur is None or cur.spec.digest != inst.spec.digest or cur.num_ctx != num_ctx:
                in_use = cur.in_use if cur is not None else 0
                cur = _Loaded(inst.name, inst.spec, num_ctx, ka, self._expiry(ka), in_use)
                self._loaded[n.key] = cur
            elif keep_alive is not None:
                cur.keep_alive = keep_alive
            cur.in_use += 1
        return elapsed

    @staticmethod
    def _expiry(keep_alive: float) -> float:
        return math.inf if math.isinf(keep_alive) else time.time() + keep_alive

    def _release(self, n: Name) -> None:
        with self._lock:
            cur = self._loaded.get(n.key)
            if cur is None:
                return
            cur.in_use = max(0, cur.in_use - 1)
            if cur.in_use == 0 and cur.keep_alive == 0:
                del self._loaded[n.key]
            else:
                cur.expires = self._expiry(cur.keep_alive)

    def _unload(self, n: Name) -> None:
        with self._lock:
            cur = self._loaded.get(n.key)
            if cur is None:
                return
            if cur.in_use:
                cur.keep_alive = 0.0
            else:
                del self._loaded[n.key]

    # =================================================================== chat / generate
    def _h_chat(self, req: Request, resp: Response) -> None:
        self._infer(req, resp, chat=True)

    def _h_generate(self, req: Request, resp: Response) -> None:
        self._infer(req, resp, chat=False)

    def _infer(self, req: Request, resp: Response, *, chat: bool) -> None:
        t0 = time.monotonic()
        body = req.body
        raw = self._str(body, "model")
        if not raw:
            raise HTTPError(400, "model is required")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        inst = self._lookup(n)
        if inst is None:
            raise HTTPError(404, f"model '{raw}' not found")
        keep_alive = self._keep_alive(body)
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise HTTPError(400, "json: cannot unmarshal options into Go struct field .options of type map[string]interface {}")
        if chat:
            conv = body.get("messages") or []
            if not isinstance(conv, list) or not all(isinstance(m, dict) for m in conv):
                raise HTTPError(400, "json: cannot unmarshal messages into Go struct field ChatRequest.messages of type []api.Message")
            empty = not conv
            images = sum(len(m.get("images") or []) for m in conv)
        else:
            prompt = self._str(body, "prompt")
            empty = prompt == ""
            images = len(body.get("images") or [])
            user: dict[str, Any] = {"role": "user", "content": prompt}
            if body.get("images"):
                user["images"] = body["images"]
            system = self._str(body, "system")
            conv = ([{"role": "system", "content": system}] if system else []) + [user]

        if empty and keep_alive == 0:
            self._unload(n)
            resp.json(200, self._done_obj(chat, raw, "unload"))
            return

        caps = inst.spec.capabilities
        think = body.get("think")
        if think is not None and not isinstance(think, bool) and think not in THINK_LEVELS:
            raise HTTPError(400, f"invalid think value: {_q(str(think))}")
        if "thinking" in caps:
            think_on = think is None or think is True or isinstance(think, str)
        else:
            if think is True or isinstance(think, str):
                raise HTTPError(400, f"{_q(raw)} does not support thinking")
            think_on = False
        if "completion" not in caps:
            raise HTTPError(400, f"{_q(raw)} does not support {'chat' if chat else 'generate'}")
        tools = body.get("tools") if chat else None
        if tools and "tools" not in caps:
            raise HTTPError(400, f"{_q(raw)} does not support tools")
        if images and "vision" not in caps:
            raise HTTPError(400, f"{_q(raw)} does not support images")
        err = check_options(options)
        if err:
            raise HTTPError(500, err)
        fmt = body.get("format")
        if fmt not in (None, "", "json") and not isinstance(fmt, dict):
            raise HTTPError(500, 'invalid format: expected "json" or a valid JSON schema')

        load_s = self._acquire(n, inst, keep_alive, options)
        try:
            if empty:
                resp.json(200, self._done_obj(chat, raw, "load"))
                return
            self._respond(resp, chat=chat, raw=raw, inst=inst, n=n, conv=conv, options=options, fmt=fmt,
                          think_on=think_on, tools=tools if isinstance(tools, list) else None, images=images,
                          load_s=load_s, t0=t0, stream=self._stream(body))
        finally:
            self._release(n)

    @staticmethod
    def _done_obj(chat: bool, raw: str, reason: str) -> dict[str, Any]:
        if chat:
            return {"model": raw, "created_at": rfc3339_utc(), "message": {"role": "assistant", "content": ""},
                    "done_reason": reason, "done": True}
        return {"model": raw, "created_at": rfc3339_utc(), "response": "", "done": True, "done_reason": reason}

    def _reply_text(self, model: str, conv: list[dict], fmt: Any) -> str:
        r = self.reply
        if r is None:
            return json_reply(fmt, model, conv) if fmt else default_reply(model, conv)
        text = r if isinstance(r, str) else str(r(model, conv))
        if fmt:
            try:
                if isinstance(json.loads(text), (dict, list)):
                    return text
            except ValueError:
                pass
            return json.dumps({"response": text}, ensure_ascii=False)
        return text

    @staticmethod
    def _prompt_tokens(spec: M.ModelSpec, conv: list[dict], tools: list | None, images: int) -> int:
        count = len(tokenize(spec.system)) if spec.system and not any(m.get("role") == "system" for m in conv) else 0
        for m in conv:
            count += 4 + len(tokenize(str(m.get("content") or "")))
        if tools:
            count += len(tokenize(json.dumps(tools)))
        return count + 576 * images + 3

    def _respond(self, resp: Response, *, chat: bool, raw: str, inst: _Installed, n: Name, conv: list[dict],
                 options: dict, fmt: Any, think_on: bool, tools: list | None, images: int, load_s: float,
                 t0: float, stream: bool) -> None:
        with self._lock:
            rate = self._model_rates.get(n.key, self.token_rate)
        fast = _fast(rate)
        text = self._reply_text(inst.name, conv, fmt)
        tool_call = None
        if tools and conv and conv[-1].get("role") == "user":
            func = pick_tool(tools, last_user_text(conv))
            if func is not None:
                seed = hashlib.sha256(json.dumps([inst.name, last_user_text(conv)]).encode()).digest()
                rid = "".join(random.Random(seed).choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
                args = tool_arguments(func.get("parameters"), last_user_text(conv))
                tool_call = {"id": f"call_{rid}", "function": {"index": 0, "name": str(func.get("name")), "arguments": args}}
                text = ""
        thinking = thinking_text(inst.name, conv) if think_on else ""
        for stop in options.get("stop") or []:
            if stop and stop in text:
                text = text[: text.index(stop)]
        pieces = [("thinking", p) for p in tokenize(thinking)] + [("content", p) for p in tokenize(text)]
        tool_tokens = len(tokenize(json.dumps(tool_call["function"]))) if tool_call else 0
        reason = "stop"
        limit = options.get("num_predict")
        if isinstance(limit, (int, float)) and limit > 0 and len(pieces) + tool_tokens > limit:
            pieces, reason = pieces[: int(limit)], "length"
            tool_call, tool_tokens = None, 0
        prompt_count = self._prompt_tokens(inst.spec, conv, tools, images)

        started = time.monotonic()
        prompt_s = 0.0 if fast else prompt_count / (rate * 10.0)
        self._sleep(prompt_s)
        prompt_ns = int(prompt_s * 1e9) if not fast else max(1, int((time.monotonic() - started) * 1e9))

        def chunk(kind: str, piece: str) -> dict[str, Any]:
            ts = rfc3339_utc()
            if chat:
                msg = {"role": "assistant", "content": piece if kind == "content" else ""}
                if kind == "thinking":
                    msg["thinking"] = piece
                return {"model": raw, "created_at": ts, "message": msg, "done": False}
            obj: dict[str, Any] = {"model": raw, "created_at": ts, "response": piece if kind == "content" else ""}
            if kind == "thinking":
                obj["thinking"] = piece
            obj["done"] = False
            return obj

        gen_start = time.monotonic()
        for i, (kind, piece) in enumerate(pieces):
            if not fast:
                self._sleep_until(gen_start + (i + 1) / rate)
            elif self._stopping.is_set():
                raise Abort
            if stream:
                resp.line(chunk(kind, piece))
        eval_count = len(pieces) + tool_tokens
        if tool_call is not None:
            if not fast:
                self._sleep_until(gen_start + eval_count / rate)
            if stream:
                c = chunk("content", "")
                c["message"]["tool_calls"] = [tool_call]
                resp.line(c)
        eval_ns = int(eval_count / rate * 1e9) if not fast else max(1, int((time.monotonic() - gen_start) * 1e9))
        load_ns = int(load_s * 1e9)
        total_ns = max(int((time.monotonic() - t0) * 1e9), load_ns + prompt_ns + eval_ns)
        metrics = {"total_duration": total_ns, "load_duration": load_ns, "prompt_eval_count": prompt_count,
                   "prompt_eval_duration": prompt_ns, "eval_count": eval_count, "eval_duration": eval_ns}
        metrics = {k: v for k, v in metrics.items() if v}  # Go's omitempty

        full_text = "".join(p for k, p in pieces if k == "content")
        full_thinking = "".join(p for k, p in pieces if k == "thinking")
        if chat:
            msg: dict[str, Any] = {"role": "assistant", "content": "" if stream else full_text}
            if not stream and full_thinking:
                msg["thinking"] = full_thinking
            if not stream and tool_call is not None:
                msg["tool_calls"] = [tool_call]
            final = {"model": raw, "created_at": rfc3339_utc(), "message": msg, "done_reason": reason,
                     "done": True, **metrics}
        else:
            final = {"model": raw, "created_at": rfc3339_utc(), "response": "" if stream else full_text}
            if not stream and full_thinking:
                final["thinking"] = full_thinking
            final.update({"done": True, "done_reason": reason,
                          "context": token_ids(tokenize(str(conv[-1].get("content", ""))) + [p for _, p in pieces])})
            final.update(metrics)
        if stream:
            resp.line(final)
            resp.end_stream()
        else:
            resp.json(200, final)

    # =================================================================== embeddings
    def _vector(self, n: Name, spec: M.ModelSpec, text: str, dims: int = 0) -> list[float]:
        seed = hashlib.sha256(f"{n.key}\x00{text}".encode()).digest()
        rng = random.Random(seed)
        size = spec.embedding_length
        if 0 < dims < size:
            size = dims
        vec = [rng.gauss(0.0, 1.0) for _ in range(size)]
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [float(f"{v / norm:.8g}") for v in vec]

    def _embed_common(self, req: Request) -> tuple[str, Name, _Installed, float | None, dict]:
        raw = self._str(req.body, "model")
        if not raw:
            raise HTTPError(400, "model is required")
        n = parse_name(raw)
        if n is None:
            raise HTTPError(400, "invalid model name")
        inst = self._lookup(n)
        if inst is None:
            raise HTTPError(404, f"model '{raw}' not found")
        options = req.body.get("options") or {}
        if not isinstance(options, dict):
            raise HTTPError(400, "json: cannot unmarshal options into Go struct field .options")
        err = check_options(options)
        if err:
            raise HTTPError(500, err)
        return raw, n, inst, self._keep_alive(req.body), options

    def _h_embed(self, req: Request, resp: Response) -> None:
        t0 = time.monotonic()
        value = req.body.get("input")
        if isinstance(value, str):
            inputs = [value] if value else []
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            inputs = list(value)
        elif value is None:
            inputs = []
        else:
            raise HTTPError(400, "invalid input type")
        raw, n, inst, keep_alive, options = self._embed_common(req)
        dims = req.body.get("dimensions")
        dims = int(dims) if isinstance(dims, (int, float)) and not isinstance(dims, bool) else 0
        load_s = self._acquire(n, inst, keep_alive, options)
        try:
            if not inputs:
                resp.json(200, {"model": raw, "embeddings": []})
                return
            vecs = [self._vector(n, inst.spec, text, dims) for text in inputs]
            count = sum(len(tokenize(t)) + 2 for t in inputs)
            if not _fast(self.token_rate):
                self._sleep(count / (self.token_rate * 20.0))
            obj: dict[str, Any] = {"model": raw, "embeddings": vecs,
                                   "total_duration": max(1, int((time.monotonic() - t0) * 1e9))}
            if load_s:
                obj["load_duration"] = int(load_s * 1e9)
            obj["prompt_eval_count"] = count
            resp.json(200, obj)
        finally:
            self._release(n)

    def _h_embeddings(self, req: Request, resp: Response) -> None:
        raw, n, inst, keep_alive, options = self._embed_common(req)
        prompt = self._str(req.body, "prompt")
        self._acquire(n, inst, keep_alive, options)
        try:
            resp.json(200, {"embedding": self._vector(n, inst.spec, prompt) if prompt else []})
        finally:
            self._release(n)


# ======================================================================= CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tui.service.simulator",
                                 description="Run the built-in Ollama simulator on 127.0.0.1 (Ctrl-C stops).")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    ap.add_argument("--token-rate", type=float, default=200.0, help="tokens/s for chat/generate (0 = no delay)")
    ap.add_argument("--pull-rate", type=float, default=200e6, help="bytes/s per pull (0 = instant)")
    ap.add_argument("--pull-tick", type=float, default=0.05, help="seconds between pull progress lines")
    ap.add_argument("--version", default="0.33.0", help="version reported by /api/version")
    args = ap.parse_args(argv)
    sim = Simulator(port=args.port, token_rate=args.token_rate, pull_rate=args.pull_rate,
                    pull_tick=args.pull_tick, version=args.version)
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
