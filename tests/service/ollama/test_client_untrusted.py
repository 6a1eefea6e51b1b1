"""The server is untrusted (issue 14): NDJSON is split on b"\\n" only, lines and bodies are
bounded while they are read, a pull that stops receiving data gives up and a new one resumes.

Real HTTP on loopback: a purpose-built asyncio server (exact bytes, HTTP chunk boundaries of our
choosing) or the simulator with an injected fault.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from tests.loopback import LoopbackServer
from tests.waiting import wait_until
from tui.service.ollama import OllamaClient
from tui.service.ollama import errors as errors
from tui.service.ollama.transport import (
    MAX_BODY_BYTES,
    MAX_ERROR_BODY_BYTES,
    MAX_LINE_BYTES,
)
from tui.service.untrusted import inert
from tui.simulator import Simulator

MiB = 1024 * 1024
SEPARATORS = ["\u0085", "\u2028", "\u2029"]  # NEL (Go sends it raw), LINE / PARAGRAPH SEPARATOR


def ndjson(*objs: object, end: bytes = b"\n") -> bytes:
    """Lines as Go's encoder writes them: compact, UTF-8, U+0085/U+2028/U+2029 left raw."""
    return b"".join(json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode() + end for o in objs)


@dataclass
class Reply:
    status: int = 200
    pieces: Iterable[bytes] = ()  # sent as separate HTTP chunks (chunked) unless `length`
    length: int | None = None  # a Content-Length body: `pieces` are written as they are
    ctype: str = "application/x-ndjson"


@dataclass
class ScriptServer(LoopbackServer):
    """Answers each path with a scripted Reply; counts what it managed to send."""

    routes: dict[str, Reply] = field(default_factory=dict)
    sent: int = 0

    async def answer(self, head: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        reply = self.routes[head.split(b" ", 2)[1].decode()]
        framing = (f"Content-Length: {reply.length}" if reply.length is not None
                   else "Transfer-Encoding: chunked")
        writer.write(f"HTTP/1.1 {reply.status} X\r\nContent-Type: {reply.ctype}\r\n{framing}\r\n\r\n".encode())
        for piece in reply.pieces:
            writer.write(piece if reply.length is not None else b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            self.sent += len(piece)
        if reply.length is None:
            writer.write(b"0\r\n\r\n")


@pytest_asyncio.fixture
async def server() -> AsyncIterator[ScriptServer]:
    srv = await ScriptServer().start()
    yield srv
    await srv.stop()


def chat_line(content: str, done: bool = False) -> dict:
    return {"model": "m", "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": content}, "done": done}


def in_pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


# ------------------------------------------------------------------ line separators


@pytest.mark.parametrize("sep", SEPARATORS, ids=["NEL", "LS", "PS"])
@pytest.mark.parametrize("piece", [4096, 3], ids=["whole", "3-byte-pieces"])
async def test_unicode_line_separators_in_a_chat_reply_arrive_intact(server, sep, piece) -> None:
    parts = ["one", f"two{sep}three", f"{sep}", "four"]
    body = ndjson(*(chat_line(p) for p in parts), chat_line("", done=True))
    # 3-byte HTTP chunks cut lines anywhere, and each separator's UTF-8 bytes in two.
    server.routes["/api/chat"] = Reply(pieces=in_pieces(body, piece))
    async with OllamaClient(server.url, retries=0) as client:
        chunks = [c async for c in client.chat("m", [{"role": "user", "content": "hi"}])]
    assert [c.content for c in chunks] == [*parts, ""]
    assert chunks[-1].done


@pytest.mark.parametrize("sep", SEPARATORS, ids=["NEL", "LS", "PS"])
async def test_unicode_line_separators_in_a_model_name_in_tags(server, sep) -> None:
    name = f"odd{sep}name:latest"
    body = json.dumps({"models": [{"name": name, "model": name, "size": 1, "digest": "ab"}]},
                      ensure_ascii=False).encode()
    server.routes["/api/tags"] = Reply(pieces=[body], length=len(body), ctype="application/json")
    async with OllamaClient(server.url, retries=0) as client:
        models = await client.tags()
    assert [m.name for m in models] == [inert(name)]  # read whole; NEL (a C1 control) by code point


@pytest.mark.parametrize("sep", SEPARATORS, ids=["NEL", "LS", "PS"])
async def test_unicode_line_separators_in_a_pull_status(server, sep) -> None:
    body = ndjson({"status": "pulling manifest"}, {"status": f"odd{sep}status", "total": 10, "completed": 5},
                  {"status": "success"})
    server.routes["/api/pull"] = Reply(pieces=in_pieces(body, 7))
    async with OllamaClient(server.url, retries=0) as client:
        events = [e async for e in client.pull("m")]
    assert [e.status for e in events] == ["pulling manifest", inert(f"odd{sep}status"), "success"]


async def test_crlf_terminated_ndjson_still_works(server) -> None:
    body = ndjson(chat_line("a"), chat_line("b\r\nc"), chat_line("", done=True), end=b"\r\n")
    server.routes["/api/chat"] = Reply(pieces=in_pieces(body, 5))  # a piece may end between \r and \n
    async with OllamaClient(server.url, retries=0) as client:
        chunks = [c async for c in client.chat("m", [{"role": "user", "content": "hi"}])]
    assert "".join(c.content for c in chunks) == "ab\r\nc" and chunks[-1].done


async def test_a_last_line_without_newline_and_blank_lines_are_read(server) -> None:
    body = b"\n\r\n  \n" + ndjson(chat_line("a")) + b"\n" + ndjson(chat_line("", done=True))[:-1]
    server.routes["/api/chat"] = Reply(pieces=[body])
    async with OllamaClient(server.url, retries=0) as client:
        chunks = [c async for c in client.chat("m", [{"role": "user", "content": "hi"}])]
    assert [c.content for c in chunks] == ["a", ""] and chunks[-1].done


# ------------------------------------------------------------------ limits


def test_the_limits_are_generous_for_real_replies() -> None:
    assert MAX_LINE_BYTES == 16 * MiB and MAX_BODY_BYTES == 64 * MiB and MAX_ERROR_BODY_BYTES == 1 * MiB


def endless(total: int, piece: bytes) -> Iterable[bytes]:
    """`total` bytes of `piece` repeated (one object, so the server itself allocates nothing)."""
    for _ in range(total // len(piece)):
        yield piece


async def peak_while(coro) -> tuple[object, int]:
    """Run `coro`; return its outcome (result or exception) and the peak traced allocation."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            outcome: object = await coro
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_a_too_long_line_mid_stream_keeps_the_reply_so_far_and_bounds_memory(server) -> None:
    start = ndjson(chat_line("Paris "), chat_line("is "))
    line_start = b'{"model":"m","message":{"role":"assistant","content":"'
    server.routes["/api/chat"] = Reply(pieces=[start, line_start, *endless(20 * MiB, b"x" * 65536)])
    async with OllamaClient(server.url, retries=0) as client:
        client.max_line_bytes = 1 * MiB
        got: list[str] = []

        async def read() -> None:
            async for c in client.chat("m", [{"role": "user", "content": "hi"}]):
                got.append(c.content)

        exc, peak = await peak_while(read())
    assert isinstance(exc, errors.StreamError)
    assert exc.message == "the server sent a line longer than 1 MiB; stopped reading"
    assert exc.partial == "Paris is " and got == ["Paris ", "is "]
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB held while refusing a 20 MiB line"
    assert server.sent < 20 * MiB  # the client stopped reading


async def test_a_too_long_line_from_the_simulator_ends_the_chat_with_the_partial_reply() -> None:
    reply = "Paris is the capital of France."
    with Simulator(token_rate=0, reply=reply) as sim:
        sim.inject("/api/chat", "huge", after=3, size=3 * MiB)
        async with OllamaClient(sim.url, retries=0) as client:
            client.max_line_bytes = 2 * MiB
            got: list[str] = []
            with pytest.raises(errors.StreamError) as caught:
                async for c in client.chat("llama3.2", [{"role": "user", "content": "hi"}]):
                    got.append(c.content)
            assert "line longer than 2 MiB" in caught.value.message
            assert caught.value.partial == "".join(got) and len(got) == 3 and reply.startswith("".join(got))
            again = "".join([c.content async for c in client.chat("llama3.2", [{"role": "user", "content": "hi"}])])
            assert again == reply  # the next request works


async def test_a_too_large_tags_body_is_refused_by_its_length_without_reading_it(server) -> None:
    server.routes["/api/tags"] = Reply(pieces=endless(20 * MiB, b" " * 65536), length=20 * MiB,
                                       ctype="application/json")
    async with OllamaClient(server.url, retries=0) as client:
        client.max_body_bytes = 1 * MiB
        exc, peak = await peak_while(client.tags())
    assert isinstance(exc, errors.ServerError)
    assert str(exc) == "the response from Ollama for /api/tags is larger than 1 MiB; stopped reading"
    assert peak < 4 * MiB


async def test_a_too_large_chunked_tags_body_is_refused_while_reading(server) -> None:
    server.routes["/api/tags"] = Reply(pieces=[b'{"models":[', *endless(20 * MiB, b" " * 65536)],
                                       ctype="application/json")
    async with OllamaClient(server.url, retries=0) as client:
        client.max_body_bytes = 1 * MiB
        exc, peak = await peak_while(client.tags())
    assert isinstance(exc, errors.ServerError)
    assert str(exc) == "the response from Ollama for /api/tags is larger than 1 MiB; stopped reading"
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB held while refusing a 20 MiB body"
    assert server.sent < 20 * MiB


async def test_a_body_under_the_limit_is_read(server) -> None:
    body = b'{"models":[]}' + b" " * (MiB - 100)
    server.routes["/api/tags"] = Reply(pieces=in_pieces(body, 65536), ctype="application/json")
    async with OllamaClient(server.url, retries=0) as client:
        client.max_body_bytes = 1 * MiB
        assert await client.tags() == []


@pytest.mark.parametrize("path", ["/api/tags", "/api/chat"])
async def test_a_huge_error_body_is_cut_and_its_status_still_reported(server, path) -> None:
    server.routes[path] = Reply(status=500, pieces=[b"boom: ", *endless(20 * MiB, b"y" * 65536)],
                                ctype="text/plain")
    async with OllamaClient(server.url, retries=0) as client:
        client.max_error_body_bytes = 64 * 1024

        async def call() -> object:
            if path == "/api/tags":
                return await client.tags()
            return [c async for c in client.chat("m", [{"role": "user", "content": "hi"}])]

        exc, peak = await peak_while(call())
    assert isinstance(exc, errors.ServerError) and exc.status == 500
    assert str(exc).startswith("boom: yyy") and len(str(exc)) <= 500
    assert peak < 4 * MiB


# ------------------------------------------------------------------ a pull that stalls


async def test_a_pull_on_a_half_open_connection_gives_up_and_a_new_pull_resumes() -> None:
    with Simulator(token_rate=0, pull_rate=100e6, pull_tick=0.01) as sim:
        sim.add_remote_model("big:latest", [400_000_000, 1_000])
        sim.inject("/api/pull", "stall", after=10)  # 10 events, then nothing, connection kept open
        async with OllamaClient(sim.url, retries=0, pull_stall_timeout=0.5) as client:
            events = []
            started = time.monotonic()
            with pytest.raises(errors.StreamError) as caught:
                async for event in client.pull("big"):
                    events.append(event)
            waited = time.monotonic() - started
            assert caught.value.message == ("no data from Ollama for 0.5 s (the connection seems dead); "
                                            "pull again to resume the download")
            assert caught.value.partial == events and len(events) == 10
            got = max(e.completed or 0 for e in events)
            assert 0 < got < 400_000_000
            assert waited < 5  # gave up after the stall, not after the 60 s default
            await wait_until(lambda: sim.hangups == ["/api/pull"])  # the client hung up
            assert "big:latest" not in sim.installed()

            again = [e async for e in client.pull("big")]
            assert again[-1].status == "success" and "big:latest" in sim.installed()
            first_layer = [e for e in again if e.total == 400_000_000]
            assert (first_layer[0].completed or 0) >= got  # resumed where it stopped
        assert sim.errors == []


async def test_a_pull_waits_without_limit_while_ollama_verifies() -> None:
    with Simulator(token_rate=0) as sim:
        sim.add_remote_model("one:latest", [1_000, 2_000])
        sim.add_remote_model("two:latest", [1_000, 2_000])
        async with OllamaClient(sim.url, retries=0, pull_stall_timeout=0.2) as client:
            first = [e.status async for e in client.pull("one")]
            verify_at = first.index("verifying sha256 digest")
            # the same pull for "two", silent for 0.6 s (3 stall limits) after the verifying line
            sim.inject("/api/pull", "stall", after=verify_at + 1, delay=0.6)
            started = time.monotonic()
            second = [e.status async for e in client.pull("two")]
            assert time.monotonic() - started >= 0.6  # the pause happened
            assert second[-1] == "success" and "two:latest" in sim.installed()
        assert sim.errors == []


async def test_a_pull_whose_server_stalls_before_answering_gives_up_too() -> None:
    with Simulator(token_rate=0) as sim:
        sim.add_remote_model("one:latest", [1_000])
        sim.inject("/api/pull", "slow_first_byte", delay=30)
        async with OllamaClient(sim.url, retries=0, pull_stall_timeout=0.3) as client:
            with pytest.raises(errors.StreamError) as caught:
                [e async for e in client.pull("one")]
            assert caught.value.message.startswith("no data from Ollama for 0.3 s")
            assert caught.value.partial == []
            await wait_until(lambda: sim.hangups == ["/api/pull"])


async def test_a_chat_stream_has_no_stall_limit() -> None:
    """A chat may wait minutes for a model to load: the pull limit does not apply to it."""
    with Simulator(token_rate=0, reply="hello there") as sim:
        sim.inject("/api/chat", "stall", after=1, delay=0.6)
        async with OllamaClient(sim.url, retries=0, pull_stall_timeout=0.2) as client:
            text = "".join([c.content async for c in client.chat("llama3.2", [{"role": "user", "content": "hi"}])])
            assert text == "hello there"
