"""The transport under :class:`~tui.service.ollama.OllamaClient`: the pooled httpx client (made
at the first request), its lifecycle, the mapping of transport failures and HTTP statuses to the
errors of `errors.py`, retries of idempotent reads, and the NDJSON stream plumbing.

httpx is imported only inside functions (and for type checking), so importing this module does
not import it. Header values never appear in reprs or exception messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

from tui.service.hosts import cleartext_secret_warning, is_loopback, redact_url
from tui.service.ollama import errors as errors
from tui.service.ollama.types import ModelShow

T = TypeVar("T")

_ROUTE_NOT_FOUND = "404 page not found"
_USER_AGENT = "ollama-tui"


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
    """Internal: the NDJSON stream broke; the public generators turn it into StreamError."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _skip_absent_sniffio() -> None:
    """httpcore tries `import sniffio` on every request; when it is not installed each try
    searches sys.path again (~0.4 ms of file lookups per request). Record the absence once."""
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # `import sniffio` fails at once


class OllamaTransport:
    """Connection, lifecycle and request plumbing of the client; the endpoints are in mixins."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 3.0,
        request_timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        #: Streams whose HTTP response is open right now (observable for tests and the UI).
        self.active_streams = 0
        #: (base URL, monotonic time, round-trip seconds) of the last light request (`GET /`,
        #: `/api/ps`) the server answered: the connection watch counts it as its own ping.
        self.last_answer: tuple[str, float, float] | None = None
        self._headers = {"User-Agent": _USER_AGENT, **(headers or {})}
        self._show_cache: dict[tuple[str, bool], tuple[str, ModelShow]] = {}
        self._open(base_url)

    def set_base_url(self, base_url: str) -> None:
        """Point the client at another server (the old pool is closed in the background)."""
        old = self._client
        self._open(base_url)
        self._show_cache.clear()
        if old is not None:
            try:
                asyncio.get_running_loop().create_task(old.aclose())
            except RuntimeError:
                pass

    def _open(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._display_url = redact_url(self.base_url)
        try:  # a bad port is refused here; anything else (no scheme, say) fails as unreachable
            urlsplit(self.base_url).port  # noqa: B018 - raises ValueError
        except ValueError as exc:
            raise ValueError(f"invalid Ollama URL {self._display_url!r}: {exc}") from None
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
            )
        return self._client

    # -- lifecycle ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"OllamaClient({self._display_url!r})"

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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- plumbing -----------------------------------------------------------------------------

    def _unreachable(self, exc: Exception) -> errors.Unreachable:
        return errors.Unreachable(f"Ollama not reachable at {self._display_url}: {_describe_transport_error(exc)}")

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

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """One request, body fully read; raises the mapped error for a status ≥ 400."""
        import httpx

        kwargs: dict[str, Any] = {}
        if json_body is not None:
            kwargs["json"] = json_body
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = await self._http.request(method, path, **kwargs)
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 400:
            raise self._error_for_status(response.status_code, response.content, path)
        return response

    async def _request_json(
        self, method: str, path: str, *, json_body: Any = None, timeout: httpx.Timeout | None = None
    ) -> Any:
        response = await self._request(method, path, json_body=json_body, timeout=timeout)
        return self._decode_json(response.content, path)

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
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

    def _long_timeout(self) -> httpx.Timeout:
        import httpx

        # Model-running calls may wait minutes for a load: only the connect phase is bounded.
        return httpx.Timeout(connect=self.connect_timeout, read=None, write=self.request_timeout, pool=None)

    @asynccontextmanager
    async def _open_stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[httpx.Response]:
        """POST a streaming request; yields the 200 response, raises the mapped error otherwise."""
        import httpx

        try:
            async with self._http.stream("POST", path, json=body, timeout=self._long_timeout()) as response:
                if response.status_code >= 400:
                    try:
                        raw = await response.aread()
                    except httpx.TransportError:
                        raw = b""
                    raise self._error_for_status(response.status_code, raw, path)
                self.active_streams += 1
                try:
                    yield response
                finally:
                    self.active_streams -= 1
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            # Only reached before the body is consumed: failures while reading are turned into
            # _StreamIncomplete by _lines() inside the with-block.
            raise self._unreachable(exc) from None

    async def _lines(self, response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
        """NDJSON objects as they arrive. An `{"error"}` line raises StreamError (partial=None);
        a malformed line or a broken connection raises _StreamIncomplete."""
        import httpx

        try:
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    raise _StreamIncomplete(
                        f"malformed line in the stream from Ollama: {_short(line, 120)!r}"
                    ) from None
                if not isinstance(obj, dict):
                    raise _StreamIncomplete(f"unexpected line in the stream from Ollama: {_short(line, 120)!r}")
                err = obj.get("error")
                if err:
                    raise errors.StreamError(str(err))
                yield obj
        except httpx.TransportError as exc:
            raise _StreamIncomplete(f"the stream from Ollama broke off: {_describe_transport_error(exc)}") from None

    # -- show cache ---------------------------------------------------------------------------

    def _forget(self, model: str) -> None:
        for key in [k for k in self._show_cache if k[0] == model]:
            del self._show_cache[key]
