"""Chat pane, what goes in and comes out: images, untrusted model output, empty prompts, long sessions."""

from __future__ import annotations

import base64
import struct
import zlib

from textual.widgets import Collapsible

from tests.ui.chat.test_chat_support import (
    chat_requests,
    messages,
    notices,
    ready,
    replies,
    rows,
    send,
    text,
    user_turns,
)
from tests.ui.conftest import wait_for
from tests.waiting import new_toast, toasts_up, type_text
from tui.service.history import HistoryStore
from tui.simulator import Simulator
from tui.ui.chat.messages import Notice
from tui.ui.chat.pages import PAGE
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog, TextDialog


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


async def attach(app, pilot, path) -> None:
    await pilot.press("f8")
    await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
    await pilot.press(*str(path), "enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))


async def test_attach_an_image_for_a_vision_model(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # paths typed relative to where the app was started
    image = tmp_path / "dot.png"
    image.write_bytes(tiny_png())
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply="A green dot.") as sim:
        app = make_app(sim.url, default_model="llava:7b")
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            # a file that is not an image is refused in the dialog
            (tmp_path / "notes.txt").write_text("x")
            await pilot.press("f8")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press(*"notes.txt", "enter")
            await pilot.pause()
            assert isinstance(app.screen, TextDialog) and "not an image type" in text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))
            # type the start of the path; → takes the completion offered
            await pilot.press("f8")
            await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
            await pilot.press(*"do")
            field = app.screen.query_one("Input")
            await wait_for(pilot, lambda: field._suggestion == "dot.png")
            await pilot.press("right", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))
            await pilot.pause()
            assert "📎 dot.png" in str(app.query_one("#chat-header").render())
            await send(app, pilot, "what is this?", replies_count=1)
            last = chat_requests(sim)[-1]["messages"][-1]
            assert last["content"] == "what is this?"
            assert last["images"] == [base64.b64encode(tiny_png()).decode()]
            assert "dot.png" in str(user_turns(app)[0].render())
            await pilot.pause()
            assert "📎 dot.png" in text(app)
            assert "📎" not in str(app.query_one("#chat-header").render())  # sent: no longer pending
            stored = rows(db, "SELECT name, mime, data FROM attachments")
            assert [(r["name"], r["mime"], bytes(r["data"])) for r in stored] == [
                ("dot.png", "image/png", tiny_png())]
            # the image is sent again with the conversation, and shown when the session is reopened
            await send(app, pilot, "and now?", replies_count=2)
            assert "images" in chat_requests(sim)[-1]["messages"][0]
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: not user_turns(app))
            await pilot.press("ctrl+l", "enter")
            await wait_for(pilot, lambda: len(user_turns(app)) == 2)
            assert "dot.png" in str(user_turns(app)[0].render())


async def test_an_image_for_a_model_without_vision_is_refused(make_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dot.png").write_bytes(tiny_png())
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)  # llama3.2: no vision
        async with app.run_test(size=(80, 24)) as pilot:
            pane = await ready(app, pilot)
            await attach(app, pilot, "dot.png")
            await send(app, pilot, "what is this?")
            await wait_for(pilot, lambda: any("can't read images" in n for n in notices(app)))
            await pilot.pause()
            assert "vision" in text(app)
            assert chat_requests(sim) == []
            assert not user_turns(app) and not replies(app)
            assert messages(tmp_path / "history.sqlite3") == []
            # nothing is lost: the prompt and the attachment wait for a vision model
            assert app.query_one(PromptArea).text == "what is this?"
            assert [name for name, _m, _d in pane.attachments] == ["dot.png"]
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
            await pilot.press(*"llava", "enter")
            await wait_for(pilot, lambda: pane.session.model == "llava:7b")
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(replies(app)) == 1 and replies(app)[0].status == "complete")
            assert chat_requests(sim)[-1]["messages"][-1]["images"]


HOSTILE = "Look: [bold red]x[/] and \x1b[31mred\x1b[0m and \x1b]52;c;aGk=\x07 done [link=http://e.vil]y[/link]"


async def test_markup_and_escapes_in_model_output_are_shown_as_text(make_app, tmp_path):
    with Simulator(token_rate=0, reply=HOSTILE) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "[b]me too[/b]", replies_count=1)
            await pilot.pause()
            screen = text(app)
            assert "[bold red]x[/]" in screen
            assert "␛[31mred␛[0m" in screen
            assert "␛]52;c;aGk=␇" in screen
            assert "[link=http://e.vil]y[/link]" in screen
            assert "[b]me too[/b]" in screen  # the user's own text and the session title too
            assert "\x1b" not in screen and "\x07" not in screen
            assert app.clipboard == ""  # the OSC 52 was not acted on
            # stored as received (the raw text belongs to the user), made inert only for display
            assert messages(tmp_path / "history.sqlite3")[-1]["content"] == HOSTILE
            # F6 copies what is shown: escapes stay inert, so pasting it into a terminal is safe too
            await pilot.press("f6")
            assert app.clipboard.startswith("Look: [bold red]x[/] and ␛[31mred")
            assert "\x1b" not in app.clipboard and "\x07" not in app.clipboard


async def test_escapes_in_stored_replies_and_thinking_are_inert_when_reopened(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    store = await HistoryStore.open(db)
    try:
        session = await store.create_session(title="\x1b]0;title\x07 [b]t[/b]", model="qwen3:8b")
        await store.add_message(session.id, "user", "hi")
        await store.add_message(session.id, "assistant", "[red]answer[/red] \x1b[2J",
                                thinking="plan \x1b]52;c;aGk=\x07 [i]x[/i]", model="qwen3:8b")
    finally:
        await store.close()
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: app.query_one(SessionList).option_count == 1)
            await pilot.press("ctrl+l", "enter")
            await wait_for(pilot, lambda: len(replies(app)) == 1)
            replies(app)[0].query_one(Collapsible).collapsed = False
            await pilot.pause()
            screen = text(app)
            assert "␛]0;title␇ [b]t[/b]" in screen  # session list and header
            assert "[red]answer[/red] ␛[2J" in screen
            assert "plan ␛]52;c;aGk=␇ [i]x[/i]" in screen
            assert "\x1b" not in screen and app.clipboard == ""


async def test_an_empty_prompt_is_refused(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(app, pilot)
            up = toasts_up(app)
            await pilot.press("enter")
            await new_toast(pilot, app, up, "prompt is empty")
            await type_text(pilot, "   \n  ")
            up = toasts_up(app)
            await pilot.press("enter")
            await new_toast(pilot, app, up, "prompt is empty")  # blanks are empty too
            assert chat_requests(sim) == [] and not user_turns(app)
            assert messages(tmp_path / "history.sqlite3") == []


def turns(app) -> list:
    """The conversation's turns, oldest first."""
    return list(app.query("UserTurn, AssistantTurn"))


async def stored_talk(db, title: str, exchanges: int, answer_prefix: str) -> None:
    """A session of `exchanges` question/answer pairs written straight into the history file."""
    store = await HistoryStore.open(db)
    try:
        session = await store.create_session(title=title, model="llama3.2")
        for i in range(exchanges):
            await store.add_message(session.id, "user", f"question {i}")
            await store.add_message(session.id, "assistant", f"{answer_prefix}answer {i}", model="llama3.2")
    finally:
        await store.close()


async def test_a_long_session_opens_one_page_and_ctrl_up_loads_more(make_app, tmp_path):
    await stored_talk(tmp_path / "history.sqlite3", "Long talk", 1000, "")
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: app.query_one(SessionList).option_count == 1)  # the list is filled
            await pilot.press("ctrl+l", "enter")

            await wait_for(pilot, lambda: len(turns(app)) == PAGE)
            await pilot.pause()
            assert turns(app)[-1].content == "answer 999"
            assert turns(app)[0].text == f"question {1000 - PAGE // 2}"
            assert "answer 999" in text(app)
            assert any("Earlier messages" in n for n in notices(app))
            await pilot.press("ctrl+up")
            await wait_for(pilot, lambda: len(turns(app)) == 2 * PAGE)
            assert turns(app)[0].text == f"question {1000 - PAGE}"
            widgets = [w for w in app.query_one("#conversation").children]
            assert isinstance(widgets[0], Notice)  # the hint stays on top
            assert [w.text for w in widgets[1:5:2]] == [f"question {1000 - PAGE}", f"question {1001 - PAGE}"]
            # a new turn in the long session still goes on at the bottom
            await send(app, pilot, "one more", replies_count=2 * PAGE // 2 + 1)
            assert turns(app)[-1].content == "ok"
            assert len(chat_requests(sim)[-1]["messages"]) == 2001


async def test_a_session_of_long_replies_opens_only_the_newest_few_screens(make_app, tmp_path):
    from tui.ui.chat.pages import OPEN_CHARS

    long_answer = "word " * 1000  # 5,000 characters: a few of them fill the screen many times
    await stored_talk(tmp_path / "history.sqlite3", "Long answers", 30, long_answer)
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: app.query_one(SessionList).option_count == 1)  # the list is filled
            await pilot.press("ctrl+l", "enter")

            await wait_for(pilot, lambda: turns(app) and turns(app)[-1].content.endswith("answer 29"))
            shown = turns(app)
            assert 2 <= len(shown) < PAGE
            assert sum(len(getattr(t, "content", "") or "") for t in shown) <= OPEN_CHARS + 5_100
            assert any("Earlier messages" in n for n in notices(app))
            await pilot.press("ctrl+up")  # the next few, on demand, until the first question
            await wait_for(pilot, lambda: len(turns(app)) > len(shown))
            for _ in range(60):
                if not any("Earlier messages" in n for n in notices(app)):
                    break
                await pilot.press("ctrl+up")
                await pilot.pause()
            assert turns(app)[0].text == "question 0" and len(turns(app)) == 60


async def test_markup_in_a_server_error_and_a_title_does_not_break_the_toasts(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        sim.inject("/api/chat", "error_mid_stream", after=0, message="oops [/] \x1b]52;c;aGk=\x07 [bold]x")
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32), notifications=True) as pilot:  # toasts rendered
            await ready(app, pilot)
            await send(app, pilot, "[/] hi", replies_count=1)
            await wait_for(pilot, lambda: "Reply failed" in text(app))
            assert "oops [/] ␛]52;c;aGk=␇ [bold]x" in text(app)  # in the reply's status line and the toast
            await pilot.press("ctrl+l", "d")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "Delete the session “[/] hi”" in text(app)
            await pilot.press("y")
            await wait_for(pilot, lambda: "Deleted “[/] hi”." in text(app))
            assert app.clipboard == ""
