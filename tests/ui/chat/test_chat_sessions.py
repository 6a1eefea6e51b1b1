"""Chat pane, sessions by key: new, switch, rename, delete (confirmed or declined), export."""

from __future__ import annotations

import json

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import (
    chat_requests,
    messages,
    ready,
    replies,
    send,
    sessions,
    text,
    toasts,
    user_turns,
)
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.session_options import SessionOptionsDialog
from tui.ui.chat.sessions import SessionList
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog, TextDialog


def echo(model, msgs):
    return f"echo: {msgs[-1]['content']}"


async def two_sessions(app, pilot):
    """'alpha question' then (Ctrl+N) 'beta question': two stored sessions, beta open."""
    pane = await ready(app, pilot)
    await send(app, pilot, "alpha question", replies_count=1)
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: not replies(app) and pane.session is None)
    # the title ends the header line (model and preset come first; at 80 columns it is cut off)
    assert "New chat" in str(app.query_one("#chat-header").render())
    assert isinstance(app.focused, PromptArea)
    await send(app, pilot, "beta question", replies_count=1)
    listing = app.query_one(SessionList)
    await wait_for(pilot, lambda: listing.option_count == 2)
    return pane, listing


def titles(listing: SessionList) -> list[str]:
    return [str(listing.get_option_at_index(i).prompt).split("\n")[0] for i in range(listing.option_count)]


async def test_new_session_and_switch_from_the_list(make_app, tmp_path):
    with Simulator(token_rate=0, reply=echo) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane, listing = await two_sessions(app, pilot)
            assert titles(listing) == ["beta question", "alpha question"]  # latest activity first
            assert [s["title"] for s in sessions(tmp_path / "history.sqlite3")] == [
                "alpha question", "beta question"]
            await pilot.press("ctrl+l")
            assert listing.has_focus and listing.highlighted == 0
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: pane.session is not None and pane.session.title == "alpha question"
                           and [t.text for t in user_turns(app)] == ["alpha question"])
            assert isinstance(app.focused, PromptArea)
            await pilot.pause()
            screen = text(app)
            assert "echo: alpha question" in screen and "echo: beta question" not in screen
            # the next prompt goes to the session that is open
            await send(app, pilot, "more alpha", replies_count=2)
            alpha_id = sessions(tmp_path / "history.sqlite3")[0]["id"]
            assert [m["content"] for m in messages(tmp_path / "history.sqlite3", alpha_id)] == [
                "alpha question", "echo: alpha question", "more alpha", "echo: more alpha"]
            await wait_for(pilot, lambda: titles(listing) == ["alpha question", "beta question"])
            # and back
            await pilot.press("ctrl+l", "down", "enter")
            await wait_for(pilot, lambda: [t.text for t in user_turns(app)] == ["beta question"])


async def test_rename_the_highlighted_session(make_app, tmp_path):
    with Simulator(token_rate=0, reply=echo) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            pane, listing = await two_sessions(app, pilot)
            await pilot.press("ctrl+l", "r")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            assert "beta question" in text(app)
            await pilot.press("ctrl+u", *"Trip planning", "enter")
            await wait_for(pilot, lambda: titles(listing)[0] == "Trip planning")
            assert pane.session.title == "Trip planning"
            assert "Trip planning" in text(app)
            assert [s["title"] for s in sessions(tmp_path / "history.sqlite3")] == [
                "alpha question", "Trip planning"]
            # r on a session that is not open renames that one, not the open one
            await pilot.press("down", "r")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("ctrl+u", *"Old stuff", "enter")
            await wait_for(pilot, lambda: "Old stuff" in titles(listing))
            assert [s["title"] for s in sessions(tmp_path / "history.sqlite3")] == ["Old stuff", "Trip planning"]
            assert pane.session.title == "Trip planning"
            # Esc cancels
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("ctrl+u", *"nope", "escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))
            assert "nope" not in [s["title"] for s in sessions(tmp_path / "history.sqlite3")]


async def test_delete_asks_first_and_n_declines(make_app, tmp_path):
    with Simulator(token_rate=0, reply=echo) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane, listing = await two_sessions(app, pilot)
            db = tmp_path / "history.sqlite3"
            await pilot.press("ctrl+l", "down", "d")  # alpha, not the open one
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "Delete the session “alpha question” and its 2 messages?" in text(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            assert len(sessions(db)) == 2 and listing.option_count == 2
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: listing.option_count == 1)
            assert [s["title"] for s in sessions(db)] == ["beta question"]
            assert {m["content"] for m in messages(db)} == {"beta question", "echo: beta question"}
            assert any("Deleted “alpha question”" in t for t in toasts(app))
            assert pane.session.title == "beta question"  # the open one was left alone
            # deleting the open session leaves an empty new chat
            await pilot.press("d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: listing.option_count == 0 and pane.session is None)
            assert sessions(db) == [] and messages(db) == []
            assert not replies(app) and "New chat" in text(app)


async def test_export_markdown_and_json(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the export dialog offers a file in the current directory
    with Simulator(token_rate=0, reply="Here is code:\n\n```python\nprint('hi')\n```\n") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "show me code", replies_count=1)
            await pilot.press("ctrl+l", "e")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("enter")
            md = tmp_path / "show-me-code.md"
            await wait_for(pilot, lambda: md.exists())
            body = md.read_text()
            assert "show me code" in body and "print('hi')" in body
            await wait_for(pilot, lambda: any(f"Exported to {md}" in t for t in toasts(app)))
            await pilot.press("j")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press("enter")
            path = tmp_path / "show-me-code.json"
            await wait_for(pilot, lambda: path.exists() and path.stat().st_size > 0)
            data = json.loads(path.read_text())
            dumped = json.dumps(data)
            assert "show me code" in dumped and "print('hi')" in dumped and "llama3.2" in dumped
            # a path typed by the user
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            target = tmp_path / "out" / "chat.md"
            target.parent.mkdir()
            await pilot.press("ctrl+u", *"out/chat.md", "enter")
            await wait_for(pilot, lambda: target.exists())
            assert "print('hi')" in target.read_text()


async def test_a_session_keeps_its_model_preset_and_overrides(make_app, tmp_path):
    (tmp_path / "config.toml").write_text('[chat]\ndefault_preset = "creative"\n')
    with Simulator(token_rate=0, reply=echo) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            assert "preset creative" in str(app.query_one("#chat-header").render())
            await send(app, pilot, "plain", replies_count=1)
            assert chat_requests(sim)[-1]["options"]["temperature"] == 1.1  # config's default preset
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: pane.session is None)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
            await pilot.press(*"llava", "enter")
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
            await pilot.press(*"precise", "enter")
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog))
            await pilot.press(*"seed=42", "enter")
            await wait_for(pilot, lambda: pane.session is not None and pane.session.options == {"seed": 42})
            await send(app, pilot, "tuned", replies_count=1)
            # back to the first session: its own settings
            await pilot.press("ctrl+l", "down", "enter")
            await wait_for(pilot, lambda: pane.session.title == "plain")
            await pilot.pause()
            header = str(app.query_one("#chat-header").render())
            assert "model llama3.2" in header and "preset creative" in header and "seed" not in header
            # and the tuned one again, after a restart
        second = make_app(sim.url)
        async with second.run_test(size=(100, 32)) as pilot:
            pane = await ready(second, pilot)
            listing = second.query_one(SessionList)
            await wait_for(pilot, lambda: listing.option_count == 2)
            assert "llava:7b" in text(second) and "ago" in text(second)  # the list: title, model, when
            await pilot.press("ctrl+l", "enter")
            await wait_for(pilot, lambda: pane.session is not None and pane.session.title == "tuned")
            await pilot.pause()
            header = str(second.query_one("#chat-header").render())
            assert "model llava:7b" in header and "preset precise" in header and "seed=42" in header
            await send(second, pilot, "still tuned", replies_count=2)
            body = chat_requests(sim)[-1]
            assert body["model"] == "llava:7b" and body["options"]["seed"] == 42
            assert body["options"]["temperature"] == 0.2
