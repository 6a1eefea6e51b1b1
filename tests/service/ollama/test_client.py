"""OllamaClient against the simulator over real HTTP: every endpoint, happy paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tui.service.ollama import OllamaClient
from tui.service.ollama import errors as errors
from tui.service.ollama.names import same_model
from tui.service.ollama.types import (
    ChatChunk,
    GenerateChunk,
    ModelInfo,
    PullEvent,
    RunningModel,
    ToolCall,
)

USER_HI = [{"role": "user", "content": "Say hi"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def bodies(sim, path: str) -> list[dict | None]:
    return [body for (_method, p, body) in sim.requests if p == path]


# -- liveness --------------------------------------------------------------------------------


async def test_ping_returns_round_trip_seconds(client: OllamaClient, sim) -> None:
    rtt = await client.ping()
    assert 0 < rtt < 5
    assert ("GET", "/", None) in sim.requests


async def test_version(client: OllamaClient) -> None:
    assert await client.version() == "0.33.0"


async def test_repr_and_base_url(client: OllamaClient, sim) -> None:
    assert client.base_url == sim.url
    assert sim.url in repr(client)


# -- models ----------------------------------------------------------------------------------


async def test_tags_lists_installed_models(client: OllamaClient, sim) -> None:
    models = await client.tags()
    assert all(isinstance(m, ModelInfo) for m in models)
    assert {m.name for m in models} == set(sim.installed())
    assert {"llama3.2:latest", "llava:7b", "qwen3:8b", "nomic-embed-text:latest"} <= {m.name for m in models}
    qwen = next(m for m in models if m.name == "qwen3:8b")
    assert qwen.size > 0 and len(qwen.digest) == 64
    assert qwen.details.family == "qwen3" and qwen.details.parameter_size and qwen.details.quantization_level
    assert qwen.modified_at is not None and qwen.modified_at < datetime.now(UTC)


@pytest.mark.parametrize(
    ("model", "capability"),
    [
        ("llama3.2", "tools"),
        ("llava:7b", "vision"),
        ("qwen3:8b", "thinking"),
        ("nomic-embed-text", "embedding"),
    ],
)
async def test_show_capabilities(client: OllamaClient, model: str, capability: str) -> None:
    show = await client.show(model)
    assert show.has(capability)
    assert show.architecture and show.context_length and show.context_length > 0
    assert show.parameter_count and show.parameter_count > 0
    assert show.details.family


async def test_show_parses_parameters_and_template(client: OllamaClient) -> None:
    show = await client.show("qwen3:8b")
    params = show.parameters_dict
    assert isinstance(params["stop"], list) and params["stop"]
    assert isinstance(params["temperature"], float)
    assert show.template and show.modelfile
    assert show.modified_at is not None


async def test_show_verbose_is_sent(client: OllamaClient, sim) -> None:
    await client.show("llama3.2", verbose=True)
    assert bodies(sim, "/api/show")[-1] == {"model": "llama3.2", "verbose": True}


async def test_show_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(errors.ModelNotFound) as info:
        await client.show("does-not-exist")
    assert info.value.status == 404 and "does-not-exist" in str(info.value)


async def test_show_is_cached_by_digest(client: OllamaClient, sim) -> None:
    digest = next(m.digest for m in await client.tags() if m.name == "llama3.2:latest")
    first = await client.show("llama3.2:latest", digest=digest)
    second = await client.show("llama3.2:latest", digest=digest)
    assert first is second and len(bodies(sim, "/api/show")) == 1


async def test_ps_load_and_unload(client: OllamaClient, sim) -> None:
    assert await client.ps() == []
    await client.load("llama3.2", keep_alive="10m")
    running = await client.ps()
    assert [r.name for r in running] == ["llama3.2:latest"]
    r = running[0]
    assert isinstance(r, RunningModel)
    assert r.size > 0 and 0 < r.gpu_fraction <= 1 and r.context_length and r.context_length > 0
    assert r.expires_at is not None and r.expires_at > datetime.now(UTC)
    assert bodies(sim, "/api/chat")[-1] == {"model": "llama3.2", "messages": [], "stream": False, "keep_alive": "10m"}
    await client.unload("llama3.2")
    assert await client.ps() == []
    assert bodies(sim, "/api/chat")[-1] == {"model": "llama3.2", "messages": [], "keep_alive": 0, "stream": False}


async def test_load_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(errors.ModelNotFound):
        await client.load("nope")


async def test_delete(client: OllamaClient, sim) -> None:
    await client.delete("llava:7b")
    assert "llava:7b" not in sim.installed()
    assert "llava:7b" not in {m.name for m in await client.tags()}
    with pytest.raises(errors.ModelNotFound):
        await client.delete("llava:7b")
    assert [m for m, p, _ in sim.requests if p == "/api/delete"] == ["DELETE", "DELETE"]


async def test_copy(client: OllamaClient, sim) -> None:
    await client.copy("llama3.2", "my-llama:v1")
    names = {m.name for m in await client.tags()}
    assert "my-llama:v1" in names and "llama3.2:latest" in names
    with pytest.raises(errors.ModelNotFound):
        await client.copy("nope", "other")


async def test_copy_invalid_destination_is_refused_locally(client: OllamaClient, sim) -> None:
    with pytest.raises(errors.InvalidModelName):
        await client.copy("llama3.2", "bad name:")
    assert bodies(sim, "/api/copy") == []


# -- pull / create ---------------------------------------------------------------------------


async def test_pull_streams_layer_progress(client: OllamaClient, sim) -> None:
    events = [e async for e in client.pull("mistral:7b")]
    assert all(isinstance(e, PullEvent) for e in events)
    assert events[0] == PullEvent("pulling manifest")
    assert events[-1].status == "success"
    layers = [e for e in events if e.digest]
    assert layers and all(e.digest.startswith("sha256:") and e.total for e in layers)
    # a fresh layer starts without `completed` (Go omits 0); a blob already on disk is one
    # complete line; every layer ends complete
    by_digest: dict[str, list[PullEvent]] = {}
    for e in layers:
        by_digest.setdefault(e.digest, []).append(e)
    assert any(len(lines) > 1 for lines in by_digest.values())
    for lines in by_digest.values():
        assert lines[0].completed is None or len(lines) == 1
        assert lines[-1].completed == lines[-1].total
    assert "mistral:7b" in sim.installed()
    assert bodies(sim, "/api/pull") == [{"model": "mistral:7b", "stream": True}]


async def test_pull_insecure_flag_is_sent(client: OllamaClient, sim) -> None:
    [e async for e in client.pull("tinyllama", insecure=True)]
    assert bodies(sim, "/api/pull") == [{"model": "tinyllama", "stream": True, "insecure": True}]


async def test_pull_up_to_date_model_is_quick(client: OllamaClient) -> None:
    events = [e async for e in client.pull("llama3.2")]
    layer_lines = [e for e in events if e.digest]
    assert all(e.completed == e.total for e in layer_lines)
    assert events[-1].status == "success"


async def test_pull_unknown_model_fails_mid_stream_with_partial(client: OllamaClient) -> None:
    seen = []
    with pytest.raises(errors.StreamError) as info:
        async for e in client.pull("no-such-model:1b"):
            seen.append(e)
    assert "file does not exist" in str(info.value)
    assert info.value.partial == seen == [PullEvent("pulling manifest")]


async def test_pull_invalid_name_is_refused_locally(client: OllamaClient, sim) -> None:
    with pytest.raises(errors.InvalidModelName):
        client.pull("model:")
    assert bodies(sim, "/api/pull") == []


async def test_create_from_existing_model(client: OllamaClient, sim) -> None:
    events = [
        e
        async for e in client.create(
            "pirate:latest",
            from_="llama3.2",
            system="You are a pirate.",
            parameters={"temperature": 0.2, "stop": ["<end>"]},
        )
    ]
    statuses = [e.status for e in events]
    assert statuses[-2:] == ["writing manifest", "success"]
    assert any(s.startswith("using existing layer sha256:") for s in statuses)
    assert any(s.startswith("creating new layer sha256:") for s in statuses)
    assert bodies(sim, "/api/create")[-1] == {
        "model": "pirate:latest",
        "from": "llama3.2",
        "stream": True,
        "system": "You are a pirate.",
        "parameters": {"temperature": 0.2, "stop": ["<end>"]},
    }
    show = await client.show("pirate")
    assert show.system == "You are a pirate."
    assert show.parameters_dict["temperature"] == pytest.approx(0.2)
    assert show.parameters_dict["stop"] == ["<end>"]


async def test_create_from_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(errors.ModelNotFound):
        [e async for e in client.create("x", from_="nope:1b")]


# -- chat ------------------------------------------------------------------------------------


async def test_chat_streams_chunks_and_final_stats(client: OllamaClient, sim) -> None:
    chunks = [c async for c in client.chat("llama3.2", USER_HI, options={"temperature": 0.1, "seed": 1})]
    assert all(isinstance(c, ChatChunk) for c in chunks)
    *body, final = chunks
    assert len(body) > 3 and not any(c.done for c in body) and all(c.stats is None for c in body)
    assert final.done and final.done_reason == "stop" and final.model == "llama3.2"
    assert final.stats is not None and final.stats.eval_count == len(body)
    assert final.stats.prompt_eval_count > 0 and final.stats.total_duration > 0
    assert final.stats.tokens_per_second is not None and final.stats.tokens_per_second > 0
    text = "".join(c.content for c in chunks)
    assert "Say hi" in text
    assert bodies(sim, "/api/chat")[-1] == {
        "model": "llama3.2",
        "messages": USER_HI,
        "stream": True,
        "options": {"temperature": 0.1, "seed": 1},
    }


async def test_chat_once_matches_the_stream(client: OllamaClient) -> None:
    streamed = "".join([c.content async for c in client.chat("llama3.2", USER_HI)])
    once = await client.chat_once("llama3.2", USER_HI)
    assert once.done and once.content == streamed and once.stats is not None


async def test_chat_thinking_model_thinks_by_default(client: OllamaClient) -> None:
    chunks = [c async for c in client.chat("qwen3:8b", USER_HI)]
    thinking = "".join(c.thinking for c in chunks)
    content = "".join(c.content for c in chunks)
    assert thinking and content
    first_content = next(i for i, c in enumerate(chunks) if c.content)
    assert all(not c.thinking for c in chunks[first_content:])  # thinking comes first


async def test_chat_think_false_turns_thinking_off(client: OllamaClient, sim) -> None:
    chunks = [c async for c in client.chat("qwen3:8b", USER_HI, think=False)]
    assert not "".join(c.thinking for c in chunks)
    assert bodies(sim, "/api/chat")[-1]["think"] is False


async def test_chat_think_on_model_without_it_is_bad_request(client: OllamaClient) -> None:
    with pytest.raises(errors.BadRequest) as info:
        [c async for c in client.chat("llama3.2", USER_HI, think=True)]
    assert "does not support thinking" in str(info.value) and info.value.status == 400


async def test_chat_tool_call_arrives_whole(client: OllamaClient, sim) -> None:
    messages = [{"role": "user", "content": "Use get_weather for Oslo please"}]
    chunks = [c async for c in client.chat("llama3.2", messages, tools=[WEATHER_TOOL])]
    calls = [tc for c in chunks for tc in c.tool_calls]
    assert len(calls) == 1
    call = calls[0]
    assert isinstance(call, ToolCall) and call.name == "get_weather" and call.id.startswith("call_")
    assert isinstance(call.arguments.get("city"), str)
    assert bodies(sim, "/api/chat")[-1]["tools"] == [WEATHER_TOOL]


async def test_chat_tools_on_model_without_them_is_bad_request(client: OllamaClient) -> None:
    with pytest.raises(errors.BadRequest, match="does not support tools"):
        await client.chat_once("llava:7b", USER_HI, tools=[WEATHER_TOOL])


async def test_chat_format_and_keep_alive_are_sent(client: OllamaClient, sim) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    reply = await client.chat_once("llama3.2", USER_HI, format=schema, keep_alive="1m")
    assert reply.content.startswith("{")
    sent = bodies(sim, "/api/chat")[-1]
    assert sent["format"] == schema and sent["keep_alive"] == "1m" and sent["stream"] is False


async def test_chat_bad_option_type_is_server_error(client: OllamaClient) -> None:
    with pytest.raises(errors.ServerError) as info:
        [c async for c in client.chat("llama3.2", USER_HI, options={"temperature": "hot"})]
    assert info.value.status == 500 and "temperature" in str(info.value)


async def test_chat_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(errors.ModelNotFound):
        [c async for c in client.chat("nope", USER_HI)]


async def test_chat_length_limit(client: OllamaClient) -> None:
    chunks = [c async for c in client.chat("llama3.2", USER_HI, options={"num_predict": 3})]
    assert chunks[-1].done_reason == "length" and chunks[-1].stats.eval_count == 3


async def test_concurrent_streams_share_one_client(client: OllamaClient) -> None:
    import asyncio

    async def run(model: str) -> str:
        return "".join(
            [c.content async for c in client.chat(model, USER_HI, think=False if model == "qwen3:8b" else None)]
        )

    a, b = await asyncio.gather(run("llama3.2"), run("qwen3:8b"))
    assert a and b


# -- generate, embed -------------------------------------------------------------------------


async def test_generate_stream_and_once(client: OllamaClient, sim) -> None:
    chunks = [
        c async for c in client.generate("llama3.2", "Why is the sky blue?", system="Be brief.", options={"seed": 3})
    ]
    assert all(isinstance(c, GenerateChunk) for c in chunks)
    assert chunks[-1].done and chunks[-1].stats is not None and chunks[-1].stats.eval_count > 0
    text = "".join(c.response for c in chunks)
    assert "Why is the sky blue?" in text
    assert bodies(sim, "/api/generate")[-1] == {
        "model": "llama3.2",
        "prompt": "Why is the sky blue?",
        "stream": True,
        "system": "Be brief.",
        "options": {"seed": 3},
    }
    once = await client.generate_once("llama3.2", "Why is the sky blue?", system="Be brief.", options={"seed": 3})
    assert once.done and once.response == text


async def test_generate_thinking(client: OllamaClient) -> None:
    chunks = [c async for c in client.generate("qwen3:8b", "hi", think=True)]
    assert "".join(c.thinking for c in chunks) and "".join(c.response for c in chunks)


async def test_embed(client: OllamaClient, sim) -> None:
    one = await client.embed("nomic-embed-text", "hello")
    assert len(one.embeddings) == 1 and one.dimensions > 0
    two = await client.embed("nomic-embed-text", ["hello", "world"], truncate=True)
    assert len(two.embeddings) == 2 and two.embeddings[0] == one.embeddings[0]
    assert two.prompt_eval_count > 0 and two.model == "nomic-embed-text"
    assert bodies(sim, "/api/embed")[-1] == {"model": "nomic-embed-text", "input": ["hello", "world"], "truncate": True}


async def test_embed_unknown_model(client: OllamaClient) -> None:
    with pytest.raises(errors.ModelNotFound):
        await client.embed("nope", "x")


async def test_names_echo_differently_but_compare_equal(client: OllamaClient) -> None:
    reply = await client.chat_once("Llama3.2", USER_HI)
    running = await client.ps()
    assert reply.model == "Llama3.2" and running[0].name == "llama3.2:latest"
    assert same_model(reply.model, running[0].name)
