"""Settings pane, raw view: the exact file text, errors with line numbers, saving applies."""

from __future__ import annotations

import pytest
from textual.widgets import TextArea

from tests.ui.conftest import wait_for
from tests.ui.settings.test_settings_support import (
    go_to,
    open_settings,
    pane,
    raw,
    row,
    text,
    toasts,
)
from tui.service.config import backup_path
from tui.ui.settings.form import SettingsNav
from tui.ui.widgets.dialogs import ConfirmDialog


def line_of(content: str, needle: str) -> int:
    """0-based index of the first line that is exactly `needle`."""
    return content.splitlines().index(needle)


async def open_raw(app, pilot) -> TextArea:
    await open_settings(app, pilot)
    await pilot.press("f8")
    editor = raw(app).editor
    await wait_for(pilot, lambda: app.focused is editor)
    return editor


async def replace_line(pilot, editor: TextArea, index: int, new: str) -> None:
    """Put the cursor at the start of line `index`, select to its end and type `new` over it."""
    editor.move_cursor((index, 0))  # where a click would put it
    await pilot.press("shift+end", *new)


async def test_raw_view_shows_the_files_exact_text(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_raw(app, pilot)
        assert editor.text == path.read_text()
        assert editor.language == "toml"
        await wait_for(pilot, lambda: "# ollama-tui configuration." in text(app) and "raw TOML" in text(app))


@pytest.mark.parametrize(("old", "new", "message"), [
    ("", "this is not toml", "line {n}"),  # a blank line turned into a syntax error
    ("temperature = 0.7", "temperature = 7", "line {n}: presets.fast.temperature: 7 is out of range 0–2"),
])
async def test_invalid_raw_text_is_refused_with_its_line(sim, make_app, tmp_path, old, new, message):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_bytes()
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_raw(app, pilot)
        index = line_of(editor.text, old) if old else line_of(editor.text, "version = 1") + 1
        await replace_line(pilot, editor, index, new)
        assert editor.text.splitlines()[index] == new
        editor.move_cursor((0, 0))
        await pilot.press("f5")
        shown = message.format(n=index + 1)
        await wait_for(pilot, lambda: "Not saved" in text(app) and shown in text(app))
        assert path.read_bytes() == before and not backup_path(path).exists()
        assert editor.cursor_location[0] == index  # the cursor went to the error
        assert any("Not saved" in t for t in toasts(app))
        assert app.config.preset("fast").temperature == 0.7


async def test_valid_raw_edit_saves_exactly_and_applies(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_raw(app, pilot)
        await replace_line(pilot, editor, line_of(editor.text, 'theme = "ollama-dark"'), 'theme = "nord"  # mine')
        await replace_line(pilot, editor, line_of(editor.text, "temperature = 0.2"), "temperature = 0.25")
        await wait_for(pilot, lambda: "unsaved" in text(app))
        await pilot.press("f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        expected = before.replace('theme = "ollama-dark"', 'theme = "nord"  # mine').replace(
            "temperature = 0.2\n", "temperature = 0.25\n")
        assert path.read_text() == expected == editor.text
        await wait_for(pilot, lambda: app.theme == "nord")
        assert app.config.preset("precise").temperature == 0.25
        await wait_for(pilot, lambda: "unsaved" not in text(app))
        # the form shows what the raw view saved
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))
        assert pane(app).view == "form"


async def test_form_edits_show_in_the_raw_view_and_save_from_there(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("enter", *"1.25", "f8")
        editor = raw(app).editor
        await wait_for(pilot, lambda: app.focused is editor)
        assert "temperature = 1.25" in editor.text and "temperature = 1.25" not in path.read_text()
        await pilot.press("f5")
        await wait_for(pilot, lambda: "temperature = 1.25" in path.read_text())
        assert app.config.preset("balanced").temperature == 1.25


async def test_leaving_raw_with_unsaved_edits_asks(sim, make_app, tmp_path):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_raw(app, pilot)
        await replace_line(pilot, editor, line_of(editor.text, "temperature = 0.2"), "temperature = 0.9")
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.focused is editor)
        assert pane(app).view == "raw" and "temperature = 0.9" in editor.text
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))
        assert app.config_store.config.preset("precise").temperature == 0.2  # dropped


async def test_a_broken_file_opens_in_the_raw_view_and_is_left_alone(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    broken = "version = 1\n\n[monitor]\ninterval = = 2.5\n"
    path.write_text(broken)
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        editor = raw(app).editor
        await wait_for(pilot, lambda: app.focused is editor)
        assert editor.text == broken
        await wait_for(pilot, lambda: "line 4" in text(app))
        await pilot.press("f8")  # the form cannot edit a file that does not parse
        await wait_for(pilot, lambda: any("syntax error" in t for t in toasts(app)))
        assert pane(app).view == "raw"
        editor.move_cursor((3, 0))
        await pilot.press("shift+end", *"interval = 2.5", "f5")
        await wait_for(pilot, lambda: path.read_text() != broken)
        assert path.read_text() == broken.replace("= = 2.5", "= 2.5")
        assert app.config.monitor.interval == 2.5
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))
        await go_to(app, pilot, "section:monitor")
        assert row(app, "monitor", "interval").input.value == "2.5"
