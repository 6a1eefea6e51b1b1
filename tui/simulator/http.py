"""HTTP plumbing of the Ollama simulator: server, request handler, response writer, faults.

Stdlib only (no textual). The endpoints live in `registry.py` and `inference.py` (routed by
`ollama.ROUTES`, which the server is given); this module knows
how to speak HTTP the way Go's net/http + gin do (chunked NDJSON streams, plain-text 404/405,
`Content-Length` on whole bodies) and how to misbehave on purpose (`inject`).
"""

from __future__ import annotations

import ipaddress
import json
import select
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tui.simulator.hostile import HOSTILE, clean, spoil
from tui.simulator.wire import (
    MID_FAULTS,
    PRE_FAULTS,
    Abort,
    Done,
    Fault,
    HTTPError,
    Replaced,
    Request,
    Reset,
)

if TYPE_CHECKING:  # pragma: no cover
    from tui.simulator.state import SimState

JSON_CT = "application/json; charset=utf-8"
NDJSON_CT = "application/x-ndjson"
TEXT_CT = "text/plain; charset=utf-8"

MALFORMED_LINE = b"this is not json {\n"

#: An endpoint: it answers the request through the Response, or raises HTTPError.
Handler = Callable[["SimState", Request, "Response"], None]
#: path -> {method: endpoint}
Routes = Mapping[str, Mapping[str, Handler]]


def dumps(obj: Any) -> bytes:
    """Compact JSON, UTF-8 (like Go's encoding/json)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def inflate(obj: Any, size: int) -> Any:
    """`obj` with `size` more characters: in the reply text where it has one (a runaway model),
    else in an extra field (a bloated answer)."""
    if not isinstance(obj, dict):
        return obj
    big = dict(obj)
    message = big.get("message")
    if isinstance(message, dict):
        big["message"] = {**message, "content": str(message.get("content") or "") + "x" * size}
    elif isinstance(big.get("response"), str):
        big["response"] = big["response"] + "x" * size
    else:
        big["padding"] = "x" * size
    return big


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class Response:
    """Writes one HTTP response: a whole body (`json`, `text`, `empty`) or an NDJSON stream
    (`line`... `end_stream`), applying a mid-stream fault when one was injected."""

    def __init__(self, handler: BaseHTTPRequestHandler, fault: Fault | None, head_only: bool,
                 hostile: bool = False) -> None:
        self.h = handler
        self.fault = fault if fault is not None and fault.kind in MID_FAULTS else None
        self.head_only = head_only
        self.hostile = hostile
        self.started = False
        self.count = 0
        self.fired = False
        self.chunked = handler.request_version != "HTTP/1.0"

    # ----------------------------------------------------------------- low level
    def _write(self, data: bytes) -> None:
        self.h.wfile.write(data)

    def _head(self, status: int, ctype: str | None, length: int | None, stream: bool = False) -> None:
        h = self.h
        h.send_response(status)
        if ctype:
            h.send_header("Content-Type", ctype)
        if stream:
            if self.chunked:
                h.send_header("Transfer-Encoding", "chunked")
            else:
                h.send_header("Connection", "close")
                h.close_connection = True
        elif length is not None:
            h.send_header("Content-Length", str(length))
        h.end_headers()
        self.started = True

    def _chunk(self, data: bytes) -> None:
        if self.chunked:
            self._write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self._write(data)

    # ----------------------------------------------------------------- whole bodies
    def whole(self, status: int, body: bytes, ctype: str | None) -> None:
        f = self.fault
        if f is not None and not self.fired:
            self.fired = True
            if f.kind == "error_mid_stream":
                status, body, ctype = 500, dumps({"error": f.message}), JSON_CT
            elif f.kind == "drop":
                raise Abort
            elif f.kind == "reset":
                raise Reset
            elif f.kind == "huge":
                body = dumps(inflate(json.loads(body), f.size)) if ctype == JSON_CT and body else body
            elif f.kind == "truncated":
                self._head(status, ctype, len(body))
                self._write(body[: len(body) // 2])
                raise Abort
            elif f.kind == "malformed_line":
                body = MALFORMED_LINE
            elif f.kind == "stall":
                self._head(status, ctype, len(body))
                if not self.head_only:
                    self._write(body[: len(body) // 2])
                    self.h.wfile.flush()
                    self.h._hold(f.delay)
                    self._write(body[len(body) // 2:])
                return
        self._head(status, ctype, len(body))
        if body and not self.head_only:
            self._write(body)

    def json(self, status: int, obj: Any) -> None:
        self.whole(status, dumps(spoil(obj) if self.hostile else obj), JSON_CT)

    def text(self, status: int, text: str) -> None:
        self.whole(status, (text + HOSTILE if self.hostile else text).encode(), TEXT_CT)

    def empty(self, status: int = 200) -> None:
        self.whole(status, b"", None)

    # ----------------------------------------------------------------- streams
    def _start_stream(self) -> None:
        if not self.started:
            self._head(200, NDJSON_CT, None, stream=True)

    def _fire(self, pending: Any = None) -> None:
        f = self.fault
        if f is None or self.fired:
            return
        if pending is not None and self.count < f.after:
            return
        self.fired = True
        if f.kind == "error_mid_stream":
            self._chunk(dumps({"error": f.message}) + b"\n")
            self._end()
            raise Done
        if f.kind == "drop":
            raise Abort
        if f.kind == "reset":
            raise Reset
        if f.kind == "huge" and pending is not None:
            self._chunk(dumps(inflate(pending, f.size)) + b"\n")
            self.count += 1
            raise Replaced
        if f.kind == "truncated":
            data = dumps(pending if pending is not None else {"status": "truncated line"})
            self._chunk(data[: max(1, len(data) // 2)])
            raise Abort
        if f.kind == "malformed_line":
            self._chunk(MALFORMED_LINE)
        if f.kind == "stall":  # nothing for `delay` s, then carry on (0: a half-open connection)
            self.h.wfile.flush()
            self.h._hold(f.delay)

    def line(self, obj: Any) -> None:
        if self.hostile:
            obj = spoil(obj)
        self._start_stream()
        try:
            self._fire(obj)
        except Replaced:
            return  # the fault sent its own version of this line
        self._chunk(dumps(obj) + b"\n")
        self.count += 1

    def _end(self) -> None:
        if self.chunked:
            self._write(b"0\r\n\r\n")

    def end_stream(self) -> None:
        self._start_stream()
        self._fire(None)  # a fault whose `after` was never reached fires at the end
        self._end()

    def stream_error(self, message: str) -> None:
        self.line({"error": message})
        self.end_stream()
        raise Done


class Collector:
    """Stands in for a stream when `"stream": false`: answers the last line as one object."""

    def __init__(self, resp: Response) -> None:
        self.resp = resp
        self.last: Any = None

    def line(self, obj: Any) -> None:
        self.last = obj

    def end_stream(self) -> None:
        self.resp.json(200, self.last if self.last is not None else {})

    def stream_error(self, message: str) -> None:
        self.resp.json(500, {"error": message})
        raise Done


def host_allowed(host_header: str | None) -> bool:
    """Ollama's allowedHostsMiddleware for a loopback listener."""
    if not host_header:
        return True
    host = host_header.strip()
    if host.startswith("["):
        end = host.find("]")
        host = host[1:end] if end > 0 else host
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
        return ip.is_loopback or ip.is_private or ip.is_unspecified
    except ValueError:
        pass
    host = host.lower()
    if host in ("", "localhost", socket.gethostname().lower()):
        return True
    return host.endswith((".localhost", ".local", ".internal"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        # Go sends a Date header but no Server header.
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def setup(self) -> None:
        super().setup()
        try:  # like Go: no Nagle, so small writes (headers, NDJSON lines) leave at once
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ValueError):  # client went away / socket shut by stop()
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        state = self.server.state
        method = self.command
        path = urlsplit(self.path).path or "/"
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        body: Any = None
        body_error = ""
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as e:
                body_error = f"invalid character in request body: {e}"
        if state.hostile:
            body = clean(body)
        state.record(method, path, body)

        probe = Response(self, None, method == "HEAD", state.hostile)
        try:
            if not host_allowed(self.headers.get("Host")):
                probe.empty(403)
                return
            route = self.server.routes.get(path)
            if route is None:
                probe.text(404, "404 page not found")
                return
            handler = route.get(method)
            if handler is None:
                self.send_response(405)
                self.send_header("Allow", ", ".join(route))
                self.send_header("Content-Type", TEXT_CT)
                self.send_header("Content-Length", "22")
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(b"405 method not allowed")
                return
        except OSError:
            self.close_connection = True
            return

        fault = state.take_fault(path)
        resp = Response(self, fault, method == "HEAD", state.hostile)
        try:
            try:
                if fault is not None and fault.kind in PRE_FAULTS:
                    if fault.kind == "slow_first_byte":
                        self._hold(fault.delay)
                    elif fault.kind == "status":
                        resp.json(fault.status, {"error": fault.message})
                        return
                    elif fault.kind == "empty_body":
                        resp.whole(200, b"", JSON_CT)
                        return
                    elif fault.kind == "non_json":
                        resp.whole(200, b"<html>oops</html>", "text/html; charset=utf-8")
                        return
                if method in ("POST", "DELETE"):
                    if not raw.strip():
                        raise HTTPError(400, "missing request body")
                    if body_error:
                        raise HTTPError(400, body_error)
                    if not isinstance(body, dict):
                        raise HTTPError(400, f"json: cannot unmarshal {_json_type(body)} into Go value")
                handler(state, Request(method, path, body if isinstance(body, dict) else {}), resp)
            except HTTPError as e:
                if resp.started:
                    raise Abort from e
                resp.json(e.status, {"error": e.message})
        except Done:
            pass
        except Reset:
            self.close_connection = True
            reset(self.connection)
        except Abort:
            self._abort()
        except OSError:  # BrokenPipe / ConnectionReset: the client went away
            self.close_connection = True
        except ValueError as e:
            if "closed file" not in str(e):  # writing after the socket was closed is not a bug
                state.record_error(traceback.format_exc())
            self.close_connection = True
        except Exception as e:  # a simulator bug: keep serving, remember it
            state.record_error(traceback.format_exc())
            try:
                if not resp.started:
                    resp.fault = None
                    resp.json(500, {"error": f"simulator internal error: {e}"})
                else:
                    self._abort()
            except (OSError, Abort, Done):
                self._abort()

    def _hold(self, delay: float) -> None:
        """Send nothing for `delay` seconds (0: until the client hangs up or the simulator
        stops), watching the client: one that hangs up meanwhile (a cancelled request, a
        client that gave up waiting) is noted in `hangups` and not answered (Abort)."""
        state = self.server.state
        path = urlsplit(self.path).path or "/"
        deadline = time.monotonic() + delay if delay > 0 else None
        while True:
            left = 0.05 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return
            state.sleep(min(left, 0.05))
            try:
                readable, _, _ = select.select([self.connection], [], [], 0)
                gone = bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                gone = True
            if gone:
                state.record_hangup(path)
                raise Abort

    def _abort(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_HEAD = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = _dispatch


def _json_type(v: Any) -> str:
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "null"


class SimServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections so `stop()` can cut them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SimState, routes: Routes) -> None:
        self.state = state
        self.routes = routes
        self.conns: set[socket.socket] = set()
        self.threads: set[threading.Thread] = set()
        self.track_lock = threading.Lock()
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer's getfqdn() (a reverse DNS lookup that can hang).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.state.stopping.is_set():
            self.shutdown_request(request)
            return
        t = threading.Thread(target=self._run, args=(request, client_address), daemon=True,
                             name=f"ollama-sim-conn:{self.server_port}")
        with self.track_lock:
            self.conns.add(request)
            self.threads.add(t)
            self.state.connections += 1
        t.start()

    def _run(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.track_lock:
                self.conns.discard(request)
                self.threads.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ValueError)):
            return
        self.state.record_error(traceback.format_exc())

    def cut_connections(self) -> None:
        with self.track_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
