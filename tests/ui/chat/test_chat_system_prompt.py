"""A session's own system prompt (F12): set in the session options, shown in the header, kept
with the session (across a restart), sent in place of the model's or [chat] one, exported."""

from __future__ import annotations

import json

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import (
    chat_requests,
    ready,
    send,
    sessions,
    text,
    toasts,
)
from tests.waiting import type_text
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.session_options import SessionOptionsDialog
from tui.ui.widgets.dialogs import TextDialog

CONFIG = '[chat]\nsystem_prompt = "the global prompt"\n'
OWN = "You are a pirate.\nAnswer in one line."


def header(app) -> str:
    return str(app.query_one("#chat-header").render())


def systems(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "system"]


async def open_options(app, pilot) -> SessionOptionsDialog:
    await pilot.press("f12")
    await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog) and app.screen.query("#system-prompt"))
    return app.screen


async def test_the_session_prompt_set_in_f12_is_sent_shown_and_kept(make_app, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply="Arr.") as sim:
        app = make_app(sim.url, config_path=config)
        async with app.run_test(size=(120, 40)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "first", replies_count=1)
            assert systems(chat_requests(sim)[-1]) == ["the global prompt"]
            assert "system" not in header(app)

            dialog = await open_options(app, pilot)
            assert "now: “the global prompt”" in text(app)  # what applies without one of its own
            await pilot.press("tab")  # from the overrides to the system prompt
            assert dialog.query_one("#system-prompt").has_focus
            await type_text(pilot, "You are a pirate.")
            await pilot.press("ctrl+j")  # a new line, as in the chat prompt
            await type_text(pilot, "Answer in one line.")
            await pilot.press("enter")  # saves
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            await wait_for(pilot, lambda: pane.session.system_prompt == OWN)
            assert sessions(db)[0]["system_prompt"] == OWN
            # the header: one line, its start
            await wait_for(pilot, lambda: "system “You are a pirate. Answer in one…”" in header(app))
            assert "system “You are a pirate." in text(app)

            await send(app, pilot, "second", replies_count=2)
            assert systems(chat_requests(sim)[-1]) == [OWN]  # in place of the global one, not beside it

            await pilot.press("ctrl+n")  # another session: the global prompt again
            await wait_for(pilot, lambda: pane.session is None and "system" not in header(app))
            await send(app, pilot, "other", replies_count=1)
            assert systems(chat_requests(sim)[-1]) == ["the global prompt"]

        second = make_app(sim.url, config_path=config)
        async with second.run_test(size=(120, 40)) as pilot:
            pane = await ready(second, pilot)
            await wait_for(pilot, lambda: second.query_one("SessionList").option_count == 2)
            await pilot.press("ctrl+l", "down", "enter")  # "first", below the newer "other"
            await wait_for(pilot, lambda: pane.session is not None and pane.session.title == "first")
            await wait_for(pilot, lambda: "system “You are a pirate." in header(second))
            await send(second, pilot, "third", replies_count=3)
            assert systems(chat_requests(sim)[-1]) == [OWN]

            dialog = await open_options(second, pilot)  # it opens on the stored prompt
            assert dialog.query_one("#system-prompt").text == OWN
            dialog.query_one("#system-prompt").text = "Be\x1b[2J terse"  # a control character: shown inert
            await pilot.press("enter")
            await wait_for(pilot, lambda: "system “Be␛[2J terse”" in header(second))
            dialog = await open_options(second, pilot)
            dialog.query_one("#system-prompt").text = "  \n "  # emptied: the global one applies again
            await pilot.press("enter")
            await wait_for(pilot, lambda: pane.session.system_prompt is None and "system" not in header(second))
            await send(second, pilot, "fourth", replies_count=4)
            assert systems(chat_requests(sim)[-1]) == ["the global prompt"]
            assert sessions(db)[0]["system_prompt"] is None


async def test_a_bad_override_keeps_the_dialog_and_the_prompt_typed(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            dialog = await open_options(app, pilot)
            assert "now none" in text(app)
            dialog.query_one("#system-prompt").text = "Be brief."
            await type_text(pilot, "temperature=9")
            await pilot.press("enter")
            await wait_for(pilot, lambda: "out of range" in text(app))
            assert isinstance(app.screen, SessionOptionsDialog)  # nothing applied yet
            assert pane.session.system_prompt is None and dialog.query_one("#system-prompt").text == "Be brief."
            await pilot.press("ctrl+u", *"temperature=0.5", "enter")
            await wait_for(pilot, lambda: pane.session.system_prompt == "Be brief."
                           and pane.session.options == {"temperature": 0.5})
            await pilot.press("f12", "escape")  # Esc changes nothing
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            assert pane.session.system_prompt == "Be brief."
            assert isinstance(app.focused, PromptArea) and app.focused.id == "prompt"


async def test_the_session_prompt_is_exported(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the export dialog offers a file in the current directory
    with Simulator(token_rate=0, reply="Arr.") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "ahoy", replies_count=1)
            dialog = await open_options(app, pilot)
            dialog.query_one("#system-prompt").text = OWN
            await pilot.press("enter")
            await wait_for(pilot, lambda: pane.session.system_prompt == OWN)
            await pilot.press("ctrl+l", "e")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("enter")
            md = tmp_path / "ahoy.md"
            await wait_for(pilot, lambda: md.exists() and any("Exported to" in t for t in toasts(app)))
            body = md.read_text()
            assert "## System prompt" in body and "You are a pirate." in body and "Answer in one line." in body
            await pilot.press("j")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("enter")
            path = tmp_path / "ahoy.json"
            await wait_for(pilot, lambda: path.exists() and path.stat().st_size > 0)
            assert json.loads(path.read_text())["session"]["system_prompt"] == OWN
