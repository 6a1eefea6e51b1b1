"""Compare & bench screen, Pilot against the simulator: ordering by configured speed, statistics,
cancellation, batch sessions, saved runs reopening."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tui.service.bench.store import BenchStore
from tui.service.monitor.gpu import FakeGpuBackend
from tui.ui.compare.screen import BenchScreen
from tui.ui.compare.widgets import CompareColumn, RateChart

FAST, SLOW = "llama3.2:latest", "llava:7b"
SIZE = (140, 44)


@pytest.fixture
def app(sim, make_app, tmp_path):
    sim.set_model_rate(FAST, 400)
    sim.set_model_rate(SLOW, 100)
    config = tmp_path / "config.toml"
    config.write_text('[chat]\ndefault_preset = "tiny"\n\n[presets.tiny]\nnum_predict = 20\n')
    return make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend(1))


async def open_screen(pilot, tab: str = "compare") -> BenchScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.history is not None)
    app.action_compare(tab)
    await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and len(app.screen.models) >= 3)
    return app.screen


def pick(screen: BenchScreen, list_id: str, *models: str) -> None:
    selection = screen.query_one(list_id)
    for model in models:
        selection.select(model)


async def run_compare(pilot, screen: BenchScreen, prompt: str) -> None:
    """Pick SLOW then FAST, run the prompt, wait for the result."""
    pick(screen, "#compare-models", SLOW, FAST)
    screen.query_one("#compare-prompt").value = prompt
    await pilot.press("ctrl+r")
    await wait_for(pilot, lambda: "compare" in screen.shown)


def chart_lines(screen: BenchScreen, chart_id: str) -> list[str]:
    return [line.split()[0] for line in str(screen.query_one(chart_id, RateChart).render()).splitlines()]


async def test_f10_opens_the_screen_and_again_goes_back(app):
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.history is not None)
        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
        await pilot.press("f10")
        await wait_for(pilot, lambda: not isinstance(app.screen, BenchScreen))


async def test_compare_streams_columns_and_ranks_by_configured_speed(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        await run_compare(pilot, screen, "Why is the sky blue?")

        columns = list(screen.query(CompareColumn))
        assert [c.model for c in columns] == [SLOW, FAST]  # in the order picked; the ranks tell speed
        for column in columns:
            assert column.text and column.text == column.measurement.reply
        stats = {c.model: str(c.query_one(".column-stats").render()) for c in columns}
        assert stats[FAST].startswith("#1 ") and stats[SLOW].startswith("#2 ")
        assert "tok/s" in stats[SLOW] and "first token" in stats[SLOW] and "load" in stats[SLOW]
        assert chart_lines(screen, "#compare-chart") == [FAST, SLOW]
        rates = {m.model: m.tokens_per_s for m in screen.shown["compare"].measurements}
        assert rates[FAST] == pytest.approx(400, rel=0.05) and rates[SLOW] == pytest.approx(100, rel=0.05)
        runs = await BenchStore(app.history).list_runs()
        assert [(r.kind, r.status) for r in runs] == [("compare", "complete")]


async def test_benchmark_table_matches_the_simulators_rates(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "benchmark")
        pick(screen, "#bench-models", SLOW, FAST)
        screen.query_one("#bench-repeats").value = "2"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "benchmark" in screen.shown, timeout=20)

        table = screen.query_one("#bench-table")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [r[0] for r in rows] == [FAST, SLOW]
        assert rows[0][1] == "6" and rows[1][1] == "6"  # 3 built-in short prompts × 2; warm-up excluded
        assert float(rows[0][2]) == pytest.approx(400, rel=0.05)
        assert float(rows[1][2]) == pytest.approx(100, rel=0.05)
        assert rows[0][7].endswith(" s")  # cold load measured after the unload
        assert rows[0][8] != "–"  # peak VRAM from the app's sampler (fake GPU)
        assert chart_lines(screen, "#bench-chart") == [FAST, SLOW]
        progress = screen.query_one("#bench-progress")
        assert progress.progress == progress.total == 14


async def test_esc_stops_all_then_closes(app, sim):
    sim.set_model_rate(SLOW, 20)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        pick(screen, "#compare-models", SLOW, FAST)
        screen.query_one("#compare-concurrent").value = True
        screen.query_one("#compare-prompt").value = "Why is the sky blue?"
        await pilot.press("ctrl+r")
        slow = None

        def slow_column_has_text() -> bool:
            nonlocal slow
            columns = {c.model: c for c in screen.query(CompareColumn)}
            slow = columns.get(SLOW)
            return slow is not None and len(slow.text) > 0 and columns[FAST].measurement is not None

        await wait_for(pilot, slow_column_has_text)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.run is None and "compare" in screen.shown)

        assert isinstance(app.screen, BenchScreen)  # the first Esc only stops
        result = screen.shown["compare"]
        assert result.status == "cancelled"
        statuses = {m.model: m.status for m in result.measurements}
        assert statuses == {FAST: "complete", SLOW: "stopped"}, ([(m.model, m.error) for m in result.measurements], sim.errors)
        assert "■ stopped" in str(slow.query_one(".column-stats").render())
        await wait_for(pilot, lambda: app.client.active_streams == 0)
        assert (await BenchStore(app.history).list_runs())[0].status == "cancelled"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BenchScreen))


async def test_batch_writes_a_chat_session_per_prompt(app, tmp_path):
    prompts = tmp_path / "batch.txt"
    prompts.write_text("First question?\nSecond question?\nThird question?\n")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "batch")
        screen.query_one("#batch-model").value = FAST
        screen.query_one("#batch-file").value = str(prompts)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "benchmark" in screen.shown, timeout=15)

        progress = screen.query_one("#batch-progress")
        assert progress.progress == progress.total == 3
        result = screen.shown["benchmark"]
        assert result.kind == "batch" and result.status == "complete"
        sessions = await BenchStore(app.history).batch_sessions(result.id)
        titles = [(await app.history.get_session(s)).title for s in sessions]
        assert titles == [f"Batch #{result.id} · {q} question?" for q in ("First", "Second", "Third")]
        reply = (await app.history.messages(sessions[0]))[-1]
        assert reply.role == "assistant" and reply.status == "complete" and reply.content


async def test_saved_runs_reopen(app):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        await run_compare(pilot, screen, "Name a colour.")
        replies = {c.model: c.text for c in screen.query(CompareColumn)}
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BenchScreen))

        screen = await open_screen(pilot, "saved")  # a fresh screen: nothing shown yet
        table = screen.query_one("#saved-table")
        await wait_for(pilot, lambda: table.row_count == 1)
        assert "compare" not in screen.shown
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "compare" in screen.shown)

        assert screen.query_one("TabbedContent").active == "compare"
        assert screen.query_one("#compare-prompt").value == "Name a colour."
        columns = {c.model: c for c in screen.query(CompareColumn)}
        assert {m: c.text for m, c in columns.items()} == replies
        assert str(columns[FAST].query_one(".column-stats").render()).startswith("#1 ")
        assert chart_lines(screen, "#compare-chart") == [FAST, SLOW]

        screen.query_one("TabbedContent").active = "saved"
        table.focus()
        await pilot.press("d")
        await wait_for(pilot, lambda: table.row_count == 0)
        assert await BenchStore(app.history).list_runs() == []


async def test_a_run_at_once_compare_reopens_with_each_reply_in_its_own_column(app):
    """Models run at once finish in any order (FAST first here, though picked second); the
    saved run still puts each reply under its own model."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        screen.query_one("#compare-concurrent").value = True
        await run_compare(pilot, screen, "Name a colour.")
        finished = [m.model for m in screen.shown["compare"].measurements]
        assert finished == [FAST, SLOW]  # the order they were saved in is not the columns' order
        replies = {c.model: c.text for c in screen.query(CompareColumn)}
        assert replies[FAST] and replies[SLOW] and replies[FAST] != replies[SLOW]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BenchScreen))

        screen = await open_screen(pilot, "saved")
        table = screen.query_one("#saved-table")
        await wait_for(pilot, lambda: table.row_count == 1)
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "compare" in screen.shown)
        columns = list(screen.query(CompareColumn))
        assert [c.model for c in columns] == [SLOW, FAST]
        assert {c.model: c.text for c in columns} == replies


async def test_ctrl_l_takes_the_chats_last_prompt_and_model(app, tmp_path):
    from tests.ui.chat.test_chat_support import send

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.history is not None)
        await send(app, pilot, "What is a GPU?", replies_count=1)  # the session's model: llama3.2
        screen = await open_screen(pilot)
        await pilot.press("ctrl+l")
        prompt = screen.query_one("#compare-prompt")
        await wait_for(pilot, lambda: prompt.value == "What is a GPU?")
        assert screen.query_one("#compare-models").selected == [FAST]


async def test_ctrl_e_exports_even_from_the_prompt_field(app, tmp_path):
    from tui.ui.widgets.dialogs import TextDialog

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        await run_compare(pilot, screen, "Name a colour.")
        screen.query_one("#compare-prompt").focus()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextDialog) and app.screen.query("Input"))
        target = tmp_path / "compare.json"
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists())
        text = target.read_text()
        assert FAST in text and SLOW in text and "Name a colour." in text


async def test_batch_with_a_model_override_runs_with_it(sim, make_app, tmp_path):
    """A [models."X"] table used to make the batch's request fail before anything was sent."""
    config = tmp_path / "config.toml"
    config.write_text('[chat]\ndefault_preset = "tiny"\n\n[presets.tiny]\nnum_predict = 20\n\n'
                      '[presets.cool]\ntemperature = 0.1\nnum_predict = 10\n\n'
                      '[models."llama3.2"]\npreset = "cool"\nsystem_prompt = "Be terse."\nkeep_alive = "9m"\n\n'
                      '[models."llama3.2".options]\nseed = 5\n')
    prompts = tmp_path / "batch.txt"
    prompts.write_text("First question?\nSecond question?\n")
    app = make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend(1))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, "batch")
        screen.query_one("#batch-model").value = FAST
        screen.query_one("#batch-file").value = str(prompts)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "benchmark" in screen.shown, timeout=15)

        result = screen.shown["benchmark"]
        assert result.status == "complete" and [m.status for m in result.measurements] == ["complete"] * 2
        bodies = [body for method, path, body in sim.requests if path == "/api/chat"]
        assert len(bodies) == 2
        for body in bodies:
            assert body["options"] == {"temperature": 0.1, "num_predict": 10, "seed": 5}
            assert body["messages"][0] == {"role": "system", "content": "Be terse."}
            assert body["keep_alive"] == "9m"
