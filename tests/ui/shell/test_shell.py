"""The app shell: first frame, pane switching, the unreachable banner and recovery."""

from __future__ import annotations

import socket

import pytest
from textual.widgets import ContentSwitcher

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.shell.banner import ConnectionBanner
from tui.ui.shell.status_line import StatusLine


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_opens_on_chat_with_prompt_focused(sim, make_app, size):
    app = make_app(sim.url)
    async with app.run_test(size=size) as pilot:
        assert app.query_one("#panes", ContentSwitcher).current == "chat"
        assert isinstance(app.focused, PromptArea)
        await wait_for(pilot, lambda: app.query_one(StatusLine).state is not None
                       and app.query_one(StatusLine).state.up)
        status = str(app.query_one(StatusLine).render())
        assert "connected" in status and sim.url in status and "0.33.0" in status
        assert not app.query_one(ConnectionBanner).display


async def test_function_keys_switch_panes_even_from_the_prompt(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        switcher = app.query_one("#panes", ContentSwitcher)
        assert isinstance(app.focused, PromptArea)
        for key, pane in (("f2", "models"), ("f3", "monitor"), ("f4", "settings"), ("f1", "chat")):
            await pilot.press(key)
            assert switcher.current == pane
        await pilot.press("alt+3")
        assert switcher.current == "monitor"
        await pilot.press("alt+1")
        assert switcher.current == "chat"
        assert isinstance(app.focused, PromptArea)


async def test_type_a_question_and_read_the_reply(make_app):
    with Simulator(token_rate=0, reply="Hello from the **simulator**.") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*"hi there", "enter")
            await wait_for(pilot, lambda: app.query_one("ChatPane").streaming is None
                           and len(app.query(".assistant-turn")) == 1
                           and "simulator" in app.query_one(".assistant-turn").content)
            await pilot.pause()
            assert "Hello from the simulator." in screen_text(app)


async def test_unreachable_banner_then_recovery(make_app):
    port = closed_port()
    app = make_app(f"http://127.0.0.1:{port}")
    app.connection.first_backoff = 0.05
    app.connection.max_backoff = 0.2
    async with app.run_test(size=(100, 30)) as pilot:
        banner = app.query_one(ConnectionBanner)
        await wait_for(pilot, lambda: banner.display)
        text = str(banner.render())
        assert f"Ollama not reachable at http://127.0.0.1:{port}" in text
        assert "press r to retry now, h to change host" in text
        assert "unreachable" in str(app.query_one(StatusLine).render())
        # The prompt still works while the server is down.
        assert isinstance(app.focused, PromptArea)
        with Simulator(port=port) as sim:
            await wait_for(pilot, lambda: not banner.display)
            assert "connected" in str(app.query_one(StatusLine).render())
            assert sim.requests  # it really talked to the new server


async def test_help_lists_bindings(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")  # focus leaves the prompt, so '?' is a key, not text
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        assert "F1" in text and "Chat" in text and "Stop reply" in text


async def test_theme_chosen_in_the_app_is_remembered_in_the_config(sim, make_app, tmp_path):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "ollama-dark"
        app.theme = "high-contrast"
        await pilot.pause()
    text = (tmp_path / "config.toml").read_text()
    assert 'theme = "high-contrast"' in text
    app2 = make_app(sim.url)
    async with app2.run_test(size=(80, 24)):
        assert app2.theme == "high-contrast"


async def test_change_host_dialog_reconnects(make_app):
    with Simulator() as first, Simulator(version="0.34.1") as second:
        app = make_app(first.url)
        async with app.run_test(size=(100, 30)) as pilot:
            status = app.query_one(StatusLine)
            await wait_for(pilot, lambda: status.state is not None and status.state.up)
            await pilot.press("f3", "h")  # off the prompt, so 'h' is a key
            await pilot.pause()
            host_input = app.screen.query_one("#host-input")
            host_input.value = ""
            await pilot.press(*f":{second.port}", "enter")
            await wait_for(pilot, lambda: status.state.up and status.state.version == "0.34.1")
            assert f"127.0.0.1:{second.port}" in str(status.render())
