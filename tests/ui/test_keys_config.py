"""The config's [keys] table: an action (the names the help screen lists) bound to another key
takes it, loses its old one, and what cannot apply is reported with its line while the rest does."""

from __future__ import annotations

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.ui.chat.prompt import PromptArea
from tui.ui.keymap import binding_rows
from tui.ui.shell.help_screen import HelpScreen


def _config(tmp_path, keys: str) -> None:
    (tmp_path / "config.toml").write_text(f"version = 1\n\n[keys]\n{keys}")


def _toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_ctrl_w_quits_once_quit_is_bound_to_it_and_ctrl_q_no_longer_does(sim, make_app, tmp_path):
    _config(tmp_path, 'quit = "ctrl+w"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.key_overrides == {"quit": "ctrl+w"})  # after the first frame
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running, "Ctrl+Q still quits after quit was bound to Ctrl+W"
        await pilot.press("ctrl+w")  # from the prompt, where Ctrl+W would otherwise delete a word
        await wait_for(pilot, lambda: not app.is_running)
    assert _toasts(app) == []


async def test_a_pane_key_moves_and_the_pane_bar_shows_it(sim, make_app, tmp_path):
    _config(tmp_path, 'show_models = "f11"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "F11 Models" in screen_text(app))
        await pilot.press("f2")
        await pilot.pause()
        assert app.current_pane == "chat"
        await pilot.press("f11")
        await wait_for(pilot, lambda: app.current_pane == "models")
        await pilot.press("alt+2")  # the other default key went with F2: the table replaces both
        await pilot.pause()
        assert app.current_pane == "models"
        await pilot.press("f1")
        await wait_for(pilot, lambda: app.current_pane == "chat")


async def test_a_conflict_and_an_unknown_action_are_reported_with_their_lines_and_the_rest_applies(
        sim, make_app, tmp_path):
    _config(tmp_path, 'quit = "ctrl+w"\n'          # line 4: applies
                      'help = "ctrl+w"\n'          # line 5: Ctrl+W is quit's now, everywhere
                      'chat_search = "f2"\n'       # line 6: F2 (Models) is taken before any pane key
                      'sessions_nwe = "x"\n'       # line 7: no such action
                      'chat_bottom = "ctrl+ww"\n'  # line 8: no such key
                      'monitor_cores = "C"\n')     # line 9: applies
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(app._notifications) >= 4)
        toasts = _toasts(app)
        assert any(t.startswith("line 5: keys.help: Ctrl+W is already quit") for t in toasts), toasts
        assert any(t.startswith("line 6: keys.chat_search: F2 is already show_models") for t in toasts), toasts
        assert any(t.startswith("line 7: keys.sessions_nwe: no such action (did you mean sessions_new?)")
                   for t in toasts), toasts
        assert any(t.startswith("line 8: keys.chat_bottom: 'ww' is not a key name") for t in toasts), toasts
        assert app.key_overrides == {"quit": "ctrl+w", "monitor_cores": "C"}
        await pilot.press("f2")  # Models still on F2
        await wait_for(pilot, lambda: app.current_pane == "models")
        await pilot.press("f1", "ctrl+f")  # chat search keeps its default key
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SearchScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ != "SearchScreen")
        await pilot.press("ctrl+w")
        await wait_for(pilot, lambda: not app.is_running)


async def test_a_key_table_that_is_not_strings_does_not_stop_the_start(sim, make_app, tmp_path):
    _config(tmp_path, 'quit = 3\n[keys.chat]\nnew_session = "x"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(app._notifications) >= 2)
        toasts = _toasts(app)
        assert any(t.startswith('line 4: keys.quit: expected a key like "ctrl+w", got an integer') for t in toasts)
        assert any(t.startswith("line 5: keys.chat: expected a key") for t in toasts), toasts
        assert app.key_overrides == {}


async def test_help_lists_every_action_name_with_the_keys_in_use(sim, make_app, tmp_path):
    _config(tmp_path, 'quit = "ctrl+w"\nmodels_pull = "P,ctrl+d"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.key_overrides)
        await pilot.press("f2", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        listed = app.screen.listed()
        assert listed == binding_rows(app)
        assert ("Everywhere", "Ctrl+W", "quit", "Quit") in listed
        assert ("Models", "P / Ctrl+D", "models_pull", "Pull") in listed
        assert ("Chat: prompt", "Ctrl+J / Alt+Enter / Shift+Enter", "prompt_newline", "Newline") in listed
        text = screen_text(app)
        assert "Ctrl+W" in text and "quit" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("ctrl+d")  # the new pull key opens the pull dialog
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TextDialog")


async def _typed(pilot, prompt: PromptArea, *keys: str) -> str:
    await pilot.press(*keys)
    await pilot.pause()
    return prompt.text


async def test_the_newline_keys_by_default_and_enter_for_newlines_once_send_moves(sim, make_app, tmp_path):
    sim.preload("llama3.2")
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptArea)
        assert "Enter sends, Ctrl+J newline" in str(prompt.placeholder)
        assert await _typed(pilot, prompt, "a", "ctrl+j", "b", "alt+enter", "c") == "a\nb\nc"
    _config(tmp_path, 'prompt_send = "ctrl+s"\nprompt_newline = "enter"\n')
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = app.query_one(PromptArea)
        await wait_for(pilot, lambda: app.key_overrides)  # applied after the first frame
        assert "Ctrl+S sends, Enter newline" in str(prompt.placeholder)
        assert await _typed(pilot, prompt, "a", "enter", "b", "ctrl+j", "c") == "a\nbc"  # Ctrl+J: none now
        await pilot.press("ctrl+s")

        def sent() -> list[str]:
            return [m["content"] for method, path, body in sim.requests if path == "/api/chat" and method == "POST"
                    for m in body.get("messages", []) if m.get("role") == "user"]

        await wait_for(pilot, lambda: sent() == ["a\nbc"])
        assert prompt.text == ""


async def test_settings_lists_keys_checks_a_taken_key_and_a_saved_key_applies_without_a_restart(
        sim, make_app, tmp_path):
    from tests.ui.settings.test_settings_support import form, go_to, open_settings, row

    app = make_app(sim.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_settings(app, pilot)
        await go_to(app, pilot, "section:keys")
        assert "[keys]" in screen_text(app) and "Everywhere" in screen_text(app)
        help_row = row(app, "keys", "help")
        help_row.input.focus()
        await pilot.press(*"f2")
        await wait_for(pilot, lambda: ("keys", "help") in form(app).pending)
        assert form(app).pending[("keys", "help")][1].startswith("F2 is already show_models")
        await pilot.press("backspace", "backspace")
        await wait_for(pilot, lambda: ("keys", "help") not in form(app).pending)
        row(app, "keys", "quit").input.focus()
        await pilot.press(*"ctrl+w", "f5")
        await wait_for(pilot, lambda: app.key_overrides == {"quit": "ctrl+w"})
        assert '\nquit = "ctrl+w"\n' in (tmp_path / "config.toml").read_text()
        await pilot.press("f1")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running
        await pilot.press("ctrl+w")
        await wait_for(pilot, lambda: not app.is_running)



async def test_a_pane_key_that_looks_like_markup_is_shown_as_typed_and_still_clicks(sim, make_app, tmp_path):
    """The pane bar's key labels come from [keys]: "ctrl+[" opens a markup tag; it is text."""
    from tui.ui.shell.pane_bar import PaneBar

    _config(tmp_path, 'show_models = "ctrl+["\n')
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "Ctrl+[ Models" in screen_text(app))
        bar = screen_text(app).splitlines()[0]
        assert "[/]" not in bar  # the closing tag was not left over as text
        await pilot.click(PaneBar, offset=(bar.index("Models"), 0))  # the label is still the link
        await wait_for(pilot, lambda: app.current_pane == "models")
        assert _toasts(app) == []
