"""The Models pane over several hosts (issues 16, 17): an OpenAI-compatible host lists its models
and says what it cannot do; a pull can be aimed at another configured Ollama host."""

from __future__ import annotations

from tests.screen import screen_text
from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_hosts import fleet, palette  # noqa: F401 - the fixture
from tests.ui.chat.test_chat_support import toasts
from tests.ui.models.test_models_pane_support import open_models, requests_to
from tests.waiting import type_text
from tui.ui.models.library import LibraryTable
from tui.ui.models.pane import ModelsPane
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


async def test_a_pull_aimed_at_another_host_arrives_there(fleet, make_app):  # noqa: F811
    a, b, _oa, _write = fleet
    app = make_app(a.url)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_models(app, pilot)
        assert isinstance(pane, ModelsPane)
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog))
        assert "name @ host" in screen_text(app)
        await type_text(pilot, "tinyllama @ B")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("tinyllama pulled on B" in t for t in toasts(app)))
        assert "tinyllama:latest" in b.installed() and "tinyllama:latest" not in a.installed()
        assert [body["model"] for _m, _p, body in requests_to(b, "/api/pull")] == ["tinyllama"]
        assert requests_to(a, "/api/pull") == []
