"""Scenario 4: a malformed NDJSON line, a truncated line, an empty body, a non-JSON body, a 10 MB reply."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import messages, ready, replies, send, text
from tests.ui.models.test_models_pane_support import names, open_models
from tui.service.chat.turns import MAX_REPLY_CHARS
from tui.simulator import Simulator

REPLY = "Paris is the capital of France. " + " ".join(f"w{i}" for i in range(40))


@pytest.mark.parametrize("kind, after, shown", [
    ("malformed_line", 6, "malformed line in the stream from Ollama: 'this is not json {'"),
    ("truncated", 6, "the stream from Ollama broke off"),
    ("empty_body", 0, "the stream from Ollama ended before the reply was done"),
    ("non_json", 0, "malformed line in the stream from Ollama: '<html>oops</html>'"),
])
async def test_4_a_broken_chat_stream_is_an_error_reply_keeping_what_came(make_app, tmp_path, kind, after, shown):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=REPLY) as sim:
        sim.inject("/api/chat", kind, after=after)
        app = make_app(sim.url)
        async with app.run_test(size=(120, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "capital?", replies_count=1)
            reply = replies(app)[0]
            assert reply.status == "error"
            await wait_for(pilot, lambda: shown in text(app))
            if after:
                assert reply.content and REPLY.startswith(reply.content) and reply.content != REPLY
                assert reply.content.split()[0] in text(app)
            else:
                assert reply.content == ""
            stored = messages(db)[-1]
            assert (stored["status"], stored["content"]) == ("error", reply.content)
            assert shown.split(":")[0] in stored["error"]
            await send(app, pilot, "again", replies_count=2)
            assert replies(app)[1].status == "complete" and replies(app)[1].content == REPLY
            assert sim.errors == []


async def test_4_a_10_mb_reply_is_cut_at_a_million_characters_and_kept(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=REPLY) as sim:
        sim.inject("/api/chat", "huge", after=3, size=10 * 1024 * 1024)  # one 10 MB line
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "talk a lot", replies_count=1)
            reply = replies(app)[0]
            assert reply.status == "error" and len(reply.content) == MAX_REPLY_CHARS
            assert reply.content.startswith("Paris is the capital")
            await wait_for(pilot, lambda: "the reply passed 1,000,000 characters" in text(app))
            stored = messages(db)[-1]
            assert stored["status"] == "error" and len(stored["content"]) == MAX_REPLY_CHARS
            await send(app, pilot, "short please", replies_count=2)
            assert replies(app)[1].content == REPLY


async def test_4_a_10_mb_model_list_is_read(make_app):
    with Simulator(token_rate=0) as sim:
        sim.inject("/api/tags", "huge", size=10 * 1024 * 1024, times=None)
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await open_models(app, pilot)
            assert len(names(pane)) == 4 and pane.list_error is None
            await wait_for(pilot, lambda: "llama3.2:latest" in text(app))


async def test_4_a_chat_line_past_16_mib_is_an_error_keeping_the_reply_so_far(make_app, tmp_path):
    """One NDJSON line of 17 MiB (the client reads at most 16 MiB of a line, then stops): the
    user reads why, and the words that came before it stay, on screen and in the history."""
    db = tmp_path / "history.sqlite3"
    with Simulator(token_rate=0, reply=REPLY) as sim:
        sim.inject("/api/chat", "huge", after=3, size=17 * 1024 * 1024)
        app = make_app(sim.url)
        async with app.run_test(size=(120, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "talk a lot", replies_count=1)
            reply = replies(app)[0]
            await wait_for(pilot, lambda: reply.status == "error")
            await wait_for(pilot, lambda: "the server sent a line longer than 16 MiB; stopped reading" in text(app))
            assert reply.content and REPLY.startswith(reply.content) and reply.content != REPLY  # 3 lines' words
            assert reply.content.split()[0] in text(app)
            stored = messages(db)[-1]
            assert (stored["status"], stored["content"]) == ("error", reply.content)
            assert "longer than 16 MiB" in stored["error"]
            await send(app, pilot, "again", replies_count=2)  # the next one is whole
            assert replies(app)[1].status == "complete" and replies(app)[1].content == REPLY
