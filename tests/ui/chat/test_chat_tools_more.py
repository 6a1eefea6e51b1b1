"""Tool calling in the chat, the harder paths (issue 18), under Pilot with the real MCP test server
(tests/tools/mcp_server.py): a call that times out, a server that cannot start, editing a message
whose turn called tools, a whole server switched off in the Tools view, searching tool calls and
results, and Esc while a tool runs. What the user sees, what the model is sent and what is stored
are asserted."""

from __future__ import annotations

import json
import sys

from tests.ui.chat.test_chat_support import (
    chat,
    chat_requests,
    messages,
    notices,
    ready,
    replies,
    send,
    text,
    toasts,
)
from tests.ui.chat.test_chat_tools import (
    SERVER,
    answer_call,
    asking,
    calls_made,
    config,
    settled,
    tool_turns,
)
from tests.ui.conftest import wait_for
from tests.waiting import type_text
from tui.simulator import Simulator


async def idle(app, pilot) -> None:
    """No turn under way: nothing streams, no tool question is open, no reply worker runs."""
    pane = chat(app)
    await wait_for(pilot, lambda: pane.streaming is None and pane.turns.asking is None
                   and not pane.turns.busy(), timeout=20)


async def test_a_call_that_times_out_is_shown_and_sent_and_the_reply_goes_on(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path, tool_timeout=1))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "use the slow tool")
            turn = await asking(app, pilot)
            await pilot.press("y")
            await settled(app, pilot, 1)
            assert calls_made(tmp_path) == ["slow"]
            assert turn.kind == "timeout" and "✕ timed out" in text(app)  # under the call
            assert turn.result == "the tool slow timed out after 1 s"
            last = chat_requests(sim)[-1]["messages"][-1]
            assert last == {"role": "tool", "content": "the tool slow timed out after 1 s", "tool_name": "slow"}
            assert replies(app)[-1].status == "complete" and "`slow`" in replies(app)[-1].content
            stored = [m for m in messages(db) if m["role"] == "tool"]
            assert [(m["tool_name"], m["error"]) for m in stored] == [("slow", "timeout")]
            # the server still answers after a call it did not finish in time
            await send(app, pilot, "use the add tool with a=2 b=3")
            await asking(app, pilot, 2)
            await pilot.press("y")
            await settled(app, pilot, 2)
            assert tool_turns(app)[1].result == "5"


async def test_a_server_that_cannot_start_is_said_once_and_the_chat_answers(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('version = 1\n[chat]\ndefault_model = "llama3.2"\n'
                    '[mcp.servers.broken]\ncommand = "/no/such/mcp-server"\n'
                    f"[mcp.servers.calc]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(SERVER)}]\n",
                    encoding="utf-8")
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=path)
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello there", replies_count=1)
            await idle(app, pilot)
            why = "Tool server broken failed: command not found (/no/such/mcp-server)"
            assert [t for t in toasts(app) if "Tool server" in t] == [why + ". Chat goes on without its tools."]
            assert [n for n in notices(app) if "Tool server" in n] == ["✕ " + why + ". Chat goes on without its tools."]
            assert replies(app)[-1].status == "complete"
            # the other server's tools are still offered; the broken one's reason is not said again
            offered = [t["function"]["name"] for t in chat_requests(sim)[-1]["tools"]]
            assert offered == ["add", "echo", "fail", "slow", "crash"]
            await send(app, pilot, "and again", replies_count=2)
            await idle(app, pilot)
            assert len([n for n in notices(app) if "Tool server" in n]) == 1  # (a toast may have gone)


async def test_a_server_that_cannot_start_alone_means_no_tools_field(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('version = 1\n[chat]\ndefault_model = "llama3.2"\n[mcp.servers.bad]\ncommand = "/no/such/prog"\n',
                    encoding="utf-8")
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=path)
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "use the add tool", replies_count=1)
            await idle(app, pilot)
            assert any("Tool server bad failed: command not found" in t for t in toasts(app))
            assert "tools" not in chat_requests(sim)[-1]
            assert replies(app)[-1].status == "complete" and not tool_turns(app)


async def test_editing_the_message_of_a_tool_turn_moves_the_calls_to_an_earlier_branch(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await answer_call(app, pilot, "use the add tool with a=2 b=3", "y", 1)
            await send(app, pilot, "thanks, now say bye")
            await settled(app, pilot, 2)
            before = messages(db)
            assert [m["role"] for m in before] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
            await pilot.press("ctrl+g")  # the last message ...
            await pilot.press("ctrl+g")  # ... and again: the one before, the tool turn's
            prompt = chat(app).query_one("PromptArea")
            await wait_for(pilot, lambda: prompt.text == "use the add tool with a=2 b=3")
            prompt.text = ""
            await type_text(pilot, "just say hi")
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(chat_requests(sim)) == 4, timeout=20)
            await settled(app, pilot, 1)
            sent = chat_requests(sim)[-1]["messages"]
            assert sent == [{"role": "user", "content": "just say hi"}]  # no stale calls or results
            assert not tool_turns(app) and len(replies(app)) == 1
            assert "add(a=2" not in text(app) and "just say hi" in text(app)
            after = messages(db)
            active = [(m["role"], m["content"]) for m in after if m["branch"] == 0]
            assert active[0] == ("user", "just say hi") and [r for r, _ in active] == ["user", "assistant"]
            earlier = [m for m in after if m["branch"] != 0]
            assert [m["id"] for m in earlier] == [m["id"] for m in before]  # every old row kept, one branch
            assert len({m["branch"] for m in earlier}) == 1
            assert calls_made(tmp_path) == ["add 2 3"]  # the edit ran nothing again


async def test_switching_a_server_off_in_the_tools_view_offers_none_of_its_tools(make_app, tmp_path):
    from tui.ui.tools.screen import ToolsScreen

    async def open_tools(pilot) -> None:
        await pilot.press("ctrl+p")
        await type_text(pilot, "Tools")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ToolsScreen))

    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await open_tools(pilot)
            await wait_for(pilot, lambda: "● calc  not started" in text(app))
            await pilot.press("space")  # the server is the first line
            await wait_for(pilot, lambda: "○ calc  off" in text(app))
            assert any("Server calc: off until you quit" in t for t in toasts(app))
            await pilot.press("escape")
            await send(app, pilot, "use the add tool with a=2 b=3", replies_count=1)
            await idle(app, pilot)
            assert "tools" not in chat_requests(sim)[-1]
            assert not tool_turns(app) and calls_made(tmp_path) == []

            await open_tools(pilot)  # on again: its tools are offered again
            await wait_for(pilot, lambda: "○ calc  off" in text(app))
            await pilot.press("space")
            await wait_for(pilot, lambda: "● calc  not started" in text(app))
            await pilot.press("escape")
            await send(app, pilot, "use the add tool with a=2 b=3")
            await asking(app, pilot)
            assert [t["function"]["name"] for t in chat_requests(sim)[-1]["tools"]][:1] == ["add"]
            await pilot.press("n")
            await settled(app, pilot, 2)


async def test_search_finds_a_tool_result_and_its_arguments_and_opens_the_call(make_app, tmp_path):
    from textual.widgets import OptionList

    from tui.ui.chat.conversation import Conversation
    from tui.ui.chat.search import SearchScreen

    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 30)) as pilot:
            pane = await ready(app, pilot)
            await answer_call(app, pilot, "use the add tool with a=4242 b=1", "y", 1)
            prompt = pane.query_one("PromptArea")
            for n in range(4):  # later turns, so the call is off screen at the bottom
                prompt.focus()
                prompt.text = f"tell me a long story number {n} " + "please " * 40  # (typing it is slow)
                await pilot.press("enter")
                await settled(app, pilot, n + 2)
            session_id = pane.session.id
            await pane.action_new_session()
            await pilot.pause()

            async def search_and_open(words: str, role: str) -> None:
                """Search, pick the hit in a message of `role`, open it."""
                await pilot.press("ctrl+f")
                await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
                await type_text(pilot, words)
                found = app.screen.query_one(OptionList)
                await wait_for(pilot, lambda: found.option_count > 0)
                labels = [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]
                found.highlighted = next(i for i, label in enumerate(labels) if f"  {role} · " in label)
                await pilot.press("enter")
                await wait_for(pilot, lambda: not isinstance(app.screen, SearchScreen)
                               and pane.session is not None and pane.session.id == session_id and tool_turns(app))
                await pilot.pause()

            def call_on_screen() -> bool:  # the call's own line (🔧 add(...)) in the view
                view = app.query_one(Conversation).region
                top = tool_turns(app)[0].region.y
                return view.y <= top < view.bottom and "🔧 Tool call add(a=4242, b=1)" in text(app)

            await search_and_open("4243", "tool")  # the result the tool gave
            await wait_for(pilot, call_on_screen)
            await pane.action_new_session()
            await pilot.pause()
            await search_and_open("4242", "assistant")  # the arguments, in the reply that called
            await wait_for(pilot, call_on_screen)


async def test_esc_while_a_tool_runs_stops_the_call_and_the_next_turn_works(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))  # tool_timeout: 30 s
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "use the slow tool")
            turn = await asking(app, pilot)
            await pilot.press("y")
            await wait_for(pilot, lambda: "… running — Esc stops it" in text(app) and calls_made(tmp_path) == ["slow"],
                           timeout=20)
            await pilot.press("escape")
            await idle(app, pilot)  # at once, not after the tool's minute or the 30 s timeout
            assert turn.kind == "refused" and "stopped while it ran (Esc)" in text(app) and "… running" not in text(app)
            stopped = [m for m in messages(db) if m["role"] == "tool"]
            assert [(m["tool_name"], m["branch"]) for m in stopped] == [("slow", 0)]
            assert stopped[0]["content"].startswith("The user stopped the turn while this tool call ran")
            assert len(chat_requests(sim)) == 1  # nothing was sent after the stop
            await send(app, pilot, "use the add tool with a=2 b=3")
            await asking(app, pilot, 2)
            await pilot.press("y")
            await settled(app, pilot, 1)
            assert tool_turns(app)[1].result == "5" and replies(app)[-1].status == "complete"
            sent = chat_requests(sim)[-1]["messages"]
            assert [m["role"] for m in sent] == ["user", "assistant", "tool", "user", "assistant", "tool"]
            assert sent[2]["tool_name"] == "slow" and "while this tool call ran" in sent[2]["content"]


async def test_a_server_that_dies_between_turns_is_said_at_once(make_app, tmp_path):
    import os
    import signal

    pidfile = tmp_path / "calc.pid"
    path = config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "env = { ", f"env = {{ MCP_TEST_PIDFILE = {json.dumps(str(pidfile))}, "), encoding="utf-8")
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=path)
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)  # the first turn starts the server
            await idle(app, pilot)
            assert "tools" in chat_requests(sim)[-1] and not toasts(app)
            os.kill(int(pidfile.read_text()), signal.SIGKILL)  # no turn under way
            said = "Tool server calc failed: stopped. Chat goes on without its tools."
            await wait_for(pilot, lambda: said in toasts(app) and "✕ " + said in notices(app))
            await send(app, pilot, "hello again", replies_count=2)
            await idle(app, pilot)
            assert "tools" not in chat_requests(sim)[-1] and replies(app)[-1].status == "complete"
            assert notices(app).count("✕ " + said) == 1  # not said again at the next turn
