"""Compare & bench across hosts of two kinds (issue 17), Pilot against an Ollama simulator and an
OpenAI-compatible one configured as [hosts.NAME] tables (and a dead host): the list offers
`model @ host`, both columns stream and complete with what each kind can measure, the run is
saved with its hosts, and an OpenAI column that fails or is stopped says so."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import toasts
from tui.service.bench.store import BenchStore
from tui.service.monitor.gpu import FakeGpuBackend
from tui.simulator.openai import OpenAISimulator
from tui.ui.compare.screen import BenchScreen
from tui.ui.compare.widgets import CompareColumn

FAST = "llama3.2:latest"
OA_MODEL = "Qwen/Qwen2.5-7B-Instruct"
REMOTE = f"{OA_MODEL} @ vllm"
KEY = "sk-compare-K3Y"
SIZE = (140, 44)


@pytest.fixture
def oa():
    with OpenAISimulator(api_key=KEY, token_rate=200) as server:
        yield server


@pytest.fixture
def app(sim, oa, make_app, tmp_path):
    sim.set_model_rate(FAST, 400)
    config = tmp_path / "config.toml"
    config.write_text(f"""
[chat]
default_preset = "tiny"

[presets.tiny]
num_predict = 20

[hosts.ollama]
url = "{sim.url}"

[hosts.vllm]
url = "{oa.url}/v1"
kind = "openai"
api_key = "{KEY}"

[hosts.dead]
url = "http://127.0.0.1:9"
""")
    return make_app(sim.url, config_path=config, gpu_backend=FakeGpuBackend(1))


async def open_screen(pilot) -> BenchScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.history is not None)
    app.action_compare("compare")
    await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and REMOTE in app.screen.models)
    return app.screen


async def compare(pilot, screen: BenchScreen, prompt: str, *models: str) -> None:
    selection = screen.query_one("#compare-models")
    for model in models:
        selection.select(model)
    screen.query_one("#compare-prompt").value = prompt
    await pilot.press("ctrl+r")


def stats_of(screen: BenchScreen) -> dict[str, str]:
    return {c.model: str(c.query_one(".column-stats").render()) for c in screen.query(CompareColumn)}


async def test_an_ollama_model_and_an_openai_one_compare_on_the_same_prompt(app, sim, oa):
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        # The current host's models by name, the OpenAI host's as `model @ vllm`; the dead host
        # is named in a warning and skipped.
        assert FAST in screen.models and f"{FAST} @ ollama" not in screen.models
        assert {f"{m} @ vllm" for m in oa.models} <= set(screen.models)
        await wait_for(pilot, lambda: any("Host dead: not reachable" in t for t in toasts(app)))
        batch_models = [str(prompt) for prompt, _value in screen.query_one("#batch-model")._options]
        assert REMOTE not in batch_models  # a batch runs on the current host

        await compare(pilot, screen, "Why is the sky blue?", FAST, REMOTE)
        await wait_for(pilot, lambda: "compare" in screen.shown)

        columns = {c.model: c for c in screen.query(CompareColumn)}
        assert list(columns) == [FAST, REMOTE]
        for column in columns.values():
            assert column.text and column.text == column.measurement.reply
        assert "over the OpenAI-compatible API" in columns[REMOTE].text
        stats = stats_of(screen)
        assert stats[FAST].startswith("#1 ") and stats[REMOTE].startswith("#2 ")
        assert "load 0." in stats[FAST] or "load 1." in stats[FAST]
        # The OpenAI server reports no durations: tokens/s and the first token are timed here,
        # its load time is unknown and shown as such.
        assert " tok/s" in stats[REMOTE] and "first token " in stats[REMOTE] and "load –" in stats[REMOTE]
        assert "– tok/s" not in stats[REMOTE] and "first token –" not in stats[REMOTE]
        [body] = oa.chat_requests()
        assert body["model"] == OA_MODEL and body["max_tokens"] == 20

        [saved] = await BenchStore(app.history).list_runs()
        run = await BenchStore(app.history).load(saved.id)
        assert run.status == "complete" and run.models == [FAST, REMOTE]
        assert run.hosts[REMOTE] == {"host": "vllm", "kind": "openai", "model": OA_MODEL}
        assert run.hosts[FAST]["host"] == "ollama"


async def test_an_erroring_openai_column_says_why_and_the_other_completes(app, oa):
    oa.fault = 401
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        await compare(pilot, screen, "hi", REMOTE, FAST)
        await wait_for(pilot, lambda: "compare" in screen.shown)
        stats = stats_of(screen)
        assert "✕ the API key was refused" in stats[REMOTE] and "tok/s" not in stats[REMOTE]
        assert "tok/s" in stats[FAST] and "✕" not in stats[FAST]


async def test_esc_stops_a_streaming_openai_column(app, oa):
    oa.token_rate = 10  # 2 s for 20 tokens
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot)
        await compare(pilot, screen, "Why is the sky blue?", REMOTE)
        column = None

        def streaming() -> bool:
            nonlocal column
            column = next(iter(screen.query(CompareColumn)), None)
            return column is not None and len(column.text) > 0

        await wait_for(pilot, streaming)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.run is None and "compare" in screen.shown)
        [m] = screen.shown["compare"].measurements
        assert m.status == "stopped" and m.reply.startswith(column.text[:10])
        assert "■ stopped" in stats_of(screen)[REMOTE]
        assert isinstance(app.screen, BenchScreen)
