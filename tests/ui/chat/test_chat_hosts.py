"""The chat over several hosts (issues 16, 17): two Ollama simulators, an OpenAI-compatible one
with an API key and a dead host, all in the config's [hosts.<name>] tables."""

from __future__ import annotations

import pytest

from tests.ui.chat.test_chat_support import (
    chat_requests,
    ready,
    replies,
    send,
    sessions,
    text,
    toasts,
)
from tests.ui.conftest import wait_for
from tests.waiting import new_toast, toasts_up, type_text
from tui.service.ollama import OllamaClient
from tui.simulator import Simulator
from tui.simulator.openai import OpenAISimulator
from tui.ui.chat.header import ChatHeader
from tui.ui.shell.status_line import StatusLine
from tui.ui.widgets.dialogs import PickDialog

KEY = "sk-test-K3Y"


def echo(model, msgs):
    return f"echo: {msgs[-1]['content']}"


@pytest.fixture
def fleet(tmp_path):
    with Simulator(token_rate=0, reply=echo) as a, Simulator(token_rate=0, reply=echo) as b, \
            OpenAISimulator(api_key=KEY, token_rate=0, reply=echo) as oa:
        def write(key: str = KEY) -> None:
            (tmp_path / "config.toml").write_text(f"""
[server]
host = "{a.url}"

[hosts.A]
url = "{a.url}"

[hosts.B]
url = "{b.url}"

[hosts.oa]
url = "{oa.url}/v1"
kind = "openai"
api_key = "{key}"

[hosts.dead]
url = "http://127.0.0.1:9"
""")
        write()
        yield a, b, oa, write


def header(app) -> str:
    return str(app.query_one(ChatHeader).render())


def status(app) -> str:
    return str(app.query_one(StatusLine).render())


async def palette(pilot, app, command: str) -> None:
    from textual.command import CommandPalette
    from textual.widgets import OptionList

    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await type_text(pilot, command)

    def shown() -> bool:
        options = app.screen.query_one(OptionList)
        return options.option_count > 0 and command in str(options.get_option_at_index(0).prompt)

    await wait_for(pilot, shown)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))


async def test_the_palette_points_the_chat_at_a_host_and_the_session_remembers_it(fleet, make_app, tmp_path):
    a, b, _oa, _write = fleet
    app = make_app(a.url)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await ready(app, pilot)
        await wait_for(pilot, lambda: "connected" in status(app))
        assert "@ A" in header(app) and " A " in status(app)
        up = toasts_up(app)
        await palette(pilot, app, "Chat on host: B")
        await new_toast(pilot, app, up, "Chat on host B")  # read first: it is up for 4 s
        await wait_for(pilot, lambda: "@ B" in header(app) and "connected" in status(app) and " B " in status(app))
        await send(app, pilot, "hello bee", replies_count=1)
        assert [r["messages"][-1]["content"] for r in chat_requests(b)] == ["hello bee"]
        assert chat_requests(a) == []
        assert "echo: hello bee" in text(app)
        db = tmp_path / "history.sqlite3"
        assert [s["host"] for s in sessions(db)] == ["B"]

        # A new session on A, then the B session opened again: the chat follows it back to B.
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: pane.session is None)
        await palette(pilot, app, "Chat on host: A")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "A")
        await send(app, pilot, "hello ay", replies_count=1)
        assert [s["host"] for s in sessions(db)] == ["B", "A"]
        assert len(chat_requests(a)) == 1
        up = toasts_up(app)
        await pilot.press("ctrl+l", "down", "enter")  # the older session: B's
        await new_toast(pilot, app, up, "this session's host")
        await wait_for(pilot, lambda: pane.session is not None and pane.session.title == "hello bee")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "B" and "@ B" in header(app))
        await send(app, pilot, "again", replies_count=2)
        assert [r["messages"][-1]["content"] for r in chat_requests(b)] == ["hello bee", "again"]


async def test_a_session_whose_host_is_gone_stays_on_the_current_host(fleet, make_app, tmp_path):
    import sqlite3

    a, _b, _oa, _write = fleet
    app = make_app(a.url)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await ready(app, pilot)
        await send(app, pilot, "on a", replies_count=1)
        con = sqlite3.connect(tmp_path / "history.sqlite3")
        with con:
            con.execute("UPDATE sessions SET host = 'retired'")
        con.close()
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: pane.session is None)
        await pilot.press("ctrl+l", "enter")
        await wait_for(pilot, lambda: any("host retired, which is not configured any more" in t
                                          for t in toasts(app)))
        assert app.services.hosts.host.name == "A"


async def test_the_model_picker_lists_every_reachable_host_and_an_openai_host_streams(fleet, make_app):
    a, b, oa, _write = fleet
    app = make_app(a.url)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await ready(app, pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PickDialog), timeout=10)
        dialog = app.screen
        labels = [label for _i, label in dialog.items]
        assert "llama3.2:latest @ A" in " ".join(labels) and "llama3.2:latest @ B" in " ".join(labels)
        assert any(label.startswith("Qwen/Qwen2.5-7B-Instruct @ oa") for label in labels)
        assert not any("@ dead" in label for label in labels)
        assert "dead: not reachable" in dialog.title_text
        assert labels[0].startswith("llama3.2:latest @ any of A, B")
        assert [label.split(" @ ")[1].split()[0] for label in labels if "any of" not in label][0] == "A"
        await type_text(pilot, "Qwen2.5")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "oa")
        await wait_for(pilot, lambda: "@ oa" in header(app) and "Qwen/Qwen2.5-7B-Instruct" in header(app))
        await send(app, pilot, "hi openai", replies_count=1)
        assert "echo: hi openai" in text(app)
        (body,) = oa.chat_requests()
        assert body["model"] == "Qwen/Qwen2.5-7B-Instruct" and body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
        assert body["temperature"] == 0.7 and body["top_p"] == 0.9  # the balanced preset, mapped
        assert "top_k" not in body and "num_ctx" not in body and "options" not in body
        auths = {auth for method, path, _b, auth in oa.requests if path == "/v1/chat/completions"}
        assert auths == {f"Bearer {KEY}"}
        assert KEY not in text(app)
        assert pane.session.host == "oa"
        assert chat_requests(a) == [] and chat_requests(b) == []


async def test_a_model_on_several_hosts_goes_to_the_one_that_has_it_loaded(fleet, make_app):
    a, b, _oa, _write = fleet
    async with OllamaClient(b.url) as client:
        await client.load("llama3.2")
    app = make_app(a.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PickDialog), timeout=10)
        await type_text(pilot, "any of")
        up = toasts_up(app)
        await pilot.press("enter")
        await new_toast(pilot, app, up, "chose B, where it is loaded")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "B")
        await send(app, pilot, "where", replies_count=1)
        assert chat_requests(b)[-1]["messages"][-1]["content"] == "where" and chat_requests(a) == []


async def test_a_wrong_api_key_says_it_was_refused(fleet, make_app):
    a, _b, oa, write = fleet
    write("sk-wrong")
    app = make_app(a.url)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await ready(app, pilot)
        await palette(pilot, app, "Chat on host: oa")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "oa")
        pane.session_model = "Qwen/Qwen2.5-7B-Instruct"
        await send(app, pilot, "hello")
        await wait_for(pilot, lambda: "the API key was refused" in text(app)
                       or any("the API key was refused" in t for t in toasts(app)))
        assert "sk-wrong" not in text(app) and not any("sk-wrong" in t for t in toasts(app))
        assert not replies(app) or "sk-wrong" not in replies(app)[0].content


async def test_a_reply_streaming_when_the_chat_moves_to_another_host_finishes_there(fleet, make_app, tmp_path):
    """Chat on host B while A is still answering: A's reply streams to its end (its client is
    held open for it), and the next prompt goes to B."""
    a, b, _oa, _write = fleet
    a.token_rate = 10  # a reply of ~60 tokens: six seconds, longer than typing in the palette
    a.reply = lambda model, msgs: " ".join(f"w{i}" for i in range(60))
    app = make_app(a.url)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await ready(app, pilot)
        await wait_for(pilot, lambda: "connected" in status(app))
        await send(app, pilot, "long one")
        await wait_for(pilot, lambda: "w3" in text(app))  # streaming from A
        await palette(pilot, app, "Chat on host: B")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "B")
        assert "w59" not in text(app)  # switched while A was still answering
        await wait_for(pilot, lambda: pane.streaming is None and replies(app)[-1].status != "streaming", timeout=20)
        assert replies(app)[-1].status == "complete" and "w59" in text(app)
        await send(app, pilot, "on bee", replies_count=2)
        assert [r["messages"][-1]["content"] for r in chat_requests(b)] == ["on bee"]
        assert [r["messages"][-1]["content"] for r in chat_requests(a)] == ["long one"]


async def test_h_with_a_configured_hosts_url_picks_that_host(fleet, make_app, tmp_path):
    """`h` and B's URL: the chat is on host B (its name, its own settings), not on an unnamed host
    carrying A's."""
    a, b, _oa, _write = fleet
    app = make_app(a.url)
    async with app.run_test(size=(120, 30)) as pilot:
        await ready(app, pilot)
        await wait_for(pilot, lambda: "connected" in status(app))
        await pilot.press("f3", "h")  # off the prompt, so 'h' is a key
        await wait_for(pilot, lambda: app.screen.query("#host-input"))
        app.screen.query_one("#host-input").value = b.url
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "B" and " B " in status(app))
        assert app.services.hosts.host.url == app.services.hosts.named("B").url
        await pilot.press("f1")
        await send(app, pilot, "to bee", replies_count=1)
        assert [r["messages"][-1]["content"] for r in chat_requests(b)] == ["to bee"]
