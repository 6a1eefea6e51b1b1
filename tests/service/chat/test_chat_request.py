"""build_request: how a session, its model's [models."X"] table, the presets and the defaults
layer into one request (issue 14, item 8: a per-model table used to make chat fail silently)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tui.service.chat.turns import build_request
from tui.service.config.toml_edit import analyse

CONFIG = """
[server]
keep_alive = "5m"

[chat]
default_preset = "balanced"
system_prompt = "be brief"
think = true

[presets.balanced]
temperature = 0.7
num_ctx = 4096

[presets.code]
temperature = 0.1
top_k = 10
think = false

[presets.wild]
temperature = 1.5
format = "json"

[models."qwen3"]
preset = "code"
system_prompt = "code only"
keep_alive = "30m"

[models."qwen3".options]
num_ctx = 32768
seed = 7
stop = ["END"]

[models."only-prompt"]
system_prompt = "just this"
"""


def config():
    parsed = analyse(CONFIG)
    assert parsed.issues == []
    return parsed.config


def session(model: str, **kw: Any) -> SimpleNamespace:
    values = dict(model=model, preset=None, options={}, think=None, system_prompt=None, keep_alive=None)
    values.update(kw)
    return SimpleNamespace(**values)


def test_no_override_uses_the_default_preset_and_defaults() -> None:
    request = build_request(config(), session("llama3.2"), ("completion", "thinking"))
    assert request.options == {"temperature": 0.7, "num_ctx": 4096}
    assert (request.think, request.format, request.system_prompt, request.keep_alive) == (True, None, "be brief", "5m")


def test_a_table_with_only_a_system_prompt_builds_a_request() -> None:
    # The bug: any [models."X"] table raised ('Preset' object is not iterable) and nothing was sent.
    request = build_request(config(), session("only-prompt"), None)
    assert request.system_prompt == "just this"
    assert request.options == {"temperature": 0.7, "num_ctx": 4096}


def test_the_models_preset_applies_when_the_session_did_not_pick_one() -> None:
    # matched as Ollama does: qwen3 = qwen3:latest, case-insensitive
    request = build_request(config(), session("Qwen3:latest"), ("completion", "thinking"))
    assert request.options == {"temperature": 0.1, "top_k": 10, "num_ctx": 32768, "seed": 7, "stop": ["END"]}
    assert request.think is False  # the model's preset says so
    assert (request.system_prompt, request.keep_alive) == ("code only", "30m")


def test_the_sessions_explicit_preset_beats_the_models() -> None:
    request = build_request(config(), session("qwen3", preset="wild"), ("completion", "thinking"))
    # wild's options, with the model's options on top
    assert request.options == {"temperature": 1.5, "num_ctx": 32768, "seed": 7, "stop": ["END"]}
    assert request.format == "json" and request.think is True  # wild leaves think to [chat]


def test_a_preset_deleted_since_falls_back_to_the_models_then_the_default() -> None:
    assert build_request(config(), session("qwen3", preset="gone"), None).options["temperature"] == 0.1
    assert build_request(config(), session("llama3.2", preset="gone"), None).options["temperature"] == 0.7


def test_session_overrides_are_on_top_of_everything() -> None:
    s = session("qwen3", options={"temperature": 0.9, "num_ctx": 2048, "format": "json"}, think=True,
                system_prompt="mine", keep_alive=0)
    request = build_request(config(), s, ("completion", "thinking"))
    assert request.options == {"temperature": 0.9, "top_k": 10, "num_ctx": 2048, "seed": 7, "stop": ["END"]}
    assert (request.format, request.think, request.system_prompt, request.keep_alive) == ("json", True, "mine", 0)


def test_think_is_not_sent_to_a_model_that_cannot_think() -> None:
    assert build_request(config(), session("llama3.2", think=True), ("completion",)).think is None


def test_model_options_may_set_format_and_think() -> None:
    parsed = analyse('[models."m".options]\nformat = "json"\nthink = false\ntemperature = 0.3\n')
    assert parsed.issues == []
    request = build_request(parsed.config, session("m"), ("completion", "thinking"))
    assert (request.format, request.think) == ("json", False)
    assert request.options["temperature"] == 0.3 and "format" not in request.options
