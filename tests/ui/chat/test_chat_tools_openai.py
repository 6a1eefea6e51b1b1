"""Tool calling on an OpenAI-compatible host under Pilot (issue 18 over /v1/chat/completions):
the OpenAI simulator's model calls a tool of the real MCP test server (tests/tools/mcp_server.py,
stdio), `y` runs it, the result goes back as a `tool` message answering the call's id, and the
answer streams. A server that refuses tools is asked again without them, and the chat says so."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_hosts import palette
from tests.ui.chat.test_chat_support import (
    chat,
    chat_requests,
    notices,
    ready,
    replies,
    send,
    text,
)
from tests.ui.chat.test_chat_tools import SERVER, asking, calls_made, settled, tool_turns
from tui.simulator import Simulator
from tui.simulator.openai import NO_AUTO_TOOL_CHOICE, OpenAISimulator

MODEL = "Qwen/Qwen2.5-7B-Instruct"


async def chat_on_oa(app, pilot) -> None:
    """The app ready, the chat pointed at the OpenAI-compatible host `oa` from the palette."""
    await ready(app, pilot)
    await palette(pilot, app, "Chat on host: oa")
    await wait_for(pilot, lambda: app.services.hosts.host.name == "oa")


def config(tmp_path: Path, ollama: str, openai: str) -> Path:
    path = tmp_path / "config.toml"
    lines = ["version = 1", "[server]", f"host = {json.dumps(ollama)}", "[chat]", f"default_model = {json.dumps(MODEL)}",
             "[hosts.oa]", f"url = {json.dumps(openai + '/v1')}", 'kind = "openai"',
             "[mcp.servers.calc]", f"command = {json.dumps(sys.executable)}", f"args = [{json.dumps(SERVER)}]",
             f"env = {{ MCP_TEST_LOG = {json.dumps(str(tmp_path / 'calls.log'))} }}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_an_openai_host_calls_a_tool_the_user_approves_and_gets_the_result_by_id(make_app, tmp_path):
    with Simulator(token_rate=0) as ollama, OpenAISimulator(token_rate=0) as oa:
        app = make_app(ollama.url, config_path=config(tmp_path, ollama.url, oa.url))
        async with app.run_test(size=(110, 40)) as pilot:
            await chat_on_oa(app, pilot)
            await send(app, pilot, "use the add tool with a=2 b=3")
            turn = await asking(app, pilot)
            assert "add(a=2, b=3)" in text(app) and calls_made(tmp_path) == []
            first = oa.chat_requests()[0]
            assert first["model"] == MODEL
            assert [t["function"]["name"] for t in first["tools"]] == ["add", "echo", "fail", "slow", "crash"]
            assert first["tools"][0]["type"] == "function"
            await pilot.press("y")
            await settled(app, pilot, 1)
            assert calls_made(tmp_path) == ["add 2 3"] and turn.kind == "ok" and turn.result == "5"
            bodies = oa.chat_requests()
            assert len(bodies) == 2
            sent = bodies[1]["messages"]
            call = sent[-2]["tool_calls"][0]
            assert sent[-2]["role"] == "assistant" and call["type"] == "function"
            assert call["function"] == {"name": "add", "arguments": '{"a": 2, "b": 3}'}
            assert sent[-1] == {"role": "tool", "tool_call_id": call["id"], "content": "5"}
            answer = replies(app)[-1]
            assert answer.status == "complete" and "`add` (call_1): 5" in answer.content
            assert "add (call_1): 5" in text(app)  # the answer on screen (Markdown: no backticks)
            assert chat_requests(ollama) == []


async def test_an_openai_server_that_refuses_tools_is_asked_again_without_and_the_chat_says_so(make_app, tmp_path):
    with Simulator(token_rate=0) as ollama, OpenAISimulator(token_rate=0) as oa:
        oa.tool_support = False
        app = make_app(ollama.url, config_path=config(tmp_path, ollama.url, oa.url))
        async with app.run_test(size=(110, 40)) as pilot:
            await chat_on_oa(app, pilot)
            await send(app, pilot, "use the add tool with a=2 b=3", replies_count=1)
            await settled(app, pilot, 1)
            assert ["tools" in b for b in oa.chat_requests()] == [True, False]
            assert replies(app)[-1].status == "complete" and tool_turns(app) == []
            said = " ".join(notices(app))
            assert "refused tools" in said and NO_AUTO_TOOL_CHOICE in said and "without them" in said
            await send(app, pilot, "use the add tool again", replies_count=2)
            assert ["tools" in b for b in oa.chat_requests()] == [True, False, False]  # remembered
            assert chat(app).session.host == "oa"


async def test_arguments_that_are_not_json_are_shown_as_an_error_not_run_and_the_model_is_told(make_app, tmp_path):
    with Simulator(token_rate=0) as ollama, OpenAISimulator(token_rate=0) as oa:
        oa.bad_tool_arguments = True
        app = make_app(ollama.url, config_path=config(tmp_path, ollama.url, oa.url))
        async with app.run_test(size=(110, 40)) as pilot:
            await chat_on_oa(app, pilot)
            await send(app, pilot, "use the add tool with a=2 b=3")
            await settled(app, pilot, 1)
            (turn,) = tool_turns(app)
            assert turn.kind == "error" and "not valid JSON" in turn.result and calls_made(tmp_path) == []
            sent = oa.chat_requests()[-1]["messages"]
            assert sent[-1]["role"] == "tool" and "not valid JSON" in sent[-1]["content"]
            assert sent[-1]["tool_call_id"] == sent[-2]["tool_calls"][0]["id"]
            assert replies(app)[-1].status == "complete"
