"""The transport an :class:`~tui.service.ollama.OllamaClient` holds: the pooled httpx client (made
at the first request), its settings and lifecycle, the mapping of transport failures and HTTP
statuses to the errors of `errors.py`, retries of idempotent reads, the NDJSON stream plumbing
and the `show` cache. Its public methods are what the client's endpoints are written with.

Everything a server sends is untrusted: whole bodies are read in pieces and refused past
MAX_BODY_BYTES (error bodies are cut at MAX_ERROR_BODY_BYTES), and NDJSON lines are split on
b"\\n" alone (U+0085, U+2028 and U+2029 may appear raw inside a JSON string: Go's encoder sends
U+0085 as is) and refused past MAX_LINE_BYTES, so memory stays bounded whatever the server does.

httpx is imported only inside functions (and for type checking), so importing this module does
not import it. Header values never appear in reprs or exception messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

from tui.service.hosts import cleartext_secret_warning, is_loopback, redact_url
from tui.service.ollama import errors as errors
from tui.service.ollama.types import ModelShow
from tui.service.units import format_bytes

T = TypeVar("T")

_ROUTE_NOT_FOUND = "404 page not found"
_USER_AGENT = "ollama-tui"

_MiB = 1024 * 1024
#: Longest NDJSON line read from a stream. A chunk line is well under 1 KB; the last line of a
#: /api/generate stream carries the `context` token array (~1 MB at 128k tokens). A longer
#: line ends the stream (the reply so far is kept) instead of growing memory without end.
MAX_LINE_BYTES = 16 * _MiB
#: Largest whole (non-streamed) body read: /api/tags, /api/show (model info, template, license),
#: /api/ps, a non-streamed reply or embedding batch. A larger one is refused, not read.
MAX_BODY_BYTES = 64 * _MiB
#: Largest part of an error body read (the message shown is cut at 500 characters anyway).
MAX_ERROR_BODY_BYTES = 1 * _MiB
#: Default seconds a pull may go without receiving a byte before it is given up (Ollama sends
#: progress every ~60 ms while downloading, so silence means a dead or half-open connection).
#: The `[server] pull_stall_timeout` config key sets it.
PULL_STALL_SECONDS = 60.0


def _short(text: str, limit: int = 200) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_transport_error(exc: Exception) -> str:
    """A short reason for a transport failure; never includes request headers."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response in time (read timed out)"
    if isinstance(exc, httpx.WriteTimeout):
        return "sending the request timed out"
    if isinstance(exc, httpx.PoolTimeout):
        return "too many requests in flight (pool timed out)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed by the server ({_short(str(exc)) or 'protocol error'})"
    # httpx often wraps the OS error in empty-message layers (ReadError('') ← BrokenResourceError()
    # ← ConnectionResetError): say what the deepest layer with words says.
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionResetError):
            return "the connection was reset (the server or the network dropped it)"
        if isinstance(cause, OSError) and cause.strerror:
            return _short(cause.strerror)
        reason = str(cause).strip()
        if reason:
            return _short(reason)
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ReadError):
        return "the connection was lost while reading"
    return type(exc).__name__


class _StreamIncomplete(Exception):
    """Internal: the NDJSON stream broke; the public generators turn it into StreamError.
    `stalled` is the seconds waited when it broke because no data came for that long."""

    def __init__(self, message: str, stalled: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.stalled = stalled


def _stalled(seconds: float) -> _StreamIncomplete:
    return _StreamIncomplete(f"no data from Ollama for {seconds:g} s; stopped waiting", stalled=seconds)


def _skip_absent_sniffio() -> None:
    """httpcore tries `import sniffio` on every request; when it is not installed each try
    searches sys.path again (~0.4 ms of file lookups per request). Record the absence once."""
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # `import sniffio` fails at once


class OllamaTransport:
    """Connection, settings, lifecycle and request plumbing for one Ollama server (the
    endpoints are :class:`~tui.service.ollama.OllamaClient`'s)."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 3.0,
        request_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.2,
        pull_stall_timeout: float = PULL_STALL_SECONDS,
        keepalive: float | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        #: Seconds an idle connection is kept for the next request (httpx's 5 s when None): a
        #: client asked less often than that (a fleet probe) sets it above its pace.
        self.keepalive = keepalive
        self.request_timeout = request_timeout
        #: Seconds a pull waits for the next byte before giving up (see PULL_STALL_SECONDS).
        self.pull_stall_timeout = pull_stall_timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        #: Streams whose HTTP response is open right now (observable for tests and the UI).
        self.active_streams = 0
        #: (base URL, monotonic time, round-trip seconds) of the last light request (`GET /`,
        #: `/api/ps`) the server answered: the connection watch counts it as its own ping.
        self.last_answer: tuple[str, float, float] | None = None
        #: Limits on what the server may send (see the module constants; tests lower them).
        self.max_line_bytes = MAX_LINE_BYTES
        self.max_body_bytes = MAX_BODY_BYTES
        self.max_error_body_bytes = MAX_ERROR_BODY_BYTES
        self._headers = {"User-Agent": _USER_AGENT, **(headers or {})}
        self.show_cache: dict[tuple[str, bool], tuple[str, ModelShow]] = {}
        self._open(base_url)

    def set_base_url(self, base_url: str) -> None:
        """Point the client at another server (the old pool is closed in the background)."""
        old = self._client
        self._open(base_url)
        self.show_cache.clear()
        if old is not None:
            try:
                asyncio.get_running_loop().create_task(old.aclose())
            except RuntimeError:
                pass

    def _open(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.display_url = redact_url(self.base_url)
        try:  # a bad port is refused here; anything else (no scheme, say) fails as unreachable
            urlsplit(self.base_url).port  # noqa: B018 - raises ValueError
        except ValueError as exc:
            raise ValueError(f"invalid Ollama URL {self.display_url!r}: {exc}") from None
        # The HTTP client (and httpx, ~0.1 s of imports) is made at the first request: after
        # the app's first frame, not before it.
        self._client: httpx.AsyncClient | None = None

    def warm_up(self) -> None:
        """Make the HTTP client now (its imports take ~0.1 s; callable from a thread)."""
        self._http  # noqa: B018

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            _skip_absent_sniffio()

            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                timeout=httpx.Timeout(connect=self.connect_timeout, read=self.request_timeout,
                                      write=self.request_timeout, pool=self.request_timeout),
                follow_redirects=False,
                # Loading the CA bundle costs ~100 ms; a plain-http client (redirects off, a
                # new client for each host) never makes a TLS connection, so it needs none.
                verify=self.base_url.lower().startswith("https://"),
                # A proxy from the environment must never swallow loopback traffic.
                trust_env=not is_loopback(self.base_url),
                **({"limits": httpx.Limits(keepalive_expiry=self.keepalive)} if self.keepalive is not None else {}),
            )
        return self._client

    # -- lifecycle ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"OllamaTransport({self.display_url!r})"

    @property
    def security_warning(self) -> str | None:
        """Why sending this client's headers to this server is unsafe (plain http, not
        loopback, a credential among them), or None."""
        return cleartext_secret_warning(self.base_url, self._headers)

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing -----------------------------------------------------------------------------

    def _unreachable(self, exc: Exception) -> errors.Unreachable:
        return errors.Unreachable(f"Ollama not reachable at {self.display_url}: {_describe_transport_error(exc)}")

    @staticmethod
    def _error_for_status(status: int, body: bytes, path: str) -> errors.OllamaError:
        text = body.decode("utf-8", errors="replace").strip()
        message = ""
        is_json = False
        if text:
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if isinstance(data, dict) and isinstance(data.get("error"), str):
                message, is_json = data["error"], True
        if not message:
            message = _short(text, 500) if text else ""
        if not message:
            try:
                message = f"HTTP {status} {HTTPStatus(status).phrase}"
            except ValueError:
                message = f"HTTP {status}"
        if status == 400:
            return errors.BadRequest(message, status)
        if status == 403:
            if not text:
                message = (
                    "HTTP 403 Forbidden (the server refused this client; a server listening on "
                    "loopback only accepts local Host headers)"
                )
            return errors.Forbidden(message, status)
        if status == 404:
            if not is_json and text == _ROUTE_NOT_FOUND:
                return errors.ServerError(f"this Ollama server does not support {path} ({text})", status)
            return errors.ModelNotFound(message, status)
        if status == 503:
            return errors.ServerBusy(message, status)
        return errors.ServerError(message, status)

    @staticmethod
    def _decode_json(body: bytes, path: str) -> Any:
        if not body.strip():
            raise errors.ServerError(f"empty response from Ollama for {path} (expected JSON)")
        try:
            return json.loads(body)
        except ValueError:
            text = body.decode("utf-8", errors="replace")
            raise errors.ServerError(
                f"unexpected non-JSON response from Ollama for {path}: {_short(text, 120)!r}"
            ) from None

    async def _read_body(self, response: httpx.Response, path: str, *, error: bool = False) -> bytes:
        """The body, read in pieces. Past `max_body_bytes` it is refused (ServerError) without
        reading the rest; an error body (`error=True`) is cut at `max_error_body_bytes`."""
        limit = self.max_error_body_bytes if error else self.max_body_bytes
        if not error:
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise self._too_large(path, limit)
        parts: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                if not error:
                    raise self._too_large(path, limit)
                parts.append(chunk[: len(chunk) - (size - limit)])
                break
            parts.append(chunk)
        return b"".join(parts)

    @staticmethod
    def _too_large(path: str, limit: int) -> errors.ServerError:
        return errors.ServerError(f"the response from Ollama for {path} is larger than {format_bytes(limit, drop_zeros=True)}; stopped reading")

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        timeout: httpx.Timeout | None = None,
    ) -> bytes:
        """One request; returns its body (bounded, see `_read_body`). Raises the mapped error
        for a status ≥ 400."""
        import httpx

        kwargs: dict[str, Any] = {}
        if json_body is not None:
            kwargs["json"] = json_body
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            async with self._http.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    raw = await self._read_body(response, path, error=True)
                    raise self._error_for_status(response.status_code, raw, path)
                return await self._read_body(response, path)
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise self._unreachable(exc) from None

    async def request_json(
        self, method: str, path: str, *, json_body: Any = None, timeout: httpx.Timeout | None = None
    ) -> Any:
        """One request whose answer is JSON (decoded; a body that is not JSON is a ServerError)."""
        body = await self.request(method, path, json_body=json_body, timeout=timeout)
        return self._decode_json(body, path)

    async def retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run an idempotent call, retrying on Unreachable/ServerBusy with exponential backoff."""
        attempt = 0
        while True:
            try:
                return await call()
            except (errors.Unreachable, errors.ServerBusy):
                if attempt >= self.retries:
                    raise
                await asyncio.sleep(self.backoff * (2**attempt))
                attempt += 1

    def long_timeout(self) -> httpx.Timeout:
        """The timeout of a model-running call (chat, generate, embed, load, pull)."""
        import httpx

        # Model-running calls may wait minutes for a load: only the connect phase is bounded.
        # (Pulls add their own stall limit: see streams.progress_stream.)
        return httpx.Timeout(connect=self.connect_timeout, read=None, write=self.request_timeout, pool=None)

    @asynccontextmanager
    async def open_stream(
        self, path: str, body: dict[str, Any], *, stall: float | None = None
    ) -> AsyncIterator[httpx.Response]:
        """POST a streaming request; yields the 200 response, raises the mapped error otherwise.
        With `stall`, waiting longer than that for the response head raises _StreamIncomplete."""
        import httpx

        try:
            request = self._http.build_request("POST", path, json=body, timeout=self.long_timeout())
            try:
                if stall is None:
                    response = await self._http.send(request, stream=True)
                else:
                    async with asyncio.timeout(stall):
                        response = await self._http.send(request, stream=True)
            except TimeoutError:
                raise _stalled(stall or 0) from None
            try:
                if response.status_code >= 400:
                    try:
                        raw = await self._read_body(response, path, error=True)
                    except httpx.TransportError:
                        raw = b""
                    raise self._error_for_status(response.status_code, raw, path)
                self.active_streams += 1
                try:
                    yield response
                finally:
                    self.active_streams -= 1
            finally:
                await response.aclose()
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            # Only reached before the body is consumed: failures while reading are turned into
            # _StreamIncomplete by lines() inside the with-block.
            raise self._unreachable(exc) from None

    @staticmethod
    async def _watched(chunks: AsyncIterator[bytes], stall: Callable[[], float | None]) -> AsyncIterator[bytes]:
        """`chunks`, each awaited at most `stall()` seconds (None: no limit); past that
        _StreamIncomplete (stalled). The yield is outside the timeout: a slow consumer is not
        counted."""
        while True:
            seconds = stall()
            try:
                if seconds is None:
                    chunk = await anext(chunks)
                else:
                    async with asyncio.timeout(seconds):
                        chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise _stalled(seconds or 0) from None
            yield chunk

    async def lines(
        self, response: httpx.Response, *, stall: Callable[[], float | None] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """NDJSON objects as they arrive. An `{"error"}` line raises StreamError (partial=None);
        a malformed or too long line, a broken connection, or (with `stall`) no data for
        `stall()` seconds raises _StreamIncomplete.

        Lines end at b"\\n" only (a trailing \\r is JSON whitespace, which json.loads skips):
        U+0085, U+2028 and U+2029 inside a string are text, not line breaks. The split is done
        on bytes with find/slices, one join for a line that spans network chunks."""
        import httpx

        limit = self.max_line_bytes
        pending: list[bytes] = []  # the start of a line whose end has not arrived
        pending_size = 0
        chunks = response.aiter_bytes()
        source = chunks if stall is None else self._watched(chunks, stall)
        try:
            async for chunk in source:
                start = 0
                end = chunk.find(b"\n")
                while end >= 0:
                    if pending:
                        pending.append(chunk[start:end])
                        line = b"".join(pending)
                        pending.clear()
                        pending_size = 0
                    else:
                        line = chunk[start:end]
                    start = end + 1
                    if len(line) > limit:
                        raise self._line_too_long(limit)
                    if line and not line.isspace():
                        yield self._parse_line(line)
                    end = chunk.find(b"\n", start)
                if start < len(chunk):
                    pending_size += len(chunk) - start
                    if pending_size > limit:
                        raise self._line_too_long(limit)
                    pending.append(chunk[start:] if start else chunk)
            if pending:
                line = b"".join(pending)
                if not line.isspace():
                    yield self._parse_line(line)
        except httpx.TransportError as exc:
            raise _StreamIncomplete(f"the stream from Ollama broke off: {_describe_transport_error(exc)}") from None

    @staticmethod
    def _line_too_long(limit: int) -> _StreamIncomplete:
        return _StreamIncomplete(f"the server sent a line longer than {format_bytes(limit, drop_zeros=True)}; stopped reading")

    @staticmethod
    def _parse_line(line: bytes) -> dict[str, Any]:
        text = line.decode("utf-8", "replace")
        try:
            obj = json.loads(text)
        except ValueError:
            raise _StreamIncomplete(f"malformed line in the stream from Ollama: {_short(text, 120)!r}") from None
        if not isinstance(obj, dict):
            raise _StreamIncomplete(f"unexpected line in the stream from Ollama: {_short(text, 120)!r}")
        err = obj.get("error")
        if err:
            raise errors.StreamError(str(err))
        return obj

    # -- show cache ---------------------------------------------------------------------------

    def forget(self, model: str) -> None:
        """Drop the cached `show` answers of `model` (it was pulled, created, copied over or deleted)."""
        for key in [k for k in self.show_cache if k[0] == model]:
            del self.show_cache[key]
