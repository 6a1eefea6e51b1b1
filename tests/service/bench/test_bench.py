"""Compare, benchmark and batch runs against the simulator over HTTP; saved runs; exports; prompt files."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import pytest

from tui.service.bench import (
    BatchRun,
    BenchmarkRun,
    BenchPlan,
    BenchResult,
    CompareRun,
    missing_models,
    preset_options,
    turn_request,
)
from tui.service.bench.export import (
    text_table,
    to_csv,
    to_json,
    to_markdown,
    write_export,
)
from tui.service.bench.prompts import BUILTIN_SETS, PromptSetError, load_prompts
from tui.service.bench.stats import COLD, MEASURED, Measurement
from tui.service.bench.store import BenchStore
from tui.service.config.model import Config
from tui.service.history import HistoryStore

FAST, SLOW = "llama3.2", "llava:7b"
SHORT = {"num_predict": 20, "seed": 42}  # 20 tokens: 0.05 s at 400 tok/s, 0.2 s at 100 tok/s


@pytest.fixture
def rates(sim):
    sim.set_model_rate(FAST, 400)
    sim.set_model_rate(SLOW, 100)
    return {FAST: 400.0, SLOW: 100.0}


async def test_benchmark_ranks_models_by_the_simulators_rates(client, rates):
    seen: list[tuple[int, int, str]] = []
    plan = BenchPlan((SLOW, FAST), ("Why is the sky blue?", "Name a colour."), repeats=2, options=SHORT)
    run = BenchmarkRun(client, plan, on_progress=lambda done, total, label: seen.append((done, total, label)))
    result = await run.run()

    assert result.status == "complete"
    summaries = result.summaries()
    assert [s.model for s in summaries] == [FAST, SLOW]
    for s in summaries:
        assert s.runs == 4 and s.failed == 0  # 2 prompts × 2 repeats; the warm-up is not counted
        assert s.median("tokens_per_s") == pytest.approx(rates[s.model], rel=0.05)
        assert s.metrics["tokens_per_s"].low == pytest.approx(rates[s.model], rel=0.05)
        assert s.median("ttft_s") is not None and s.median("prompt_per_s") > 0
    kinds = [m.kind for m in result.measurements if m.model == SLOW]
    assert kinds == [COLD, MEASURED, MEASURED, MEASURED, MEASURED]
    assert seen[-1][:2] == (10, 10) and run.total == 10


async def test_cold_load_is_measured_after_an_unload_and_reported_apart(sim, client, rates):
    sim.set_model_load_time(FAST, 0.2)
    await client.load(FAST)  # loaded already: only an unload makes the first run cold
    result = await BenchmarkRun(client, BenchPlan((FAST,), ("hi",), repeats=2, options=SHORT)).run()

    unloads = [b for m, p, b in sim.requests if p == "/api/chat" and b and b.get("keep_alive") == 0]
    assert [u["model"] for u in unloads] == [FAST]
    summary = result.summaries()[0]
    assert 0.2 <= summary.cold_load_s < 1.0
    assert summary.median("load_s") == 0.0  # warm runs load nothing


async def test_without_cold_the_warmup_is_still_excluded_and_no_unload_is_sent(sim, client, rates):
    result = await BenchmarkRun(client, BenchPlan((FAST,), ("hi",), repeats=1, options=SHORT, cold=False)).run()
    assert [m.kind for m in result.measurements] == ["warmup", MEASURED]
    assert result.summaries()[0].cold_load_s is None
    assert not [b for _m, p, b in sim.requests if p == "/api/chat" and b and b.get("keep_alive") == 0]


async def test_cancel_stops_the_stream_at_once_and_keeps_what_arrived(sim, client, until):
    sim.set_model_rate(FAST, 50)  # 200 tokens would take 4 s
    text: list[str] = []
    run = BenchmarkRun(client, BenchPlan((FAST, SLOW), ("Why is the sky blue?",), repeats=3,
                                         options={"num_predict": 200}, cold=False),
                       on_delta=lambda _i, piece: text.append(piece))
    task = asyncio.create_task(run.run())
    await until(lambda: len(text) >= 3)
    run.cancel()
    result = await asyncio.wait_for(task, 2)

    assert result.status == "cancelled"
    assert [m.status for m in result.measurements] == ["stopped"]  # nothing after the cancel started
    assert result.measurements[0].reply == "".join(text)
    await until(lambda: client.active_streams == 0)


async def test_compare_runs_one_after_another_by_default(client, rates):
    order: list[int] = []
    run = CompareRun(client, [SLOW, FAST], "Why is the sky blue?", options=SHORT,
                     on_delta=lambda i, _p: order.append(i))
    result = await run.run()
    assert order == sorted(order) and set(order) == {0, 1}  # all of model 0, then model 1
    assert [s.model for s in result.summaries()] == [FAST, SLOW]
    assert all(m.reply for m in result.measurements)


async def test_compare_at_once_streams_both_together(client, rates):
    order: list[int] = []
    run = CompareRun(client, [SLOW, FAST], "Why is the sky blue?", options=SHORT, concurrent=True,
                     on_delta=lambda i, _p: order.append(i))
    result = await run.run()
    last_slow = max(i for i, column in enumerate(order) if column == 0)
    assert order.index(1) < last_slow  # FAST began before SLOW ended: both streamed together
    assert result.settings["concurrent"] is True and result.status == "complete"


async def test_a_missing_model_is_an_error_row_not_a_crash(client, rates):
    assert await missing_models(client, [FAST, "Llama3.2:latest", "nope:1b"]) == ["nope:1b"]
    result = await CompareRun(client, [FAST, "nope:1b"], "hi", options=SHORT).run()
    statuses = {m.model: (m.status, m.error) for m in result.measurements}
    assert statuses[FAST][0] == "complete"
    assert statuses["nope:1b"][0] == "error" and "not found" in statuses["nope:1b"][1]
    assert [s.model for s in result.summaries()] == [FAST, "nope:1b"]


async def test_vram_peak_is_the_highest_reading_during_the_run(client, rates):
    readings = iter(range(1, 1000))

    async def probe() -> int:
        return next(readings) * 1_000_000

    result = await CompareRun(client, [FAST], "hi", options=SHORT, vram_probe=probe).run()
    assert result.peak_vram[FAST] >= 2_000_000  # read at the start and again at the end


async def test_batch_writes_one_tagged_session_per_prompt_with_bounded_concurrency(sim, client, tmp_path):
    sim.set_model_rate(FAST, 100)
    history = await HistoryStore.open(tmp_path / "h.db")
    store = BenchStore(history)
    try:
        request = await turn_request(client, Config(), FAST, "fast")
        request = type(request)(**{**{f: getattr(request, f) for f in request.__dataclass_fields__},
                                   "options": {**request.options, "num_predict": 20}})
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, client.active_streams)
                await asyncio.sleep(0.002)

        watcher = asyncio.create_task(watch())
        prompts = [f"Question {i}?" for i in range(4)]
        run = BatchRun(client, history, store, request, prompts, concurrency=2)
        result = await run.run()
        watcher.cancel()

        assert peak == 2
        assert result.status == "complete" and result.id is not None
        session_ids = await store.batch_sessions(result.id)
        assert len(session_ids) == 4
        for index, session_id in enumerate(session_ids):
            session = await history.get_session(session_id)
            assert session.title.startswith(f"Batch #{result.id} · ") and session.model == FAST
            messages = await history.messages(session_id)
            assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
            assert messages[0].content == prompts[index] and messages[1].content
        assert result.summaries()[0].median("tokens_per_s") == pytest.approx(100, rel=0.05)
        saved = await store.load(result.id)
        assert saved.status == "complete" and len(saved.measurements) == 4
    finally:
        await history.close()


async def test_cancelled_batch_keeps_stopped_replies_in_the_history(sim, client, tmp_path, until):
    sim.set_model_rate(FAST, 50)
    history = await HistoryStore.open(tmp_path / "h.db")
    store = BenchStore(history)
    try:
        request = await turn_request(client, Config(), FAST, None)
        run = BatchRun(client, history, store, request, ["one?", "two?", "three?"], concurrency=1)
        task = asyncio.create_task(run.run())
        await until(lambda: client.active_streams == 1)
        await asyncio.sleep(0.1)  # let a few tokens arrive (50 tok/s)
        run.cancel()
        result = await asyncio.wait_for(task, 3)
        assert result.status == "cancelled"
        assert [m.status for m in result.measurements] == ["stopped"] * 3
        sessions = await store.batch_sessions(result.id)
        assert len(sessions) == 1  # the later prompts never started
        reply = (await history.messages(sessions[0]))[-1]
        assert reply.status == "stopped" and reply.content
        assert (await store.load(result.id)).status == "cancelled"
    finally:
        await history.close()


async def test_saved_runs_reopen_equal_and_can_be_deleted(client, rates, tmp_path):
    history = await HistoryStore.open(tmp_path / "h.db")
    store = BenchStore(history)
    try:
        first = await CompareRun(client, [FAST, SLOW], "hi | there", options=SHORT).run()
        second = await BenchmarkRun(client, BenchPlan((FAST,), ("a",), repeats=1, options=SHORT,
                                                      preset="fast")).run()
        await store.save(first)
        await store.save(second)
        runs = await store.list_runs()
        assert [r.id for r in runs] == [second.id, first.id]
        assert runs[1].kind == "compare" and runs[1].models == (FAST, SLOW)

        again = await store.load(first.id)
        assert again.measurements == first.measurements
        assert (again.kind, again.prompts, again.settings, again.status) == (
            "compare", ["hi | there"], first.settings, "complete")
        assert [s.model for s in again.summaries()] == [FAST, SLOW]
        assert await store.delete(first.id) and await store.load(first.id) is None
    finally:
        await history.close()


async def test_exports_order_models_fastest_first(client, rates, tmp_path):
    result = await CompareRun(client, [SLOW, FAST], "hi", options=SHORT).run()
    data = json.loads(to_json(result))
    assert [m["model"] for m in data["models"]] == [FAST, SLOW]
    assert data["models"][0]["metrics"]["tokens_per_s"]["median"] == pytest.approx(400, rel=0.05)
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert [r["model"] for r in rows] == [FAST, SLOW]
    assert float(rows[1]["tokens_per_s_median"]) == pytest.approx(100, rel=0.05)
    markdown = to_markdown(result)
    assert "| Model |" in markdown and markdown.index(FAST) < markdown.index(SLOW)
    assert text_table(result).splitlines()[2].startswith(FAST)
    assert json.loads(write_export(result, tmp_path / "out" / "r.json").read_text())["kind"] == "compare"
    assert write_export(result, tmp_path / "r.csv").read_text().startswith("model,")
    with pytest.raises(ValueError):
        write_export(result, tmp_path / "r.xls")


def test_preset_options_fix_the_seed():
    config = Config()
    assert preset_options(config, "fast")["seed"] == 42
    assert preset_options(config, "fast")["num_predict"] == 512
    assert preset_options(config, None, seed=7)["seed"] == 7
    with pytest.raises(ValueError, match="no preset"):
        preset_options(config, "nope")


def test_prompt_sets_builtin_text_and_toml(tmp_path):
    assert load_prompts("code") == list(BUILTIN_SETS["code"])
    text = tmp_path / "p.txt"
    text.write_text("# a comment\nfirst prompt\n\n  second prompt  \n")
    assert load_prompts(text) == ["first prompt", "second prompt"]
    plain = tmp_path / "p.toml"
    plain.write_text('prompts = ["one", "two\\nlines"]\n')
    assert load_prompts(plain) == ["one", "two\nlines"]
    tables = tmp_path / "t.toml"
    tables.write_text('[[prompts]]\ntext = "alpha"\n[[prompts]]\ntext = "beta"\n')
    assert load_prompts(str(tables)) == ["alpha", "beta"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.txt", None, "no prompt file"),
    ("empty.txt", "# only a comment\n", "holds no prompts"),
    ("bad.toml", "prompts = [", "not valid TOML"),
    ("shape.toml", "prompts = 3", "needs a list"),
    ("item.toml", "prompts = [1]", "prompt 1 is not a string"),
])
def test_bad_prompt_files_say_what_is_wrong(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(PromptSetError, match=message):
        load_prompts(path)


def test_bench_exports_write_controls_by_code_point(tmp_path):
    """Model names, titles, prompts and replies are untrusted: no export replays an escape."""
    evil = "m\x1b]52;c;eA==\x07\x1b[2J\u202e\x9b\r"
    result = BenchResult("compare", [evil], [f"prompt {evil}"], settings={"preset": evil},
                         measurements=[Measurement(evil, reply=f"reply {evil}", tokens_per_s=10.0)],
                         status="complete", title=f"title {evil}")
    for fmt in ("md", "csv", "json"):
        data = write_export(result, tmp_path / f"r.{fmt}").read_bytes()
        text = data.decode("utf-8")
        assert not [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
                    or c == "\u202e"], fmt
    assert "m␛]52;c;eA==␇␛[2J⟨U+202E⟩" in (tmp_path / "r.md").read_text()
    assert json.loads((tmp_path / "r.json").read_text())["measurements"][0]["reply"] == f"reply {evil}"
    assert "␛" in text_table(result) and "\x1b" not in text_table(result)
