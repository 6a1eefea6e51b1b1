"""Scenarios 1, 2, 3 and 5: the server down at start, killed mid-reply, answering errors, slow."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import fast_reconnect, free_port
from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import (
    chat_requests,
    messages,
    ready,
    replies,
    send,
    text,
    toasts,
    wait_idle,
)
from tests.ui.models.test_models_pane_support import names, open_models, row_for, select
from tests.waiting import type_text
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.shell.status_line import StatusLine
from tui.ui.widgets.dialogs import ConfirmDialog

LONG = " ".join(f"word{i}" for i in range(3000))


def status_line(app) -> str:
    return str(app.query_one(StatusLine).render())


async def test_1_server_down_at_start_then_up_connects_by_itself(make_app, tmp_path):
    port = free_port()
    app = make_app(f"http://127.0.0.1:{port}")
    fast_reconnect(app)
    db = tmp_path / "history.sqlite3"
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(app, pilot)
        await wait_for(pilot, lambda: "unreachable" in status_line(app))
        # Asking anyway: the question is kept, the reply says why it failed, in plain words.
        await send(app, pilot, "are you there?", replies_count=1)
        assert replies(app)[0].status == "error"
        await wait_for(pilot, lambda: f"Ollama not reachable at http://127.0.0.1:{port}" in text(app))
        assert [(m["role"], m["status"]) for m in messages(db)] == [("user", "complete"), ("assistant", "error")]
        with Simulator(port=port, token_rate=0, reply="yes, here") as sim:
            await wait_for(pilot, lambda: "connected" in status_line(app))  # no key pressed
            await wait_for(pilot, lambda: any("Server is back" in t or "Connected to" in t for t in toasts(app)))
            await pilot.press("ctrl+r")  # the saved question is answered now
            await wait_for(pilot, lambda: [r.content for r in replies(app)] == ["yes, here"])
            await wait_idle(app, pilot, 1)
            assert chat_requests(sim)[-1]["messages"][-1] == {"role": "user", "content": "are you there?"}
        active = [m for m in messages(db) if m["branch"] == 0]
        assert [(m["role"], m["content"], m["status"]) for m in active] == [
            ("user", "are you there?", "complete"), ("assistant", "yes, here", "complete")]


async def test_2_server_killed_mid_reply_keeps_the_partial_and_the_next_send_works(make_app, tmp_path):
    db = tmp_path / "history.sqlite3"
    sim = Simulator(token_rate=200, reply=LONG).start()
    port = sim.port
    app = make_app(sim.url)
    fast_reconnect(app)
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "count for me")
            await wait_for(pilot, lambda: pane.streaming is not None and "word40" in pane.streaming.content)
            sim.stop()  # the server dies: every connection is cut
            await wait_idle(app, pilot, 1)
            reply = replies(app)[0]
            assert reply.status == "error"
            assert reply.content.startswith("word0 word1") and "word2999" not in reply.content
            await wait_for(pilot, lambda: "✕ error" in text(app) and "word1" in text(app))
            stored = messages(db)[-1]
            assert (stored["status"], stored["content"]) == ("error", reply.content)
            await wait_for(pilot, lambda: "unreachable" in status_line(app))
            with Simulator(port=port, token_rate=0, reply="back again") as again:
                await wait_for(pilot, lambda: "connected" in status_line(app))
                await send(app, pilot, "still there?", replies_count=2)
                assert replies(app)[1].status == "complete" and replies(app)[1].content == "back again"
                sent = [m["content"] for m in chat_requests(again)[-1]["messages"]]
                assert sent[:2] == ["count for me", reply.content]  # the partial reply is context
            assert [m["status"] for m in messages(db)] == ["complete", "error", "complete", "complete"]
    finally:
        sim.stop()


@pytest.mark.parametrize("status, message, shown", [
    (500, "llama runner process has terminated", "llama runner process has terminated"),
    (400, "invalid option provided: num_gpu_layers", "invalid option provided"),
    (404, "model 'llama3.2' not found", "model 'llama3.2' not found"),
])
async def test_3_error_status_on_chat_is_shown_on_the_reply(make_app, tmp_path, status, message, shown):
    with Simulator(token_rate=0, reply="fine now") as sim:
        sim.inject("/api/chat", "status", status=status, message=message)
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hi", replies_count=1)
            assert replies(app)[0].status == "error"
            await wait_for(pilot, lambda: shown in text(app))
            assert messages(tmp_path / "history.sqlite3")[-1]["error"] == message
            await send(app, pilot, "again", replies_count=2)  # nothing else broke
            assert replies(app)[1].content == "fine now"


STATUSES = [(500, "internal trouble"), (400, "bad thing asked"), (404, "no such thing here")]


async def test_3_error_status_on_every_models_pane_call(make_app):
    """tags, show, ps, pull and delete each answer 500, 400 and 404 in turn: the message is shown
    where that call's result would be, and the pane works again on the next try."""
    with Simulator(token_rate=0, pull_rate=1e12, pull_tick=0.001) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(140, 40)) as pilot:
            pane = await open_models(app, pilot)
            for status, message in STATUSES:
                # the list (tags): marked stale, the last good list stays, refreshed later
                sim.inject("/api/tags", "status", status=status, message=message)
                pane.refresh_models()
                await wait_for(pilot, lambda: pane.list_error == message)
                await wait_for(pilot, lambda: "list not refreshed" in text(app) and message in text(app))
                assert len(names(pane)) == 4
                pane.refresh_models()
                await wait_for(pilot, lambda: pane.list_error is None and "list not refreshed" not in text(app))
                # the details (show): once the selected model's own fetch is over (a slow runner
                # may still be fetching it, and that request would take the injected fault)
                await wait_for(pilot, lambda: any(x is not None for x in pane._selected_details()[1:]))
                sim.inject("/api/show", "status", status=status, message=message)
                pane._shows.clear()
                pane._show_errors.clear()
                await select(pilot, pane, names(pane)[status % 3])
                await wait_for(pilot, lambda: f"Details unavailable: {message}" in text(app))
                # the loaded models (ps)
                sim.inject("/api/ps", "status", status=status, message=message)
                pane.refresh_running()
                await wait_for(pilot, lambda: f"✕ {message}" in text(app))
                pane.refresh_running()
                await wait_for(pilot, lambda: f"✕ {message}" not in text(app))
                # a pull: its row says why
                sim.inject("/api/pull", "status", status=status, message=message)
                pane.start_pull("qwen3:8b")
                await wait_for(pilot, lambda: row_for(pane, "qwen3:8b") is not None
                               and row_for(pane, "qwen3:8b").job.state == "error")
                await wait_for(pilot, lambda: message in text(app))
                # a delete: a toast says why, the model is still listed
                sim.inject("/api/delete", "status", status=status, message=message)
                await select(pilot, pane, "llama3.2:latest")
                await pilot.press("d")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
                await pilot.press("y")
                await wait_for(pilot, lambda: any(message in t for t in toasts(app)))
                app.clear_notifications()
                assert "llama3.2:latest" in sim.installed() and "llama3.2:latest" in names(pane)
            # after all that, a pull succeeds and the model shows up
            pane.start_pull("qwen3:8b")
            await wait_for(pilot, lambda: "qwen3:8b" in names(pane), timeout=20)
            assert sim.errors == []


async def test_5_first_byte_never_comes_the_ui_stays_responsive_and_esc_frees_the_connection(make_app, tmp_path):
    with Simulator(token_rate=0, reply="quick answer") as sim:
        sim.inject("/api/chat", "slow_first_byte", delay=60)
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            started = time.monotonic()
            await send(app, pilot, "hello?")
            await wait_for(pilot, lambda: pane.streaming is not None)
            await wait_for(pilot, lambda: any(p == "/api/chat" for _m, p, _b in sim.requests))
            # still usable while waiting: switch panes, type a draft
            await pilot.press("f2")
            await wait_for(pilot, lambda: app.current_pane == "models")
            await pilot.press("f1")
            await wait_for(pilot, lambda: app.current_pane == "chat")
            await type_text(pilot, "draft")
            assert app.query_one(PromptArea).text == "draft"
            await pilot.press("escape")
            await wait_idle(app, pilot, 1)
            assert replies(app)[0].status == "stopped"
            await wait_for(pilot, lambda: "stopped" in text(app))
            await wait_for(pilot, lambda: sim.hangups == ["/api/chat"])  # the server saw the hang-up
            assert app.client.active_streams == 0
            assert time.monotonic() - started < 15  # nowhere near the 60 s delay
            assert app.query_one(PromptArea).text == "draft"  # Esc left the draft alone
            app.query_one(PromptArea).text = ""
            await send(app, pilot, "and now?", replies_count=2)
            assert replies(app)[1].content == "quick answer"
            stored = messages(tmp_path / "history.sqlite3")
            assert [(m["role"], m["status"]) for m in stored] == [
                ("user", "complete"), ("assistant", "stopped"), ("user", "complete"), ("assistant", "complete")]


async def test_with_no_server_the_banner_offers_the_demo_and_D_starts_it(make_app):
    """A first run with nothing on the port: the banner says D starts the built-in demo; D does,
    the status line says DEMO and a prompt gets an answer from it."""
    from tests.faults.conftest import fast_reconnect, free_port
    from tui.ui.chat.prompt import PromptArea

    app = make_app(f"http://127.0.0.1:{free_port()}")
    async with app.run_test(size=(120, 30)) as pilot:
        fast_reconnect(app)
        await wait_for(pilot, lambda: "h to change host, D for the" in text(app))
        app.query_one(PromptArea).blur()  # keys outside a text field
        await pilot.press("D")
        await wait_for(pilot, lambda: "DEMO" in text(app) and "connected" in text(app), timeout=15)
        assert app._demo_simulator is not None and app.client.base_url == app._demo_simulator.url
        await ready(app, pilot)
        await send(app, pilot, "hi", replies_count=1)
        assert replies(app)[0].status == "complete"
        await pilot.press("D")  # once in the demo, D does nothing more
        assert app._demo_simulator.url == app.client.base_url
