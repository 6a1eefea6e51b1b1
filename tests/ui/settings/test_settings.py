"""Settings pane, form view: edit a preset and save, inline validation, theme, secrets, conflicts."""

from __future__ import annotations

import tomllib

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import chat_requests, ready
from tests.ui.settings.test_settings_support import (
    Presses,
    changed_lines,
    focused_key,
    form,
    go_to,
    nav_selected,
    open_settings,
    pane,
    row,
    table_of_line,
    text,
    toasts,
    write_external,
)
from tui.service.config import backup_path
from tui.ui.chat.prompt import PromptArea
from tui.ui.settings.dialogs import ConflictDialog
from tui.ui.settings.form import SettingsNav


async def test_change_a_preset_value_from_the_chat_in_three_keys(sim, make_app, tmp_path):
    """F4 → Enter → type → F5: the file changes in that one line; the chat's next request uses it."""
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        keys = Presses(pilot)
        await keys("f4")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))
        assert nav_selected(app) == "preset:balanced"  # the preset the chat uses
        await keys("enter")
        await wait_for(pilot, lambda: focused_key(app) == ("presets", "balanced", "temperature"))
        await keys.type("0.3")  # replaces the selected old value
        await keys("f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        assert keys.count == 3 and keys.keys == ["f4", "enter", "f5"]  # budget: 6

        after = path.read_text()
        [(line, old, new)] = changed_lines(before, after)
        assert (old, new) == ("temperature = 0.7", "temperature = 0.3")
        assert table_of_line(after, line) == "[presets.balanced]"
        assert backup_path(path).read_text() == before
        assert app.config.preset("balanced").temperature == 0.3
        await wait_for(pilot, lambda: "unsaved" not in text(app))

        await keys("f1")
        await wait_for(pilot, lambda: isinstance(app.focused, PromptArea))
        await pilot.press(*"hello", "enter")
        await wait_for(pilot, lambda: chat_requests(sim))
        body = chat_requests(sim)[-1]
        assert body["options"]["temperature"] == 0.3
        assert body["options"]["num_ctx"] == 4096  # the rest of the preset as it was


async def test_ranges_and_help_are_shown_at_80x24(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        expected = ("[presets.balanced]", "temperature", "0–2", "num_ctx", "512–131072", "-1 or 1–131072",
                    "think", "true / false", "Enter: edit")
        await wait_for(pilot, lambda: all(shown in text(app) for shown in expected))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Randomness" in text(app))  # the focused key's help


async def test_an_invalid_value_is_refused_inline_and_nothing_is_written(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_bytes()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("enter", *"5")
        await wait_for(pilot, lambda: "5 is out of range 0–2" in text(app))
        assert row(app, "presets", "balanced", "temperature").has_class("-error")
        await pilot.press("down", "down", *"abc")  # top_p (num_ctx comes second)
        await wait_for(pilot, lambda: '"abc" is not a number' in text(app))
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("Not saved" in t for t in toasts(app)))
        assert path.read_bytes() == before
        assert not backup_path(path).exists()
        assert app.config.preset("balanced").temperature == 0.7
        # focus goes back to the first value that does not validate
        await wait_for(pilot, lambda: focused_key(app) == ("presets", "balanced", "temperature"))
        await pilot.press(*"1.5", "down", "down", *"0.5", "f5")
        await wait_for(pilot, lambda: path.read_bytes() != before)
        data = tomllib.loads(path.read_text())["presets"]["balanced"]
        assert (data["temperature"], data["top_p"]) == (1.5, 0.5)


async def test_clearing_a_preset_value_unsets_it(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    before = path.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await pilot.press("enter", "down", "down", "down", "backspace", "f5")  # top_k: selected, deleted
        await wait_for(pilot, lambda: path.read_text() != before)
        assert "top_k" not in tomllib.loads(path.read_text())["presets"]["balanced"]
        assert app.config.preset("balanced").top_k is None


async def test_theme_change_from_the_form_applies_and_is_saved(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        assert app.theme == "ollama-dark"
        await go_to(app, pilot, "section:ui")
        assert focused_key(app) == ("ui", "theme")
        await pilot.press(*"no-such-theme")
        await wait_for(pilot, lambda: "no theme named" in text(app))
        await pilot.press("ctrl+u", *"nord", "f5")
        await wait_for(pilot, lambda: app.theme == "nord")
        assert 'theme = "nord"' in path.read_text()
        assert app.config.ui.theme == "nord"


async def test_monitor_settings_reach_the_monitor_pane(sim, make_app, tmp_path):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.sampler.interval == 1.0
        await open_settings(app, pilot)
        await go_to(app, pilot, "section:monitor")
        assert focused_key(app) == ("monitor", "interval")
        await pilot.press(*"2.5", "f5")
        await wait_for(pilot, lambda: app.sampler.interval == 2.5)  # the sampler feeding the pane
        assert app.config.monitor.interval == 2.5


async def test_header_values_are_masked(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[server]\nhost = "http://127.0.0.1:11434"\n\n[server.headers]\n'
                    'Authorization = "Bearer sekrit-token"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await go_to(app, pilot, "section:server")
        header = row(app, "server", "headers", "Authorization")
        header.input.focus()
        await wait_for(pilot, lambda: "server.headers.Authorization" in text(app)  # its help line
                       and "values hidden" in text(app) and "••••" in text(app))
        assert header.input.password and header.input.value == "Bearer sekrit-token"
        screen = text(app)
        assert "sekrit" not in screen and "Bearer" not in screen


async def test_external_change_is_detected_and_asked_about(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        write_external(path, "retries = 2", "retries = 5")
        await pilot.press("f1", "f4")  # showing the pane again looks at the file
        await wait_for(pilot, lambda: "changed on disk" in text(app))
        theirs = path.read_text()

        await pilot.press("enter", *"0.2", "f5")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await wait_for(pilot, lambda: "changed by another program" in text(app))
        await pilot.press("n")  # keep editing: nothing written
        await wait_for(pilot, lambda: not isinstance(app.screen, ConflictDialog))
        assert path.read_text() == theirs

        await pilot.press("f5")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.press("r")  # reload: theirs wins, my edit is dropped
        await wait_for(pilot, lambda: app.config.server.retries == 5)
        assert path.read_text() == theirs
        assert app.config.preset("balanced").temperature == 0.7
        await wait_for(pilot, lambda: row(app, "presets", "balanced", "temperature").input.value == "0.7")
        await wait_for(pilot, lambda: "changed on disk" not in text(app))


async def test_overwrite_after_an_external_change(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        write_external(path, "retries = 2", "retries = 5")
        await pilot.press("enter", *"0.2", "f5")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.press("o")
        await wait_for(pilot, lambda: "temperature = 0.2" in path.read_text())
        assert "retries = 2" in path.read_text()  # my version, as loaded plus my edit
        assert "retries = 5" in backup_path(path).read_text()  # theirs kept as the backup
        assert app.config.preset("balanced").temperature == 0.2


async def test_switching_away_keeps_unsaved_edits(sim, make_app, tmp_path):
    """F4 again after edits does not jump back to the chat's preset or lose the edit."""
    path = tmp_path / "config.toml"
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_settings(app, pilot)
        await go_to(app, pilot, "preset:precise")
        await pilot.press(*"0.1", "f1", "f4")
        await wait_for(pilot, lambda: isinstance(app.focused, SettingsNav))
        assert nav_selected(app) == "preset:precise"
        await wait_for(pilot, lambda: "unsaved" in text(app))
        assert app.config.preset("precise").temperature == 0.2  # not in use before saving
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.config.preset("precise").temperature == 0.1)
        assert form(app).store is app.config_store and pane(app).view == "form"


async def test_a_bad_value_in_the_file_is_shown_as_it_is_and_must_be_fixed(sim, make_app, tmp_path):
    path = tmp_path / "config.toml"
    make_app(sim.url)  # creates the file from the example
    path.write_text(path.read_text().replace("retries = 2", "retries = 20"))
    app = make_app(sim.url)
    before = path.read_text()
    line = before.splitlines().index("retries = 20") + 1
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.config.server.retries == 2  # the default stands in for the bad value
        await open_settings(app, pilot)
        await go_to(app, pilot, "section:server")
        retries = row(app, "server", "retries")
        assert retries.input.value == "20"  # what the file says
        await wait_for(pilot, lambda: "20 is out of range 0–10" in text(app) and f"line {line}" in text(app))
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("Not saved" in t for t in toasts(app)))
        await wait_for(pilot, lambda: focused_key(app) == ("server", "retries"))
        assert path.read_text() == before
        await pilot.press(*"3", "f5")
        await wait_for(pilot, lambda: path.read_text() != before)
        assert changed_lines(before, path.read_text()) == [(line, "retries = 20", "retries = 3")]
        assert app.config.server.retries == 3
