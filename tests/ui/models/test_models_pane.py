"""Models pane: the installed-models table, sort, filter, details, delete/copy/create, load/unload."""

from __future__ import annotations

import httpx
import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import toasts
from tests.ui.models.test_models_pane_support import (
    names,
    open_models,
    requests_to,
    row_for,
    select,
)
from tests.waiting import type_text
from tui.simulator import Simulator
from tui.ui.models.create_form import CreateModelDialog
from tui.ui.models.details import ModelDetails
from tui.ui.models.library import FilterInput, LibraryTable
from tui.ui.models.pane import ModelsPane
from tui.ui.models.running import RunningTable
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog

INSTALLED = ["llama3.2:latest", "llava:7b", "nomic-embed-text:latest", "qwen3:8b"]


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_table_lists_installed_models_and_fits(sim, make_app, size):
    app = make_app(sim.url)
    async with app.run_test(size=size) as pilot:
        pane = await open_models(app, pilot)
        assert names(pane) == INSTALLED  # sorted by name
        text = screen_text(app)
        for name in INSTALLED:
            assert name in text
        line = next(ln for ln in text.splitlines() if "qwen3:8b" in ln)
        for value in ("5.2 GB", "8.2B", "Q4_K_M", "qwen3", "5d ago"):
            assert value in line
        assert "Name ▲" in text and "Modified" in text
        # the selected model's capabilities, as words
        await wait_for(pilot, lambda: "[completion] [tools]" in screen_text(app))


async def test_a_name_too_long_for_80_columns_is_cut_but_keeps_its_tag(sim, make_app):
    long = "someone/an-extremely-long-model-name-that-cannot-fit:and-a-long-tag"
    httpx.post(f"{sim.url}/api/copy", json={"source": "qwen3:8b", "destination": long}).raise_for_status()
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_models(app, pilot, count=5)
        text = screen_text(app)
        # the namespace and the middle of the model part go; the tag stays whole
        line = next(ln for ln in text.splitlines() if ":and-a-long-tag" in ln)
        assert "…/an-extremely" in line and long not in text
        assert "5.2 GB" in line and "Q4_K_M" in line  # size and quantization still show
        assert "Family" not in text  # the family column gave way to the names
        assert all(len(ln) <= 80 for ln in text.splitlines())


async def test_sort_by_keys(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_models(app, pilot)
        await pilot.press("s")  # next column: size
        assert names(pane) == ["nomic-embed-text:latest", "llama3.2:latest", "llava:7b", "qwen3:8b"]
        assert "Size ▲" in screen_text(app) and "by size ▲" in screen_text(app)
        await pilot.press("S")  # reverse
        assert names(pane) == ["qwen3:8b", "llava:7b", "llama3.2:latest", "nomic-embed-text:latest"]
        assert "Size ▼" in screen_text(app)
        await pilot.press("s", "s", "s", "s")  # params, quant, family, modified
        assert pane.query_one(LibraryTable).sort_column == "modified"
        assert names(pane) == ["nomic-embed-text:latest", "llava:7b", "qwen3:8b", "llama3.2:latest"]
        await pilot.press("s")  # back to name
        assert names(pane) == INSTALLED
        # what the screen shows follows the sort
        text = screen_text(app)
        assert text.index("llama3.2:latest") < text.index("llava:7b") < text.index("qwen3:8b")


async def test_filter_by_typing_and_letters_do_not_trigger_actions(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await pilot.press("/")
        assert isinstance(app.focused, FilterInput)
        await type_text(pilot, "ll")
        assert names(pane) == ["llama3.2:latest", "llava:7b"]
        text = screen_text(app)
        assert "qwen3:8b" not in text and "2 of 4 models" in text
        # d, c, p, x, k typed into the filter are text, not actions
        await type_text(pilot, "dcpxk")
        assert not isinstance(app.screen, (ConfirmDialog, TextDialog))
        assert pane.query_one(FilterInput).value == "lldcpxk"
        assert names(pane) == []
        await pilot.press("escape")  # clears the filter
        assert pane.query_one(FilterInput).value == ""
        assert names(pane) == INSTALLED
        await pilot.press("escape")  # back to the table
        assert isinstance(app.focused, LibraryTable)
        # filter by family
        await pilot.press("/", *"qwen", "enter")
        assert names(pane) == ["qwen3:8b"]
        assert isinstance(app.focused, LibraryTable)
        assert not [r for r in sim.requests if r[0] == "DELETE" or r[1] in ("/api/pull", "/api/copy")]


async def test_details_of_the_selected_model_fetched_once(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "llava:7b")
        await pilot.press("enter")  # narrow layout: the details replace the table
        details = pane.query_one(ModelDetails)
        assert app.focused is details
        await wait_for(pilot, lambda: "context length" in screen_text(app))
        text = screen_text(app)
        for expected in ("llava:7b", "[completion] [vision]", "context length  32,768", "architecture    llama",
                         "7.24B", "Q4_0", "System prompt", "You are a helpful vision assistant",
                         "stop = ['[INST]', '[/INST]']", "Template", "License", "Modelfile"):
            assert expected in text, expected
        assert "Apache License" in str(details.query_one("#details-license").render())
        assert "FROM" in str(details.query_one("#details-modelfile").render())
        # the license is long: the details view scrolls
        details.query_one("#details-license-box").collapsed = False
        await pilot.pause()
        assert details.max_scroll_y > 0
        await pilot.press("pagedown")
        assert details.scroll_y > 0
        await pilot.press("escape")
        assert isinstance(app.focused, LibraryTable)
        # moving away and back uses the cache
        await select(pilot, pane, "qwen3:8b")
        await wait_for(pilot, lambda: "[completion] [tools] [thinking]" in screen_text(app))
        await select(pilot, pane, "llava:7b")
        await wait_for(pilot, lambda: "[completion] [vision]" in screen_text(app))
        shows = [r for r in requests_to(sim, "/api/show") if r[2]["model"] == "llava:7b"]
        assert len(shows) == 1


async def test_details_beside_the_table_when_wide(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(140, 36)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "nomic-embed-text:latest")
        await wait_for(pilot, lambda: "[embedding]" in screen_text(app) and "context length" in screen_text(app))
        text = screen_text(app)
        line = next(ln for ln in text.splitlines() if "context length" in ln)
        assert "2,048" in line
        assert "qwen3:8b" in text  # the table is still there


async def test_delete_asks_with_name_and_size_then_the_list_changes(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "qwen3:8b")
        await pilot.press("d")
        await wait_for(pilot, lambda: "Delete qwen3:8b (5.2 GB)" in screen_text(app))
        await pilot.press("n")  # no: nothing happens
        assert not requests_to(sim, "/api/delete")
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: "qwen3:8b" not in names(pane))
        assert "qwen3:8b" not in sim.installed()
        assert "qwen3:8b" not in screen_text(app)


async def test_a_failed_delete_shows_the_server_message_and_the_list_stays_true(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "llava:7b")
        sim.inject("/api/delete", "status", status=500, message="permission denied: blobs are read-only")
        await pilot.press("d", "y")
        await wait_for(pilot, lambda: any("permission denied" in n.message for n in app._notifications))
        await wait_for(pilot, lambda: len(requests_to(sim, "/api/tags")) >= 2)  # re-listed after the failure
        assert "llava:7b" in names(pane) and "llava:7b" in sim.installed()


async def test_copy_validates_the_new_name_then_the_list_changes(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "llama3.2:latest")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        dialog = app.screen
        assert dialog.query_one("Input").value == "llama3.2:latest"
        dialog.query_one("Input").value = ""
        await type_text(pilot, "my model")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "invalid character ' '" in screen_text(app))
        assert isinstance(app.screen, TextDialog)
        assert not requests_to(sim, "/api/copy")
        dialog.query_one("Input").value = ""
        await type_text(pilot, "llama3.2:backup")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "llama3.2:backup" in names(pane))
        assert pane.query_one(LibraryTable).selected.name == "llama3.2:backup"
        assert "llama3.2:backup" in sim.installed()
        assert "llama3.2:backup" in screen_text(app)


async def test_create_from_the_form_streams_like_a_pull_and_lists_the_model(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "llama3.2:latest")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateModelDialog) and app.screen.query("#create-ok"))
        form = app.screen
        assert form.query_one("#create-from").value == "llama3.2:latest"
        await wait_for(pilot, lambda: app.focused is form.query_one("#create-name"))
        await type_text(pilot, "helper")
        form.query_one("#create-system").text = "You answer in one sentence."
        form.query_one("#create-parameters").text = "temperature=0.3\nbogus=1"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "unknown parameter 'bogus'" in screen_text(app))
        assert not requests_to(sim, "/api/create")
        form.query_one("#create-parameters").text = "temperature=0.3\nstop=END\nstop=STOP"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "helper:latest" in names(pane))
        row = row_for(pane, "helper")
        assert row is not None and row.job.state == "success" and "created" in str(row.render())
        body = requests_to(sim, "/api/create")[0][2]
        assert body["from"] == "llama3.2:latest" and body["system"] == "You answer in one sentence."
        assert body["parameters"] == {"temperature": 0.3, "stop": ["END", "STOP"]}
        show = httpx.post(f"{sim.url}/api/show", json={"model": "helper"}).json()
        assert show["system"] == "You answer in one sentence."


async def test_load_then_unload_change_the_running_models(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        running = pane.query_one(RunningTable)
        await wait_for(pilot, lambda: "Loaded models none" in screen_text(app))
        await select(pilot, pane, "qwen3:8b")
        await pilot.press("l")
        await wait_for(pilot, lambda: [m.name for m in running.models] == ["qwen3:8b"])
        assert sim.loaded() == ["qwen3:8b"]
        load = [r for r in requests_to(sim, "/api/chat")][-1][2]
        assert load["keep_alive"] == "5m" and load["messages"] == []
        text = screen_text(app)
        line = next(ln for ln in text.splitlines() if "qwen3:8b" in ln and "%" in ln)
        assert "78%" in line and ("4m " in line or "5m 00s" in line)  # GPU share, expires in ~5 min
        # k acts on the running table's row when it has focus
        await select(pilot, pane, "llama3.2:latest")
        running.focus()
        await pilot.press("k")
        await wait_for(pilot, lambda: running.models == [])
        assert sim.loaded() == []
        assert "Loaded models none" in screen_text(app)


async def test_keep_loaded_uses_the_configured_keep_alive(make_app, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[server]\nkeep_alive = "-1m"\n')
    with Simulator(token_rate=0) as sim:
        app = make_app(sim.url, config_path=config)
        async with app.run_test(size=(80, 24)) as pilot:
            pane = await open_models(app, pilot)
            await select(pilot, pane, "llama3.2:latest")
            await pilot.press("l")
            await wait_for(pilot, lambda: [m.name for m in pane.query_one(RunningTable).models] == ["llama3.2:latest"])
            assert requests_to(sim, "/api/chat")[-1][2]["keep_alive"] == "-1m"
            await wait_for(pilot, lambda: "forever" in screen_text(app))


async def test_running_models_polled_only_while_visible(sim, make_app, monkeypatch):
    monkeypatch.setattr(ModelsPane, "PS_INTERVAL", 0.05)
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        # The status line asks once, when the server comes up; no polling while the pane was never shown
        status = app.query_one("StatusLine")
        await wait_for(pilot, lambda: status.loaded is not None)
        await pilot.pause(0.3)
        assert len(requests_to(sim, "/api/ps")) == 1
        await open_models(app, pilot)
        await wait_for(pilot, lambda: len(requests_to(sim, "/api/ps")) >= 5)
        await pilot.press("f1")
        await pilot.pause(0.1)  # let a sample already in flight land
        hidden_at = len(requests_to(sim, "/api/ps"))
        await pilot.pause(0.5)  # ten intervals
        assert len(requests_to(sim, "/api/ps")) == hidden_at
        await pilot.press("f2")
        await wait_for(pilot, lambda: len(requests_to(sim, "/api/ps")) >= hidden_at + 3)


async def test_server_failure_on_listing_is_said_not_hidden(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        sim.inject("/api/tags", "status", status=500, message="database is locked")
        await pilot.press("R")
        await wait_for(pilot, lambda: "could not list models: database is locked" in screen_text(app))
        assert "list not refreshed" in screen_text(app)
        assert names(pane) == INSTALLED  # the last good list stays, marked as not refreshed
        await pilot.press("R")
        await wait_for(pilot, lambda: "4 models" in screen_text(app))


async def test_help_lists_the_models_keys(sim, make_app):
    from tui.ui.keymap import binding_rows

    rows = [(where, key, what) for where, key, _name, what in binding_rows(make_app(sim.url)) if where == "Models"]
    keys = {key for _w, key, _what in rows}
    for key in ("/", "s", "S", "p", "x", "u", "U", "d", "c", "n", "l", "k"):
        assert key in keys, key
    assert all(what for _w, _k, what in rows)


async def test_palette_commands_show_the_pane_and_start_the_flow(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.built_pane("models") is None  # built when first needed
        await pilot.press("ctrl+p", *"Models: pull a model")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
        assert app.current_pane == "models"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))
        assert not requests_to(sim, "/api/pull")


async def test_loading_a_model_that_wont_fit_asks_first(make_app):
    from tui.service.monitor.gpu import FakeGpuBackend

    with Simulator(token_rate=0) as sim:
        sim.add_installed("giant:1t", size=10**15)  # more than any machine's VRAM + RAM
        app = make_app(sim.url, gpu_backend=FakeGpuBackend(1))
        async with app.run_test(size=(100, 30)) as pilot:
            pane = await open_models(app, pilot, count=5)
            await wait_for(pilot, lambda: app.sampler.last is not None and app.sampler.last.host is not None)
            await select(pilot, pane, "giant:1t")
            await pilot.press("l")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            assert "giant:1t needs" in screen_text(app) and "Load anyway?" in screen_text(app)
            await pilot.press("escape")  # no: nothing is loaded
            await wait_for(pilot, lambda: any("not loaded" in t for t in toasts(app)))
            assert not requests_to(sim, "/api/chat") and sim.loaded() == []
            await pilot.press("l")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            await pilot.press("y")  # go ahead
            await wait_for(pilot, lambda: sim.loaded() == ["giant:1t"])
