"""Scenario 6: the connection is reset during a pull; the row says so; pulling again resumes."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import text
from tests.ui.models.test_models_pane_support import names, open_models, row_for, row_text
from tui.simulator import Simulator


async def test_6_reset_during_a_pull_shows_on_the_row_and_a_re_pull_resumes(make_app):
    with Simulator(token_rate=0, pull_rate=400e6, pull_tick=0.01) as sim:
        sim.add_remote_model("big:latest", [800_000_000, 2_000_000])
        sim.inject("/api/pull", "reset", after=25)  # a TCP RST a quarter second in
        app = make_app(sim.url)
        async with app.run_test(size=(100, 30)) as pilot:
            pane = await open_models(app, pilot)
            pane.start_pull("big")
            await wait_for(pilot, lambda: row_for(pane, "big") is not None)
            first = row_for(pane, "big")
            await wait_for(pilot, lambda: first.job.state == "error")
            got = first.job.bytes_done
            assert 0 < got < 800_000_000
            assert "connection was reset" in row_text(first)
            await wait_for(pilot, lambda: "connection was reset" in text(app))
            assert "big:latest" not in sim.installed()
            pane.start_pull("big")
            await wait_for(pilot, lambda: row_for(pane, "big") is not first and row_for(pane, "big") is not None)
            again = row_for(pane, "big")
            await wait_for(pilot, lambda: again.job.resumed)
            assert again.job.resumed_bytes >= got  # the layer went on from where it stopped
            await wait_for(pilot, lambda: again.job.state == "success", timeout=20)
            await wait_for(pilot, lambda: "big:latest" in names(pane))
            assert sim.errors == []


async def test_6_a_pull_on_a_half_open_connection_says_so_on_the_row_and_a_re_pull_resumes(make_app):
    with Simulator(token_rate=0, pull_rate=400e6, pull_tick=0.01) as sim:
        sim.add_remote_model("big:latest", [800_000_000, 2_000_000])
        sim.inject("/api/pull", "stall", after=25)  # then nothing, the connection left open
        app = make_app(sim.url)
        app.client.pull_stall_timeout = 0.5
        async with app.run_test(size=(100, 30)) as pilot:
            pane = await open_models(app, pilot)
            pane.start_pull("big")
            await wait_for(pilot, lambda: row_for(pane, "big") is not None)
            first = row_for(pane, "big")
            await wait_for(pilot, lambda: first.job.state == "error")
            got = first.job.bytes_done
            assert 0 < got < 800_000_000
            assert first.job.error == ("no data from Ollama for 0.5 s (the connection seems dead); "
                                       "pull again to resume the download")
            assert "no data from Ollama for 0.5 s" in row_text(first) and "resume" in row_text(first)
            await wait_for(pilot, lambda: "no data from Ollama for 0.5 s" in text(app))
            await wait_for(pilot, lambda: sim.hangups == ["/api/pull"])
            pane.start_pull("big")
            await wait_for(pilot, lambda: row_for(pane, "big") is not first and row_for(pane, "big") is not None)
            again = row_for(pane, "big")
            await wait_for(pilot, lambda: again.job.resumed)
            assert again.job.resumed_bytes >= got
            await wait_for(pilot, lambda: again.job.state == "success", timeout=20)
            await wait_for(pilot, lambda: "big:latest" in names(pane))
            assert sim.errors == []
