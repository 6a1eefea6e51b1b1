"""The PullPanel on its own (a bare App with a client on the simulator) and as the Models pane's
part: its rows and title, what it posts when a job ends, and the pane's keys it answers."""

from __future__ import annotations

from textual import on
from textual.app import App, ComposeResult

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.models.test_models_pane_support import open_models, row_text, select
from tui.service.config import ConfigStore
from tui.service.ollama import OllamaClient
from tui.service.pulls import PullJob
from tui.service.services import Services
from tui.simulator import Simulator
from tui.ui.models.library import LibraryTable
from tui.ui.models.pull_panel import PullPanel
from tui.ui.models.pull_rows import PullList
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


class PanelApp(App):
    """Just the panel; `finished` collects what it posts."""

    def __init__(self, url: str, folder) -> None:
        super().__init__()
        self.client = OllamaClient(url, retries=0)  # the app's connect timeout (tests/ui/conftest.py)
        self.services = Services.build(ConfigStore(folder / "config.toml"), url, db_path=":memory:",
                                       provider=self.client)
        self.toasts: list[str] = []
        self.finished: list[PullJob] = []

    def compose(self) -> ComposeResult:
        yield PullPanel(id="pulls-box")

    @on(PullPanel.Finished)
    def _finished(self, message: PullPanel.Finished) -> None:
        self.finished.append(message.job)

    def notify(self, message: str, *, title: str = "", **kwargs) -> None:
        """A bare App draws no toasts headless: keep what a toast would say."""
        self.toasts.append(f"{title}: {message}")
        super().notify(message, title=title, **kwargs)

    async def on_unmount(self) -> None:
        await self.client.aclose()


def toasts(app) -> str:
    return "\n".join(app.toasts)


def title(app: App) -> str:
    return str(app.query_one("#pulls-title").render())


async def test_a_pull_shows_a_row_then_posts_finished_and_clearing_hides_the_panel(sim, tmp_home):
    sim.add_remote_model("tiny:latest", [1_000_000])
    app = PanelApp(sim.url, tmp_home)
    async with app.run_test(size=(100, 24)) as pilot:
        panel = app.query_one(PullPanel)
        await pilot.pause()
        assert not panel.display  # nothing to show yet
        panel.start_pull("  tiny  ")
        await wait_for(pilot, lambda: bool(app.finished))
        assert panel.display
        [job] = app.finished
        assert (job.name, job.state) == ("tiny", "success")
        [row] = panel.pull_list.rows
        await wait_for(pilot, lambda: "1 done" in title(app))
        assert "pulled" in row_text(row) and "X clear done" in title(app)
        await wait_for(pilot, lambda: "Pulled tiny" in toasts(app))
        panel.clear_finished()
        await wait_for(pilot, lambda: not panel.pull_list.rows and not panel.display)
        assert app.finished == [job]  # posted once


async def test_a_failed_pull_posts_finished_and_says_why(sim, tmp_home):
    app = PanelApp(sim.url, tmp_home)
    async with app.run_test(size=(100, 24)) as pilot:
        panel = app.query_one(PullPanel)
        panel.start_pull("no-such-model:latest")
        await wait_for(pilot, lambda: bool(app.finished))
        assert app.finished[0].state == "error"
        await wait_for(pilot, lambda: "Pull failed" in toasts(app))
        assert "1 done" in title(app) and "failed" in row_text(panel.pull_list.rows[0])


async def test_a_bad_name_is_refused_and_nothing_is_selected_to_cancel(sim, tmp_home):
    app = PanelApp(sim.url, tmp_home)
    async with app.run_test(size=(100, 24)) as pilot:
        panel = app.query_one(PullPanel)
        panel.start_pull("not a name!")
        await wait_for(pilot, lambda: "Pull refused" in toasts(app))
        panel.cancel_selected()
        await wait_for(pilot, lambda: "No running or queued pull is selected." in toasts(app))
        assert not panel.pull_list.rows and not panel.display and not app.finished


async def test_an_update_check_is_titled_update_and_says_up_to_date(sim, tmp_home):
    app = PanelApp(sim.url, tmp_home)
    async with app.run_test(size=(100, 24)) as pilot:
        panel = app.query_one(PullPanel)
        panel.check_update("llama3.2:latest")
        await wait_for(pilot, lambda: bool(app.finished))
        [row] = panel.pull_list.rows
        assert row_text(row).splitlines()[0].lstrip("▶ ").startswith("✓ update llama3.2:latest")
        await wait_for(pilot, lambda: "llama3.2:latest is up to date" in toasts(app))


async def test_checking_no_models_for_updates_warns_and_asks_nothing(sim, tmp_home):
    app = PanelApp(sim.url, tmp_home)
    async with app.run_test(size=(100, 24)) as pilot:
        app.query_one(PullPanel).check_updates([])
        await wait_for(pilot, lambda: "No installed models to check." in toasts(app))
        assert not isinstance(app.screen, ConfirmDialog)


async def test_a_job_on_another_host_names_it_and_posts_no_finished(sim, tmp_home):
    """Finished makes the pane list this host's models again as if the model had arrived here:
    a job on another host toasts with the host's name and posts nothing."""
    with Simulator(token_rate=0, pull_rate=1e12, pull_tick=0.001) as b:
        b.add_remote_model("tiny:latest", [1_000_000])
        (tmp_home / "config.toml").write_text(f'[hosts.A]\nurl = "{sim.url}"\n\n[hosts.B]\nurl = "{b.url}"\n\n'
                                              '[hosts.oa]\nurl = "http://127.0.0.1:9/v1"\nkind = "openai"\n')
        app = PanelApp(sim.url, tmp_home)
        store = ConfigStore(tmp_home / "config.toml")
        store.load()  # the hosts A (current) and B
        app.services = Services.build(store, sim.url, db_path=":memory:", provider=app.client)
        async with app.run_test(size=(100, 24)) as pilot:
            panel = app.query_one(PullPanel)
            panel.start_pull("tiny @ B")
            await wait_for(pilot, lambda: "Pull: Pulled tiny on B (1.0 MB)" in toasts(app))
            panel.start_pull("no-such-model @ B")
            await wait_for(pilot, lambda: "Pull failed: no-such-model on B: " in toasts(app))
            assert [(r.job.name, r.job.host, r.job.state) for r in panel.pull_list.rows] == [
                ("tiny", "B", "success"), ("no-such-model", "B", "error")]
            assert "2 done" in title(app)
            assert app.finished == []
            assert "tiny:latest" in b.installed() and "tiny:latest" not in sim.installed()
            panel.start_pull("tiny @ oa")  # what the dialog refuses, handed in from elsewhere
            await wait_for(pilot, lambda: "Pull refused: oa is not an Ollama host: pulls are not available there"
                           in toasts(app))
            assert len(panel.pull_list.rows) == 2


async def test_a_broken_opener_is_the_rows_error_not_a_crash(sim, tmp_home, monkeypatch):
    """The job's provider is opened when it starts: anything that goes wrong there (a bug, a
    host that cannot be reached) ends the job in error with the reason, made inert."""
    (tmp_home / "config.toml").write_text(f'[hosts.A]\nurl = "{sim.url}"\n\n[hosts.B]\nurl = "http://127.0.0.1:9"\n')
    app = PanelApp(sim.url, tmp_home)
    store = ConfigStore(tmp_home / "config.toml")
    store.load()
    app.services = Services.build(store, sim.url, db_path=":memory:", provider=app.client)

    def broken(_host):
        raise ValueError("no [b]provider[/b] \x1b[31m")

    async with app.run_test(size=(100, 24)) as pilot:
        panel = app.query_one(PullPanel)
        monkeypatch.setattr(app.services.hosts, "borrow", broken)
        panel.start_pull("tiny @ B")
        await wait_for(pilot, lambda: "Pull failed: tiny on B: no [b]provider[/b] ␛[31m" in toasts(app))
        [row] = panel.pull_list.rows
        assert row.job.state == "error" and row.job.error_type == "ValueError"
        assert "error: no [b]provider[/b] ␛[31m" in row_text(row)
        assert app.finished == [] and app.is_running


# -- as the Models pane's part: its keys work wherever the focus is in the pane --------------------


async def test_the_panels_keys_work_from_the_library_and_a_finished_pull_lists_the_model(sim, make_app):
    sim.add_remote_model("tiny:latest", [1_000_000])
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:  # toasts drawn
        pane = await open_models(app, pilot)
        assert app.focused is pane.query_one(LibraryTable)
        footer = screen_text(app).splitlines()[-1]
        assert "p Pull" in footer and "x Cancel pull" in footer
        await pilot.press("x")  # nothing to cancel: said, not done
        await wait_for(pilot, lambda: "No running or queued pull is selected." in screen_text(app))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        app.screen.query_one("Input").value = "tiny"
        await pilot.press("enter")
        # PullPanel.Finished → the pane lists the installed models again
        await wait_for(pilot, lambda: "tiny:latest" in [m.name for m in pane.query_one(LibraryTable).shown])
        assert pane.query_one(PullPanel).display
        await pilot.press("X")  # clear finished, from the library too
        await wait_for(pilot, lambda: not pane.query_one(PullPanel).display)


async def test_u_checks_the_selected_model_and_p_in_the_pull_list_offers_its_row(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "llava:7b")
        await pilot.press("u")
        pull_list = pane.query_one(PullList)
        await wait_for(pilot, lambda: pull_list.selected is not None and pull_list.selected.job.finished)
        assert pull_list.selected.update_check and pull_list.selected.job.name == "llava:7b"
        pull_list.focus()
        await pilot.press("t")  # the layers of the ▶ row, from the pull list
        await wait_for(pilot, lambda: pull_list.selected.expanded)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        assert app.screen.query_one("Input").value == "llava:7b"
