"""Keys that arrive together (over SSH, from tmux, a fast typist) act in the order they were typed.

Keys are posted to the App the way the terminal driver posts them, one after another without
waiting: without tui/ui/shell/key_order.py Textual ran a text field's bound keys (⌫, ←, Ctrl+U)
after the characters typed behind them ("abc⌫d←X" became "abdX"; Textual issue #6605).
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready
from tui.ui.chat.prompt import PromptArea
from tui.ui.shell.host_dialog import HostDialog


def burst(app, *keys: str) -> None:
    """Post keys as the driver does when they arrive in one read: no waiting in between."""
    for key in keys:
        character = key if len(key) == 1 else None
        app.post_message(events.Key(key, character))


async def test_a_burst_with_backspace_and_left_in_the_prompt_edits_in_order(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        prompt = app.query_one(PromptArea)
        assert app.focused is prompt
        burst(app, "a", "b", "c", "backspace", "d", "left", "X")
        await wait_for(pilot, lambda: len(prompt.text) == 4)
        await pilot.pause()
        assert prompt.text == "abXd"
        burst(app, "ctrl+u", "n", "e", "w")  # Ctrl+U deletes to the line's start, before "new"
        await wait_for(pilot, lambda: prompt.text.startswith("new"))
        await pilot.pause()
        assert prompt.text == "newd"


async def test_ctrl_u_then_typed_text_then_enter_in_a_dialog(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        app.action_change_host()
        await wait_for(pilot, lambda: isinstance(app.screen, HostDialog) and app.focused is not None)
        field = app.screen.query_one(Input)
        assert field.value == sim.url
        burst(app, "ctrl+u", "x", "[", "/", "]", "enter")
        await wait_for(pilot, lambda: "invalid host" in screen_text(app))
        assert field.value == "x[/]"
        assert "invalid host 'x[/]'" in screen_text(app)
