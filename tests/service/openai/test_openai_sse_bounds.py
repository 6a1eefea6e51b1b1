"""The OpenAI client's Server-Sent Events are bounded (issue 17): a misbehaving server on
loopback sending one endless `data:` line, or endless `data:` lines and never the blank line
that ends an event, ends the chat with a clear error and the reply so far, without holding
more than the limit; ordinary streams cut anywhere still parse."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.service.ollama.test_client_untrusted import (
    Reply,
    ScriptServer,
    endless,
    in_pieces,
    peak_while,
)
from tui.service.ollama import errors
from tui.service.ollama.transport import MAX_LINE_BYTES
from tui.service.openai import OpenAIClient
from tui.service.openai.sse import MAX_EVENT_CHARS

MiB = 1024 * 1024
SSE = "text/event-stream; charset=utf-8"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[ScriptServer]:
    srv = await ScriptServer().start()
    yield srv
    await srv.stop()


def event(content: str, *, end: bytes = b"\n\n", finish: str | None = None) -> bytes:
    obj = {"id": "c", "object": "chat.completion.chunk", "model": "m",
           "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    return b"data: " + json.dumps(obj).encode() + end


async def chat(client: OpenAIClient, got: list[str]) -> None:
    async for chunk in client.chat("m", [{"role": "user", "content": "hi"}]):
        got.append(chunk.content)


def test_the_limit_is_the_ollama_transports_line_limit() -> None:
    assert MAX_EVENT_CHARS == MAX_LINE_BYTES == 16 * MiB


async def test_an_endless_data_line_ends_the_chat_with_the_reply_so_far_and_bounded_memory(server) -> None:
    head = event("Paris ") + event("is ")
    server.routes["/v1/chat/completions"] = Reply(
        ctype=SSE, pieces=[head, b'data: {"choices":[{"delta":{"content":"', *endless(20 * MiB, b"x" * 65536)])
    async with OpenAIClient(server.url) as client:
        client.max_event_chars = 1 * MiB
        got: list[str] = []
        exc, peak = await peak_while(chat(client, got))
    assert isinstance(exc, errors.StreamError)
    assert exc.message == "the server sent a line longer than 1M characters; stopped reading"
    assert exc.partial == "Paris is " and got == ["Paris ", "is "]
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB held while refusing a 20 MiB line"
    assert server.sent < 20 * MiB  # the client stopped reading


async def test_endless_data_lines_without_a_blank_line_end_the_chat_too(server) -> None:
    # Each line is short; the event they make never ends (httpx-sse would keep every line).
    server.routes["/v1/chat/completions"] = Reply(
        ctype=SSE, pieces=[event("Hello "), *endless(20 * MiB, b"data: xxxxxxxxxxxxxxxxxxxxxxxx\n" * 2048)])
    async with OpenAIClient(server.url) as client:
        client.max_event_chars = 1 * MiB
        got: list[str] = []
        exc, peak = await peak_while(chat(client, got))
    assert isinstance(exc, errors.StreamError)
    assert exc.message == "the server sent an event longer than 1M characters; stopped reading"
    assert exc.partial == "Hello " and peak < 4 * MiB and server.sent < 20 * MiB


@pytest.mark.parametrize("end", [b"\n\n", b"\r\n\r\n", b"\r\r"], ids=["LF", "CRLF", "CR"])
async def test_a_long_ordinary_stream_cut_anywhere_is_not_refused(server, end) -> None:
    words = [f"word{i} " for i in range(300)]
    body = b"".join(event(w, end=end) for w in words) + event("", end=end, finish="stop") + b"data: [DONE]" + end
    assert len(body) > 100 * 200  # far more than the limit below, in events each under it
    server.routes["/v1/chat/completions"] = Reply(ctype=SSE, pieces=in_pieces(body, 7))
    async with OpenAIClient(server.url) as client:
        client.max_event_chars = 200
        got: list[str] = []
        await chat(client, got)
    assert "".join(got) == "".join(words)
