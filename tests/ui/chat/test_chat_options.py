"""Chat pane, what a request carries: model, preset, session overrides, thinking, missing models."""

from __future__ import annotations

from textual.widgets import Collapsible

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import (
    chat,
    chat_requests,
    messages,
    notices,
    options_of,
    ready,
    replies,
    send,
    sessions,
    text,
    toasts,
)
from tui.simulator import Simulator
from tui.ui.chat.session_options import SessionOptionsDialog
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog


async def pick(app, pilot, key: str, filter_text: str) -> None:
    """Open a picker with `key`, type to filter it, Enter picks the first match."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
    await pilot.press(*filter_text)
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, PickDialog))


async def test_change_model_shows_in_header_and_is_used(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)
            assert chat_requests(sim)[-1]["model"] == "llama3.2"
            await pick(app, pilot, "ctrl+o", "llava")
            await wait_for(pilot, lambda: pane.session.model == "llava:7b")
            await pilot.pause()
            header = str(app.query_one("#chat-header").render())
            assert "model llava:7b" in header
            await send(app, pilot, "and you?", replies_count=2)
            assert chat_requests(sim)[-1]["model"] == "llava:7b"
            assert sessions(tmp_path / "history.sqlite3")[0]["model"] == "llava:7b"
            # the reply names the model that wrote it
            assert replies(app)[-1].model == "llava:7b"
            assert messages(tmp_path / "history.sqlite3")[-1]["model"] == "llava:7b"


async def test_change_model_before_the_first_message(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(app, pilot)
            await pick(app, pilot, "ctrl+o", "qwen")
            await pilot.pause()
            assert "qwen3:8b" in str(app.query_one("#chat-header").render())
            await send(app, pilot, "hi", replies_count=1)
            assert chat_requests(sim)[-1]["model"] == "qwen3:8b"


async def test_preset_picker_sets_the_request_options(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)
            balanced = chat_requests(sim)[-1]["options"]
            assert balanced["temperature"] == 0.7 and balanced["num_ctx"] == 4096
            await pick(app, pilot, "ctrl+t", "precise")
            await wait_for(pilot, lambda: pane.session.preset == "precise")
            await pilot.pause()
            assert "preset precise" in str(app.query_one("#chat-header").render())
            await send(app, pilot, "again", replies_count=2)
            options = chat_requests(sim)[-1]["options"]
            assert options["temperature"] == 0.2 and options["top_k"] == 20 and options["num_ctx"] == 8192
            assert options["repeat_penalty"] == 1.05
            assert sessions(tmp_path / "history.sqlite3")[0]["preset"] == "precise"
            # the picker lists every config preset
            await pilot.press("ctrl+t")
            await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
            await pilot.pause()
            listed = text(app)
            for name in ("fast", "creative", "balanced", "precise", "long_form"):
                assert name in listed
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, PickDialog))
            assert pane.session.preset == "precise"


async def test_session_overrides_reach_the_request(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog))
            await pilot.press(*"temperature=0.3 num_ctx=8192", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            await pilot.pause()
            assert "temperature=0.3 num_ctx=8192" in str(app.query_one("#chat-header").render())
            await send(app, pilot, "hello", replies_count=1)
            options = chat_requests(sim)[-1]["options"]
            assert options["temperature"] == 0.3 and options["num_ctx"] == 8192
            assert options["top_p"] == 0.9  # the rest still comes from the preset
            stored = sessions(tmp_path / "history.sqlite3")
            assert len(stored) == 1 and options_of(stored[0]) == {"temperature": 0.3, "num_ctx": 8192}
            assert stored[0]["title"] == "hello"
            # the context meter uses the session's num_ctx
            assert "/8192" in str(replies(app)[0].query_one(".stats").render())
            # the dialog shows the current overrides; what is left in it is the new set
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog))
            assert app.screen.query_one("Input").value == "temperature=0.3 num_ctx=8192"
            await pilot.press("ctrl+u", *"temperature= num_ctx=8192", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            await wait_for(pilot, lambda: pane.session.options == {"num_ctx": 8192})
            await send(app, pilot, "again", replies_count=2)
            assert chat_requests(sim)[-1]["options"]["temperature"] == 0.7
            # format is a request field, not an option
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog))
            await pilot.press("ctrl+u", *"format=json seed=7 stop=END", "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            await send(app, pilot, "as json", replies_count=3)
            body = chat_requests(sim)[-1]
            assert body["format"] == "json" and "format" not in body["options"]
            assert body["options"]["seed"] == 7 and body["options"]["stop"] == ["END"]
            assert body["options"]["num_ctx"] == 4096  # num_ctx=8192 was taken out of the field


async def test_out_of_range_override_is_refused_with_the_range(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)
            await pilot.press("f12")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog))
            await pilot.press(*"temperature=5", "enter")
            await pilot.pause()
            assert isinstance(app.screen, SessionOptionsDialog)  # still open: refused
            error = str(app.screen.query_one(".error").render())
            assert "temperature" in error and "0" in error and "2" in error, error
            assert "✕" in text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, SessionOptionsDialog))
            assert pane.session.options == {}
            assert options_of(sessions(tmp_path / "history.sqlite3")[0]) == {}
            await send(app, pilot, "again", replies_count=2)
            assert chat_requests(sim)[-1]["options"]["temperature"] == 0.7


async def test_thinking_streams_into_a_block_and_f9_cycles_think(make_app, tmp_path):
    with Simulator(token_rate=0, reply="The answer is 42.") as sim:
        app = make_app(sim.url, default_model="qwen3:8b")
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "meaning of life", replies_count=1)
            reply = replies(app)[0]
            assert chat_requests(sim)[-1]["think"] is True
            assert "Let me think" in reply.thinking and reply.content == "The answer is 42."
            box = reply.query_one(Collapsible)
            assert box.display and box.collapsed  # folded once the answer began
            await pilot.pause()
            screen = text(app)
            assert "Thinking" in screen and "The answer is 42." in screen
            stored = messages(tmp_path / "history.sqlite3")[-1]
            assert "Let me think" in stored["thinking"] and stored["content"] == "The answer is 42."
            # F9: default → on → off
            await pilot.press("f9")
            await wait_for(pilot, lambda: pane.session.think is True)
            await pilot.press("f9")
            await wait_for(pilot, lambda: pane.session.think is False)
            assert any("Thinking: off" in t for t in toasts(app))
            await pilot.pause()
            assert "think off" in str(app.query_one("#chat-header").render())
            await send(app, pilot, "and now?", replies_count=2)
            assert chat_requests(sim)[-1]["think"] is False
            second = replies(app)[1]
            assert second.thinking == "" and not second.query(Collapsible)  # no thinking, no box
            await pilot.press("f9")  # → low
            await wait_for(pilot, lambda: pane.session.think == "low")
            await send(app, pilot, "and low?", replies_count=3)
            assert chat_requests(sim)[-1]["think"] == "low"
            assert replies(app)[2].thinking


async def test_thinking_is_not_sent_to_a_model_that_cannot_think(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)  # llama3.2: no 'thinking' capability
        async with app.run_test(size=(100, 32)) as pilot:
            pane = await ready(app, pilot)
            await pilot.press("f9")
            await wait_for(pilot, lambda: pane.session is not None and pane.session.think is True)
            await send(app, pilot, "hello", replies_count=1)
            assert "think" not in chat_requests(sim)[-1]
            assert replies(app)[0].status == "complete"


async def test_model_not_installed_says_so_and_sends_no_chat(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, default_model="nope:1b")
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello?")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "nope:1b is not installed. Pull it now?" in text(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            await wait_for(pilot, lambda: any("nope:1b is not installed" in n for n in notices(app)))
            assert "not installed" in text(app)
            assert chat_requests(sim) == []
            assert not replies(app)
            stored = messages(tmp_path / "history.sqlite3")
            assert [(m["role"], m["content"]) for m in stored] == [("user", "hello?")]
            # the prompt was kept: pick an installed model and Ctrl+R sends it
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
            await pilot.press(*"llama", "enter")
            await wait_for(pilot, lambda: chat(app).session.model == "llama3.2:latest")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: len(replies(app)) == 1 and replies(app)[0].status == "complete")
            assert chat_requests(sim)[-1]["model"] == "llama3.2:latest"
            assert [m["content"] for m in chat_requests(sim)[-1]["messages"]] == ["hello?"]


async def test_model_not_installed_pulls_it_on_yes_then_ctrl_r_sends(make_app, tmp_path):
    with Simulator(token_rate=0, reply="ok", pull_rate=1e12, pull_tick=0.001) as sim:
        app = make_app(sim.url, default_model="tinyllama")
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello?")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: app.current_pane == "models")
            await wait_for(pilot, lambda: "tinyllama:latest" in sim.installed(), timeout=20)
            assert chat_requests(sim) == []
            await pilot.press("f1")
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: len(replies(app)) == 1 and replies(app)[0].status == "complete")
            assert chat_requests(sim)[-1]["model"] == "tinyllama"
