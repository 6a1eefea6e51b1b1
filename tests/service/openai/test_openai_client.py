"""The OpenAI-compatible client against the OpenAI-compatible simulator over HTTP on loopback:
SSE streaming, usage, API key, error shapes, a stream that breaks or ends without [DONE], comment
lines, options the API does not take, images as content parts, actions such a server can't do."""

from __future__ import annotations

import pytest

from tui.service.ollama import errors
from tui.service.openai import OpenAIClient, api_root
from tui.service.providers.protocol import PULL, Provider
from tui.simulator.openai import OpenAISimulator

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


async def collect(client, model=MODEL, **kw):
    return [c async for c in client.chat(model, [{"role": "user", "content": "hello there"}], **kw)]


async def test_a_streamed_reply_arrives_in_pieces_and_ends_with_its_token_counts():
    with OpenAISimulator(api_key="sk-test", token_rate=0) as sim:
        async with OpenAIClient(sim.url + "/v1/", api_key="sk-test") as client:
            chunks = await collect(client)
    text = "".join(c.content for c in chunks)
    assert text == f"This reply came from {MODEL} over the OpenAI-compatible API. You said: hello there"
    assert len(chunks) > 5 and chunks[-1].done and chunks[-1].done_reason == "stop"
    stats = chunks[-1].stats
    assert stats.prompt_eval_count == 12 and stats.eval_count == len(OpenAISimulator.tokens(text))
    body = sim.chat_requests()[-1]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert sim.requests[-1][3] == "Bearer sk-test"


async def test_the_rate_counts_the_tokens_generated_between_the_first_and_the_last():
    """Six tokens at 50 tok/s: five are generated between the first and the last seen, so the
    rate is at most 50 (dividing six by that window read ~60)."""
    with OpenAISimulator(token_rate=50, reply="one two three four five six") as sim:
        async with OpenAIClient(sim.url + "/v1/") as client:
            chunks = await collect(client)
    stats = chunks[-1].stats
    assert stats.eval_count == len(OpenAISimulator.tokens("one two three four five six")) == 6
    assert 25 < stats.tokens_per_second <= 50 * 1.02  # slower only by this machine's own delays


async def test_models_are_listed_from_v1_models():
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            models = await client.tags()
            assert await client.version() == "OpenAI-compatible server"
    assert [m.name for m in models] == [MODEL, "Qwen/Qwen2.5-7B-Instruct"]


async def test_a_refused_key_says_so_in_plain_words_and_the_key_is_never_shown():
    with OpenAISimulator(api_key="sk-right", token_rate=0) as sim:
        async with OpenAIClient(sim.url, api_key="sk-wrong-secret") as client:
            with pytest.raises(errors.Unauthorized) as failure:
                await collect(client)
            with pytest.raises(errors.Unauthorized):
                await client.tags()
            assert "sk-wrong-secret" not in repr(client)
    assert failure.value.message == "the API key was refused (HTTP 401): Incorrect API key provided."
    assert "sk-wrong" not in str(failure.value)


async def test_an_unknown_model_is_model_not_found_with_the_servers_words():
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            with pytest.raises(errors.ModelNotFound, match="The model `nope` does not exist."):
                await collect(client, model="nope")


async def test_a_stream_that_breaks_keeps_what_arrived():
    with OpenAISimulator(token_rate=0) as sim:
        sim.fault = "drop"
        async with OpenAIClient(sim.url) as client:
            with pytest.raises(errors.StreamError) as failure:
                await collect(client)
    assert failure.value.partial == "This reply came "
    assert "broke off" in failure.value.message or "ended before" in failure.value.message


async def test_a_missing_done_after_a_finish_reason_still_ends_the_reply_and_comments_are_skipped():
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            sim.fault = "no_done"
            no_done = await collect(client)
            sim.fault = "pings"
            pings = await collect(client)
    assert no_done[-1].done and pings[-1].done
    assert "".join(c.content for c in pings) == "".join(c.content for c in no_done)


async def test_server_errors_in_openai_shape_are_mapped():
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            sim.fault = 500
            with pytest.raises(errors.ServerError, match="simulated failure 500"):
                await collect(client)
            sim.fault = 429
            with pytest.raises(errors.ServerBusy):
                await collect(client)


async def test_only_options_the_api_takes_are_sent_and_images_become_content_parts():
    options = {"temperature": 0.2, "top_p": 0.8, "top_k": 40, "num_ctx": 8192, "num_predict": 3, "seed": 7,
               "stop": ["\n\n"], "repeat_penalty": 1.1}
    with OpenAISimulator(token_rate=0) as sim:
        async with OpenAIClient(sim.url) as client:
            chunks = [c async for c in client.chat(
                MODEL, [{"role": "user", "content": "look", "images": ["aGVsbG8="]}], options=options,
                format="json", think=True, keep_alive="5m")]
    body = sim.chat_requests()[-1]
    assert {k: body[k] for k in ("temperature", "top_p", "max_tokens", "seed", "stop")} == {
        "temperature": 0.2, "top_p": 0.8, "max_tokens": 3, "seed": 7, "stop": ["\n\n"]}
    assert not {"top_k", "num_ctx", "options", "repeat_penalty", "think", "keep_alive"} & set(body)
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,aGVsbG8="}}]
    assert chunks[-1].stats.eval_count == 3


async def test_what_such_a_server_cannot_do_says_so():
    async with OpenAIClient("http://127.0.0.1:9/v1") as client:
        for call in (client.ps(), client.delete("x"), client.copy("a", "b"), client.unload("x")):
            with pytest.raises(errors.Unsupported, match="are not available on http://127.0.0.1:9 .an OpenAI"):
                await call
        with pytest.raises(errors.Unsupported, match="pulls are not available"):
            client.pull("x")
        assert isinstance(client, Provider) and not client.supports(PULL)
    assert api_root("http://box:8000/v1/") == api_root("http://box:8000") == "http://box:8000"
