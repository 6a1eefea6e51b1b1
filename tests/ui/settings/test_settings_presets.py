"""Settings pane: add, duplicate, rename and delete presets in the form; then save."""

from __future__ import annotations

import tomllib

from tests.ui.conftest import wait_for
from tests.ui.settings.test_settings_support import (
    focused_key,
    go_to,
    nav_selected,
    open_settings,
    text,
    toasts,
)
from tui.ui.settings.form import SettingsNav
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


async def answer(app, pilot, *keys: str) -> None:
    """Wait for the name dialog, press `keys` in it, wait for it to close."""
    await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
    await pilot.press(*keys)
    await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))


def presets_on_disk(path) -> dict:
    return tomllib.loads(path.read_text())["presets"]


async def test_duplicate_rename_add_delete_then_save(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        assert nav_selected(app) == "preset:balanced"

        await pilot.press("c")  # duplicate: the name is offered
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
        await wait_for(pilot, lambda: "balanced-copy" in text(app))
        await answer(app, pilot, "enter")
        await wait_for(pilot, lambda: nav_selected(app) == "preset:balanced-copy")

        await pilot.press("e")  # rename it; the old name is selected, typing replaces it
        await answer(app, pilot, *"terse", "enter")
        await wait_for(pilot, lambda: nav_selected(app) == "preset:terse")

        await pilot.press("n")
        await answer(app, pilot, *"mine", "enter")
        await wait_for(pilot, lambda: nav_selected(app) == "preset:mine")
        await pilot.press("enter")  # into the new, empty preset
        await wait_for(pilot, lambda: focused_key(app) == ("presets", "mine", "temperature"))
        await pilot.press(*"0.1", "escape")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))

        await go_to(app, pilot, "preset:fast")
        await pilot.press("escape", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: "preset:fast" not in [o.id for o in app.query_one(SettingsNav).options])
        assert path.read_text() == before  # nothing written before F5
        await wait_for(pilot, lambda: "unsaved" in text(app))

        await pilot.press("f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        presets = presets_on_disk(path)
        assert set(presets) == {"creative", "balanced", "terse", "precise", "long_form", "mine"}
        assert presets["terse"] == presets["balanced"]
        assert presets["mine"] == {"temperature": 0.1}
        after = path.read_text()
        for comment in ("# Everyday chat.", "# Brainstorming and fiction: more randomness.",
                        "# Per-model overrides, one table per model name as `ollama list` shows it (quote names with dots or"):
            assert comment in after
        assert "[presets.fast]" not in after
        assert set(app.config.presets) == set(presets)


async def test_bad_names_and_the_default_preset_are_refused(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
        await pilot.press(*"two words", "enter")
        await wait_for(pilot, lambda: "letters, digits, _ or -" in text(app))
        assert isinstance(app.screen, TextDialog)  # still asking
        await pilot.press("ctrl+u", *"fast", "enter")
        await wait_for(pilot, lambda: "already exists" in text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))

        await pilot.press("d")  # balanced is the default preset of new chats
        await wait_for(pilot, lambda: any("default preset" in t for t in toasts(app)))
        assert not isinstance(app.screen, ConfirmDialog)
        assert "preset:balanced" in [o.id for o in app.query_one(SettingsNav).options]

        await go_to(app, pilot, "section:chat")  # preset keys need a preset selected
        await pilot.press("escape", "c")
        await wait_for(pilot, lambda: any("Pick a preset" in t for t in toasts(app)))
        assert path.read_text() == before


async def test_renaming_the_default_preset_follows_into_chat(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("e")
        await answer(app, pilot, *"everyday", "enter")
        await pilot.press("f5")
        await wait_for(pilot, lambda: "[presets.everyday]" in path.read_text())
        assert tomllib.loads(path.read_text())["chat"]["default_preset"] == "everyday"
        assert app.config.chat.default_preset == "everyday"
        await pilot.press("f1")
        await wait_for(pilot, lambda: "preset everyday" in text(app))  # the chat's header
