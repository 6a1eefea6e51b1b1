"""Rich/Textual markup where the user types or configures text: `[/]` (which a markup parser
rejects), `[bold]`, `[link=…]` and an action link, in every text input and every config string
(valid and invalid values, preset and model names). Nothing crashes; the text is shown as typed.

Three fixed samples, then strings Hypothesis makes of markup's pieces (`MARKUPISH`). A Pilot app
takes seconds to start, so the generated runs are few (`GENERATED`); each types a different
string into each field."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.ui.chat.test_chat_support import ready, send, text, toasts
from tests.ui.conftest import wait_for
from tests.ui.models.test_models_pane_support import open_models
from tests.waiting import new_toast, toasts_up, type_text
from tui.simulator import Simulator
from tui.ui.chat.session_options import SessionOptionsDialog

SAMPLES = ["x[/]", "[bold]b[/bold] [/]", "[link=https://example.invalid]l[/link] [@click=app.quit]q[/]"]

#: The pieces of Rich/Textual markup, an escape, template and action syntax, and plain text.
PIECES = ["[", "]", "/", "[/]", "[b]", "[bold]", "[/bold]", "[red on blue]", "[link=https://e.invalid]",
          "[/link]", "link=", "@click=", "[@click=app.quit]", "[@click=app.bell()]", "\\", "\\[", "$", "$x",
          "'", '"', "=", "(", ")", "x", "bold", "hi", " "]
MARKUPISH = (st.lists(st.sampled_from(PIECES) | st.text(alphabet="ab[]/=@ ", min_size=1, max_size=3),
                      min_size=1, max_size=5)
             .map(lambda parts: "".join(parts)[:24].strip())
             .filter(lambda value: value != "" and "[" in value))
#: Pilot apps per generated test (a few seconds each); MARKUP_FUZZ_EXAMPLES=50 runs more.
EXAMPLES = int(os.environ.get("MARKUP_FUZZ_EXAMPLES", "4"))


def generated(examples: int):
    """Hypothesis settings for a Pilot test: no deadline, no shrinking (each step is an app run;
    a failure names the strings it typed)."""
    return settings(max_examples=max(1, examples), deadline=None,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


GENERATED = generated(EXAMPLES)


def region_text(app, widget) -> str:
    """What the screen shows inside `widget`'s region (its lines cut out of the screen's text)."""
    region = widget.region
    lines = text(app).split("\n")
    return "\n".join(line[region.x:region.right] for line in lines[region.y:region.bottom])


async def dialog_input(pilot, app, value: str) -> None:
    await wait_for(pilot, lambda: app.screen.query("Input"))
    app.screen.query_one("Input").value = value
    await pilot.press("enter")


@pytest.mark.parametrize("markup", SAMPLES)
async def test_markup_typed_into_every_text_field_is_text(make_app, tmp_path, markup):
    await typed_everywhere_is_text(make_app, markup)


@GENERATED
@given(markup=MARKUPISH)
@example(markup="b  [@click=app.bell()]@b")  # found by a longer run: the header puts it on one line
async def test_generated_markup_typed_into_every_text_field_is_text(make_app, tmp_path, markup):
    await typed_everywhere_is_text(make_app, markup)


async def typed_everywhere_is_text(make_app, markup: str) -> None:
    """`markup` as the prompt, session options, system prompt, search, a session's new name, the
    model filter, a pull and a copy's name, the host and the compare prompt."""
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
                           and f"system “{' '.join(markup.split())[:20]}" in text(app))  # on one line
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
            assert not any("went wrong" in t for t in toasts(app)), toasts(app)  # no worker failed


def toml_string(markup: str) -> str:
    """`markup` inside a TOML basic string, as written in the file."""
    return markup.replace("\\", "\\\\").replace('"', '\\"')


def write_config(tmp_path, markup: str) -> None:
    q = toml_string(markup)
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


async def config_strings_are_text(make_app, tmp_path, markup: str) -> None:
    """`markup` as every string of the config: the app starts, reports the problems, and every
    pane and the preset picker (which lists the preset named `markup`, as written) are shown."""
    write_config(tmp_path, markup)
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, config_path=tmp_path / "config.toml")
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(app, pilot)
            # a problem, naming the value as written (in the file, where a backslash is doubled)
            await wait_for(pilot, lambda: any(markup in t or toml_string(markup) in t for t in toasts(app)))
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
            await wait_for(pilot, lambda: markup in text(app))
            await pilot.press("escape")
            assert app.is_running and app.return_code is None
            assert not any("went wrong" in t for t in toasts(app)), toasts(app)  # no worker failed


@pytest.mark.parametrize("markup", SAMPLES)
async def test_markup_in_every_config_string_valid_or_not_starts_and_shows_as_text(make_app, tmp_path, markup):
    await config_strings_are_text(make_app, tmp_path, markup)


@GENERATED
@given(markup=MARKUPISH)
async def test_generated_markup_in_every_config_string_starts_and_shows_as_text(make_app, tmp_path, markup):
    await config_strings_are_text(make_app, tmp_path, markup)


async def typed_into_forms_is_text(make_app, tmp_path, typed: list[str]) -> None:
    """typed[0..7] into the fields the chat-side test leaves out: the create-model form (name,
    base, system, parameters), the benchmark's and the batch's prompt file, two Settings fields.
    Each is shown where it was typed, as typed (code point for code point); the refusals that
    follow (a bad name, no such file, a bad value) are words, and the app goes on."""
    from textual.widgets import Input, SelectionList, TabbedContent

    from tests.ui.settings.test_settings_support import open_settings
    from tui.ui.compare.screen import BenchScreen
    from tui.ui.models.create_form import CreateModelDialog
    from tui.ui.settings.form import FieldInput

    def shown(value: str, widget=None) -> bool:
        """`value`, as typed, inside the field that has focus (or `widget`)."""
        widget = widget or app.focused
        return widget is not None and value in region_text(app, widget)

    async def until(condition, what: str) -> None:
        """wait_for, failing with what was awaited and the screen (a generated case reads back)."""
        try:
            await wait_for(pilot, condition)
        except AssertionError:
            raise AssertionError(f"not met: {what}; typed {typed!r}\n{text(app)}\n{toasts(app)}") from None

    async def a_new_toast(up: set[str], what: str) -> str:
        """A toast that was not up before (see tests.waiting.new_toast), failing as `until` does."""
        try:
            return await new_toast(pilot, app, up)
        except AssertionError:
            raise AssertionError(f"not met: {what}; typed {typed!r}\n{text(app)}\n{toasts(app)}") from None

    with Simulator(token_rate=0, pull_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await ready(app, pilot)
            # Models → n: the create form; each field typed, then Ctrl+S: refused in words.
            await open_models(app, pilot)
            await pilot.press("n")
            await until(lambda: isinstance(app.screen, CreateModelDialog), "the create form")
            for field, value in zip(("create-name", "create-from", "create-system", "create-parameters"),
                                    typed[0:4], strict=True):
                assert app.focused is not None and app.focused.id == field
                if field == "create-from":
                    await pilot.press("ctrl+u")  # the selected model's name is filled in
                await type_text(pilot, value)
                await until(lambda v=value: shown(v), f"{value!r} shown in #{field}")
                await pilot.press("tab")
            await pilot.press("ctrl+s")
            await until(lambda: "✕" in text(app), "the form's refusal")  # a name with "[" is refused
            assert isinstance(app.screen, CreateModelDialog)
            await pilot.press("escape")
            # F10 → Benchmark: a prompt file named with markup; Ctrl+R: "no prompt file …" in words.
            await pilot.press("f10")
            await until(lambda: isinstance(app.screen, BenchScreen)
                        and app.screen.query_one("#bench-models", SelectionList).option_count, "the models listed")
            screen = app.screen
            screen.query_one(TabbedContent).active = "benchmark"
            screen.query_one("#bench-models", SelectionList).select_all()
            screen.query_one("#bench-set").value = "file"
            for field, value in (("#bench-file", typed[4]), ("#batch-file", typed[5])):
                if field == "#batch-file":
                    await pilot.click("#--content-tab-batch")  # the Batch tab
                await until(lambda f=field: screen.query_one(f, Input).region.width, f"{field} shown")
                screen.query_one(field, Input).focus()
                up = toasts_up(app)
                await type_text(pilot, value)
                await until(lambda v=value, f=field: shown(v, screen.query_one(f, Input)), f"{value!r} shown in {field}")
                await pilot.press("ctrl+r")
                toast = await a_new_toast(up, f"{field}: a toast")
                assert any(w in toast for w in ("no prompt file", "cannot read", "holds no prompts")), toast
            await pilot.press("escape")
            await until(lambda: not isinstance(app.screen, BenchScreen), "the bench screen closed")
            # F4 → Settings: the first section's first field and the one two rows down; F5 saves
            # (or says why not, naming the value).
            await open_settings(app, pilot)
            await pilot.press("enter")
            await until(lambda: isinstance(app.focused, FieldInput), "a Settings field focused")
            await type_text(pilot, typed[6])
            await until(lambda: shown(typed[6]), f"{typed[6]!r} shown in the field")
            await pilot.press("down", "down")
            await type_text(pilot, typed[7])
            await until(lambda: shown(typed[7]), f"{typed[7]!r} shown in the field")
            up = toasts_up(app)
            await pilot.press("f5")
            await a_new_toast(up, "F5: a toast")
            assert app.is_running and app.return_code is None
            assert not any("went wrong" in t for t in toasts(app)), toasts(app)  # no worker failed


async def test_markup_typed_into_the_forms_is_text(make_app, tmp_path):
    await typed_into_forms_is_text(make_app, tmp_path, [  # each short enough not to wrap in its field
        "x[/]", "[bold]b[/bold] [/]", "[link=https://e.invalid]l[/link]", "[@click=app.quit]q[/]",
        "x[/]", "[bold]b[/bold] [/]", "[/]", "[link=https://e.invalid]l"])


@generated(EXAMPLES // 2)  # each run types eight strings, in three screens
@given(typed=st.lists(MARKUPISH, min_size=8, max_size=8))
async def test_generated_markup_typed_into_the_forms_is_text(make_app, tmp_path, typed):
    await typed_into_forms_is_text(make_app, tmp_path, typed)
