"""Model-running endpoints of the Ollama client: chat and generate (streamed, or in one answer),
embed, and loading or unloading a model.

A stream that breaks raises StreamError with the text so far (``partial``) and the thinking so
far (``partial_thinking``). This module does not import httpx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from typing import Any

from tui.service.ollama import errors as errors
from tui.service.ollama.transport import OllamaTransport, _StreamIncomplete
from tui.service.ollama.types import ChatChunk, EmbedResult, GenerateChunk


class ChatMixin(OllamaTransport):
    """`POST /api/chat`, `/api/generate`, `/api/embed`; load and unload (empty chats)."""

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
