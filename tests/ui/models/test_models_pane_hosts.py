"""The Models pane over several hosts (issues 16, 17): an OpenAI-compatible host lists its models
and says what it cannot do; a pull can be aimed at another configured Ollama host (a row
"name @ host" with progress, cancel and clear like any other)."""

from __future__ import annotations

from tests.screen import screen_text
from tests.ui.chat.test_chat_hosts import fleet, palette  # noqa: F401 - the fixture
from tests.ui.chat.test_chat_support import toasts
from tests.ui.conftest import wait_for
from tests.ui.models.test_models_pane_pull_panel import title
from tests.ui.models.test_models_pane_pulls import bounded_idle_wait  # noqa: F401 - autouse
from tests.ui.models.test_models_pane_support import (
    names,
    open_models,
    requests_to,
    row_text,
    rows,
)
from tests.waiting import new_toast, toasts_up, type_text
from tui.ui.models.library import LibraryTable
from tui.ui.models.pull_panel import PullPanel
from tui.ui.models.pull_rows import PullList
from tui.ui.widgets.dialogs import TextDialog


async def test_an_openai_host_lists_its_models_and_says_what_it_cannot_do(fleet, make_app):  # noqa: F811
    a, _b, oa, _write = fleet
    app = make_app(a.url)
    async with app.run_test(size=(120, 36)) as pilot:
        await palette(pilot, app, "Chat on host: oa")
        await wait_for(pilot, lambda: app.services.hosts.host.name == "oa")
        pane = await open_models(app, pilot, count=2)
        table = pane.query_one(LibraryTable)
        assert sorted(m.name for m in table.shown) == ["Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"]
        await wait_for(pilot, lambda: "not available on this kind of server" in screen_text(app))
        table.focus()
        for key, words in (("p", "pulls"), ("d", "deleting models"), ("c", "copying models"),
                           ("n", "creating models"), ("l", "loading and unloading models"),
                           ("k", "loading and unloading models"), ("u", "pulls"), ("U", "pulls")):
            app._notifications.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda w=words: any(t.startswith(f"{w} are not available on this host (oa")
                                                      for t in toasts(app)))
            assert not isinstance(app.screen, TextDialog), key
        assert {path for _m, path, _b, _a in oa.requests} == {"/v1/models"}  # nothing else was tried
        # Polling stops: no error every few seconds, no request it cannot answer.
        assert not any("✕" in line for line in screen_text(app).splitlines() if "Loaded models" in line)


async def test_a_pull_aimed_at_another_host_is_a_row_that_arrives_there(fleet, make_app):  # noqa: F811
    a, b, _oa, _write = fleet
    b.pull_rate, b.pull_tick = 50e6, 0.01  # 150 MB: about 3 s
    b.add_remote_model("farmodel", [150_000_000])
    app = make_app(a.url)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_models(app, pilot)
        listed = names(pane)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
        assert "name @ host" in screen_text(app)
        await type_text(pilot, "farmodel @ B")
        up = toasts_up(app)
        await pilot.press("enter")
        [row] = await wait_for(pilot, lambda: rows(pane))
        assert (row.job.name, row.job.host) == ("farmodel", "B")
        await wait_for(pilot, lambda: row.job.state == "running" and 0 < (row.shown_fraction or 0) < 1,
                       what="the row part way")
        assert "farmodel @ B" in row_text(row) and "ETA" in row_text(row)
        assert "1 running" in title(app)
        toast = await new_toast(pilot, app, up, "Pulled farmodel on B")
        assert toast.startswith("Pull: Pulled farmodel on B (150")
        await wait_for(pilot, lambda: "1 done" in title(app))
        assert row.job.state == "success" and row.job.update_result == "new"
        assert "farmodel @ B" in row_text(row) and "pulled 150" in row_text(row)
        assert "farmodel:latest" in b.installed() and "farmodel:latest" not in a.installed()
        assert [body["model"] for _m, _p, body in requests_to(b, "/api/pull")] == ["farmodel"]
        assert requests_to(a, "/api/pull") == []
        assert names(pane) == listed  # this host's list claims nothing
        await pilot.press("X")
        await wait_for(pilot, lambda: not rows(pane) and not app.query_one(PullPanel).display)


async def test_x_cancels_a_pull_on_another_host(fleet, make_app):  # noqa: F811
    a, b, _oa, _write = fleet
    b.pull_rate, b.pull_tick = 20e6, 0.01  # 10 GB: it would take minutes
    b.add_remote_model("bigfar", [10_000_000_000])
    app = make_app(a.url)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_models(app, pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        app.screen.query_one("Input").value = "bigfar @ B"
        await pilot.press("enter")
        [row] = await wait_for(pilot, lambda: rows(pane))
        await wait_for(pilot, lambda: row.job.bytes_done > 0)
        assert "bigfar @ B" in row_text(row) and "1 running" in title(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: row.job.state == "cancelled")
        await wait_for(pilot, lambda: "1 done" in title(app))
        assert "cancelled at" in row_text(row) and "bigfar @ B" in row_text(row)
        assert "p and the same name @ host resumes it" in row_text(row)
        assert 0 < row.job.bytes_done < 10_000_000_000
        assert "bigfar:latest" not in b.installed() and requests_to(a, "/api/pull") == []
        # p with the rows focused offers the same pull again, host and all
        app.query_one(PullList).focus()
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        assert app.screen.query_one("Input").value == "bigfar @ B"
        await pilot.press("escape")
