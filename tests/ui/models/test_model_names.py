"""Long real-world model names where the user reads them: the Models table, the chat's model
picker (Ctrl+O) and the chat header, at 80x24, 100x30, 120x40 and 200x60.

From 100 columns up every name shows whole; at 80 a name may be shortened, but never its tag."""

from __future__ import annotations

import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready
from tests.ui.models.test_models_pane_support import open_models, select
from tests.waiting import type_text
from tui.simulator import Simulator
from tui.simulator.catalogue import LONG_NAMED
from tui.ui.models.details import ModelDetails
from tui.ui.models.running import RunningTable
from tui.ui.widgets.dialogs import PickDialog

SIZES = [(80, 24), (100, 30), (120, 40), (200, 60)]
HF = "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M"
# each name's tag with the last characters of its model part (a cut name keeps both ends)
TAILS = {name: name[name.rindex(":") - 4:] for name in LONG_NAMED}


@pytest.fixture
def long_sim():
    with Simulator(token_rate=0) as sim:
        sim.install(*LONG_NAMED)
        yield sim
        assert sim.errors == []


def row_line(text: str, tail: str) -> str:
    """The first line with `tail` in it, up to the details beside the table (if any)."""
    return next(part for line in text.splitlines() if tail in (part := line.split("▏")[0]))


@pytest.mark.parametrize("size", SIZES)
async def test_the_models_table_shows_every_name_whole_from_100_columns_and_the_tags_at_80(long_sim, make_app,
                                                                                          size):
    app = make_app(long_sim.url)
    async with app.run_test(size=size) as pilot:
        pane = await open_models(app, pilot, count=8)
        await pilot.pause()
        text = screen_text(app)
        for name, tail in TAILS.items():
            line = row_line(text, tail)  # the tag is on screen, in the model's row
            assert "GB" in line  # with its size
            if size[0] >= 100:
                assert name in line
        # 7b and 32b apart
        assert row_line(text, "coder:7b ") != row_line(text, "coder:32b-instruct-q4_K_M")
        if size[0] >= 100:  # the table has the room for every column too
            assert "Family" in text and "Modified" in text
        # the details sit beside the table only where that leaves every name whole
        assert pane.details_visible == (size[0] >= 200)
        if pane.details_visible:
            await select(pilot, pane, HF)
            head = pane.query_one(ModelDetails).query_one("#details-head")
            await wait_for(pilot, lambda: HF in str(head.render()))  # whole beside the table too
            assert any(line.split("▏")[-1].strip().startswith(HF) for line in screen_text(app).splitlines())


async def test_the_details_still_open_full_width_where_they_yield_to_the_names(long_sim, make_app):
    app = make_app(long_sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await open_models(app, pilot, count=8)
        await select(pilot, pane, HF)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "context length" in screen_text(app))
        assert app.focused is pane.query_one(ModelDetails)
        assert HF in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not pane.has_class("-details-full"))


@pytest.mark.parametrize("size", SIZES)
async def test_the_model_picker_shows_every_name_whole(long_sim, make_app, size):
    app = make_app(long_sim.url)
    async with app.run_test(size=size) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
        await wait_for(pilot, lambda: HF in screen_text(app))
        text = screen_text(app)
        for name in LONG_NAMED:
            assert name in text
        await type_text(pilot, "32b")
        await pilot.press("enter")
        pane = await ready(app, pilot)
        await wait_for(pilot, lambda: pane.session_model == "qwen2.5-coder:32b-instruct-q4_K_M")


async def test_a_name_wider_than_the_picker_wraps_whole(long_sim, make_app):
    huge = "hf.co/unsloth/DeepSeek-R1-Distill-Qwen-32B-GGUF-and-a-much-longer-name-still:Q4_K_M"
    long_sim.add_installed(huge, size=10**9)
    app = make_app(long_sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
        await wait_for(pilot, lambda: "hf.co/unsloth" in screen_text(app))
        lines = screen_text(app).splitlines()
        first = next(i for i, line in enumerate(lines) if "hf.co/unsloth" in line)
        # no part of it is cut: it goes on on the next line, its tag included
        flat = "".join(line.split("▊")[-1].split("▎")[0].strip() for line in lines[first:first + 2])
        assert huge in flat


def header_line(app) -> str:
    return row_line(screen_text(app), "model ")


@pytest.mark.parametrize("size", SIZES)
async def test_the_chat_header_shows_the_name_whole_from_100_columns_and_the_tag_at_80(long_sim, make_app, size):
    app = make_app(long_sim.url)
    async with app.run_test(size=size) as pilot:
        pane = await ready(app, pilot)
        await pane.set_model(HF)
        await wait_for(pilot, lambda: ":Q4_K_M" in header_line(app))
        if size[0] >= 100:
            assert HF in header_line(app)
            assert "preset" in header_line(app)
        else:
            assert "Llama-3.2-3B-Instruct-GGUF:Q4_K_M" in header_line(app)


async def test_the_chat_header_shortens_the_name_again_when_the_terminal_narrows(long_sim, make_app):
    name = "hf.co/a-long-namespace-for-the-repo/Llama-3.2-3B-Instruct-GGUF-imatrix:Q5_K_M"
    long_sim.add_installed(name, size=10**9)
    app = make_app(long_sim.url)
    async with app.run_test(size=(120, 30)) as pilot:
        pane = await ready(app, pilot)
        await pane.set_model(name)
        await wait_for(pilot, lambda: name in header_line(app))
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: name not in header_line(app) and ":Q5_K_M" in header_line(app))
        assert "…" in header_line(app)
        await pilot.resize_terminal(120, 30)
        await wait_for(pilot, lambda: name in header_line(app))


async def test_the_loaded_models_table_keeps_the_tags_at_80_columns(long_sim, make_app):
    long_sim.preload("qwen2.5-coder:32b-instruct-q4_K_M")
    long_sim.preload(HF)
    app = make_app(long_sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot, count=8)
        running = pane.query_one(RunningTable)
        await wait_for(pilot, lambda: len(running.models) == 2)
        await pilot.pause()
        lines = screen_text(app).splitlines()
        start = next(i for i, line in enumerate(lines) if "Loaded model" in line and "Expires in" in line)
        shown = "\n".join(lines[start + 1:start + 3])
        assert "coder:32b-instruct-q4_K_M" in shown and "GGUF:Q4_K_M" in shown
        assert "forever" in shown
