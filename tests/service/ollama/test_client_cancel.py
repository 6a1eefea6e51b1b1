"""Cancel = disconnect: stopping a stream closes its HTTP response, and the server notices."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from tui.service.ollama import OllamaClient
from tui.service.ollama import errors as errors

USER_HI = [{"role": "user", "content": "Say hi"}]
LONG_REPLY = "word " * 5000  # ~5000 tokens: minutes at the slow rate below


@pytest.fixture
def slow_llama(sim):
    """llama3.2 streaming a very long reply slowly. While a chat with keep_alive=0 is in
    flight the model shows as loaded; the simulator unloads it the moment its handler ends,
    which for a stream cut short happens only when it sees the client disconnect."""
    sim.reply = LONG_REPLY
    sim.set_model_rate("llama3.2", 50.0)
    return sim


def loaded(sim) -> bool:
    return "llama3.2:latest" in sim.loaded()


async def test_cancelling_the_consumer_closes_the_response(client: OllamaClient, slow_llama, until) -> None:
    sim = slow_llama
    got_one = asyncio.Event()
    received = []

    async def consume() -> None:
        async for chunk in client.chat("llama3.2", USER_HI, keep_alive=0):
            received.append(chunk)
            got_one.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_one.wait(), 5)
    assert client.active_streams == 1 and loaded(sim)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.active_streams == 0  # closed synchronously with the cancellation
    await until(lambda: not loaded(sim), timeout=5)  # the server saw the disconnect
    assert len(received) < 100  # it really was cut short


async def test_aclose_on_the_generator_closes_the_response(client: OllamaClient, slow_llama, until) -> None:
    stream = client.chat("llama3.2", USER_HI, keep_alive=0)
    first = await anext(stream)
    assert not first.done and client.active_streams == 1
    await stream.aclose()
    assert client.active_streams == 0
    await until(lambda: not loaded(slow_llama), timeout=5)


async def test_breaking_out_of_aclosing_closes_the_response(client: OllamaClient, slow_llama, until) -> None:
    async with aclosing(client.generate("llama3.2", "hi", keep_alive=0)) as stream:
        async for _chunk in stream:
            break
    assert client.active_streams == 0
    await until(lambda: not loaded(slow_llama), timeout=5)


async def test_task_cancelled_while_waiting_for_headers(client: OllamaClient, sim, until) -> None:
    sim.inject("/api/chat", "slow_first_byte", delay=30.0)
    task = asyncio.create_task(client.chat_once("llama3.2", USER_HI))
    await until(lambda: any(p == "/api/chat" for _m, p, _b in sim.requests))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sim.clear_faults()
    assert (await client.chat_once("llama3.2", USER_HI)).done  # the client is still usable


async def test_client_usable_after_a_cancelled_stream(client: OllamaClient, slow_llama) -> None:
    stream = client.chat("llama3.2", USER_HI)
    await anext(stream)
    await stream.aclose()
    slow_llama.reply = "short answer"
    slow_llama.set_model_rate("llama3.2", 0)
    chunks = [c async for c in client.chat("llama3.2", USER_HI)]
    assert "".join(c.content for c in chunks) == "short answer"


async def test_cancelled_pull_resumes(client: OllamaClient, sim) -> None:
    sim.pull_rate, sim.pull_tick = 2e9, 0.01  # mistral's 4.4 GB layer takes ~2 s
    layer = None
    async with aclosing(client.pull("mistral:7b")) as events:
        async for event in events:
            if event.completed:
                layer = event
                break
    assert layer is not None and layer.completed < layer.total
    assert client.active_streams == 0
    sim.pull_rate = 0  # finish at once
    events = [e async for e in client.pull("mistral:7b")]
    first = next(e for e in events if e.digest == layer.digest)
    assert first.completed is not None and layer.completed <= first.completed
    assert events[-1].status == "success" and "mistral:7b" in sim.installed()


async def test_closing_the_client_ends_use(sim) -> None:
    client = OllamaClient(sim.url)
    assert await client.version()
    await client.aclose()
    assert client.closed
    with pytest.raises((errors.OllamaError, RuntimeError)):
        await client.version()
