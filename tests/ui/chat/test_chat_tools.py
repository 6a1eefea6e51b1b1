"""Tool calling in the chat, end to end under Pilot: the simulator's tools model (llama3.2) calls
the tools of a real MCP server (tests/tools/mcp_server.py, a subprocess over stdio); the user
answers y / n / a; what is shown, sent to the model and stored is asserted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
from tests.ui.conftest import wait_for
from tui.simulator import Simulator
from tui.ui.chat.toolcall import ToolCallTurn

SERVER = str(Path(__file__).resolve().parents[2] / "tools" / "mcp_server.py")


def config(tmp_path: Path, **chat: object) -> Path:
    path = tmp_path / "config.toml"
    lines = ["version = 1", "[chat]", 'default_model = "llama3.2"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in chat.items()]
    lines += ["[mcp.servers.calc]", f"command = {json.dumps(sys.executable)}", f"args = [{json.dumps(SERVER)}]",
              f"env = {{ MCP_TEST_LOG = {json.dumps(str(tmp_path / 'calls.log'))} }}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def calls_made(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def tool_turns(app) -> list[ToolCallTurn]:
    return list(app.query(ToolCallTurn))


async def asking(app, pilot, count: int = 1) -> ToolCallTurn:
    await wait_for(pilot, lambda: len(tool_turns(app)) >= count and tool_turns(app)[count - 1].asking, timeout=20)
    return tool_turns(app)[count - 1]


async def settled(app, pilot, answers: int) -> None:
    pane = chat(app)
    await wait_for(pilot, lambda: len(replies(app)) >= answers and pane.streaming is None
                   and pane.turns.asking is None and not pane.turns.busy(), timeout=20)


async def answer_call(app, pilot, prompt: str, key: str, answers: int) -> None:
    """Send `prompt`, answer the tool call it asks about with `key` (y, n or a), wait for the
    `answers`-th reply to settle."""
    await send(app, pilot, prompt)
    await asking(app, pilot)
    await pilot.press(key)
    await settled(app, pilot, answers)


async def test_approve_runs_the_tool_and_the_answer_uses_its_result(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "use the add tool with a=2 b=3")
            turn = await asking(app, pilot)
            screen = text(app)
            assert 'add(a=2, b=3)' in screen and "Run this tool?" in screen
            assert calls_made(tmp_path) == []  # asked before it runs
            first = chat_requests(sim)[0]
            assert [t["function"]["name"] for t in first["tools"]] == ["add", "echo", "fail", "slow", "crash"]
            await pilot.press("y")
            await settled(app, pilot, 1)
            assert calls_made(tmp_path) == ["add 2 3"]
            assert turn.kind == "ok" and turn.result == "5"
            assert "✓ ran" in text(app) and "Result (1 line" in text(app)  # folded under the call
            assert "`add`: 5" in replies(app)[-1].content
            sent = chat_requests(sim)[-1]["messages"]
            assert sent[-2]["tool_calls"] == [{"function": {"name": "add", "arguments": {"a": 2, "b": 3}}}]
            assert sent[-1] == {"role": "tool", "content": "5", "tool_name": "add"}
            stored = [(m["role"], m["content"], m["tool_name"]) for m in messages(db)]
            assert stored[:1] == [("user", "use the add tool with a=2 b=3", None)]
            assert ("tool", "5", "add") in stored and stored[-1][0] == "assistant"
            # reopened, the session shows the call and its result
            await pane_reopen(app, pilot)
            turns = tool_turns(app)
            assert len(turns) == 1 and turns[0].kind == "ok" and turns[0].result == "5"


async def pane_reopen(app, pilot) -> None:
    pane = chat(app)
    session_id = pane.session.id
    await pane.action_new_session()
    await pane.open_session(session_id)
    await wait_for(pilot, lambda: not pane._rest_pending and tool_turns(app))


async def test_refuse_tells_the_model_and_it_goes_on(make_app, tmp_path):
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await answer_call(app, pilot, "use the add tool with a=2 b=3", "n", 1)
            assert calls_made(tmp_path) == []
            last = chat_requests(sim)[-1]["messages"][-1]
            assert last["role"] == "tool" and last["tool_name"] == "add" and "refused" in last["content"]
            assert "✕ refused" in text(app) and replies(app)[-1].status == "complete"


async def test_always_allow_runs_the_next_call_without_asking(make_app, tmp_path):
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await answer_call(app, pilot, "use the add tool with a=1 b=2", "a", 1)
            await send(app, pilot, "use the add tool with a=3 b=4")
            await settled(app, pilot, 2)
            turns = tool_turns(app)
            assert len(turns) == 2 and not turns[1].asking and turns[1].result == "7"
            assert calls_made(tmp_path) == ["add 1 2", "add 3 4"]
            assert "always allowed" in text(app)
            app.action_tools()  # the Tools view (palette → Tools) marks it for this chat
            await wait_for(pilot, lambda: "✓ add  · always allowed in this chat" in text(app))
            await pilot.press("escape")
            # The permission belongs to that chat: a new chat asks again, and its Tools view
            # marks nothing.
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: chat(app).session is None and not tool_turns(app))
            await answer_call(app, pilot, "use the add tool with a=5 b=6", "y", 1)
            assert calls_made(tmp_path)[-1] == "add 5 6"
            app.action_tools()
            await wait_for(pilot, lambda: "✓ add" in text(app))
            assert "always allowed" not in text(app)


async def test_two_calls_in_one_turn_and_another_round(make_app, tmp_path):
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path, max_tool_rounds=2))
        async with app.run_test(size=(110, 48)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "use echo with text=hi and add with a=2 b=3 rounds=5")
            await asking(app, pilot, 1)
            await pilot.press("y")
            await asking(app, pilot, 2)
            await pilot.press("y")
            await asking(app, pilot, 3)  # the model calls again after the results (round 2)
            await pilot.press("a")  # echo: always allowed from now on
            await asking(app, pilot, 4)  # add is still asked about
            await pilot.press("y")
            await settled(app, pilot, 1)
            assert calls_made(tmp_path) == ["echo hi", "add 2 3", "echo hi", "add 2 3"]
            requests = chat_requests(sim)
            assert len(requests) == 3  # two rounds with tools, then bounded: one without
            assert "tools" in requests[0] and "tools" in requests[1] and "tools" not in requests[2]
            assert [m["role"] for m in requests[1]["messages"]][-3:] == ["assistant", "tool", "tool"]
            assert replies(app)[-1].status == "complete"


async def test_tool_error_is_shown_and_sent(make_app, tmp_path):
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await answer_call(app, pilot, "use the fail tool", "y", 1)
            assert "✕ the tool reported an error" in text(app)
            last = chat_requests(sim)[-1]["messages"][-1]
            assert last["role"] == "tool" and "failed on purpose" in last["content"]


async def test_server_crash_mid_call_is_said_and_chat_goes_on(make_app, tmp_path):
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await answer_call(app, pilot, "use the crash tool", "y", 1)
            assert any("Tool server calc failed" in t for t in toasts(app))
            assert any("Tool server calc failed" in n for n in notices(app))
            assert "stopped during the call" in chat_requests(sim)[-1]["messages"][-1]["content"]
            await send(app, pilot, "hello again")
            await settled(app, pilot, 2)
            assert "tools" not in chat_requests(sim)[-1]  # the failed server offers nothing
            assert replies(app)[-1].status == "complete"


async def test_a_model_without_tools_gets_no_tools_field(make_app, tmp_path):
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path), default_model="llava:7b")
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "use the add tool with a=2 b=3", replies_count=1)
            assert "tools" not in chat_requests(sim)[-1]
            assert not tool_turns(app) and calls_made(tmp_path) == []


async def test_tools_view_lists_servers_and_switches_a_tool_off(make_app, tmp_path):
    from textual.widgets import OptionList

    from tui.ui.tools.screen import ToolsScreen

    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await pilot.press("ctrl+p")
            from tests.waiting import type_text

            await type_text(pilot, "Tools")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ToolsScreen))
            await wait_for(pilot, lambda: "calc  not started" in text(app))
            await pilot.press("s")
            await wait_for(pilot, lambda: "calc  running" in text(app) and "add" in text(app), timeout=20)
            options = app.screen.query_one(OptionList)
            options.highlighted = options.get_option_index("tool:add")
            await pilot.press("space")
            await wait_for(pilot, lambda: "✕ off add" in text(app))
            await pilot.press("escape")
            await send(app, pilot, "use the echo tool with text=hi")
            await asking(app, pilot)
            offered = [t["function"]["name"] for t in chat_requests(sim)[-1]["tools"]]
            assert "add" not in offered and "echo" in offered
            await pilot.press("n")
            await settled(app, pilot, 1)


async def test_regenerate_reuses_the_results_and_esc_then_regenerate_asks_again(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            await ready(app, pilot)
            await answer_call(app, pilot, "use the add tool with a=2 b=3", "y", 1)
            await pilot.press("ctrl+r")  # a finished answer: answered again from the same result
            await wait_for(pilot, lambda: len(chat_requests(sim)) == 3)
            await settled(app, pilot, 1)
            assert calls_made(tmp_path) == ["add 2 3"] and len(tool_turns(app)) == 1
            assert chat_requests(sim)[-1]["messages"][-1] == {"role": "tool", "content": "5", "tool_name": "add"}

            await send(app, pilot, "use the echo tool with text=hi")
            await asking(app, pilot, 2)
            await pilot.press("escape")  # stop the turn at the question
            await wait_for(pilot, lambda: not chat(app).turns.busy() and tool_turns(app)[1].kind == "refused")
            stopped = [m for m in messages(db) if m["role"] == "tool" and m["branch"] == 0][-1]
            assert stopped["tool_name"] == "echo" and "stopped the turn" in stopped["content"]
            await pilot.press("ctrl+r")  # the turn ended at a call: redone from the prompt, asked again
            await asking(app, pilot, 2)
            assert len(tool_turns(app)) == 2
            await pilot.press("y")
            await settled(app, pilot, 2)
            assert calls_made(tmp_path) == ["add 2 3", "echo hi"]
            assert stopped["id"] in [m["id"] for m in messages(db) if m["branch"] != 0]  # an earlier branch


async def test_a_tool_result_is_shown_as_inert_text(make_app, tmp_path):
    from textual.widgets import Collapsible

    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config(tmp_path))
        async with app.run_test(size=(110, 40)) as pilot:
            pane = await ready(app, pilot)
            ses = await pane.store.create_session(title="hostile", model="llama3.2")
            await pane.store.add_message(ses.id, "user", "use echo")
            calls = [{"name": "echo", "arguments": {"text": "[b]x[/b]\x1b]52;c;AAAA\x07"}}]
            await pane.store.add_message(ses.id, "assistant", "", tool_calls=calls)
            await pane.store.add_message(ses.id, "tool", "\x1b[2J[red]boom[/red]", tool_name="echo", tool_calls=calls)
            await pane.open_session(ses.id)
            await wait_for(pilot, lambda: tool_turns(app) and tool_turns(app)[0].query(Collapsible))
            tool_turns(app)[0].query_one(Collapsible).collapsed = False
            await pilot.pause()
            screen = text(app)
            assert "␛[2J[red]boom[/red]" in screen  # markup and escapes shown as text
            assert 'echo(text="[b]x[/b]\\u001b]52;c;AAAA\\u0007")' in screen  # arguments as JSON text
            assert not replies(app)  # the call-only reply has no empty bubble
