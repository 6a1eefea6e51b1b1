"""Chat pane, streaming: send, stats, Esc mid-stream, server errors, dropped connections, restart."""

from __future__ import annotations

import re

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
    wait_idle,
)
from tests.waiting import type_text
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList

REPLY = "Paris is the capital of **France**. " + " ".join(f"word{i}" for i in range(60))


async def test_send_streams_the_reply_with_stats(make_app, tmp_path):
    with Simulator(token_rate=0, reply=REPLY) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "capital of france?", replies_count=1)
            reply = replies(app)[0]
            assert reply.status == "complete"
            assert reply.content == REPLY
            screen = text(app)
            assert "capital of france?" in screen
            assert "word59" in screen  # the view followed the stream to its end
            stats = str(reply.query_one(".stats").render())
            assert re.search(r"\d+ tokens · [\d.]+ tok/s", stats), stats
            assert "prompt " in stats and "ctx " in stats
            # what the server got and what was stored
            body = chat_requests(sim)[-1]
            assert body["model"] == "llama3.2"
            assert body["messages"][-1] == {"role": "user", "content": "capital of france?"}
            stored = messages(tmp_path / "history.sqlite3")
            assert [(m["role"], m["content"], m["status"]) for m in stored] == [
                ("user", "capital of france?", "complete"), ("assistant", REPLY, "complete")]
            assert '"eval_count"' in stored[1]["stats"]
            assert sessions(tmp_path / "history.sqlite3")[0]["title"] == "capital of france?"


async def test_escape_mid_stream_keeps_the_partial_reply_as_stopped(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=40, reply=REPLY + " " + REPLY) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "go slowly")
            await wait_for(pilot, lambda: pane.streaming is not None and "France" in pane.streaming.content)
            await wait_for(pilot, lambda: "France" in text(app))
            # while it streams, the partial reply is already on disk (saved about once a second)
            await wait_for(pilot, lambda: messages(db)[-1]["content"].startswith("Paris is the capital"))
            assert messages(db)[-1]["status"] == "streaming" and pane.streaming is not None
            await pilot.press("escape")
            await wait_idle(app, pilot, 1)
            reply = replies(app)[0]
            assert reply.status == "stopped"
            partial = reply.content
            assert partial.startswith("Paris is the capital") and partial != REPLY + " " + REPLY
            screen = text(app)
            assert "Paris is the capital" in screen and "stopped" in screen
            stored = messages(db)[-1]
            assert stored["role"] == "assistant" and stored["status"] == "stopped"
            assert stored["content"] == partial
            # the prompt works again
            await send(app, pilot, "again", replies_count=2)


async def test_server_error_mid_stream_keeps_the_partial_reply_with_the_message(make_app, tmp_path):
    with Simulator(token_rate=0, reply=REPLY) as sim:
        sim.inject("/api/chat", "error_mid_stream", after=8, message="CUDA out of memory")
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "break please", replies_count=1)
            reply = replies(app)[0]
            assert reply.status == "error"
            assert reply.content.startswith("Paris is the") and reply.content != REPLY
            await pilot.pause()
            screen = text(app)
            assert "CUDA out of memory" in screen and "Paris is the" in screen
            stored = messages(tmp_path / "history.sqlite3")[-1]
            assert stored["status"] == "error" and "CUDA out of memory" in stored["error"]
            assert stored["content"] == reply.content


async def test_dropped_connection_keeps_the_partial_reply_as_error(make_app, tmp_path):
    with Simulator(token_rate=0, reply=REPLY) as sim:
        sim.inject("/api/chat", "drop", after=8)
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "drop please", replies_count=1)
            reply = replies(app)[0]
            assert reply.status == "error"
            assert reply.content.startswith("Paris is the") and reply.content != REPLY
            await pilot.pause()
            assert "error" in text(app) and "Paris is the" in text(app)
            stored = messages(tmp_path / "history.sqlite3")[-1]
            assert stored["status"] == "error" and stored["error"]
            assert stored["content"] == reply.content


async def test_restart_shows_the_same_history(make_app, tmp_path):
    with Simulator(token_rate=0, reply=lambda model, msgs: f"echo: {msgs[-1]['content']}") as sim:
        first = make_app(sim.url)
        async with first.run_test(size=(100, 32)) as pilot:
            await ready(first, pilot)
            await send(first, pilot, "first question", replies_count=1)
            await send(first, pilot, "second question", replies_count=2)
        second = make_app(sim.url)
        async with second.run_test(size=(100, 32)) as pilot:
            pane = await ready(second, pilot)
            listing = second.query_one(SessionList)
            await wait_for(pilot, lambda: listing.option_count == 1)
            assert "first question" in text(second)
            await pilot.press("ctrl+l")
            assert listing.has_focus
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(replies(second)) == 2)
            await pilot.pause()
            assert [t.text for t in user_turns(second)] == ["first question", "second question"]
            assert [r.content for r in replies(second)] == ["echo: first question", "echo: second question"]
            screen = text(second)
            assert "echo: second question" in screen
            # and the conversation goes on where it was
            await send(second, pilot, "third", replies_count=3)
            assert [m["content"] for m in chat_requests(sim)[-1]["messages"]] == [
                "first question", "echo: first question", "second question", "echo: second question", "third"]
            assert pane.session.id == sessions(tmp_path / "history.sqlite3")[0]["id"]


LONG = "\n\n".join(f"Paragraph {i}: " + " ".join(f"w{i}.{j}" for j in range(12)) for i in range(40))


async def test_the_view_follows_the_stream_unless_scrolled_up(make_app, tmp_path):
    with Simulator(token_rate=150, reply=LONG) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            conversation = app.query_one("#conversation")
            await send(app, pilot, "write a lot")
            await wait_for(pilot, lambda: pane.streaming is not None and "Paragraph 14" in text(app))
            await wait_for(pilot, lambda: pane.streaming is not None and conversation.scroll_y > 0
                           and conversation.scroll_y >= conversation.max_scroll_y - 1)  # following
            await pilot.press("shift+tab")  # from the prompt to the conversation
            assert app.focused is conversation
            await pilot.press("pageup")
            held = conversation.scroll_y
            await wait_for(pilot, lambda: "Paragraph 24" in pane.streaming.content)
            await pilot.pause()
            assert conversation.scroll_y == held and conversation.max_scroll_y > held + 5
            await pilot.press("ctrl+b")
            await wait_for(pilot, lambda: conversation.scroll_y >= conversation.max_scroll_y - 1)
            await wait_idle(app, pilot, 1)
            await pilot.pause()
            assert "w39.11" in text(app)  # followed to the very end again


async def test_leaving_the_app_mid_stream_keeps_the_partial_reply(make_app, tmp_path):
    with Simulator(token_rate=40, reply=REPLY) as sim:
        first = make_app(sim.url)
        async with first.run_test(size=(100, 32)) as pilot:
            pane = await ready(first, pilot)
            await send(first, pilot, "go slowly")
            await wait_for(pilot, lambda: pane.streaming is not None and "France" in pane.streaming.content)
            await pilot.press("ctrl+q")
        stored = messages(tmp_path / "history.sqlite3")[-1]
        assert stored["status"] == "stopped" and stored["content"].startswith("Paris is the capital")
        second = make_app(sim.url)
        async with second.run_test(size=(100, 32)) as pilot:
            await ready(second, pilot)
            await wait_for(pilot, lambda: second.query_one(SessionList).option_count == 1)
            await pilot.press("ctrl+l", "enter")
            await wait_for(pilot, lambda: len(replies(second)) == 1)
            await pilot.pause()
            assert replies(second)[0].status == "stopped"
            assert "stopped" in text(second) and "Paris is the capital" in text(second)


async def test_context_meter_warns_when_the_context_fills(make_app, tmp_path):
    with Simulator(token_rate=0, reply=" ".join(["word"] * 470)) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await pilot.press("f12", *"num_ctx=512", "enter")
            await send(app, pilot, "fill it", replies_count=1)
            stats = str(replies(app)[0].query_one(".stats").render())
            assert re.search(r"ctx 4\d\d/512 ⚠ context nearly full", stats), stats


async def test_a_second_prompt_while_the_first_is_starting_is_refused(make_app, tmp_path):
    with Simulator(token_rate=0, reply=lambda model, msgs: f"echo: {msgs[-1]['content']}") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            sim.inject("/api/tags", "slow_first_byte", delay=1.0, times=None)  # a busy server
            await send(app, pilot, "one")
            await type_text(pilot, "two")
            await pilot.press("enter")
            assert any("still streaming" in t for t in toasts(app))
            assert app.query_one(PromptArea).text == "two"  # kept, to send when the reply is done
            sim.clear_faults()
            await wait_idle(app, pilot, 1)
            assert replies(app)[0].content == "echo: one" and replies(app)[0].status == "complete"
            assert [(m["role"], m["content"]) for m in messages(tmp_path / "history.sqlite3")] == [
                ("user", "one"), ("assistant", "echo: one")]
