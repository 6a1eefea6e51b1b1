"""Rich/Textual markup where the user types or configures text: `[/]` (which a markup parser
rejects), `[bold]`, `[link=…]` and an action link, in every text input and every config string
(valid and invalid values, preset and model names). Nothing crashes; the text is shown as typed."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, send, text, toasts
from tests.ui.models.test_models_pane_support import open_models
from tui.simulator import Simulator
from tui.ui.chat.session_options import SessionOptionsDialog

SAMPLES = ["x[/]", "[bold]b[/bold] [/]", "[link=https://example.invalid]l[/link] [@click=app.quit]q[/]"]


async def dialog_input(pilot, app, value: str) -> None:
    await wait_for(pilot, lambda: app.screen.query("Input"))
    app.screen.query_one("Input").value = value
    await pilot.press("enter")


@pytest.mark.parametrize("markup", SAMPLES)
async def test_markup_typed_into_every_text_field_is_text(make_app, tmp_path, markup):
    with Simulator(token_rate=0, pull_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, markup, replies_count=1)  # the prompt, sent and shown
            await wait_for(pilot, lambda: markup in text(app))
            await pilot.press("f12")  # session options: a parse error names what was typed
            await dialog_input(pilot, app, markup)
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog) and "✕" in text(app))
            await pilot.press("escape")
            await pilot.press("f12")  # the session's own system prompt: in the header, as typed
            await wait_for(pilot, lambda: isinstance(app.screen, SessionOptionsDialog))
            app.screen.query_one("#system-prompt").text = markup
            await pilot.press("enter")  # from the overrides field: saves both
            await wait_for(pilot, lambda: pane.session.system_prompt == markup
                           and f"system “{markup[:20]}" in text(app))
            await pilot.press("ctrl+f")  # search all chats
            await dialog_input(pilot, app, markup)
            await pilot.press("escape")
            await pilot.press("ctrl+l")  # the session list: rename the session to markup
            await pilot.press("r")
            await dialog_input(pilot, app, markup)
            await wait_for(pilot, lambda: pane.session is not None and pane.session.title == markup)
            await wait_for(pilot, lambda: f"  {markup}" in text(app))  # the header shows the new title
            await pilot.press("ctrl+l")
            models = await open_models(app, pilot)
            await pilot.press("/")
            for ch in markup:
                await pilot.press(ch if ch != " " else "space")
            await wait_for(pilot, lambda: markup.split()[-1] in text(app))  # the filter field
            await pilot.press("escape")
            models.query_one("LibraryTable").focus()
            await pilot.press("p")  # pull: an invalid name is refused in words
            await dialog_input(pilot, app, markup)
            await pilot.press("escape")
            await pilot.press("c")  # copy to a markup name: refused in words
            await dialog_input(pilot, app, markup)
            await pilot.press("escape")
            app.action_change_host()
            await dialog_input(pilot, app, markup)
            await wait_for(pilot, lambda: "✕" in text(app))
            await pilot.press("escape")
            await pilot.press("f10")  # compare: the prompt
            await wait_for(pilot, lambda: app.screen.query("#compare-prompt") or app.screen.query("Input"))
            app.screen.query("Input").first().value = markup
            await pilot.press("f10")
            assert app.is_running and app.return_code is None


@pytest.mark.parametrize("markup", SAMPLES)
async def test_markup_in_every_config_string_valid_or_not_starts_and_shows_as_text(make_app, tmp_path, markup):
    q = markup.replace("\\", "\\\\").replace('"', '\\"')
    (tmp_path / "config.toml").write_text(f'''
[server]
host = "{q}"
keep_alive = "{q}"
[server.headers]
"X-{q}" = "{q}"
[chat]
default_model = "{q}"
fallback_model = "{q}"
default_preset = "{q}"
system_prompt = "{q}"
newline_key = "{q}"
[ui]
theme = "{q}"
[presets."{q}"]
temperature = "{q}"
format = "{q}"
[models."{q}"]
preset = "{q}"
system_prompt = "{q}"
keep_alive = "{q}"
[models."{q}".options]
top_k = "{q}"
["{q}"]
x = 1
''', encoding="utf-8")
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, config_path=tmp_path / "config.toml")
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(app, pilot)
            await wait_for(pilot, lambda: any(markup in t for t in toasts(app)))  # a problem, named as written
            await pilot.press("f4")
            await wait_for(pilot, lambda: "Sections" in text(app))
            for _ in range(12):  # every section, preset and model in the list
                await pilot.press("down")
            await pilot.press("f8")  # the raw view
            await wait_for(pilot, lambda: "[server]" in text(app))
            await pilot.press("f8")
            await pilot.press("f10")
            await wait_for(pilot, lambda: "Saved runs" in text(app))
            await pilot.press("f10")
            await pilot.press("f1")
            await pilot.press("ctrl+t")  # the preset picker lists the preset named with markup
            await wait_for(pilot, lambda: markup.split()[0] in text(app))
            await pilot.press("escape")
            assert app.is_running and app.return_code is None
