"""One error path: a worker's unexpected exception, wherever the worker was started (the app, a
pane, the status line, the compare screen, a dialog, the palette), is a toast saying what
failed and a traceback in the log file."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tui.service import logs, paths
from tui.ui.chat.pane import ChatPane
from tui.ui.shell.status_line import StatusLine

# Markup-like and control text: the toast is rendered with markup off and the text made inert.
MESSAGE = "injected [/] failure \x1b[31m"
SHOWN = "injected [/] failure ␛[31m"


def boom(*_args: Any, **_kwargs: Any) -> Any:
    raise ValueError(MESSAGE)


async def aboom(*_args: Any, **_kwargs: Any) -> Any:
    raise ValueError(MESSAGE)


def toasts(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def toast_area(app) -> str:
    """What the screen shows where the toasts are (each one's region cut out of the screen's
    text), their wrapped lines joined."""
    from textual.widgets._toast import Toast

    lines = screen_text(app).splitlines()
    parts = []
    for toast in app.screen.query(Toast):
        region = toast.region
        parts += [line[region.x:region.right].strip(" ▌") for line in lines[region.y:region.bottom]]
    return re.sub(r"\s+", " ", " ".join(parts))


async def ready(app, pilot) -> None:
    await wait_for(pilot, lambda: app.history is not None and app.query_one(ChatPane).service is not None
                   and app.query_one(StatusLine).state is not None and app.query_one(StatusLine).state.up)


# -- the groups: (patch before the app runs, what to do once it is ready, what the toast says) --

def _before_history(app, monkeypatch) -> None:
    from tui.service.history import HistoryStore

    monkeypatch.setattr(HistoryStore, "open", classmethod(lambda cls, *a, **k: aboom()))


async def _send(app, pilot, monkeypatch) -> None:
    monkeypatch.setattr(app.query_one(ChatPane).service, "add_user_message", aboom)
    await pilot.press(*"hello", "enter")


async def _search(app, pilot, monkeypatch) -> None:
    monkeypatch.setattr(app.history, "search", aboom)
    await pilot.press("ctrl+f")
    await pilot.press(*"hello")


async def _models_tags(app, pilot, monkeypatch) -> None:
    monkeypatch.setattr(app.client, "tags", aboom)
    await pilot.press("f2")


async def _models_ps(app, pilot, monkeypatch) -> None:
    monkeypatch.setattr(app.client, "ps", aboom)
    await pilot.press("f2")


async def _models_details(app, pilot, monkeypatch) -> None:
    monkeypatch.setattr(app.client, "show", aboom)
    await pilot.press("f2")


async def _compare_models(app, pilot, monkeypatch) -> None:
    monkeypatch.setattr(app.client, "tags", aboom)
    await pilot.press("f10")


async def _palette(app, pilot, monkeypatch) -> None:
    from tui.ui.models.pane import ModelsPane

    monkeypatch.setattr(ModelsPane, "action_refresh", boom)
    command = next(c for c in app.get_system_commands(app.screen) if c.title == "Models: refresh")
    command.callback()  # what the palette runs when the command is chosen


async def _request_pull(app, pilot, monkeypatch) -> None:
    from tui.ui.models.pane import ModelsPane

    monkeypatch.setattr(ModelsPane, "start_pull", boom)
    app.request_pull("llama3.2")


class _Unlistable:
    """What a provider's ps() returns here: iterating over it raises (outside the worker's own
    `except` around the request)."""

    def __iter__(self) -> Any:
        raise ValueError(MESSAGE)


async def _status_ps(app, pilot, monkeypatch) -> None:
    async def unlistable(*_args: Any, **_kwargs: Any) -> Any:
        return _Unlistable()

    monkeypatch.setattr(app.client, "ps", unlistable)
    app.query_one(StatusLine).refresh_loaded()  # what a new connection or host starts


async def _model_action(app, pilot, monkeypatch) -> None:
    from tests.ui.models.test_models_pane_support import open_models

    models = await open_models(app, pilot)
    monkeypatch.setattr(app.client, "unload", aboom)
    models.model_actions.unload("llama3.2:latest")  # what k does on a loaded model


async def _compare_screen(app, pilot) -> Any:
    from tui.ui.compare.screen import BenchScreen

    await pilot.press("f10")
    await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
    return app.screen


def _before_bench_saved(app, monkeypatch) -> None:
    from tui.service.bench.store import BenchStore

    monkeypatch.setattr(BenchStore, "list_runs", aboom)


async def _bench_saved(app, pilot, monkeypatch) -> None:
    await pilot.press("f10")  # the saved runs are listed when the screen opens


async def _bench_run(app, pilot, monkeypatch) -> None:
    screen = await _compare_screen(app, pilot)
    monkeypatch.setattr(screen, "_new_columns", aboom)
    screen._run_compare(["llama3.2:latest"], "hello", {}, False)  # what F5 on the Compare tab starts


async def _bench_misc(app, pilot, monkeypatch) -> None:
    from tui.service.bench.store import BenchStore

    screen = await _compare_screen(app, pilot)
    monkeypatch.setattr(BenchStore, "delete", aboom)
    screen._delete(1)  # what d on the Saved tab starts


def _before_fleet(app, monkeypatch) -> None:
    from tui.ui.monitor import fleet

    monkeypatch.setattr(fleet.FleetWatcher, "run", aboom)


async def _fleet(app, pilot, monkeypatch) -> None:
    await pilot.press("f3")  # the watch starts when the Monitor is first shown


async def _fleet_close(app, pilot, monkeypatch) -> None:
    from dataclasses import replace

    from tui.ui.monitor.fleet import FleetFeed

    await pilot.press("f3")
    await wait_for(pilot, lambda: app.fleet.watcher is not None)
    monkeypatch.setattr(FleetFeed, "_close", staticmethod(aboom))
    app.fleet.apply_config(replace(app.config, hosts={}))  # what saving the config without the host does


async def _relist_chats(app, pilot, monkeypatch) -> None:
    screen = await _compare_screen(app, pilot)
    monkeypatch.setattr(app.query_one(ChatPane), "refresh_sessions", aboom)
    screen._list_chats_again()  # what a finished batch starts


def _before_tools(app, monkeypatch) -> None:
    from tui.ui.tools.screen import ToolsScreen

    monkeypatch.setattr(ToolsScreen, "show", lambda self: None)  # the list (and its timer) left out
    monkeypatch.setattr(ToolsScreen, "_hub", boom)


async def _tools(app, pilot, monkeypatch) -> None:
    from tui.ui.tools.screen import ToolsScreen

    app.push_screen(ToolsScreen())
    await wait_for(pilot, lambda: isinstance(app.screen, ToolsScreen))
    app.screen._start("calc")  # what s on a server starts


def _before_connection(app, monkeypatch) -> None:
    monkeypatch.setattr(app.connection, "run", aboom)


def _before_start(app, monkeypatch) -> None:
    monkeypatch.setattr(app, "_import_services", boom)


def _before_warm(app, monkeypatch) -> None:
    import tui.app

    monkeypatch.setattr(tui.app, "_import_markdown", boom)


def _before_monitor(app, monkeypatch) -> None:
    monkeypatch.setattr(app.sampler, "run", aboom)


# group → (patch before the app runs, what to do once it is ready — None: nothing, the failure
# comes as the app starts —, what the toast says). The worker groups of tui/ (group=… or name=…).
GROUPS: dict[str, tuple[Callable | None, Callable | None, str]] = {
    "history": (_before_history, None, "open the chat history failed"),
    "send": (None, _send, "send a prompt failed"),
    "search": (None, _search, "search history failed"),
    "models-tags": (None, _models_tags, "list installed models failed"),
    "models-ps": (None, _models_ps, "list running models failed"),
    "models-details": (None, _models_details, "fetch a model's details failed"),
    "compare-screen": (None, _compare_models, "list the installed models failed"),
    "palette": (None, _palette, "run 'Models: refresh' failed"),
    "request-pull": (None, _request_pull, "hand a pull to the Models pane failed"),
    "status-ps": (None, _status_ps, "ask what is loaded failed"),
    "model-action": (None, _model_action, "unload a model failed"),
    "bench-saved": (_before_bench_saved, _bench_saved, "list the saved runs failed"),
    "bench-run": (None, _bench_run, "compare the models failed"),
    "bench-misc": (None, _bench_misc, "delete the saved run failed"),
    "fleet": (_before_fleet, _fleet, "watch the [hosts] fleet failed"),
    "fleet-close": (None, _fleet_close, "close the clients of hosts no longer watched failed"),
    "relist-chats": (None, _relist_chats, "list the chats again failed"),
    "tools": (_before_tools, _tools, "start a tool server failed"),
    "connection": (_before_connection, None, "watch the Ollama server failed"),
    "start": (_before_start, None, "start the history, server watch and sampler failed"),
    "warm": (_before_warm, None, "load markdown and highlighting failed"),
}

# The groups that need a config: the fleet watch runs only with a [hosts] table.
CONFIGS = {group: '[hosts."other"]\nurl = "http://127.0.0.1:9"\nkind = "ollama"\n'
           for group in ("fleet", "fleet-close")}


@pytest.mark.parametrize("group", list(GROUPS))
async def test_a_failing_worker_is_a_toast_and_a_logged_traceback(sim, make_app, monkeypatch, tmp_path, group):
    before, trigger, what = GROUPS[group]
    if group in CONFIGS:
        (tmp_path / "config.toml").write_text(CONFIGS[group], encoding="utf-8")
    app = make_app(sim.url)
    if before is not None:
        before(app, monkeypatch)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        if trigger is None:
            await wait_for(pilot, lambda: any(what in t for t in toasts(app)))
        else:
            await ready(app, pilot)
            await trigger(app, pilot, monkeypatch)
        expected = f"Something went wrong: {what}: ValueError: {SHOWN}"
        await wait_for(pilot, lambda: expected in toasts(app))
        # on screen: the title, then the message as it was raised, made inert, markup shown as is
        await wait_for(pilot, lambda: f"Something went wrong {what}: ValueError: {SHOWN}" in toast_area(app))
        assert sum(what in t for t in toasts(app)) == 1  # reported once, not by two handlers
        log = paths.log_path().read_text(encoding="utf-8")
        assert f"ERROR tui.ui.shell.worker_errors: {what}" in log
        assert "Traceback (most recent call last):" in log
        assert f"ValueError: {MESSAGE}" in log
        assert app.is_running  # the app goes on


async def test_the_monitor_feed_reports_its_own_failure_once(sim, make_app, monkeypatch):
    """The feed catches the sampler's exception itself: its own toast, logged, no second one."""
    app = make_app(sim.url)
    _before_monitor(app, monkeypatch)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: any("The resource monitor stopped" in t for t in toasts(app)))
        assert f"Monitor: The resource monitor stopped: {SHOWN}" in toasts(app)
        assert not any("went wrong" in t for t in toasts(app))
        await wait_for(pilot, lambda: f"Monitor The resource monitor stopped: {SHOWN}" in toast_area(app))
        log = paths.log_path().read_text(encoding="utf-8")
        assert "ERROR tui.ui.monitor.feed: resource sampler stopped" in log
        assert "Traceback (most recent call last):" in log and f"ValueError: {MESSAGE}" in log


async def test_a_cancelled_worker_is_not_an_error(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(app, pilot)
        import asyncio

        started = asyncio.Event()

        async def forever() -> None:
            started.set()
            await asyncio.Event().wait()

        worker = app.query_one(ChatPane).run_worker(forever(), exit_on_error=False, description="wait")
        await started.wait()
        worker.cancel()
        await wait_for(pilot, lambda: worker.is_finished and worker not in app.workers)
        await pilot.pause()
        assert not any("went wrong" in t for t in toasts(app))
        assert not paths.log_path().exists() or "wait failed" not in paths.log_path().read_text()


async def test_the_log_handler_is_removed_when_the_app_ends(sim, make_app):
    import logging

    app = make_app(sim.url)
    before = list(logging.getLogger().handlers)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        assert logs.active_path() == paths.log_path()
    assert logging.getLogger().handlers == before
    assert logs.active_path() is None


async def test_an_error_that_ends_the_app_is_logged_with_its_traceback_first(sim, make_app):
    """Not a worker's: a callback's exception ends the app (Textual prints it); the log has it."""
    app = make_app(sim.url)
    with pytest.raises(ValueError, match="injected"):
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(app, pilot)
            app.call_later(boom)
            await wait_for(pilot, lambda: app.return_code == 1)
    log = paths.log_path().read_text(encoding="utf-8")
    assert "CRITICAL tui.app: ollama-tui stopped on an unexpected error" in log
    assert "Traceback (most recent call last):" in log and f"ValueError: {MESSAGE}" in log
    assert logs.active_path() is None


async def test_a_header_value_in_a_failure_never_reaches_the_log(sim, make_app, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text("[server.headers]\nAuthorization = 'Bearer sekret-header-value'\n")
    config.chmod(0o600)
    app = make_app(sim.url, config_path=config)

    async def leaky(*_args: Any, **_kwargs: Any) -> Any:
        raise ValueError("proxy said no to Authorization: Bearer sekret-header-value")

    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        monkeypatch.setattr(app.client, "tags", leaky)
        await pilot.press("f2")
        await wait_for(pilot, lambda: any("list installed models failed" in t for t in toasts(app)))
    log = paths.log_path().read_text(encoding="utf-8")
    assert "ValueError: proxy said no to Authorization: ***" in log
    assert "sekret" not in log


@pytest.mark.parametrize(("flag", "level"), [(None, "DEBUG"), ("error", "ERROR")])
async def test_a_saved_log_level_applies_at_once_unless_the_flag_set_one(sim, make_app, flag, level):
    import logging

    app = make_app(sim.url, log_level=flag)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        assert logging.getLevelName(logging.getLogger("tui").level) == (flag or "warning").upper()
        app.config_store.set("ui.log_level", "debug")  # what Settings does, then apply_config
        app.config_store.save()
        app.apply_config()
        assert logging.getLevelName(logging.getLogger("tui").level) == level


async def test_a_screen_closed_while_its_worker_waits_is_no_error_to_show(sim, make_app, monkeypatch):
    """F10 twice in a row: the Compare screen's model listing returns after the screen's widgets
    were removed and before Textual cancels the screen's workers. Its query for a widget that
    is gone is no failure to show (the log says it stopped, at info level)."""
    import asyncio

    from textual.css.query import NoMatches
    from textual.widgets import SelectionList

    import tui.ui.compare.screen as compare

    gate = asyncio.Event()

    async def listing(*_args: Any, **_kwargs: Any) -> list:
        await gate.wait()  # the answer comes as the screen's widgets are being removed
        return []

    monkeypatch.setattr(compare, "list_everywhere", listing)
    monkeypatch.setattr(SelectionList, "on_unmount", lambda self: gate.set(), raising=False)
    app = make_app(sim.url)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await ready(app, pilot)
        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, compare.BenchScreen))
        worker = next(w for w in app.workers if w.group == "bench-models")
        await pilot.press("f10")
        await wait_for(pilot, lambda: worker.is_finished and not isinstance(app.screen, compare.BenchScreen))
        assert isinstance(worker.error, NoMatches)  # the race happened: the listing found no list
        await pilot.pause(0.1)
        assert not any("went wrong" in t for t in toasts(app)), toasts(app)
        log = paths.log_path()
        assert not log.exists() or "list the installed models failed" not in log.read_text(encoding="utf-8")
        assert app.is_running
