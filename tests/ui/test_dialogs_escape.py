"""Esc backs out of every dialog the keyboard opens, and the focus goes back where it was:
no key trap, nothing applied."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, send
from tests.ui.models.test_models_pane_support import names, open_models
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList

# (the key that opens a dialog, what it is)
CHAT = [
    ("ctrl+o", "model picker"),
    ("ctrl+t", "preset picker"),
    ("f12", "session options"),
    ("f8", "attach image"),
    ("ctrl+f", "search"),
    ("ctrl+p", "command palette"),
]
SESSIONS = [("r", "rename session"), ("d", "delete session"), ("e", "export Markdown"),
            ("j", "export JSON")]
MODELS = [("p", "pull"), ("n", "create"), ("d", "delete"), ("c", "copy"), ("question_mark", "help"),
          ("h", "change host")]
SETTINGS = [("f9", "file menu")]


async def _escape_from(app, pilot, key: str, what: str) -> None:
    before = app.focused
    base = app.screen
    await pilot.press(key)
    await wait_for(pilot, lambda: app.screen is not base)
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is base)
    await wait_for(pilot, lambda: app.focused is before)  # back where it was
    assert app.focused is before, what


@pytest.mark.parametrize(("key", "what"), CHAT)
async def test_esc_closes_chat_dialogs(sim, make_app, key, what):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await send(app, pilot, "hello", replies_count=1)  # a reply: regenerate/copy have something
        await _escape_from(app, pilot, key, what)
        assert len(app.query(".assistant-turn")) == 1  # nothing was run


async def test_esc_closes_session_list_dialogs(sim, make_app, tmp_path):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await ready(app, pilot)
        await send(app, pilot, "hello", replies_count=1)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.focused, SessionList))
        for key, what in SESSIONS:
            await _escape_from(app, pilot, key, what)
        await wait_for(pilot, lambda: pane.query_one("SessionList").option_count == 1)  # not deleted
        assert not list(tmp_path.glob("*.md")) and not list(tmp_path.glob("*.json"))


async def test_esc_closes_models_pane_and_app_dialogs(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.history is not None)
        pane = await open_models(app, pilot)
        before = names(pane)
        for key, what in MODELS:
            await _escape_from(app, pilot, key, what)
        assert names(pane) == before  # nothing deleted, copied, created or pulled
        assert not [r for r in sim.requests if r[1] in ("/api/pull", "/api/create", "/api/copy", "/api/delete")]


async def test_esc_closes_the_settings_file_menu(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.history is not None)
        await pilot.press("f4")
        await wait_for(pilot, lambda: app.focused is not None and not isinstance(app.focused, PromptArea))
        for key, what in SETTINGS:
            await _escape_from(app, pilot, key, what)
