"""Compare and benchmark runs across hosts of two kinds (issue 17): an Ollama simulator and an
OpenAI-compatible one, each model resolved to its host's provider; what each kind can measure,
what is saved, and a column that fails or is stopped while the other completes."""

from __future__ import annotations

import asyncio

import pytest

from tui.service.bench import BenchmarkRun, BenchPlan, CompareRun
from tui.service.bench.export import row_cells, to_markdown
from tui.service.bench.hosts import ModelHosts, model_ref, split_ref
from tui.service.bench.store import BenchStore
from tui.service.history import HistoryStore
from tui.service.providers import Host, HostRegistry, provider_factory
from tui.simulator.openai import OpenAISimulator

FAST = "llama3.2"
OA_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
REMOTE = f"{OA_MODEL} @ vllm"
KEY = "sk-bench-key"
SHORT = {"num_predict": 20, "seed": 42}


@pytest.fixture
def oa():
    with OpenAISimulator(api_key=KEY, token_rate=200) as server:
        yield server


@pytest.fixture
async def registry(sim, oa):
    sim.set_model_rate(FAST, 400)
    local = Host("ollama", sim.url)
    hosts = HostRegistry(local, provider_factory(connect_timeout=2, request_timeout=10),
                         known=[local, Host("vllm", f"{oa.url}/v1", "openai", api_key=KEY)])
    try:
        yield hosts
    finally:
        await hosts.aclose()


def test_references_name_the_host_only_when_it_is_not_the_current_one():
    known = ["ollama", "vllm", "vllm 2"]
    assert model_ref(FAST, "ollama", "ollama") == FAST
    assert model_ref(OA_MODEL, "vllm", "ollama") == REMOTE
    assert split_ref(REMOTE, known, "ollama") == ("vllm", OA_MODEL)
    assert split_ref(f"{OA_MODEL} @ vllm 2", known, "ollama") == ("vllm 2", OA_MODEL)
    # An '@' that names no configured host is part of the model's name, on the current host.
    assert split_ref("odd @ nowhere", known, "ollama") == ("ollama", "odd @ nowhere")
    assert split_ref(FAST, known, "ollama") == ("ollama", FAST)


async def test_compare_runs_an_ollama_and_an_openai_model_on_the_same_prompt(registry, sim, oa, tmp_path):
    deltas: dict[int, list[str]] = {0: [], 1: []}

    async def probe() -> int:
        return 5_000_000

    async with ModelHosts(registry, [FAST, REMOTE]) as hosts:
        run = CompareRun(registry.provider, [FAST, REMOTE], "Why is the sky blue?", options=SHORT,
                         provider_for=hosts, vram_probe=probe,
                         on_delta=lambda i, piece: deltas[i].append(piece))
        result = await run.run()

    assert result.status == "complete"
    by_model = {m.model: m for m in result.measurements}
    ollama, openai = by_model[FAST], by_model[REMOTE]
    assert ollama.status == openai.status == "complete"
    assert "".join(deltas[0]) == ollama.reply and "".join(deltas[1]) == openai.reply
    assert "over the OpenAI-compatible API" in openai.reply

    # The OpenAI server got the bare model name, the key, and the preset's options it takes.
    [body] = oa.chat_requests()
    assert body["model"] == OA_MODEL and body["max_tokens"] == 20 and body["seed"] == 42
    assert all(auth == f"Bearer {KEY}" for method, path, _b, auth in oa.requests if method == "POST")

    # Ollama: the server's durations. OpenAI: usage counts and this side's clock; what the
    # server does not say (prompt rate, load time) is unknown, not zero.
    assert ollama.tokens_per_s == pytest.approx(400, rel=0.05) and ollama.load_s is not None
    assert openai.eval_count == len(oa.tokens(openai.reply)) and openai.prompt_eval_count == 12
    # The simulator sleeps 1/200 s before each token, then writes it: never faster than 200 tok/s
    # on this side's clock, slower by the writing (and this machine's load).
    assert 50 < openai.tokens_per_s <= 200 * 1.02
    assert openai.ttft_s is not None and openai.total_s >= openai.ttft_s
    assert openai.prompt_per_s is None and openai.load_s is None
    cells = {s.model: row_cells(s) for s in result.summaries()}
    assert cells[REMOTE][5] == "–" and cells[REMOTE][6] == "–"  # prompt tok/s, load
    assert cells[FAST][5] != "–"
    # This machine's VRAM says nothing about the other host's model.
    assert result.peak_vram == {FAST: 5_000_000, REMOTE: None}

    assert result.hosts == {FAST: {"host": "ollama", "kind": "ollama", "model": FAST},
                            REMOTE: {"host": "vllm", "kind": "openai", "model": OA_MODEL}}
    history = await HistoryStore.open(tmp_path / "h.db")
    try:
        saved = await BenchStore(history).load(await BenchStore(history).save(result))
    finally:
        await history.close()
    assert saved.hosts == result.hosts and "hosts" not in saved.settings
    assert {m.model: m.load_s for m in saved.measurements} == {FAST: ollama.load_s, REMOTE: None}
    assert f"- {REMOTE}: on vllm (openai)" in to_markdown(saved)


async def test_an_erroring_openai_column_leaves_the_ollama_one_complete(registry, oa):
    oa.fault = 500
    async with ModelHosts(registry, [REMOTE, FAST]) as hosts:
        result = await CompareRun(registry.provider, [REMOTE, FAST], "hi", options=SHORT, provider_for=hosts).run()
    by_model = {m.model: m for m in result.measurements}
    assert by_model[FAST].status == "complete"
    assert by_model[REMOTE].status == "error" and "simulated failure 500" in by_model[REMOTE].error
    assert by_model[REMOTE].tokens_per_s is None


async def test_an_openai_stream_dropped_midway_is_an_error_with_the_partial_reply(registry, oa):
    oa.fault = "drop"
    async with ModelHosts(registry, [REMOTE]) as hosts:
        result = await CompareRun(registry.provider, [REMOTE], "hi", options=SHORT, provider_for=hosts).run()
    [m] = result.measurements
    assert m.status == "error" and "broke off" in m.error
    assert m.reply and m.tokens_per_s is None  # what arrived is kept; no rate from a broken reply


async def test_cancel_stops_the_openai_stream_at_once(registry, oa, until):
    oa.token_rate = 20  # 1 s for 20 tokens
    text: list[str] = []
    async with ModelHosts(registry, [FAST, REMOTE]) as hosts:
        run = CompareRun(registry.provider, [FAST, REMOTE], "hi", options=SHORT, provider_for=hosts,
                         concurrent=True, on_delta=lambda i, piece: text.append(piece) if i == 1 else None)
        task = asyncio.create_task(run.run())
        await until(lambda: len(text) >= 2)
        run.cancel()
        result = await asyncio.wait_for(task, 3)
        provider, _name = hosts(REMOTE)
        await until(lambda: provider.active_streams == 0)
    assert result.status == "cancelled"
    stopped = next(m for m in result.measurements if m.model == REMOTE)
    assert stopped.status == "stopped" and stopped.reply == "".join(text) and stopped.tokens_per_s is None


async def test_benchmark_across_hosts_unloads_only_where_the_host_can(registry, sim, oa):
    plan = BenchPlan((FAST, REMOTE), ("Name a colour.",), repeats=2, options=SHORT)
    async with ModelHosts(registry, plan.models) as hosts:
        result = await BenchmarkRun(registry.provider, plan, provider_for=hosts).run()
    assert result.status == "complete"
    unloads = [b["model"] for _m, p, b in sim.requests if p == "/api/chat" and b and b.get("keep_alive") == 0]
    assert unloads == [FAST]
    summaries = {s.model: s for s in result.summaries()}
    assert summaries[REMOTE].runs == 2 and summaries[REMOTE].failed == 0
    assert summaries[REMOTE].cold_load_s is None and summaries[REMOTE].median("load_s") is None
    assert summaries[FAST].cold_load_s is not None
    assert len(oa.chat_requests()) == 3  # the warm-up and two runs


async def test_a_borrowed_host_is_closed_when_the_run_ends(registry):
    async with ModelHosts(registry, [REMOTE, FAST]) as hosts:
        provider, name = hosts(REMOTE)
        assert name == OA_MODEL
        await provider.tags()
        assert provider._client is not None and not provider._client.is_closed
    assert provider._client.is_closed
    assert hosts(FAST)[0] is registry.provider  # the current host's stays the registry's


async def test_a_batch_on_an_openai_host_reports_no_load_or_prompt_rate(oa, tmp_path):
    from tui.service.bench import BatchRun, turn_request
    from tui.service.config.model import Config
    from tui.service.openai import OpenAIClient

    history = await HistoryStore.open(tmp_path / "h.db")
    try:
        async with OpenAIClient(oa.url, api_key=KEY) as client:
            request = await turn_request(client, Config(), OA_MODEL, None)
            result = await BatchRun(client, history, BenchStore(history), request, ["one?", "two?"]).run()
    finally:
        await history.close()
    assert result.status == "complete" and len(result.measurements) == 2
    for m in result.measurements:
        assert m.status == "complete" and m.reply and m.eval_count == len(oa.tokens(m.reply))
        assert m.tokens_per_s is not None and m.tokens_per_s <= 200 * 1.02
        assert m.load_s is None and m.prompt_per_s is None and m.ttft_s is not None


def test_a_host_named_by_its_url_is_recorded_without_its_password():
    from tui.service.providers import ollama_factory

    url = "http://bob:s3cret@127.0.0.1:9"
    registry = HostRegistry(Host.at(url), ollama_factory())
    assert ModelHosts(registry, [FAST]).where() == {FAST: {"host": "http://bob:***@127.0.0.1:9", "kind": "ollama",
                                                           "model": FAST}}
