"""Typed results: parsing real wire shapes, tolerating omitted and unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tui.service.ollama.types import (
    ChatChunk,
    EmbedResult,
    GenerateChunk,
    GenerationStats,
    ModelInfo,
    ModelShow,
    PullEvent,
    RunningModel,
    ToolCall,
    parse_parameters,
)

TAGS_ENTRY = {
    "name": "qwen3:8b",
    "model": "qwen3:8b",
    "modified_at": "2025-05-01T10:11:12.123456789-07:00",
    "size": 5225376047,
    "digest": "500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41",
    "details": {
        "parent_model": "",
        "format": "gguf",
        "family": "qwen3",
        "families": ["qwen3"],
        "parameter_size": "8.2B",
        "quantization_level": "Q4_K_M",
    },
    "brand_new_field": {"whatever": 1},
}


def test_model_info_from_tags_entry() -> None:
    m = ModelInfo.from_json(TAGS_ENTRY)
    assert m.name == "qwen3:8b" and m.size == 5225376047
    assert m.details.family == "qwen3" and m.details.families == ("qwen3",)
    assert m.details.parameter_size == "8.2B" and m.details.quantization_level == "Q4_K_M"
    assert m.modified_at == datetime(2025, 5, 1, 10, 11, 12, 123456, tzinfo=timezone(timedelta(hours=-7)))
    assert m.capabilities == ()


def test_model_info_tolerates_missing_fields() -> None:
    m = ModelInfo.from_json({"model": "x:latest"})
    assert m.name == "x:latest" and m.size == 0 and m.modified_at is None and m.details.family == ""


def test_model_show() -> None:
    show = ModelShow.from_json(
        {
            "modelfile": "FROM x\n",
            "parameters": 'stop                           "<|im_start|>"\nstop                           "<|im_end|>"\n'
            "temperature                    0.6\ntop_k                          20\nnum_ctx 8192",
            "template": "{{ .Prompt }}",
            "details": {"family": "qwen3"},
            "model_info": {
                "general.architecture": "qwen3",
                "general.parameter_count": 8190735360,
                "qwen3.context_length": 40960,
                "llama.context_length": 1,
            },
            "capabilities": ["completion", "tools", "thinking"],
            "modified_at": "2025-05-01T10:11:12+02:00",
            "tensors": [{"name": "t", "type": "Q4_K", "shape": [1, 2]}],
        }
    )
    assert show.architecture == "qwen3"
    assert show.context_length == 40960
    assert show.parameter_count == 8190735360
    assert show.has("thinking") and show.has("tools") and not show.has("vision")
    assert show.parameters_dict == {
        "stop": ["<|im_start|>", "<|im_end|>"],
        "temperature": 0.6,
        "top_k": 20,
        "num_ctx": 8192,
    }
    assert show.system == "" and show.license == ""


def test_model_show_without_model_info() -> None:
    show = ModelShow.from_json({})
    assert show.context_length is None and show.architecture is None and show.parameter_count is None
    assert show.parameters_dict == {} and show.capabilities == ()


def test_parse_parameters_single_stop_is_a_list() -> None:
    assert parse_parameters('stop "</s>"\nuse_mmap true') == {"stop": ["</s>"], "use_mmap": True}


def test_running_model() -> None:
    r = RunningModel.from_json(
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "size": 4000,
            "size_vram": 3000,
            "digest": "abc",
            "details": {"family": "llama"},
            "expires_at": "2318-05-01T10:11:12.5+02:00",
            "context_length": 4096,
        }
    )
    assert r.gpu_fraction == pytest.approx(0.75)
    assert r.context_length == 4096
    assert r.expires_at is not None and r.expires_at.year == 2318
    cpu_only = RunningModel.from_json({"name": "x", "size": 10})
    assert cpu_only.gpu_fraction == 0.0 and cpu_only.context_length is None
    assert RunningModel.from_json({"name": "x"}).gpu_fraction == 0.0


def test_pull_event_omitempty() -> None:
    assert PullEvent.from_json({"status": "pulling manifest"}) == PullEvent("pulling manifest")
    first = PullEvent.from_json({"status": "pulling 6a07", "digest": "sha256:6a07", "total": 100})
    assert first == PullEvent("pulling 6a07", "sha256:6a07", 100, None)
    later = PullEvent.from_json({"status": "pulling 6a07", "digest": "sha256:6a07", "total": 100, "completed": 40})
    assert later.completed == 40


def test_chat_chunk_and_stats() -> None:
    mid = ChatChunk.from_json(
        {
            "model": "llama3.2",
            "created_at": "2025-05-01T10:11:12.123456789Z",
            "message": {"role": "assistant", "content": "Hel"},
            "done": False,
        }
    )
    assert mid.content == "Hel" and mid.thinking == "" and not mid.done and mid.stats is None
    assert mid.created_at == datetime(2025, 5, 1, 10, 11, 12, 123456, tzinfo=UTC)
    final = ChatChunk.from_json(
        {
            "model": "llama3.2",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 2_000_000_000,
            "load_duration": 500_000_000,
            "prompt_eval_count": 10,
            "prompt_eval_duration": 100_000_000,
            "eval_count": 50,
            "eval_duration": 1_000_000_000,
        }
    )
    assert final.done and final.done_reason == "stop"
    s = final.stats
    assert s is not None
    assert s.tokens_per_second == pytest.approx(50.0)
    assert s.prompt_tokens_per_second == pytest.approx(100.0)
    assert s.total_seconds == pytest.approx(2.0) and s.load_seconds == pytest.approx(0.5)
    assert s.eval_seconds == pytest.approx(1.0) and s.prompt_eval_seconds == pytest.approx(0.1)


def test_stats_with_omitted_fields() -> None:
    s = GenerationStats.from_json({"eval_count": 3})
    assert s.tokens_per_second is None and s.prompt_tokens_per_second is None and s.prompt_eval_count == 0


def test_chat_chunk_thinking_and_tool_calls() -> None:
    c = ChatChunk.from_json(
        {
            "message": {
                "role": "assistant",
                "content": "",
                "thinking": "hmm",
                "tool_calls": [
                    {"id": "call_abc", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}}}
                ],
            },
            "done": False,
        }
    )
    assert c.thinking == "hmm"
    assert c.tool_calls == (ToolCall("get_weather", {"city": "Oslo"}, "call_abc", 0),)
    assert c.tool_calls[0].to_json() == {
        "id": "call_abc",
        "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}},
    }


def test_generate_chunk() -> None:
    g = GenerateChunk.from_json({"model": "m", "response": "hi", "done": True, "eval_count": 2, "eval_duration": 10**9})
    assert g.response == "hi" and g.stats is not None and g.stats.tokens_per_second == pytest.approx(2.0)


def test_embed_result() -> None:
    e = EmbedResult.from_json({"model": "m", "embeddings": [[0.1, 0.2], [0.3, 0.4]], "prompt_eval_count": 4})
    assert e.embeddings == ((0.1, 0.2), (0.3, 0.4)) and e.dimensions == 2 and e.prompt_eval_count == 4


def test_results_are_frozen() -> None:
    m = ModelInfo.from_json(TAGS_ENTRY)
    with pytest.raises(AttributeError):
        m.name = "other"  # type: ignore[misc]
