"""Shared steps for the Settings pane's Pilot tests (no tests here)."""

from __future__ import annotations

from pathlib import Path

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.ui.settings.form import FieldInput, FieldRow, SettingsForm, SettingsNav
from tui.ui.settings.pane import SettingsPane
from tui.ui.settings.raw import RawEditor


class Presses:
    """pilot.press that counts the keys a user pressed (typed values are counted apart)."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.count = 0
        self.keys: list[str] = []

    async def __call__(self, *keys: str) -> None:
        self.count += len(keys)
        self.keys += keys
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        """Type a value: its characters are not navigation and are not counted."""
        await self.pilot.press(*text)


def pane(app) -> SettingsPane:
    return app.query_one(SettingsPane)


def form(app) -> SettingsForm:
    return app.query_one(SettingsForm)


def raw(app) -> RawEditor:
    return app.query_one(RawEditor)


def row(app, *parts: str) -> FieldRow:
    for candidate in app.query(FieldRow):
        if candidate.parts == parts:
            return candidate
    raise AssertionError(f"no row {parts} on the form")


def focused_key(app) -> tuple[str, ...] | None:
    focused = app.focused
    return focused.parts if isinstance(focused, FieldInput) else None


def nav_selected(app) -> str | None:
    nav = app.query_one(SettingsNav)
    option = nav.highlighted_option
    return option.id if option else None


async def open_settings(app, pilot) -> None:
    """F4, then wait until the list has focus and the rows of the highlighted item are shown."""
    await pilot.press("f4")
    await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav) and form(app).rows_ready)
    await pilot.pause()  # and drawn


async def go_to(app, pilot, option_id: str) -> None:
    """Move the list's cursor with ↑/↓ to `option_id` (e.g. "section:ui"), then Enter."""
    nav = app.query_one(SettingsNav)
    target = nav.get_option_index(option_id)
    key = "down" if target > (nav.highlighted or 0) else "up"
    while nav.highlighted != target:
        await pilot.press(key)
    await pilot.press("enter")
    await wait_for(pilot, lambda: focused_key(app) is not None and form(app).target.option_id == option_id)


def toasts(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def text(app) -> str:
    return screen_text(app)


def changed_lines(before: str, after: str) -> list[tuple[int, str, str]]:
    """(1-based line, old, new) for each line that differs; the files must have as many lines."""
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new), "lines were added or removed"
    return [(i + 1, a, b) for i, (a, b) in enumerate(zip(old, new)) if a != b]


def table_of_line(text_: str, line: int) -> str:
    """The [table] header a 1-based line belongs to."""
    header = ""
    for current in text_.splitlines()[:line]:
        if current.startswith("["):
            header = current
    return header


def write_external(path: Path, old: str, new: str) -> None:
    """Another program edits the file."""
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, new, 1))
