"""Chat pane, working on turns: regenerate, edit and resend, prompt recall, copy, search, fallback."""

from __future__ import annotations

import itertools

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import (
    chat_requests,
    messages,
    ready,
    replies,
    send,
    text,
    toasts,
    user_turns,
)
from tests.waiting import type_text
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.search import SearchScreen
from tui.ui.widgets.dialogs import ConfirmDialog


def numbered():
    """A reply function: 'reply #n to <prompt>'."""
    counter = itertools.count(1)
    return lambda model, msgs: f"reply #{next(counter)} to {msgs[-1]['content']}"


def active(db) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages(db) if m["branch"] == 0]


def superseded(db) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages(db) if m["branch"] != 0]


async def test_regenerate_replaces_the_last_reply_and_keeps_the_old_one(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=numbered()) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "a joke", replies_count=1)
            assert "reply #1 to a joke" in text(app)
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: [r.content for r in replies(app)] == ["reply #2 to a joke"]
                           and replies(app)[0].status == "complete")
            await pilot.pause()
            screen = text(app)
            assert "reply #2 to a joke" in screen and "reply #1" not in screen
            assert [m["content"] for m in chat_requests(sim)[-1]["messages"]] == ["a joke"]
            assert active(db) == [("user", "a joke"), ("assistant", "reply #2 to a joke")]
            assert superseded(db) == [("assistant", "reply #1 to a joke")]


async def test_edit_last_message_and_resend(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=numbered()) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "first", replies_count=1)
            await send(app, pilot, "second", replies_count=2)
            await pilot.press("ctrl+g")
            prompt = app.query_one(PromptArea)
            assert prompt.text == "second" and pane.turns.editing is not None
            await pilot.pause()
            assert "editing" in str(app.query_one("#chat-header").render())
            await pilot.press("ctrl+u")
            await type_text(pilot, "second, changed")
            await pilot.press("enter")
            await wait_for(pilot, lambda: [t.text for t in user_turns(app)] == ["first", "second, changed"]
                           and len(replies(app)) == 2 and replies(app)[-1].status == "complete")
            await pilot.pause()
            screen = text(app)
            assert "reply #3 to second, changed" in screen and "reply #2" not in screen
            assert [m["content"] for m in chat_requests(sim)[-1]["messages"]] == [
                "first", "reply #1 to first", "second, changed"]
            assert active(db) == [("user", "first"), ("assistant", "reply #1 to first"),
                                  ("user", "second, changed"), ("assistant", "reply #3 to second, changed")]
            assert superseded(db) == [("user", "second"), ("assistant", "reply #2 to second")]
            assert "editing" not in str(app.query_one("#chat-header").render())


async def test_edit_an_earlier_message_and_escape_cancels(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=numbered()) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "first", replies_count=1)
            await send(app, pilot, "second", replies_count=2)
            prompt = app.query_one(PromptArea)
            await pilot.press("ctrl+g")
            await pilot.press("escape")
            assert pane.turns.editing is None and prompt.text == ""
            assert len(user_turns(app)) == 2
            await pilot.press("ctrl+g", "ctrl+g")  # twice: the message before the last
            assert prompt.text == "first"
            await pilot.press("ctrl+u", *"one", "enter")
            await wait_for(pilot, lambda: [t.text for t in user_turns(app)] == ["one"]
                           and len(replies(app)) == 1 and replies(app)[0].status == "complete")
            assert active(db) == [("user", "one"), ("assistant", "reply #3 to one")]
            assert len(superseded(db)) == 4


async def test_up_and_down_recall_earlier_prompts(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "one", replies_count=1)
            await send(app, pilot, "two\nlines", replies_count=2)
            prompt = app.query_one(PromptArea)
            await type_text(pilot, "draft")
            await pilot.press("up")
            assert prompt.text == "two\nlines"
            await pilot.press("up")  # the cursor is on the last line: up moves within the text first
            await pilot.press("up")
            assert prompt.text == "one"
            await pilot.press("down")
            assert prompt.text == "two\nlines"
            await pilot.press("down")
            assert prompt.text == "draft"
            # recall survives reopening the session
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: not replies(app))
            await pilot.press("up")
            assert prompt.text in ("draft", "")
            await pilot.press("ctrl+u", "ctrl+l", "enter")
            await wait_for(pilot, lambda: len(replies(app)) == 2)
            prompt.focus()
            await pilot.press("up")
            assert prompt.text == "two\nlines"


CODE_REPLY = "Two blocks:\n\n```sh\nls -la\n```\n\nand\n\n```python\nprint('hi')\nprint('bye')\n```\n\nDone."


async def test_copy_last_code_block_and_last_reply(make_app, tmp_path):
    with Simulator(token_rate=0, reply=CODE_REPLY) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await pilot.press("f5")
            await wait_for(pilot, lambda: any("No code block" in t for t in toasts(app)))
            assert app.clipboard == ""
            await send(app, pilot, "code please", replies_count=1)
            await pilot.press("f5")
            assert app.clipboard == "print('hi')\nprint('bye')\n"
            await wait_for(pilot, lambda: any("Copied the last code block (2 lines)" in t for t in toasts(app)))
            await pilot.press("f6")
            assert app.clipboard == CODE_REPLY
            await wait_for(pilot, lambda: any("Copied the last reply" in t for t in toasts(app)))


async def test_search_opens_the_session_at_the_hit(make_app, tmp_path):
    with Simulator(token_rate=0, reply=lambda model, msgs: f"noted: {msgs[-1]['content']}") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "zebras have stripes", replies_count=1)
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: pane.session is None)
            await send(app, pilot, "lions roar", replies_count=1)
            await pilot.press("ctrl+f")
            await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*"zebra")
            await wait_for(pilot, lambda: "2 matches" in text(app))
            assert "zebras have stripes" in text(app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, SearchScreen))
            await wait_for(pilot, lambda: pane.session.title == "zebras have stripes"
                           and [t.text for t in user_turns(app)] == ["zebras have stripes"])
            await pilot.pause()
            assert "noted: zebras have stripes" in text(app)
            # Esc closes the search without opening anything
            await pilot.press("ctrl+f")
            await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*"lions", "escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, SearchScreen))
            assert pane.session.title == "zebras have stripes"


async def test_fallback_model_is_offered_when_the_model_fails(make_app, tmp_path):
    (tmp_path / "config.toml").write_text('[chat]\nfallback_model = "llava:7b"\n')
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=numbered()) as sim:
        sim.inject("/api/chat", "status", status=500, message="llama runner process has terminated")
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "hello")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "fallback model llava:7b" in text(app)
            assert "llama runner process has terminated" in text(app)
            await pilot.press("y")
            await wait_for(pilot, lambda: pane.session.model == "llava:7b" and len(replies(app)) == 1
                           and replies(app)[0].status == "complete")
            assert chat_requests(sim)[-1]["model"] == "llava:7b"
            assert [m["content"] for m in chat_requests(sim)[-1]["messages"]] == ["hello"]
            assert active(db) == [("user", "hello"), ("assistant", "reply #1 to hello")]
            assert [m["status"] for m in messages(db) if m["branch"] != 0] == ["error"]


async def test_search_hit_deep_in_a_long_session_then_send(make_app, tmp_path):
    from tui.service.history import HistoryStore
    from tui.ui.chat.pages import PAGE

    db = tmp_path / "history.sqlite3"
    store = await HistoryStore.open(db)
    try:
        session = await store.create_session(title="Long talk", model="llama3.2")
        for i in range(300):
            await store.add_message(session.id, "user", f"question {i}" + (" about aardvarks" if i == 20 else ""))
            await store.add_message(session.id, "assistant", f"answer {i}", model="llama3.2")
    finally:
        await store.close()
    with Simulator(token_rate=0, reply="fresh answer") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await pilot.press("ctrl+f")
            await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*"aardvark")
            await wait_for(pilot, lambda: "1 match" in text(app))
            await pilot.press("enter")
            await wait_for(pilot, lambda: any(t.text == "question 20 about aardvarks" for t in user_turns(app)))
            await pilot.pause()
            assert "question 20 about aardvarks" in text(app)  # scrolled to the hit
            assert len(app.query("UserTurn, AssistantTurn")) <= PAGE + 1
            # a new prompt continues the conversation at its real end, not after the window
            await send(app, pilot, "next one")
            await wait_for(pilot, lambda: any(r.content == "fresh answer" and r.status == "complete"
                                              for r in replies(app)))
            shown = [w for w in app.query("UserTurn, AssistantTurn")]
            assert [getattr(w, "text", None) or w.content for w in shown[-4:]] == [
                "question 299", "answer 299", "next one", "fresh answer"]
            assert len(chat_requests(sim)[-1]["messages"]) == 601
