"""Settings pane, F9: export to a path, import one (checked first), reset to defaults, reload."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.settings.test_settings_support import (
    open_settings,
    row,
    text,
    toasts,
    write_external,
)
from tui.service.config import backup_path
from tui.service.paths import example_config_text
from tui.ui.settings.form import SettingsNav
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog, TextDialog


async def file_action(app, pilot, word: str) -> None:
    """F9, filter the menu by `word`, Enter."""
    await pilot.press("f9")
    await wait_for(pilot, lambda: isinstance(app.screen, PickDialog))
    await pilot.press(*word, "enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, PickDialog))


async def give_path(app, pilot, path) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
    await pilot.press("ctrl+u", *str(path), "enter")


async def test_export_writes_the_document_to_a_path(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("enter", *"0.4", "escape")  # an unsaved edit goes along
        await file_action(app, pilot, "export")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
        await wait_for(pilot, lambda: "~/ollama-tui-config.toml" in text(app))
        await pilot.press("enter")  # the offered path (HOME is tmp_path here)
        exported = tmp_path / "ollama-tui-config.toml"
        await wait_for(pilot, lambda: exported.exists())
        assert exported.read_text() == path.read_text().replace(
            "[presets.balanced]\ntemperature = 0.7", "[presets.balanced]\ntemperature = 0.4")

        await file_action(app, pilot, "export")  # again: the file exists, so it asks
        await give_path(app, pilot, exported)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))


async def test_import_checks_the_file_before_replacing_anything(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(before.replace("num_ctx = 2048", "num_ctx = 12"))
    good = tmp_path / "good.toml"
    good.write_text(before.replace("num_ctx = 2048", "num_ctx = 3072") + "# imported\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await file_action(app, pilot, "import")
        await give_path(app, pilot, tmp_path / "missing.toml")
        await wait_for(pilot, lambda: "there is no file" in text(app))
        await pilot.press("ctrl+u", *str(bad), "enter")
        await wait_for(pilot, lambda: any("Not imported" in t for t in toasts(app)))
        assert any("num_ctx" in t and "out of range" in t and "line" in t for t in toasts(app))
        assert path.read_text() == before and not backup_path(path).exists()

        await file_action(app, pilot, "import")
        await give_path(app, pilot, good)
        await wait_for(pilot, lambda: path.read_text() == good.read_text())
        assert backup_path(path).read_text() == before
        await wait_for(pilot, lambda: app.config.preset("fast").num_ctx == 3072)


async def test_reset_to_defaults_asks_and_keeps_a_backup(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('version = 1\n\n[ui]\ntheme = "nord"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "nord"
        await open_settings(app, pilot)
        await file_action(app, pilot, "reset")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await wait_for(pilot, lambda: "config.toml.bak" in text(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))
        assert 'theme = "nord"' in path.read_text()

        await file_action(app, pilot, "reset")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: path.read_text() == example_config_text())
        assert backup_path(path).read_text() == 'version = 1\n\n[ui]\ntheme = "nord"\n'
        await wait_for(pilot, lambda: app.theme == "ollama-dark")


async def test_reload_takes_the_version_on_disk(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("enter", *"0.6", "escape")
        write_external(path, "[presets.balanced]\ntemperature = 0.7", "[presets.balanced]\ntemperature = 0.9")
        await file_action(app, pilot, "reload")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))  # drops my unsaved edit
        await pilot.press("y")
        await wait_for(pilot, lambda: app.config.preset("balanced").temperature == 0.9)
        await wait_for(pilot, lambda: row(app, "presets", "balanced", "temperature").input.value == "0.9")
        await wait_for(pilot, lambda: "unsaved" not in text(app))
