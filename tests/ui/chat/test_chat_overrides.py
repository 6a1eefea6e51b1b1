"""Per-model overrides ([models."X"] in the config) reach the request the server receives (issue 14,
item 8: any such table made chat with X do nothing — no request, no error)."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_options import pick
from tests.ui.chat.test_chat_support import (
    chat_requests,
    notices,
    ready,
    replies,
    send,
    sessions,
    toasts,
)
from tui.service.config.schema import MODEL_INDEX, PRESET_INDEX
from tui.simulator import Simulator

ALL_KEYS = """
[chat]
default_model = "qwen3:8b"
system_prompt = "the global prompt"

[models."qwen3:8b"]
preset = "precise"
system_prompt = "You answer in haiku."
keep_alive = "42m"

[models."qwen3:8b".options]
temperature = 0.33
top_p = 0.66
top_k = 7
min_p = 0.02
repeat_penalty = 1.3
num_ctx = 3072
num_predict = 64
seed = 1234
stop = ["STOP-HERE"]
num_batch = 128
format = "json"
think = false
"""

OPTIONS = {"temperature": 0.33, "top_p": 0.66, "top_k": 7, "min_p": 0.02, "repeat_penalty": 1.3,
           "num_ctx": 3072, "num_predict": 64, "seed": 1234, "stop": ["STOP-HERE"], "num_batch": 128}


def test_the_config_above_sets_every_key_the_schema_allows() -> None:
    """If the schema grows a key, this test (and the config above) must grow with it."""
    assert set(MODEL_INDEX) == {"preset", "system_prompt", "keep_alive"}
    assert set(PRESET_INDEX) == set(OPTIONS) | {"format", "think"}


async def test_every_model_key_reaches_the_request(make_app, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(ALL_KEYS)
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, config_path=config)
        assert app.config_issues == []
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)
            await wait_for(pilot, lambda: len(chat_requests(sim)) == 1)
            body = chat_requests(sim)[-1]
            assert body["model"] == "qwen3:8b"
            assert body["messages"][0] == {"role": "system", "content": "You answer in haiku."}
            assert body["messages"][-1] == {"role": "user", "content": "hello"}
            assert body["options"] == OPTIONS  # every key of the table, over precise's
            assert body["keep_alive"] == "42m"
            assert body["format"] == "json"
            assert body["think"] is False
            assert replies(app)[-1].status == "complete"
            assert not [n for n in notices(app) if "✕" in n] and not toasts(app)
            assert "preset precise" in str(app.query_one("#chat-header").render())


async def test_the_models_preset_applies_until_the_session_picks_one(make_app, tmp_path):
    config = tmp_path / "config.toml"
    # named with :latest while the chat says llama3.2: the same model to Ollama
    config.write_text('[chat]\ndefault_model = "llama3.2"\n\n[models."llama3.2:latest"]\npreset = "precise"\n\n'
                      '[models."llama3.2:latest".options]\nnum_ctx = 2048\n')
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, config_path=config)
        async with app.run_test(size=(120, 40)) as pilot:
            pane = await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)
            body = chat_requests(sim)[-1]
            assert body["model"] == "llama3.2"
            # precise (not the default balanced), the model's num_ctx on top
            assert body["options"] == {"temperature": 0.2, "top_p": 0.8, "top_k": 20, "repeat_penalty": 1.05,
                                       "num_ctx": 2048}
            assert sessions(tmp_path / "history.sqlite3")[0]["preset"] is None  # not picked
            header = str(app.query_one("#chat-header").render())
            assert "preset precise" in header and "ctx 2048" in header

            await pick(app, pilot, "ctrl+t", "creative")  # the session's own pick wins
            await wait_for(pilot, lambda: pane.session.preset == "creative")
            await send(app, pilot, "again", replies_count=2)
            options = chat_requests(sim)[-1]["options"]
            assert options == {"temperature": 1.1, "top_p": 0.95, "top_k": 80, "min_p": 0.05,
                               "repeat_penalty": 1.1, "num_ctx": 2048}


async def test_a_table_with_only_a_system_prompt_chats(make_app, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[models."llama3.2"]\nsystem_prompt = "Be terse."\n')
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url, config_path=config)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "hello", replies_count=1)
            body = chat_requests(sim)[-1]
            assert body["messages"][0] == {"role": "system", "content": "Be terse."}
            assert body["options"] == {"temperature": 0.7, "top_p": 0.9, "top_k": 40, "num_ctx": 4096}
            assert replies(app)[-1].status == "complete"


async def test_a_turn_that_fails_before_the_request_says_so(make_app, tmp_path):
    """Nothing fails silently: an error outside the stream (here the history, closed under the
    pane) is reported by the one worker-error path (a toast) instead of vanishing."""
    with Simulator(token_rate=0, reply="ok") as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(120, 40)) as pilot:
            pane = await ready(app, pilot)
            await pane.store.close()
            await send(app, pilot, "hello")
            await wait_for(pilot, lambda: any("send a prompt failed" in t for t in toasts(app)))
            assert "history store is closed" in " ".join(toasts(app))
            assert chat_requests(sim) == []
