"""The footer (KeyBar): the keys that apply where the focus is, one line, clickable."""

from __future__ import annotations

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.ui.shell.key_bar import KeyBar


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


async def test_footer_follows_the_focus_and_the_pane(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "Send" in footer(app))
        line = footer(app)
        assert "⏎ Send" in line and "^n New session" in line and line.rstrip().endswith("^p palette")
        await pilot.press("ctrl+l")  # to the session list: its keys appear
        await wait_for(pilot, lambda: "Rename session" in footer(app))
        assert "Send" not in footer(app)
        await pilot.press("f2")
        await wait_for(pilot, lambda: "Pull" in footer(app))
        assert "Rename session" not in footer(app)


async def test_footer_truncates_at_80_columns_and_keeps_the_palette_key(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Send" in footer(app))
        line = footer(app)
        assert len(line) <= 80
        assert "…▏^p palette" in line, line  # cut with an ellipsis, the palette key still there
        # the prompt's own keys come before the app's (panes, quit, strip) in the little room
        assert line.startswith(" ⏎ Send  ^n New session") and "^o Model" in line and "f1 Chat" not in line


async def test_clicking_a_key_presses_it(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: "Sessions ↔ prompt" in footer(app))
        column = footer(app).index("^l")
        await pilot.click(KeyBar, offset=(column + 5, 0))  # on the description: the same key
        await wait_for(pilot, lambda: "Rename session" in footer(app))  # Ctrl+L: to the session list
        column = footer(app).index("^l")
        await pilot.click(KeyBar, offset=(column, 0))
        await wait_for(pilot, lambda: "⏎ Send" in footer(app))  # and back to the prompt
