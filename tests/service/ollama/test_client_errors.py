"""Error mapping, retries and broken streams, with faults injected into the simulator."""

from __future__ import annotations

import time

import pytest

from tui.service.ollama import OllamaClient
from tui.service.ollama import errors as errors
from tui.service.ollama.types import PullEvent

USER_HI = [{"role": "user", "content": "Say hi"}]


def count(sim, path: str) -> int:
    return sum(1 for (_m, p, _b) in sim.requests if p == path)


# -- status codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequest),
        (403, errors.Forbidden),
        (404, errors.ModelNotFound),
        (499, errors.ServerError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (503, errors.ServerBusy),
    ],
)
async def test_status_maps_to_error_class(client: OllamaClient, sim, status: int, cls: type) -> None:
    sim.inject("/api/show", "status", status=status, message=f"simulated {status}", times=None)
    with pytest.raises(cls) as info:
        await client.show("llama3.2")
    assert type(info.value) is cls
    assert str(info.value) == f"simulated {status}" and info.value.status == status


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, errors.BadRequest), (404, errors.ModelNotFound), (500, errors.ServerError), (503, errors.ServerBusy)],
)
async def test_status_before_a_stream(client: OllamaClient, sim, status: int, cls: type) -> None:
    sim.inject("/api/chat", "status", status=status, message="nope", times=None)
    with pytest.raises(cls, match="nope"):
        [c async for c in client.chat("llama3.2", USER_HI)]
    assert count(sim, "/api/chat") == 1  # streams are never retried


async def test_non_local_host_header_is_forbidden(sim) -> None:
    async with OllamaClient(sim.url, headers={"Host": "evil.example.com"}, retries=0) as client:
        with pytest.raises(errors.Forbidden) as info:
            await client.tags()
    assert info.value.status == 403 and "Forbidden" in str(info.value)


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/", lambda c: c.ping()),
        ("/api/version", lambda c: c.version()),
        ("/api/tags", lambda c: c.tags()),
        ("/api/ps", lambda c: c.ps()),
        ("/api/show", lambda c: c.show("llama3.2")),
    ],
)
async def test_idempotent_calls_retry_on_busy_then_succeed(client: OllamaClient, sim, path, call) -> None:
    sim.inject(path, "status", status=503, message="server busy, please try again.", times=2)
    await call(client)
    assert count(sim, path) == 3


async def test_idempotent_calls_retry_on_dropped_connection(client: OllamaClient, sim) -> None:
    sim.inject("/api/version", "drop", times=2)
    assert await client.version() == "0.33.0"
    assert count(sim, "/api/version") == 3


async def test_retries_give_up_after_the_limit(client: OllamaClient, sim) -> None:
    sim.inject("/api/tags", "status", status=503, message="server busy, please try again.", times=None)
    with pytest.raises(errors.ServerBusy):
        await client.tags()
    assert count(sim, "/api/tags") == 1 + client.retries


async def test_dropped_connection_is_unreachable_after_retries(client: OllamaClient, sim) -> None:
    sim.inject("/api/tags", "drop", times=None)
    with pytest.raises(errors.Unreachable) as info:
        await client.tags()
    assert str(info.value).startswith(f"Ollama not reachable at {sim.url}: ")
    assert count(sim, "/api/tags") == 3


async def test_other_errors_are_not_retried(client: OllamaClient, sim) -> None:
    sim.inject("/api/tags", "status", status=500, message="boom", times=None)
    with pytest.raises(errors.ServerError):
        await client.tags()
    assert count(sim, "/api/tags") == 1


async def test_retry_backoff_grows(sim) -> None:
    sim.inject("/api/version", "status", status=503, message="busy", times=None)
    async with OllamaClient(sim.url, retries=2, backoff=0.05) as client:
        started = time.monotonic()
        with pytest.raises(errors.ServerBusy):
            await client.version()
        assert time.monotonic() - started >= 0.05 + 0.1


@pytest.mark.parametrize(
    ("path", "call"),
    [
        ("/api/chat", lambda c: c.chat_once("llama3.2", USER_HI)),
        ("/api/generate", lambda c: c.generate_once("llama3.2", "hi")),
        ("/api/embed", lambda c: c.embed("nomic-embed-text", "hi")),
        ("/api/delete", lambda c: c.delete("llava:7b")),
        ("/api/copy", lambda c: c.copy("llama3.2", "x:1")),
        ("/api/chat", lambda c: c.load("llama3.2")),
    ],
)
async def test_non_idempotent_calls_are_never_retried(client: OllamaClient, sim, path, call) -> None:
    sim.inject(path, "status", status=503, message="server busy, please try again.", times=None)
    with pytest.raises(errors.ServerBusy):
        await call(client)
    assert count(sim, path) == 1
    sim.clear_faults()
    sim.inject(path, "drop", times=None)
    with pytest.raises(errors.Unreachable):
        await call(client)
    assert count(sim, path) == 2


@pytest.mark.parametrize(
    ("path", "stream"),
    [
        ("/api/chat", lambda c: c.chat("llama3.2", USER_HI)),
        ("/api/generate", lambda c: c.generate("llama3.2", "hi")),
        ("/api/pull", lambda c: c.pull("mistral:7b")),
        ("/api/create", lambda c: c.create("x", from_="llama3.2")),
    ],
)
async def test_streams_are_never_retried(client: OllamaClient, sim, path, stream) -> None:
    sim.inject(path, "drop", times=None)
    with pytest.raises(errors.StreamError):
        [x async for x in stream(client)]
    assert count(sim, path) == 1


# -- timeouts --------------------------------------------------------------------------------


async def test_slow_first_byte_times_out_non_streaming_calls(sim) -> None:
    sim.inject("/api/version", "slow_first_byte", delay=5.0, times=None)
    async with OllamaClient(sim.url, request_timeout=0.2, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(errors.Unreachable) as info:
            await client.version()
        assert time.monotonic() - started < 2.0
    assert "timed out" in str(info.value)


async def test_streams_wait_for_a_slow_first_byte(sim) -> None:
    # A model load can take minutes: a stream's read is not bounded by request_timeout.
    sim.inject("/api/chat", "slow_first_byte", delay=0.5)
    async with OllamaClient(sim.url, request_timeout=0.1, retries=0) as client:
        chunks = [c async for c in client.chat("llama3.2", USER_HI)]
    assert chunks[-1].done


async def test_connect_timeout_is_unreachable() -> None:
    # 192.0.2.0/24 (TEST-NET-1) is never routed; the connect either hangs or fails at once.
    async with OllamaClient("http://192.0.2.1:11434", connect_timeout=0.2, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(errors.Unreachable) as info:
            await client.version()
        assert time.monotonic() - started < 2.0
    assert str(info.value).startswith("Ollama not reachable at http://192.0.2.1:11434: ")


# -- bad bodies on non-streaming calls -------------------------------------------------------


async def test_empty_body_is_server_error(client: OllamaClient, sim) -> None:
    sim.inject("/api/tags", "empty_body")
    with pytest.raises(errors.ServerError, match="empty response"):
        await client.tags()
    assert count(sim, "/api/tags") == 1


async def test_non_json_body_is_server_error(client: OllamaClient, sim) -> None:
    sim.inject("/api/version", "non_json")
    with pytest.raises(errors.ServerError, match="non-JSON") as info:
        await client.version()
    assert "oops" in str(info.value)


async def test_malformed_whole_body_is_server_error(client: OllamaClient, sim) -> None:
    sim.inject("/api/show", "malformed_line")
    with pytest.raises(errors.ServerError, match="non-JSON"):
        await client.show("llama3.2")


async def test_truncated_whole_body_is_unreachable(client: OllamaClient, sim) -> None:
    sim.inject("/api/ps", "truncated", times=None)
    with pytest.raises(errors.Unreachable):
        await client.ps()


async def test_error_status_on_non_streaming_chat(client: OllamaClient, sim) -> None:
    sim.inject("/api/chat", "error_mid_stream", message="runner crashed")
    with pytest.raises(errors.ServerError, match="runner crashed"):
        await client.chat_once("llama3.2", USER_HI)


async def test_the_client_recovers_after_faults(client: OllamaClient, sim) -> None:
    sim.inject("/api/tags", "drop", times=None)
    with pytest.raises(errors.Unreachable):
        await client.tags()
    sim.clear_faults()
    assert await client.tags()


# -- broken streams --------------------------------------------------------------------------


async def test_error_mid_chat_keeps_partial_text(client: OllamaClient, sim) -> None:
    sim.inject("/api/chat", "error_mid_stream", message="CUDA error: out of memory", after=3)
    seen = []
    with pytest.raises(errors.StreamError) as info:
        async for chunk in client.chat("llama3.2", USER_HI):
            seen.append(chunk)
    exc = info.value
    assert len(seen) == 3 and str(exc) == "CUDA error: out of memory" and exc.status == 200
    assert exc.partial == "".join(c.content for c in seen) != ""


async def test_error_mid_thinking_keeps_partial_thinking(client: OllamaClient, sim) -> None:
    sim.inject("/api/chat", "error_mid_stream", message="boom", after=4)
    seen = []
    with pytest.raises(errors.StreamError) as info:
        async for chunk in client.chat("qwen3:8b", USER_HI):
            seen.append(chunk)
    assert info.value.partial == ""
    assert info.value.partial_thinking == "".join(c.thinking for c in seen) != ""


async def test_error_mid_generate_keeps_partial_text(client: OllamaClient, sim) -> None:
    sim.inject("/api/generate", "error_mid_stream", message="boom", after=2)
    seen = []
    with pytest.raises(errors.StreamError) as info:
        async for chunk in client.generate("llama3.2", "hi"):
            seen.append(chunk)
    assert len(seen) == 2 and info.value.partial == "".join(c.response for c in seen)


async def test_error_mid_pull_keeps_events(client: OllamaClient, sim) -> None:
    sim.inject("/api/pull", "error_mid_stream", message="max retries exceeded: EOF", after=2)
    seen = []
    with pytest.raises(errors.StreamError) as info:
        async for event in client.pull("mistral:7b"):
            seen.append(event)
    assert str(info.value) == "max retries exceeded: EOF"
    assert info.value.partial == seen and len(seen) == 2 and seen[0] == PullEvent("pulling manifest")


async def test_error_mid_create_keeps_events(client: OllamaClient, sim) -> None:
    sim.inject("/api/create", "error_mid_stream", message="disk full", after=1)
    with pytest.raises(errors.StreamError, match="disk full") as info:
        [e async for e in client.create("x", from_="llama3.2")]
    assert len(info.value.partial) == 1 and isinstance(info.value.partial[0], PullEvent)


@pytest.mark.parametrize("kind", ["malformed_line", "truncated", "drop"])
async def test_broken_chat_stream_is_stream_error_with_partial(client: OllamaClient, sim, kind: str) -> None:
    sim.inject("/api/chat", kind, after=2)
    seen = []
    with pytest.raises(errors.StreamError) as info:
        async for chunk in client.chat("llama3.2", USER_HI):
            seen.append(chunk)
    assert len(seen) == 2
    assert info.value.partial == "".join(c.content for c in seen)
    assert str(info.value)


@pytest.mark.parametrize("kind", ["malformed_line", "truncated", "drop"])
async def test_broken_pull_stream_is_stream_error_with_partial(client: OllamaClient, sim, kind: str) -> None:
    sim.inject("/api/pull", kind, after=1)
    with pytest.raises(errors.StreamError) as info:
        [e async for e in client.pull("mistral:7b")]
    assert info.value.partial == [PullEvent("pulling manifest")]


@pytest.mark.parametrize("kind", ["empty_body", "non_json"])
async def test_stream_without_any_valid_line(client: OllamaClient, sim, kind: str) -> None:
    sim.inject("/api/chat", kind)
    with pytest.raises(errors.StreamError) as info:
        [c async for c in client.chat("llama3.2", USER_HI)]
    assert info.value.partial == ""


async def test_broken_stream_is_not_a_json_error(client: OllamaClient, sim) -> None:
    import json

    sim.inject("/api/generate", "malformed_line", after=1)
    with pytest.raises(errors.StreamError) as info:
        [c async for c in client.generate("llama3.2", "hi")]
    assert not isinstance(info.value, json.JSONDecodeError)
    assert "malformed" in str(info.value)
