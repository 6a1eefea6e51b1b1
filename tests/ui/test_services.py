"""The App over typed Services (issue 15): config changes reach panes as a message; a host
change makes a new client and closes the old one."""

from __future__ import annotations

from textual.widgets import Static

from tests.ui.conftest import wait_for
from tui.service.services import Services
from tui.simulator import Simulator
from tui.ui.access import services
from tui.ui.chat.pane import ChatPane
from tui.ui.events import ConfigChanged
from tui.ui.shell.status_line import StatusLine


async def test_the_app_is_built_over_services(make_app):
    with Simulator() as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 30)) as pilot:
            chat = app.query_one(ChatPane)
            assert isinstance(app.services, Services) and services(chat) is app.services
            assert app.client is app.services.hosts.provider
            assert app.config is app.config_store.saved
            await wait_for(pilot, lambda: app.history is not None and chat.service is not None)
            assert app.services.require_history() is app.history and chat.service is app.services.chat


async def test_config_changes_reach_the_panes_as_a_message(make_app, monkeypatch):
    seen: list[ConfigChanged] = []
    original = ChatPane.on_config_changed

    def spy(pane: ChatPane, event: ConfigChanged) -> None:
        seen.append(event)
        original(pane, event)

    monkeypatch.setattr(ChatPane, "on_config_changed", spy)
    with Simulator() as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 30)) as pilot:
            header = app.query_one("#chat-header", Static)
            assert "preset balanced" in str(header.render())
            app.config_store.set("chat.default_preset", "precise")
            assert app.config.chat.default_preset == "balanced"  # an unsaved edit is not in use
            app.config_store.save()
            app.apply_config()  # what Settings does after saving
            await wait_for(pilot, lambda: seen)
            assert seen[0].config is app.config and app.config.chat.default_preset == "precise"
            await wait_for(pilot, lambda: "preset precise" in str(header.render()))


async def test_a_models_pane_built_hears_config_changes(make_app):
    with Simulator() as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f2")
            models = await app.pane("models")
            await wait_for(pilot, lambda: models.pull_panel.manager is not None)
            app.config_store.set("pulls.concurrent", 3)
            app.config_store.save()
            app.apply_config()
            await wait_for(pilot, lambda: models.pull_panel.manager.concurrency == 3)


async def test_a_host_change_makes_a_new_client_and_closes_the_old(make_app):
    with Simulator() as first, Simulator(version="0.34.1") as second:
        app = make_app(first.url)
        async with app.run_test(size=(100, 30)) as pilot:
            status = app.query_one(StatusLine)
            await wait_for(pilot, lambda: status.state is not None and status.state.up)
            old = app.client
            await pilot.press("f2")
            models = await app.pane("models")
            await wait_for(pilot, lambda: models.pull_panel.manager is not None)
            await pilot.press("f3", "h")
            await pilot.pause()
            app.screen.query_one("#host-input").value = ""
            await pilot.press(*f":{second.port}", "enter")
            await wait_for(pilot, lambda: status.state.up and status.state.version == "0.34.1")
            assert app.client is not old and app.services.hosts.host.url == f"http://127.0.0.1:{second.port}"
            assert app.connection.client is app.client
            assert models.pull_panel.manager._client is app.client  # later pulls go to the new host
            await app.services.hosts.aclose_retired()
            assert old.closed


def test_the_app_offers_what_the_panes_ask_of_it():
    """tui.ui.access.TuiApp is what panes may use of the App; the App must have all of it."""
    from tui.app import OllamaTUI
    from tui.ui.access import TuiApp

    wanted = [n for n in dir(TuiApp) if not n.startswith("_")] + list(TuiApp.__annotations__)
    instance_attrs = {"default_model", "connection", "monitor", "sampler", "key_overrides"}  # set in __init__
    missing = [n for n in wanted if n not in instance_attrs and not hasattr(OllamaTUI, n)]
    assert not missing
    source = __import__("inspect").getsource(OllamaTUI.__init__)
    assert [n for n in instance_attrs if f"self.{n} =" not in source and f"self.{n}:" not in source] == []
