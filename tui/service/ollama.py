"""OllamaClient: every native `/api/*` endpoint over one pooled httpx client, typed results.

Error contract (all exceptions come from `errors.py`):

* No connection, DNS failure, connect timeout, or a non-streaming call that got no (complete)
  answer in time → `Unreachable("Ollama not reachable at URL: reason")`.
* An HTTP error status before any output → `BadRequest` (400), `Forbidden` (403),
  `ModelNotFound` (404), `ServerBusy` (503), `ServerError` (anything else ≥ 400). The message is
  the server's `{"error": …}` text, or its plain-text body. A 404 whose body is Go's plain
  `404 page not found` means the *route* is missing (an older server), which is a ServerError.
* A 200 with an empty or non-JSON body on a non-streaming call → `ServerError`.
* **Anything that goes wrong after a stream started raises `StreamError` with `partial`**: an
  `{"error": …}` line, a malformed or truncated line, the connection dropping, or the stream
  ending without its last line (`done: true` for chat/generate, `success` for pull/create).
  `partial` is the text so far for chat/generate (`content`; the thinking so far is on
  `exc.partial_thinking`), the list of events for pull/create. A dropped connection is therefore
  a StreamError, not Unreachable: the caller always gets what had arrived.

Idempotent reads (ping, version, tags, show, ps) are retried with exponential backoff on
Unreachable and ServerBusy; nothing else is ever retried.

Streams are async generators holding `async with http.stream(...)`: cancelling the consuming
task, or `aclose()` on the generator (use `contextlib.aclosing` when breaking out early), closes
the HTTP response at once, which is how Ollama learns to stop (cancel = disconnect).

Header values (e.g. an Authorization token) never appear in reprs or exception messages.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

from . import errors
from .hosts import cleartext_secret_warning, is_loopback, redact_url
from .names import validate_model_name
from .types import (
    ChatChunk,
    EmbedResult,
    GenerateChunk,
    ModelInfo,
    ModelShow,
    PullEvent,
    RunningModel,
)

__all__ = ["OllamaClient"]

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


class OllamaClient:
    """Async client for one Ollama server. Use as `async with OllamaClient(url) as c: ...`."""

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

    async def __aenter__(self) -> OllamaClient:
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

    # -- liveness -----------------------------------------------------------------------------

    async def ping(self) -> float:
        """`GET /`: round-trip seconds. Raises Unreachable (or the mapped error for a bad status)."""

        async def once() -> float:
            started = time.perf_counter()
            await self._request("GET", "/")
            return time.perf_counter() - started

        return await self._retrying(once)

    async def version(self) -> str:
        async def once() -> str:
            data = await self._request_json("GET", "/api/version")
            version = data.get("version") if isinstance(data, dict) else None
            if not isinstance(version, str):
                raise errors.ServerError("unexpected answer from /api/version (no version)")
            return version

        return await self._retrying(once)

    # -- models -------------------------------------------------------------------------------

    @staticmethod
    def _models(data: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(data, dict):
            raise errors.ServerError(f"unexpected answer from {path} (not a JSON object)")
        models = data.get("models") or []
        if not isinstance(models, list):
            raise errors.ServerError(f"unexpected answer from {path} (models is not a list)")
        return [m for m in models if isinstance(m, dict)]

    async def tags(self) -> list[ModelInfo]:
        """Installed models (`GET /api/tags`)."""

        async def once() -> list[ModelInfo]:
            data = await self._request_json("GET", "/api/tags")
            return [ModelInfo.from_json(m) for m in self._models(data, "/api/tags")]

        return await self._retrying(once)

    async def ps(self) -> list[RunningModel]:
        """Models loaded right now (`GET /api/ps`)."""

        async def once() -> list[RunningModel]:
            data = await self._request_json("GET", "/api/ps")
            return [RunningModel.from_json(m) for m in self._models(data, "/api/ps")]

        return await self._retrying(once)

    async def show(self, model: str, *, verbose: bool = False, digest: str | None = None) -> ModelShow:
        """Details of one model (`POST /api/show`).

        Pass the model's `digest` (from `tags()`) to use a cache: the same (name, digest) is
        fetched once. Without a digest the server is always asked.
        """
        key = (model, verbose)
        if digest:
            cached = self._show_cache.get(key)
            if cached is not None and cached[0] == digest:
                return cached[1]
        body: dict[str, Any] = {"model": model}
        if verbose:
            body["verbose"] = True

        async def once() -> ModelShow:
            data = await self._request_json("POST", "/api/show", json_body=body)
            if not isinstance(data, dict):
                raise errors.ServerError("unexpected answer from /api/show (not a JSON object)")
            return ModelShow.from_json(data)

        result = await self._retrying(once)
        if digest:
            self._show_cache[key] = (digest, result)
        return result

    async def delete(self, model: str) -> None:
        """`DELETE /api/delete`. ModelNotFound if it is not installed. Never retried."""
        await self._request("DELETE", "/api/delete", json_body={"model": model})
        self._forget(model)

    async def copy(self, source: str, destination: str) -> None:
        """`POST /api/copy`; an existing destination is overwritten. Never retried."""
        validate_model_name(destination)
        await self._request("POST", "/api/copy", json_body={"source": source, "destination": destination})
        self._forget(destination)

    def _forget(self, model: str) -> None:
        for key in [k for k in self._show_cache if k[0] == model]:
            del self._show_cache[key]

    async def _progress(self, path: str, body: dict[str, Any]) -> AsyncIterator[PullEvent]:
        events: list[PullEvent] = []
        try:
            async with self._open_stream(path, body) as response:
                async with aclosing(self._lines(response)) as lines:
                    async for obj in lines:
                        event = PullEvent.from_json(obj)
                        events.append(event)
                        yield event
            if not events or events[-1].status != "success":
                raise errors.StreamError("the stream from Ollama ended before 'success'", partial=list(events))
        except errors.StreamError as exc:
            if exc.partial is None:
                exc.partial = list(events)
            raise
        except _StreamIncomplete as exc:
            raise errors.StreamError(exc.message, partial=list(events)) from None

    def pull(self, model: str, *, insecure: bool = False) -> AsyncIterator[PullEvent]:
        """`POST /api/pull`: progress events, one layer at a time, ending with `success`.

        Close the iterator (or cancel the task) to stop the download; a later pull resumes.
        """
        validate_model_name(model)
        body: dict[str, Any] = {"model": model, "stream": True}
        if insecure:
            body["insecure"] = True
        self._forget(model)
        return self._progress("/api/pull", body)

    def create(
        self,
        model: str,
        *,
        from_: str,
        system: str | None = None,
        template: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        license: str | list[str] | None = None,
        messages: list[dict[str, Any]] | None = None,
        quantize: str | None = None,
    ) -> AsyncIterator[PullEvent]:
        """`POST /api/create` from an existing model: progress events ending with `success`."""
        validate_model_name(model)
        body: dict[str, Any] = {"model": model, "from": from_, "stream": True}
        for key, value in (
            ("system", system),
            ("template", template),
            ("license", license),
            ("messages", messages),
            ("quantize", quantize),
        ):
            if value is not None:
                body[key] = value
        if parameters is not None:
            body["parameters"] = dict(parameters)
        self._forget(model)
        return self._progress("/api/create", body)

    # -- chat / generate ----------------------------------------------------------------------

    @staticmethod
    def _chat_body(
        model: str,
        messages: list[dict[str, Any]],
        stream: bool,
        options: Mapping[str, Any] | None,
        think: bool | str | None,
        format: str | dict[str, Any] | None,
        keep_alive: str | int | float | None,
        tools: list[Any] | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": list(messages), "stream": stream}
        if options:
            body["options"] = dict(options)
        if think is not None:
            body["think"] = think
        if format is not None:
            body["format"] = format
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        if tools:
            body["tools"] = list(tools)
        return body

    def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | str | None = None,
        format: str | dict[str, Any] | None = None,
        keep_alive: str | int | float | None = None,
        tools: list[Any] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """`POST /api/chat`, streamed: chunks as they arrive, the last one `done` with `stats`."""
        body = self._chat_body(model, messages, True, options, think, format, keep_alive, tools)
        return self._text_stream("/api/chat", body, ChatChunk.from_json, lambda c: c.content)

    async def chat_once(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        options: Mapping[str, Any] | None = None,
        think: bool | str | None = None,
        format: str | dict[str, Any] | None = None,
        keep_alive: str | int | float | None = None,
        tools: list[Any] | None = None,
    ) -> ChatChunk:
        """`POST /api/chat` with `stream: false`: the whole reply in one chunk."""
        body = self._chat_body(model, messages, False, options, think, format, keep_alive, tools)
        data = await self._request_json("POST", "/api/chat", json_body=body, timeout=self._long_timeout())
        if not isinstance(data, dict):
            raise errors.ServerError("unexpected answer from /api/chat (not a JSON object)")
        return ChatChunk.from_json(data)

    @staticmethod
    def _generate_body(
        model: str,
        prompt: str,
        stream: bool,
        system: str | None,
        images: list[str] | None,
        options: Mapping[str, Any] | None,
        think: bool | str | None,
        format: str | dict[str, Any] | None,
        keep_alive: str | int | float | None,
        raw: bool | None,
        suffix: str | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "prompt": prompt, "stream": stream}
        for key, value in (
            ("system", system),
            ("images", images),
            ("think", think),
            ("format", format),
            ("keep_alive", keep_alive),
            ("raw", raw),
            ("suffix", suffix),
        ):
            if value is not None:
                body[key] = value
        if options:
            body["options"] = dict(options)
        return body

    def generate(
        self,
        model: str,
        prompt: str,
        *,
        system: str | None = None,
        images: list[str] | None = None,
        options: Mapping[str, Any] | None = None,
        think: bool | str | None = None,
        format: str | dict[str, Any] | None = None,
        keep_alive: str | int | float | None = None,
        raw: bool | None = None,
        suffix: str | None = None,
    ) -> AsyncIterator[GenerateChunk]:
        """`POST /api/generate`, streamed."""
        body = self._generate_body(model, prompt, True, system, images, options, think, format, keep_alive, raw, suffix)
        return self._text_stream("/api/generate", body, GenerateChunk.from_json, lambda c: c.response)

    async def generate_once(
        self,
        model: str,
        prompt: str,
        *,
        system: str | None = None,
        images: list[str] | None = None,
        options: Mapping[str, Any] | None = None,
        think: bool | str | None = None,
        format: str | dict[str, Any] | None = None,
        keep_alive: str | int | float | None = None,
        raw: bool | None = None,
        suffix: str | None = None,
    ) -> GenerateChunk:
        """`POST /api/generate` with `stream: false`."""
        body = self._generate_body(
            model, prompt, False, system, images, options, think, format, keep_alive, raw, suffix
        )
        data = await self._request_json("POST", "/api/generate", json_body=body, timeout=self._long_timeout())
        if not isinstance(data, dict):
            raise errors.ServerError("unexpected answer from /api/generate (not a JSON object)")
        return GenerateChunk.from_json(data)

    async def _text_stream(
        self,
        path: str,
        body: dict[str, Any],
        parse: Callable[[dict[str, Any]], Any],
        text_of: Callable[[Any], str],
    ) -> AsyncIterator[Any]:
        text: list[str] = []
        thinking: list[str] = []

        def fail(message: str) -> errors.StreamError:
            exc = errors.StreamError(message, partial="".join(text))
            exc.partial_thinking = "".join(thinking)  # type: ignore[attr-defined]
            return exc

        done = False
        try:
            async with self._open_stream(path, body) as response:
                async with aclosing(self._lines(response)) as lines:
                    async for obj in lines:
                        chunk = parse(obj)
                        text.append(text_of(chunk))
                        thinking.append(chunk.thinking)
                        done = chunk.done
                        yield chunk
                        if done:
                            break
            if not done:
                raise fail("the stream from Ollama ended before the reply was done")
        except errors.StreamError as exc:
            if exc.partial is None:
                raise fail(exc.message) from None
            raise
        except _StreamIncomplete as exc:
            raise fail(exc.message) from None

    # -- embed, load, unload ------------------------------------------------------------------

    async def embed(self, model: str, input: str | list[str], *, truncate: bool | None = None) -> EmbedResult:
        """`POST /api/embed`: one vector per input string."""
        body: dict[str, Any] = {"model": model, "input": input}
        if truncate is not None:
            body["truncate"] = truncate
        data = await self._request_json("POST", "/api/embed", json_body=body, timeout=self._long_timeout())
        if not isinstance(data, dict):
            raise errors.ServerError("unexpected answer from /api/embed (not a JSON object)")
        return EmbedResult.from_json(data)

    async def load(self, model: str, keep_alive: str | int | float | None = None) -> None:
        """Load a model into memory (a chat with no messages)."""
        body: dict[str, Any] = {"model": model, "messages": [], "stream": False}
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        await self._request_json("POST", "/api/chat", json_body=body, timeout=self._long_timeout())

    async def unload(self, model: str) -> None:
        """Unload a model now (a chat with no messages and `keep_alive: 0`)."""
        body = {"model": model, "messages": [], "keep_alive": 0, "stream": False}
        await self._request_json("POST", "/api/chat", json_body=body, timeout=self._long_timeout())
