"""A client for OpenAI-compatible servers (vLLM, llama.cpp's llama-server, LM Studio, hosted
APIs): `GET /v1/models`, `POST /v1/chat/completions` streamed as Server-Sent Events (parsed by
httpx-sse, every line and event bounded: tui/service/openai/sse.py), errors in OpenAI's shape mapped to the same hierarchy as Ollama's.

It yields the same typed results as the Ollama client (ModelInfo, ChatChunk with stats on the
last one), so the chat, compare and bench code take either. What such a server cannot do (pull,
delete, copy, create, load/unload, list what is loaded) raises `Unsupported` with a sentence
saying so; `features` tells callers before they try. The API key is sent as a bearer token and
never appears in a repr, a message or a log. httpx and httpx-sse are imported at the first request.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from tui.service.hosts import redact_url
from tui.service.ollama import errors
from tui.service.ollama.transport import MAX_BODY_BYTES, _describe_transport_error
from tui.service.ollama.types import ChatChunk, GenerationStats, ModelInfo, ModelShow, ToolCall
from tui.service.providers.protocol import (
    COPY,
    DELETE,
    LOAD,
    PS,
    PULL,
    FeatureUnavailable,
)
from tui.service.openai.sse import MAX_EVENT_CHARS
from tui.service.untrusted import inert_short

if TYPE_CHECKING:
    import httpx

#: None of the optional features (pull, ps, delete, copy, create, load): chat and model listing.
FEATURES: frozenset[str] = frozenset()
KIND = "OpenAI-compatible server"

# Ollama option -> OpenAI request field (the ones the API defines; others are not sent).
_OPTIONS = {"temperature": "temperature", "top_p": "top_p", "num_predict": "max_tokens", "seed": "seed",
            "stop": "stop", "presence_penalty": "presence_penalty", "frequency_penalty": "frequency_penalty"}


def api_root(url: str) -> str:
    """The server's root URL: `http://box:8000/v1/` and `http://box:8000` are the same server."""
    url = url.rstrip("/")
    return url[:-3] if url.endswith("/v1") else url


def _message(m: Mapping[str, Any]) -> dict[str, Any]:
    """An Ollama-style message (`images` as base64) as OpenAI's (content parts with data URLs)."""
    out: dict[str, Any] = {"role": m.get("role", "user"), "content": m.get("content", "")}
    images = m.get("images")
    if images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": m.get("content", "")}]
        parts += [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}} for b64 in images]
        out["content"] = parts
    return out


def openai_messages(messages: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Ollama-style messages as OpenAI's, tool calls included: an assistant message's calls get
    ids (the one given, else `call_<n>`, numbered across the request) with their arguments as a
    JSON string, and each `tool` message answers a call of that assistant message by id (the
    first unanswered call of the same `tool_name`, else the first unanswered one): results are
    stored in the order the calls were made, so the pairing is the one that was made."""
    out: list[dict[str, Any]] = []
    pending: list[tuple[str, str]] = []  # (id, name) of the calls not yet answered
    counter = 0
    for m in messages:
        role = m.get("role")
        if role == "assistant" and m.get("tool_calls"):
            calls = []
            pending = []
            for call in m["tool_calls"]:
                fn = call.get("function") or {}
                counter += 1
                call_id = call.get("id") or f"call_{counter}"
                name = str(fn.get("name", ""))
                args = fn.get("arguments", {})
                calls.append({"id": call_id, "type": "function",
                              "function": {"name": name,
                                           "arguments": args if isinstance(args, str) else json.dumps(args)}})
                pending.append((call_id, name))
            out.append({"role": "assistant", "content": m.get("content") or None, "tool_calls": calls})
        elif role == "tool":
            name = m.get("tool_name") or ""
            match = next((p for p in pending if p[1] == name), pending[0] if pending else None)
            if match is None:
                counter += 1
                call_id = m.get("tool_call_id") or f"call_{counter}"
            else:
                pending.remove(match)
                call_id = match[0]
            out.append({"role": "tool", "tool_call_id": call_id, "content": m.get("content", "")})
        else:
            out.append(_message(m))
    return out


#: The most characters a streamed tool call's arguments may reach (a runaway stream stops there).
MAX_ARGUMENT_CHARS = 1_000_000


class _CallParts:
    """One streamed tool call being put together from its deltas (by `index`)."""

    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name: list[str] = []
        self.arguments: list[str] = []

    def add(self, delta: Mapping[str, Any]) -> int:
        if isinstance(delta.get("id"), str) and delta["id"]:
            self.id = delta["id"]
        fn = delta.get("function")
        if not isinstance(fn, dict):
            return 0
        name, args = fn.get("name"), fn.get("arguments")
        if isinstance(name, str):
            self.name.append(name)
        if isinstance(args, str):
            self.arguments.append(args)
            return len(args)
        if isinstance(args, dict):  # some servers send the object whole
            self.arguments.append(json.dumps(args))
        return 0

    def call(self, index: int) -> ToolCall:
        """The finished call; arguments that are not a JSON object make a call with an `error`
        (the chat shows it and sends it to the model as the result, and does not run the tool).
        The name is inert; the arguments are model output like content, shown through inert()
        (as on the Ollama path)."""
        name = inert_short("".join(self.name), 200)
        raw = "".join(self.arguments)
        error = ""
        args: Any = {}
        if raw.strip():
            try:
                args = json.loads(raw)
            except ValueError:
                error = f"the arguments were not valid JSON: {inert_short(raw, 120)!r}; the tool was not run"
        if not error and not isinstance(args, dict):
            error, args = f"the arguments were not a JSON object: {inert_short(raw, 120)!r}; the tool was not run", {}
        return ToolCall(name=name, arguments={} if error else args, id=inert_short(self.id, 200),
                        index=index, error=error)


class OpenAIClient:
    features = FEATURES
    kind = "openai"
    #: The server reports token counts (`usage`) but no durations: the times in the final
    #: chunk's stats are this side's clock (a benchmark says so and leaves out what it can't know).
    timings = "client"

    def __init__(self, base_url: str, *, api_key: str | None = None, headers: Mapping[str, str] | None = None,
                 connect_timeout: float = 3.0, request_timeout: float = 30.0,
                 keepalive: float | None = None) -> None:
        self.base_url = api_root(base_url)
        self.keepalive = keepalive  # seconds an idle connection is kept (httpx's 5 s when None)
        self._display_url = redact_url(self.base_url)
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._headers = {"User-Agent": "ollama-tui", **(headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._client: httpx.AsyncClient | None = None
        self.active_streams = 0
        self.last_answer: tuple[str, float, float] | None = None
        #: The longest line and largest event read from a chat stream (tests lower it).
        self.max_event_chars = MAX_EVENT_CHARS

    def __repr__(self) -> str:
        return f"OpenAIClient({self._display_url!r})"

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                base_url=self.base_url, headers=self._headers, follow_redirects=False,
                timeout=httpx.Timeout(connect=self.connect_timeout, read=self.request_timeout,
                                      write=self.request_timeout, pool=self.request_timeout),
                **({"limits": httpx.Limits(keepalive_expiry=self.keepalive)} if self.keepalive is not None else {}))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- errors -------------------------------------------------------------------------------

    def _unreachable(self, exc: Exception) -> errors.Unreachable:
        return errors.Unreachable(f"server not reachable at {self._display_url}: {_describe_transport_error(exc)}")

    @staticmethod
    def _error_for_status(status: int, body: bytes) -> errors.OllamaError:
        text = body.decode("utf-8", "replace").strip()
        message = ""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict) and isinstance(err.get("message"), str):
                message = err["message"]
            elif isinstance(err, str):
                message = err
            elif isinstance(data.get("message"), str):
                message = data["message"]
        message = message or text[:300] or f"HTTP {status}"
        if status == 401:
            return errors.Unauthorized(f"the API key was refused (HTTP 401): {message}", status)
        if status == 403:
            return errors.Forbidden(f"access refused (HTTP 403): {message}", status)
        if status == 404:
            return errors.ModelNotFound(message, status)
        if status == 400 or status == 422:
            return errors.BadRequest(message, status)
        if status in (429, 503):
            return errors.ServerBusy(message, status)
        return errors.ServerError(message, status)

    async def _get_json(self, path: str) -> Any:
        import httpx

        try:
            async with self._http.stream("GET", path) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise errors.ServerError(f"the response for {path} is too large; stopped reading")
                if response.status_code >= 400:
                    raise self._error_for_status(response.status_code, bytes(body[:1_000_000]))
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise self._unreachable(exc) from None
        try:
            return json.loads(body)
        except ValueError:
            raise errors.ServerError(f"unexpected non-JSON answer for {path}") from None

    # -- what the server says about itself ------------------------------------------------------

    async def ping(self) -> float:
        started = time.perf_counter()
        await self._get_json("/v1/models")
        latency = time.perf_counter() - started
        self.last_answer = (self.base_url, time.monotonic(), latency)
        return latency

    async def version(self) -> str:
        """No version endpoint is common to these servers: the kind of API is what can be said."""
        await self.ping()
        return KIND

    async def tags(self) -> list[ModelInfo]:
        """The served models (`GET /v1/models`); sizes and details are not part of this API."""
        data = await self._get_json("/v1/models")
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise errors.ServerError("unexpected answer from /v1/models (no data list)")
        out = []
        for item in items[:10_000]:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                name = inert_short(item["id"])
                out.append(ModelInfo(name=name, model=name, capabilities=("completion",)))
        return out

    def supports(self, feature: str) -> bool:
        return feature in self.features

    def warm_up(self) -> None:
        self._http  # noqa: B018 - makes the pooled client (httpx's imports) now

    def _unsupported(self, feature: str) -> FeatureUnavailable:
        return FeatureUnavailable(feature, self._display_url, f"an {KIND} serves the models it was started with")

    async def show(self, model: str, *, verbose: bool = False, digest: str | None = None) -> ModelShow:
        """Model details are not part of this API: what can be said is that it completes text."""
        return ModelShow(capabilities=("completion",))

    async def ps(self) -> list[Any]:
        raise self._unsupported(PS)

    def pull(self, model: str, *, insecure: bool = False) -> AsyncIterator[Any]:
        raise self._unsupported(PULL)

    async def delete(self, model: str) -> None:
        raise self._unsupported(DELETE)

    async def copy(self, source: str, destination: str) -> None:
        raise self._unsupported(COPY)

    async def load(self, model: str, keep_alive: str | int | float | None = None) -> None:
        raise self._unsupported(LOAD)

    async def unload(self, model: str) -> None:
        raise self._unsupported(LOAD)

    # -- chat ---------------------------------------------------------------------------------

    @staticmethod
    def chat_body(model: str, messages: list[dict[str, Any]], options: Mapping[str, Any] | None,
                  format: str | dict[str, Any] | None, stream: bool = True,
                  tools: list[Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "messages": openai_messages(messages), "stream": stream}
        if tools:
            body["tools"] = list(tools)  # the function shape: the same as Ollama's
        if stream:
            body["stream_options"] = {"include_usage": True}
        for key, value in (options or {}).items():
            field = _OPTIONS.get(key)
            if field is None or value is None or (key == "num_predict" and value <= 0):
                continue  # not part of this API (num_ctx, top_k…) or "no limit"
            body[field] = list(value) if key == "stop" else value
        if format == "json":
            body["response_format"] = {"type": "json_object"}
        elif isinstance(format, dict):
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "reply", "schema": format}}
        return body

    async def chat(self, model: str, messages: list[dict[str, Any]], *, options: Mapping[str, Any] | None = None,
                   think: bool | str | None = None, format: str | dict[str, Any] | None = None,
                   keep_alive: str | int | float | None = None, tools: list[Any] | None = None,
                   ) -> AsyncIterator[ChatChunk]:
        """`POST /v1/chat/completions`, streamed: a chunk per delta, then a `done` chunk with the
        token counts of the `usage` chunk and the times measured here. `think` and `keep_alive`
        are Ollama's and not sent. `tools` (the function shape) are sent; the calls the model
        streams (`delta.tool_calls`, arguments in pieces) are put together by index and yielded
        whole, as ToolCall objects, in a chunk before the done one."""
        import httpx
        from httpx_sse import SSEError

        from tui.service.openai.sse import SSETooLarge, bounded_events

        body = self.chat_body(model, messages, options, format, tools=tools)
        text: list[str] = []
        parts: dict[int, _CallParts] = {}
        argument_chars = 0
        thinking: list[str] = []

        def fail(message: str) -> errors.StreamError:
            exc = errors.StreamError(message, partial="".join(text))
            exc.partial_thinking = "".join(thinking)  # type: ignore[attr-defined]
            return exc

        started = time.perf_counter()
        first = last = None
        reason: str | None = None
        usage: dict[str, Any] = {}
        done = False
        timeout = httpx.Timeout(connect=self.connect_timeout, read=None, write=self.request_timeout, pool=None)
        try:
            async with self._http.stream("POST", "/v1/chat/completions", json=body, timeout=timeout) as response:
                if response.status_code >= 400:
                    raise self._error_for_status(response.status_code, (await response.aread())[:1_000_000])
                self.active_streams += 1
                try:
                    async for event in bounded_events(response, self.max_event_chars):
                        if event.data == "[DONE]":
                            done = True
                            break
                        try:
                            obj = json.loads(event.data)
                        except ValueError:
                            raise fail(f"malformed event in the stream: {inert_short(event.data, 120)!r}") from None
                        if isinstance(obj, dict) and isinstance(obj.get("error"), dict | str):
                            err = obj["error"]
                            raise fail(err.get("message", "") if isinstance(err, dict) else err)
                        if isinstance(obj.get("usage"), dict):
                            usage = obj["usage"]
                        for choice in obj.get("choices") or ():
                            delta = choice.get("delta") or {}
                            content = delta.get("content") or ""
                            reasoning = delta.get("reasoning_content") or delta.get("reasoning") or ""
                            if choice.get("finish_reason"):
                                reason = str(choice["finish_reason"])
                            for piece in delta.get("tool_calls") or ():
                                if not isinstance(piece, dict):
                                    continue
                                index = piece.get("index") if isinstance(piece.get("index"), int) else len(parts)
                                if index not in parts and len(parts) >= 128:
                                    raise fail("the model streamed more than 128 tool calls; stopped there")
                                argument_chars += parts.setdefault(index, _CallParts()).add(piece)
                                if argument_chars > MAX_ARGUMENT_CHARS:
                                    raise fail(f"the tool calls' arguments passed {MAX_ARGUMENT_CHARS:,} "
                                               "characters; stopped there")
                                last = time.perf_counter()
                                first = first or last
                            if content or reasoning:
                                now = time.perf_counter()
                                first = first or now
                                last = now
                                text.append(content)
                                thinking.append(reasoning)
                                yield ChatChunk(content=content, thinking=reasoning, model=model)
                finally:
                    self.active_streams -= 1
        except errors.StreamError:
            raise
        except SSETooLarge as exc:
            raise fail(str(exc)) from None
        except (errors.OllamaError, SSEError) as exc:
            if isinstance(exc, errors.OllamaError):
                raise
            raise errors.ServerError(f"not a Server-Sent Events stream ({exc})") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            if text or thinking:
                raise fail(f"the stream broke off: {_describe_transport_error(exc)}") from None
            raise self._unreachable(exc) from None
        if not done and reason is None:
            raise fail("the stream ended before the reply was done (no [DONE])")
        if parts:
            yield ChatChunk(model=model, tool_calls=tuple(parts[i].call(i) for i in sorted(parts)))
        end = time.perf_counter()
        count = int(usage.get("completion_tokens") or len(text))
        stats = GenerationStats(
            total_duration=int((end - started) * 1e9),
            prompt_eval_count=int(usage.get("prompt_tokens") or 0),
            prompt_eval_duration=int(((first or end) - started) * 1e9),
            eval_count=count,
            eval_duration=_generation_ns(first, last, count),
        )
        yield ChatChunk(done=True, done_reason=reason or "stop", model=model, stats=stats)


def _generation_ns(first: float | None, last: float | None, count: int) -> int:
    """How long generating `count` tokens took, on this side's clock.

    The first token is seen at `first` and the last at `last`: that window holds count − 1
    tokens' generation, not count (Ollama's own eval_duration covers all of them). So the
    window is scaled to `count` tokens, and count / duration is the rate the window shows."""
    if first is None or last is None or count < 2 or last <= first:
        return 0
    return int((last - first) / (count - 1) * count * 1e9)
