"""Tool calling over the OpenAI-compatible API (issue 18 on "openai" hosts), against the simulator
over HTTP: `tools` sent in the function shape, `delta.tool_calls` put together from pieces by
index, two calls in one turn, arguments that are not JSON, the history's calls and results sent
back with matching ids, and a server that refuses tools (400) answered once more without them."""

from __future__ import annotations

import json

import httpx
import pytest

from tui.service.chat.turns import ChatService, TurnRequest
from tui.service.history import HistoryStore
from tui.service.openai import OpenAIClient
from tui.service.openai.client import openai_messages
from tui.service.providers import Host, HostRegistry
from tui.simulator.openai import NO_AUTO_TOOL_CHOICE, OpenAISimulator

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def tool(name: str, **props: str) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": f"the {name} tool",
        "parameters": {"type": "object", "properties": {k: {"type": v} for k, v in props.items()},
                       "required": list(props)}}}


TOOLS = [tool("add", a="integer", b="integer"), tool("echo", text="string")]


async def collect(client, prompt: str, **kw):
    return [c async for c in client.chat(MODEL, [{"role": "user", "content": prompt}], **kw)]


async def test_a_tool_call_streamed_in_pieces_arrives_whole_with_its_id():
    with OpenAISimulator(token_rate=0) as sim:
        sim.argument_piece = 3
        async with OpenAIClient(sim.url) as client:
            chunks = await collect(client, "use the add tool with a=2 b=3", tools=TOOLS)
        async with httpx.AsyncClient() as http:  # the same request, read raw: how the call was split
            raw = (await http.post(sim.url + "/v1/chat/completions", json=sim.chat_requests()[-1])).text
    pieces = [json.loads(line[6:])["choices"][0]["delta"]["tool_calls"][0] for line in raw.splitlines()
              if line.startswith("data: {") and '"tool_calls": [' in line]
    assert len(pieces) > 4 and "".join(p["function"]["arguments"] for p in pieces) == '{"a": 2, "b": 3}'
    body = sim.chat_requests()[0]
    assert body["tools"] == TOOLS  # the function shape, as ToolHub makes it for Ollama
    calls = [c for chunk in chunks for c in chunk.tool_calls]
    assert len(calls) == 1
    (call,) = calls
    assert (call.name, dict(call.arguments), call.id, call.index, call.error) == (
        "add", {"a": 2, "b": 3}, "chatcmpl-tool-0-0", 0, "")
    assert chunks[-1].done and chunks[-1].done_reason == "tool_calls"
    assert "".join(c.content for c in chunks) == ""


async def test_two_calls_in_one_turn_come_in_the_order_of_their_index():
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            chunks = await collect(client, "use the add tool with a=1 b=2, then the echo tool with text=hi",
                                   tools=TOOLS)
    calls = [c for chunk in chunks for c in chunk.tool_calls]
    assert [(c.name, dict(c.arguments), c.id) for c in calls] == [
        ("add", {"a": 1, "b": 2}, "chatcmpl-tool-0-0"), ("echo", {"text": "hi"}, "chatcmpl-tool-0-1")]


async def test_arguments_that_are_not_json_make_a_call_with_an_error_not_a_crash():
    with OpenAISimulator(token_rate=0) as sim:
        sim.bad_tool_arguments = True
        async with OpenAIClient(sim.url) as client:
            chunks = await collect(client, "use the add tool with a=2 b=3", tools=TOOLS)
    (call,) = [c for chunk in chunks for c in chunk.tool_calls]
    assert call.name == "add" and dict(call.arguments) == {}
    assert "not valid JSON" in call.error and "the tool was not run" in call.error
    assert chunks[-1].done


async def test_without_tools_nothing_about_tools_is_sent_or_made():
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            chunks = await collect(client, "use the add tool with a=2 b=3")
    assert "tools" not in sim.chat_requests()[-1]
    assert not any(c.tool_calls for c in chunks) and chunks[-1].done_reason == "stop"


def test_history_calls_and_results_get_matching_ids_in_openais_shape():
    history = [
        {"role": "user", "content": "add and echo"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "add", "arguments": {"a": 1, "b": 2}}},
            {"function": {"name": "echo", "arguments": {"text": "hi"}}}]},
        {"role": "tool", "content": "3", "tool_name": "add"},
        {"role": "tool", "content": "hi", "tool_name": "echo"},
        {"role": "assistant", "content": "again", "tool_calls": [
            {"id": "server-id", "function": {"name": "add", "arguments": {"a": 5, "b": 5}}}]},
        {"role": "tool", "content": "10", "tool_name": "add"},
    ]
    out = openai_messages(history)
    assert out[1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}},
        {"id": "call_2", "type": "function", "function": {"name": "echo", "arguments": '{"text": "hi"}'}}]}
    assert out[2] == {"role": "tool", "tool_call_id": "call_1", "content": "3"}
    assert out[3] == {"role": "tool", "tool_call_id": "call_2", "content": "hi"}
    assert out[4]["tool_calls"][0]["id"] == "server-id" and out[4]["content"] == "again"
    assert out[5] == {"role": "tool", "tool_call_id": "server-id", "content": "10"}
    assert openai_messages(history) == out  # stable: the same history, the same ids


class FakeTool:
    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def to_ollama(self) -> dict:
        return self.spec


class FakeHub:
    configured = True

    async def tools(self) -> list[FakeTool]:
        return [FakeTool(t) for t in TOOLS]


@pytest.fixture
async def store(tmp_path):
    s = await HistoryStore.open(tmp_path / "history.db")
    yield s
    await s.close()


async def test_a_server_that_refuses_tools_is_asked_again_without_and_not_offered_them_again(store):
    with OpenAISimulator(token_rate=0) as sim:
        sim.tool_support = False
        hosts = HostRegistry(Host("oa", sim.url, "openai"), lambda host: OpenAIClient(host.url))
        service = ChatService(hosts, store, tools=FakeHub())  # type: ignore[arg-type]
        session = await store.create_session(model=MODEL)
        tools = await service.tools_for(MODEL)
        assert [t["function"]["name"] for t in tools] == ["add", "echo"]  # offered: nothing says otherwise
        await service.add_user_message(session.id, "use the add tool with a=2 b=3", MODEL)
        result = await service.stream_reply(session.id, TurnRequest(MODEL, {}), lambda c, t: None, tools=tools)
        bodies = sim.chat_requests()
        assert ["tools" in b for b in bodies] == [True, False]
        assert result.status == "complete" and result.error is None and result.tool_calls == ()
        assert "You said: use the add tool" in result.content
        assert result.notice is not None and NO_AUTO_TOOL_CHOICE in result.notice
        assert "sent again without them" in result.notice
        assert await service.tools_for(MODEL) == []  # remembered for (host, model)
        assert await service.tools_for("Qwen/Qwen2.5-7B-Instruct") != []  # another model still gets them
        await hosts.provider.aclose()


async def test_another_400_is_an_error_and_is_not_retried(store):
    with OpenAISimulator(token_rate=0) as sim:
        sim.fault = 400
        hosts = HostRegistry(Host("oa", sim.url, "openai"), lambda host: OpenAIClient(host.url))
        service = ChatService(hosts, store, tools=FakeHub())  # type: ignore[arg-type]
        session = await store.create_session(model=MODEL)
        await service.add_user_message(session.id, "use the add tool", MODEL)
        result = await service.stream_reply(session.id, TurnRequest(MODEL, {}), lambda c, t: None, tools=TOOLS)
        assert len(sim.chat_requests()) == 1 and result.status == "error" and result.notice is None
        assert await service.tools_for(MODEL) != []
        await hosts.provider.aclose()
