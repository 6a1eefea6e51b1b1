"""Before a chat request loads a model bigger than free VRAM + RAM, the user is warned first."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import chat_requests, ready, replies, text
from tests.waiting import type_text
from tui.service.monitor.gpu import FakeGpuBackend
from tui.simulator import Simulator
from tui.ui.widgets.dialogs import ConfirmDialog

HUGE = 10**15  # a petabyte of weights: more than any machine's VRAM + RAM


async def _ask(app, pilot, prompt: str) -> None:
    await type_text(pilot, prompt)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))


async def test_a_model_that_wont_fit_asks_first_and_no_keeps_the_message(make_app):
    with Simulator(token_rate=0, reply="fine") as sim:
        sim.add_installed("giant:1t", size=HUGE)
        app = make_app(sim.url, default_model="giant:1t", gpu_backend=FakeGpuBackend(1))
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: app.sampler.last is not None and app.sampler.last.host is not None)
            await _ask(app, pilot, "hello")
            assert "giant:1t needs" in text(app) and "Send anyway?" in text(app)
            await pilot.press("escape")  # no
            await wait_for(pilot, lambda: "probably won't fit" in text(app))
            assert not chat_requests(sim)  # nothing was sent, so nothing was loaded
            await pilot.press("ctrl+r")  # the saved message, sent anyway this time
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")
            await wait_for(pilot, lambda: replies(app) and replies(app)[-1].status == "complete")
            assert chat_requests(sim)[-1]["model"] == "giant:1t"


async def test_a_model_that_fits_is_sent_without_a_question(make_app):
    with Simulator(token_rate=0, reply="fine") as sim:
        app = make_app(sim.url, gpu_backend=FakeGpuBackend(1))
        async with app.run_test(size=(100, 32)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: app.sampler.last is not None and app.sampler.last.host is not None)
            await type_text(pilot, "hello")
            await pilot.press("enter")
            await wait_for(pilot, lambda: replies(app) and replies(app)[-1].status == "complete")
            assert not isinstance(app.screen, ConfirmDialog)
