"""Models pane pulls: live progress rows, concurrency and queueing, cancel/resume, errors, updates."""

from __future__ import annotations

import re

import pytest

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.models.test_models_pane_support import (
    names,
    open_models,
    requests_to,
    row_for,
    row_text,
    rows,
    select,
)
from tests.waiting import type_text
from tui.service.pulls import PullManager
from tui.simulator import Simulator
from tui.ui.models.pull_rows import PullList
from tui.ui.shell.status_line import StatusLine
from tui.ui.widgets.dialogs import TextDialog


@pytest.fixture(autouse=True)
def bounded_idle_wait(monkeypatch):
    """Pilot waits after each key until the *process* is idle (up to 1 s per wait). The simulator
    streaming a pull runs in this process, so it never looks idle and every key press would cost
    seconds; cap the wait. Every check below waits on an observable condition instead."""
    import textual.app
    import textual.pilot
    from textual._wait import wait_for_idle

    async def short_wait(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
        await wait_for_idle(min_sleep, min(max_sleep, 0.05))

    for module in (textual.app, textual.pilot):
        monkeypatch.setattr(module, "wait_for_idle", short_wait)


@pytest.fixture
def slow_sim():
    """Pulls at 250 MB/s with a progress line every 10 ms (100 lines/s per pull)."""
    with Simulator(token_rate=0, pull_rate=250e6, pull_tick=0.01) as sim:
        yield sim


async def pull(pilot, app, name: str, *, new_row: bool = True) -> None:
    """p, the name, Enter; then (by default) wait for the pull's new row."""
    pane = app.query_one("ModelsPane")
    before = {r.job.id for r in rows(pane)}
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
    app.screen.query_one("Input").value = name  # typing is covered elsewhere; this keeps pulls in step
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, TextDialog))
    if new_row:
        await wait_for(pilot, lambda: any(r.job.name == name and r.job.id not in before for r in rows(pane)))


@pytest.fixture
def paced_sim():
    """Pulls at 70 MB/s: the first 200 MB layer lasts ~3 s, so even a slow CI runner is still on it
    when the test starts watching (at 250 MB/s it was sometimes done before the first look)."""
    with Simulator(token_rate=0, pull_rate=70e6, pull_tick=0.01) as sim:
        yield sim


async def test_pull_with_several_layers_shows_monotonic_progress_and_ends_in_the_table(paced_sim, make_app):
    sim = paced_sim
    sim.add_remote_model("layered:latest", [200_000_000, 100_000_000, 50_000_000], family="phi",
                         parameter_size="2.7B")
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await pull(pilot, app, "layered")
        row = row_for(pane, "layered")
        assert row is not None and row.selected
        await pilot.press("t")  # per-layer detail
        percents: list[int] = []
        done: list[int] = []
        stages: set[str] = set()
        layer_lines: set[str] = set()
        status_counts: set[int] = set()

        def sample() -> bool:
            text = row_text(row)
            match = re.search(r"(\d+)%", text.splitlines()[0])
            if match:
                percents.append(int(match.group(1)))
            done.append(row.job.bytes_done)
            stages.add(row.job.stage_text.split(",")[0])
            layer_lines.update(re.findall(r"layer \d/\d", text))
            status_counts.add(app.query_one(StatusLine).active_pulls)
            return row.job.finished

        await wait_for(pilot, sample, timeout=20)
        assert row.job.state == "success", row.job.error
        assert percents == sorted(percents) and done == sorted(done)
        assert len(set(p for p in percents if 0 < p < 100)) >= 3, percents
        assert percents[-1] == 100
        assert {"downloading layer 1", "downloading layer 2"} <= stages, stages
        assert {"layer 1/3", "layer 3/3"} <= layer_lines
        assert 1 in status_counts
        await wait_for(pilot, lambda: "layered:latest" in names(pane))
        await wait_for(pilot, lambda: "pulled 350 MB" in screen_text(app) and "layered:latest" in screen_text(app))
        assert app.query_one(StatusLine).active_pulls == 0


async def test_two_pulls_at_once_and_a_third_queued(slow_sim, make_app):
    sim = slow_sim
    for name in ("alpha", "beta", "gamma"):
        sim.add_remote_model(f"{name}:latest", [3_000_000_000])  # 12 s each: outlasts the test
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        for name in ("alpha", "beta", "gamma"):
            await pull(pilot, app, name)
        # the last one started is the selected row
        assert pane.query_one(PullList).selected.job.name == "gamma"
        alpha, beta, gamma = (row_for(pane, n) for n in ("alpha", "beta", "gamma"))
        await wait_for(pilot, lambda: alpha.job.bytes_done > 0 and beta.job.bytes_done > 0)
        assert alpha.job.state == beta.job.state == "running"
        assert gamma.job.state == "queued" and "queued" in row_text(gamma)
        assert "⇣ 3 pulls" in str(app.query_one(StatusLine).render())
        await wait_for(pilot, lambda: "2 running · 1 queued" in screen_text(app)
                       and "queued — waiting" in screen_text(app))
        # both move on at once
        a0, b0 = alpha.job.bytes_done, beta.job.bytes_done
        await wait_for(pilot, lambda: alpha.job.bytes_done > a0 and beta.job.bytes_done > b0)
        # cancelling one (select its row in the list, x) lets the queued one start
        pane.query_one(PullList).focus()
        await pilot.press("up", "up")
        await wait_for(pilot, lambda: pane.query_one(PullList).selected is alpha)
        await pilot.press("x")
        await wait_for(pilot, lambda: alpha.job.state == "cancelled" and gamma.job.bytes_done > 0)
        assert beta.job.state == gamma.job.state == "running"
        await wait_for(pilot, lambda: "⇣ 2 pulls" in screen_text(app))
        assert "alpha:latest" not in sim.installed()


async def test_cancel_then_pull_again_resumes(slow_sim, make_app):
    sim = slow_sim
    sim.add_remote_model("delta:latest", [600_000_000, 1_000_000])
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await pull(pilot, app, "delta")
        row = row_for(pane, "delta")
        await wait_for(pilot, lambda: row.job.bytes_done > 100_000_000)
        await pilot.press("x")
        await wait_for(pilot, lambda: row.job.state == "cancelled")
        seen = row.job.bytes_done
        assert "cancelled at" in row_text(row)
        await wait_for(pilot, lambda: app.client.active_streams == 0)  # disconnected = Ollama's cancel
        assert "delta:latest" not in sim.installed()
        await pull(pilot, app, "delta")
        again = row_for(pane, "delta")
        assert again is not row and len([r for r in rows(pane) if r.job.name == "delta"]) == 1
        await wait_for(pilot, lambda: again.job.resumed)
        assert again.job.resumed_bytes >= seen  # the simulator kept the partial layer
        assert "resuming from" in row_text(again)
        await wait_for(pilot, lambda: "resuming from" in screen_text(app))
        await wait_for(pilot, lambda: again.job.state == "success", timeout=20)
        assert "(resumed)" in row_text(again)
        await wait_for(pilot, lambda: "delta:latest" in names(pane))


async def test_invalid_names_are_refused_without_a_request(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_models(app, pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        await type_text(pilot, "bad name!")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✕ model contains an invalid character ' '" in screen_text(app))
        assert isinstance(app.screen, TextDialog)
        app.screen.query_one("Input").value = ""
        await type_text(pilot, "ns//model")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✕ empty namespace" in screen_text(app))
        await pilot.press("escape")
        # the chat's "pull it now?" goes through the same check
        app.request_pull("-leading-dash")
        await wait_for(pilot, lambda: any("Not a valid model name" in n.message for n in app._notifications))
        assert not requests_to(sim, "/api/pull")


async def test_unknown_model_error_is_shown_on_its_row_and_other_pulls_go_on(slow_sim, make_app):
    sim = slow_sim
    sim.add_remote_model("epsilon:latest", [200_000_000])
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await pull(pilot, app, "epsilon")
        await pull(pilot, app, "no-such-model")
        bad = row_for(pane, "no-such-model")
        await wait_for(pilot, lambda: bad.job.state == "error")
        assert "error: pull model manifest: file does not exist" in row_text(bad)
        await wait_for(pilot, lambda: "✕ no-such-model" in screen_text(app)
                       and "file does not exist" in screen_text(app))
        good = row_for(pane, "epsilon")
        assert good.job.state in ("running", "success")  # not taken down by the other's error
        await wait_for(pilot, lambda: good.job.state == "success", timeout=20)
        await wait_for(pilot, lambda: "epsilon:latest" in names(pane))
        assert "no-such-model" not in " ".join(names(pane))


async def test_update_check_says_up_to_date_then_updated(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await select(pilot, pane, "llama3.2:latest")
        await pilot.press("u")
        await wait_for(pilot, lambda: row_for(pane, "llama3.2:latest") is not None)
        row = row_for(pane, "llama3.2:latest")
        await wait_for(pilot, lambda: row.job.finished)
        assert row.job.update_result == "up to date"
        assert "update llama3.2:latest" in row_text(row) and "up to date" in row_text(row)
        await wait_for(pilot, lambda: "up to date" in screen_text(app))
        sim.publish_update("llama3.2:latest")
        await pilot.press("u")
        first = row
        await wait_for(pilot, lambda: row_for(pane, "llama3.2:latest") not in (None, first))
        row = row_for(pane, "llama3.2:latest")
        await wait_for(pilot, lambda: row.job.finished)
        assert row.job.update_result == "updated"
        assert "updated" in row_text(row)
        await wait_for(pilot, lambda: "updated" in screen_text(app))


async def test_update_all_checks_every_installed_model(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_models(app, pilot)
        sim.publish_update("qwen3:8b")
        await pilot.press("U")
        await wait_for(pilot, lambda: "Check all 4 installed models" in screen_text(app))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(rows(pane)) == 4 and all(r.job.finished for r in rows(pane)))
        results = {r.job.name: r.job.update_result for r in rows(pane)}
        assert results == {"llama3.2:latest": "up to date", "llava:7b": "up to date",
                           "nomic-embed-text:latest": "up to date", "qwen3:8b": "updated"}
        await pilot.press("X")  # clear finished rows
        await wait_for(pilot, lambda: not rows(pane) and not pane.query_one("#pulls-box").display)


async def test_free_space_warning_asks_before_pulling(sim, make_app, monkeypatch):
    monkeypatch.setattr(PullManager, "free_space_warning",
                        lambda self, name, models_dir=None: "not enough disk space: needs 4.4 GB, 1.0 GB free on /")
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_models(app, pilot)
        await pull(pilot, app, "mistral:7b", new_row=False)
        await wait_for(pilot, lambda: "not enough disk space: needs 4.4 GB" in screen_text(app))
        await pilot.press("n")
        assert not requests_to(sim, "/api/pull")


async def test_a_first_pull_too_big_for_the_disk_stops_with_the_reason(slow_sim, make_app):
    """No earlier attempt knew its size: the layer totals of the first progress lines do, and a
    local server's pull stops there, saying why, before the bytes are downloaded."""
    slow_sim.add_remote_model("giant:latest", [10**18])  # an exabyte
    app = make_app(slow_sim.url)
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await open_models(app, pilot)
        await pull(pilot, app, "giant")
        await wait_for(pilot, lambda: row_for(pane, "giant") is not None and row_for(pane, "giant").job.state == "error",
                       timeout=15)
        job = row_for(pane, "giant").job
        assert job.error.startswith("not enough disk space: needs 1.0 EB") and job.bytes_done < 10**15
        await wait_for(pilot, lambda: "not enough disk space" in screen_text(app))


async def test_pull_goes_on_in_another_pane_and_the_status_line_says_so(slow_sim, make_app):
    sim = slow_sim
    sim.add_remote_model("zeta:latest", [300_000_000])
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_models(app, pilot)
        await pull(pilot, app, "zeta")
        await pilot.press("f1")
        await wait_for(pilot, lambda: "⇣ 1 pull" in screen_text(app))
        row = row_for(pane, "zeta")
        await wait_for(pilot, lambda: row.job.state == "success", timeout=20)
        await wait_for(pilot, lambda: "⇣ 1 pull" not in screen_text(app))
        await pilot.press("f2")
        await wait_for(pilot, lambda: "zeta:latest" in names(pane))


async def test_request_pull_from_the_chat_opens_the_pane_with_the_row(sim, make_app):
    app = make_app(sim.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.query_one(StatusLine).state is not None)
        app.request_pull("tinyllama")
        await wait_for(pilot, lambda: app.current_pane == "models")
        pane = app.query_one("ModelsPane")
        await wait_for(pilot, lambda: row_for(pane, "tinyllama") is not None
                       and row_for(pane, "tinyllama").job.state == "success")
        await wait_for(pilot, lambda: "tinyllama:latest" in names(pane))
