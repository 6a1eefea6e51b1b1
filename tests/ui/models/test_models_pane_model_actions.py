"""ModelActions on its own: a bare App with a client on the simulator and a host widget that
owns the helper and collects what it posts (the Models pane refreshes its lists on the same)."""

from __future__ import annotations

from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.service.config import ConfigStore
from tui.service.ollama import OllamaClient
from tui.service.ollama.types import ModelInfo
from tui.service.services import Services
from tui.ui.models.model_actions import ModelActions
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


class Host(Static):
    def __init__(self) -> None:
        super().__init__()
        self.actions = ModelActions(self)
        self.news: list[tuple[str, str | None]] = []

    @on(ModelActions.LibraryChanged)
    def _library(self, message: ModelActions.LibraryChanged) -> None:
        self.news.append(("library", message.select))

    @on(ModelActions.RunningChanged)
    def _running(self, message: ModelActions.RunningChanged) -> None:
        self.news.append(("running", None))


class RoomForAll:
    """The App's memory-fit check, answering that everything fits (the check has its own tests)."""

    async def fit_warning(self, name: str, size: int | None) -> str | None:
        return None


class ActionsApp(App):
    def __init__(self, url: str, folder) -> None:
        super().__init__()
        self.client = OllamaClient(url, retries=0)  # the app's connect timeout (tests/ui/conftest.py)
        self.services = Services.build(ConfigStore(folder / "config.toml"), url, db_path=":memory:",
                                       provider=self.client)
        self.monitor = RoomForAll()
        self.toasts: list[str] = []

    def compose(self) -> ComposeResult:
        yield Host()

    def notify(self, message: str, *, title: str = "", **kwargs) -> None:
        """A bare App draws no toasts headless: keep what a toast would say."""
        self.toasts.append(f"{title}: {message}")
        super().notify(message, title=title, **kwargs)

    async def on_unmount(self) -> None:
        await self.client.aclose()


async def test_load_then_unload_posts_running_changed(sim, tmp_path):
    app = ActionsApp(sim.url, tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        host = app.query_one(Host)
        host.actions.load("llama3.2:latest", None)
        await wait_for(pilot, lambda: host.news == [("running", None)])
        assert "llama3.2:latest" in sim.loaded()
        assert "Loaded llama3.2:latest" in "\n".join(app.toasts)
        host.actions.unload("llama3.2:latest")
        await wait_for(pilot, lambda: len(host.news) == 2)
        assert "llama3.2:latest" not in sim.loaded()
        await wait_for(pilot, lambda: "Unloaded llama3.2:latest" in "\n".join(app.toasts))


async def test_copy_asks_for_a_new_name_and_keeps_the_cursor_on_the_copy(sim, tmp_path):
    app = ActionsApp(sim.url, tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        host = app.query_one(Host)
        host.actions.copy(ModelInfo(name="llama3.2:latest"))
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        field = app.screen.query_one("Input")
        assert field.value == "llama3.2:latest"
        field.value = "mine:v1"
        await pilot.press("enter")
        await wait_for(pilot, lambda: host.news == [("library", "mine:v1")])
        assert "mine:v1" in sim.installed()


async def test_delete_asks_first_and_a_failure_is_said_and_still_relists(sim, tmp_path):
    app = ActionsApp(sim.url, tmp_path)
    async with app.run_test(size=(100, 24)) as pilot:
        host = app.query_one(Host)
        host.actions.delete(ModelInfo(name="no-such:latest", size=0))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog)
                       and "Delete no-such:latest (size unknown)" in screen_text(app))
        await pilot.press("y")
        await wait_for(pilot, lambda: host.news == [("library", None)])
        await wait_for(pilot, lambda: "Delete failed" in "\n".join(app.toasts))
        host.actions.delete(ModelInfo(name="llama3.2:latest", size=2_000_000_000))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")  # no: nothing happens
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
        await pilot.pause(0.1)
        assert "llama3.2:latest" in sim.installed() and len(host.news) == 1
