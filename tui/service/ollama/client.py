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

The client is this one class: every endpoint is written out below, over an
:class:`~tui.service.ollama.transport.OllamaTransport` it holds (`transport.py`: the httpx client,
its settings and lifecycle, error mapping, retries, NDJSON plumbing, the `show` cache); the
transport's settings (`base_url`, `retries`, the size limits, ...) read and set through the
client. The two stream readers are functions in `streams.py`.
Importing this module does not import httpx.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Generic, Self, TypeVar, overload

from tui.service.ollama import errors as errors
from tui.service.ollama.names import validate_model_name
from tui.service.ollama.streams import progress_stream, text_stream
from tui.service.ollama.transport import PULL_STALL_SECONDS, OllamaTransport
from tui.service.ollama.types import (
    ChatChunk,
    EmbedResult,
    GenerateChunk,
    ModelInfo,
    ModelShow,
    PullEvent,
    RunningModel,
)
from tui.service.providers.protocol import ALL_FEATURES
from tui.service.untrusted import inert_short

__all__ = ["OllamaClient"]

T = TypeVar("T")


class _OnTransport(Generic[T]):
    """An attribute of the client that is its transport's, read and set through the client."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type) -> Self: ...
    @overload
    def __get__(self, client: OllamaClient, owner: type) -> T: ...
    def __get__(self, client: OllamaClient | None, owner: type) -> T | Self:
        return self if client is None else getattr(client.transport, self.name)

    def __set__(self, client: OllamaClient, value: T) -> None:
        setattr(client.transport, self.name, value)


class OllamaClient:
    """Async client for one Ollama server. Use as `async with OllamaClient(url) as c: ...`.

    It is a `tui.service.providers.Provider` offering every optional feature."""

    features: frozenset[str] = ALL_FEATURES
    kind = "ollama"
    timings = "server"

    # The transport's settings and counters (see OllamaTransport for each).
    base_url: _OnTransport[str] = _OnTransport()
    connect_timeout: _OnTransport[float] = _OnTransport()
    request_timeout: _OnTransport[float] = _OnTransport()
    keepalive: _OnTransport[float | None] = _OnTransport()
    pull_stall_timeout: _OnTransport[float] = _OnTransport()
    retries: _OnTransport[int] = _OnTransport()
    backoff: _OnTransport[float] = _OnTransport()
    active_streams: _OnTransport[int] = _OnTransport()
    last_answer: _OnTransport[tuple[str, float, float] | None] = _OnTransport()
    max_line_bytes: _OnTransport[int] = _OnTransport()
    max_body_bytes: _OnTransport[int] = _OnTransport()
    max_error_body_bytes: _OnTransport[int] = _OnTransport()

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
        self.transport = OllamaTransport(
            base_url, headers=headers, connect_timeout=connect_timeout, request_timeout=request_timeout,
            retries=retries, backoff=backoff, pull_stall_timeout=pull_stall_timeout, keepalive=keepalive,
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"OllamaClient({self.transport.display_url!r})"

    def supports(self, feature: str) -> bool:
        return feature in self.features

    def set_base_url(self, base_url: str) -> None:
        """Point the client at another server (the old pool is closed in the background)."""
        self.transport.set_base_url(base_url)

    def warm_up(self) -> None:
        """Make the HTTP client now (its imports take ~0.1 s; callable from a thread)."""
        self.transport.warm_up()

    @property
    def security_warning(self) -> str | None:
        """Why sending this client's headers to this server is unsafe, or None."""
        return self.transport.security_warning

    @property
    def closed(self) -> bool:
        return self.transport.closed

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- liveness -----------------------------------------------------------------------------

    async def ping(self) -> float:
        """`GET /`: round-trip seconds. Raises Unreachable (or the mapped error for a bad status)."""

        async def once() -> float:
            started = time.perf_counter()
            await self.transport.request("GET", "/")
            return self._answered(started)

        return await self.transport.retrying(once)

    def _answered(self, started: float) -> float:
        """Note a light request's round trip (see ``last_answer``) and return it."""
        latency = time.perf_counter() - started
        self.last_answer = (self.base_url, time.monotonic(), latency)
        return latency

    async def version(self) -> str:
        async def once() -> str:
            data = await self.transport.request_json("GET", "/api/version")
            version = data.get("version") if isinstance(data, dict) else None
            if not isinstance(version, str):
                raise errors.ServerError("unexpected answer from /api/version (no version)")
            return inert_short(version, 64)

        return await self.transport.retrying(once)

    # -- models -------------------------------------------------------------------------------

    async def tags(self) -> list[ModelInfo]:
        """Installed models (`GET /api/tags`)."""

        async def once() -> list[ModelInfo]:
            data = await self.transport.request_json("GET", "/api/tags")
            return [ModelInfo.from_json(m) for m in _models(data, "/api/tags")]

        return await self.transport.retrying(once)

    async def ps(self) -> list[RunningModel]:
        """Models loaded right now (`GET /api/ps`)."""

        async def once() -> list[RunningModel]:
            started = time.perf_counter()
            data = await self.transport.request_json("GET", "/api/ps")
            self._answered(started)
            return [RunningModel.from_json(m) for m in _models(data, "/api/ps")]

        return await self.transport.retrying(once)

    async def show(self, model: str, *, verbose: bool = False, digest: str | None = None) -> ModelShow:
        """Details of one model (`POST /api/show`).

        Pass the model's `digest` (from `tags()`) to use a cache: the same (name, digest) is
        fetched once. Without a digest the server is always asked.
        """
        key = (model, verbose)
        if digest:
            cached = self.transport.show_cache.get(key)
            if cached is not None and cached[0] == digest:
                return cached[1]
        body: dict[str, Any] = {"model": model}
        if verbose:
            body["verbose"] = True

        async def once() -> ModelShow:
            data = await self.transport.request_json("POST", "/api/show", json_body=body)
            if not isinstance(data, dict):
                raise errors.ServerError("unexpected answer from /api/show (not a JSON object)")
            return ModelShow.from_json(data)

        result = await self.transport.retrying(once)
        if digest:
            self.transport.show_cache[key] = (digest, result)
        return result

    async def delete(self, model: str) -> None:
        """`DELETE /api/delete`. ModelNotFound if it is not installed. Never retried."""
        await self.transport.request("DELETE", "/api/delete", json_body={"model": model})
        self.transport.forget(model)

    async def copy(self, source: str, destination: str) -> None:
        """`POST /api/copy`; an existing destination is overwritten. Never retried."""
        validate_model_name(destination)
        await self.transport.request("POST", "/api/copy", json_body={"source": source, "destination": destination})
        self.transport.forget(destination)

    # -- pull and create -----------------------------------------------------------------------

    def pull(self, model: str, *, insecure: bool = False) -> AsyncIterator[PullEvent]:
        """`POST /api/pull`: progress events, one layer at a time, ending with `success`.

        Close the iterator (or cancel the task) to stop the download; a later pull resumes.
        No data for `pull_stall_timeout` s ends it with StreamError (a later pull resumes too).
        """
        validate_model_name(model)
        body: dict[str, Any] = {"model": model, "stream": True}
        if insecure:
            body["insecure"] = True
        self.transport.forget(model)
        return progress_stream(self.transport, "/api/pull", body, watch=True)

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
        self.transport.forget(model)
        return progress_stream(self.transport, "/api/create", body)

    # -- chat / generate ----------------------------------------------------------------------

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
        body = _chat_body(model, messages, True, options, think, format, keep_alive, tools)
        return text_stream(self.transport, "/api/chat", body, ChatChunk.from_json, lambda c: c.content)

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
        body = _chat_body(model, messages, False, options, think, format, keep_alive, tools)
        data = await self._run_model("/api/chat", body)
        if not isinstance(data, dict):
            raise errors.ServerError("unexpected answer from /api/chat (not a JSON object)")
        return ChatChunk.from_json(data)

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
        body = _generate_body(model, prompt, True, system, images, options, think, format, keep_alive, raw, suffix)
        return text_stream(self.transport, "/api/generate", body, GenerateChunk.from_json, lambda c: c.response)

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
        body = _generate_body(model, prompt, False, system, images, options, think, format, keep_alive, raw, suffix)
        data = await self._run_model("/api/generate", body)
        if not isinstance(data, dict):
            raise errors.ServerError("unexpected answer from /api/generate (not a JSON object)")
        return GenerateChunk.from_json(data)

    # -- embed, load, unload ------------------------------------------------------------------

    async def embed(self, model: str, input: str | list[str], *, truncate: bool | None = None) -> EmbedResult:
        """`POST /api/embed`: one vector per input string."""
        body: dict[str, Any] = {"model": model, "input": input}
        if truncate is not None:
            body["truncate"] = truncate
        data = await self._run_model("/api/embed", body)
        if not isinstance(data, dict):
            raise errors.ServerError("unexpected answer from /api/embed (not a JSON object)")
        return EmbedResult.from_json(data)

    async def load(self, model: str, keep_alive: str | int | float | None = None) -> None:
        """Load a model into memory (a chat with no messages)."""
        body: dict[str, Any] = {"model": model, "messages": [], "stream": False}
        if keep_alive is not None:
            body["keep_alive"] = keep_alive
        await self._run_model("/api/chat", body)

    async def unload(self, model: str) -> None:
        """Unload a model now (a chat with no messages and `keep_alive: 0`)."""
        body = {"model": model, "messages": [], "keep_alive": 0, "stream": False}
        await self._run_model("/api/chat", body)

    async def _run_model(self, path: str, body: dict[str, Any]) -> Any:
        """A model-running POST answered in one JSON body (no read timeout: a load may take minutes)."""
        return await self.transport.request_json("POST", path, json_body=body, timeout=self.transport.long_timeout())


def _models(data: Any, path: str) -> list[dict[str, Any]]:
    """The model objects of a /api/tags or /api/ps answer."""
    if not isinstance(data, dict):
        raise errors.ServerError(f"unexpected answer from {path} (not a JSON object)")
    models = data.get("models") or []
    if not isinstance(models, list):
        raise errors.ServerError(f"unexpected answer from {path} (models is not a list)")
    return [m for m in models if isinstance(m, dict)]


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
    """The body of a /api/chat request."""
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
    """The body of a /api/generate request."""
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
