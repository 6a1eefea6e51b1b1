"""Chat at the sizes people use over SSH: below 100 columns the session list hides and the
conversation gets the whole width; Ctrl+L shows the list over the conversation, and Ctrl+L
again, Esc or picking a session hides it. At 100 columns and up the list stays beside it."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, replies, send, text, user_turns
from tui.simulator import Simulator
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList


def echo(model, msgs):
    return f"echo: {msgs[-1]['content']}"


async def two_sessions(app, pilot):
    """'alpha question', then 'beta question' in a new session (open)."""
    pane = await ready(app, pilot)
    await send(app, pilot, "alpha question", replies_count=1)
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: not replies(app) and pane.session is None)
    await send(app, pilot, "beta question", replies_count=1)
    listing = app.query_one(SessionList)
    await wait_for(pilot, lambda: listing.option_count == 2)
    await pilot.pause()
    return pane, listing


def list_shown(app) -> bool:
    """The session list takes room on the screen."""
    listing = app.query_one(SessionList)
    return listing.display and listing.region.width > 0


async def test_at_80_columns_the_list_hides_until_ctrl_l(make_app, tmp_path):
    with Simulator(token_rate=0, reply=echo) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            pane, listing = await two_sessions(app, pilot)
            conversation = app.query_one("#conversation")
            # the conversation gets the whole width; the other session's title is nowhere
            assert app.query_one("#chat-main").region.width == 80 and conversation.region.x == 0
            assert not list_shown(app)
            assert "echo: beta question" in text(app) and "alpha question" not in text(app)

            await pilot.press("ctrl+l")  # shown over the conversation, which keeps its width
            await wait_for(pilot, lambda: list_shown(app))
            assert listing.has_focus and listing.highlighted == 0 and "alpha question" in text(app)
            assert listing.region.x == 0 and listing.region.width < 80
            assert app.query_one("#chat-main").region.width == 80

            await pilot.press("ctrl+l")  # again: hidden, back in the prompt
            await wait_for(pilot, lambda: not list_shown(app) and "alpha question" not in text(app))
            assert isinstance(app.focused, PromptArea)

            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda: list_shown(app))
            await pilot.press("escape")  # Esc hides it too
            await wait_for(pilot, lambda: not list_shown(app))
            assert isinstance(app.focused, PromptArea)

            await pilot.press("ctrl+l", "down", "enter")  # picking a session opens it, hides the list
            await wait_for(pilot, lambda: pane.session is not None and pane.session.title == "alpha question"
                           and [t.text for t in user_turns(app)] == ["alpha question"])
            await wait_for(pilot, lambda: "echo: alpha question" in text(app))
            assert isinstance(app.focused, PromptArea)
            assert not listing.display and "beta question" not in text(app)


async def test_at_120_columns_the_list_stays_beside_the_conversation(make_app, tmp_path):
    with Simulator(token_rate=0, reply=echo) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            _pane, listing = await two_sessions(app, pilot)
            assert list_shown(app) and "alpha question" in text(app)
            main = app.query_one("#chat-main").region
            assert main.x == listing.region.right and main.right == 120  # beside it, not under it
            await pilot.press("ctrl+l")  # to the list and back, as before
            assert listing.has_focus
            await pilot.press("escape")  # nothing to stop: the list stays, and so does the focus
            await pilot.pause()
            assert listing.has_focus and list_shown(app)
            await pilot.press("ctrl+l")
            assert isinstance(app.focused, PromptArea) and list_shown(app)

            await pilot.resize_terminal(80, 24)  # narrowed: the list goes, the conversation widens
            await wait_for(pilot, lambda: not list_shown(app) and app.query_one("#chat-main").region.width == 80)
            await pilot.resize_terminal(120, 40)
            await wait_for(pilot, lambda: list_shown(app))


async def test_esc_hides_the_list_before_it_stops_a_reply(make_app, tmp_path):
    with Simulator(token_rate=5, reply=" ".join(["word"] * 200)) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "alpha question")
            await wait_for(pilot, lambda: pane.streaming is not None and "word" in pane.streaming.content)
            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda: list_shown(app))
            await pilot.press("escape")  # the list first ...
            await wait_for(pilot, lambda: not list_shown(app))
            assert pane.streaming is not None
            await pilot.press("escape")  # ... then the reply
            await wait_for(pilot, lambda: pane.streaming is None and replies(app)[0].status == "stopped")
