"""The help screen lists every binding (the same rows as the README), fits 80 columns, and Esc,
? and the palette open and close it."""

from __future__ import annotations

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.ui.keymap import binding_rows
from tui.ui.shell.help_screen import HelpScreen


async def test_help_lists_every_binding_and_fits_80_columns(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")  # outside a text field, ? opens the help
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        await pilot.pause()
        assert help_screen.listed() == binding_rows(app)
        table = help_screen.query_one("DataTable")
        widths = [column.get_render_width(table) for column in table.columns.values()]
        assert sum(widths) <= table.size.width, "the Action column is cut off at 80 columns"
        assert "Command palette" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_help_from_the_palette_while_typing(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")  # in the prompt: a character, not the help
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+p", *"Help: keys")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
