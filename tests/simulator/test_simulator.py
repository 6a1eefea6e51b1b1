"""The built-in Ollama simulator, exercised over real HTTP with httpx.

Every assertion is about the wire format described in /work/shared/ollama-api.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.waiting import wait_sync
from tui.simulator import Simulator
from tui.simulator.support import parse_go_duration, parse_name, tokenize

HEX64 = re.compile(r"[0-9a-f]{64}")
FAST = dict(token_rate=math.inf, pull_rate=math.inf, pull_tick=0.001)
SSL = ssl.create_default_context()  # built once: httpx would load CA certs for every client


def Client(sim: Simulator) -> httpx.Client:
    return httpx.Client(base_url=sim.url, timeout=10, verify=SSL)


# --------------------------------------------------------------------------- fixtures / helpers


@pytest.fixture
def sim() -> Iterator[Simulator]:
    s = Simulator(**FAST).start()
    yield s
    s.stop()
    assert s.errors == []


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with Client(sim) as c:
        yield c


def stream_lines(client: httpx.Client, path: str, body: dict) -> list[dict]:
    with client.stream("POST", path, json=body) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/x-ndjson"
        return [json.loads(line) for line in r.iter_lines()]


def ps_names(client: httpx.Client) -> list[str]:
    return [m["name"] for m in client.get("/api/ps").json()["models"]]


def ps_entry(client: httpx.Client, name: str) -> dict:
    return next(m for m in client.get("/api/ps").json()["models"] if m["name"] == name)


def seconds_until(stamp: str) -> float:
    return (dt.datetime.fromisoformat(stamp) - dt.datetime.now(dt.timezone.utc)).total_seconds()


USER = [{"role": "user", "content": "What is the capital of France?"}]


# --------------------------------------------------------------------------- transport basics


def test_root_version_and_plain_text_errors(client: httpx.Client) -> None:
    r = client.get("/")
    assert (r.status_code, r.text) == (200, "Ollama is running")
    assert r.headers["content-type"].startswith("text/plain")
    r = client.head("/")
    assert r.status_code == 200 and r.content == b""
    assert client.get("/api/version").json() == {"version": "0.33.0"}

    r = client.get("/api/nope")
    assert (r.status_code, r.text) == (404, "404 page not found")
    assert r.headers["content-type"].startswith("text/plain")
    r = client.get("/api/chat")
    assert (r.status_code, r.text) == (405, "405 method not allowed")
    assert r.headers["content-type"].startswith("text/plain")
    assert client.post("/api/tags", json={}).status_code == 405

    r = client.post("/api/chat")
    assert (r.status_code, r.json()) == (400, {"error": "missing request body"})
    r = client.post("/api/chat", content=b"{not json")
    assert r.status_code == 400 and "error" in r.json()


def test_binds_loopback_and_checks_host_header(sim: Simulator, client: httpx.Client) -> None:
    assert sim.url == f"http://127.0.0.1:{sim.port}"
    assert sim._server is not None and sim._server.server_address[0] == "127.0.0.1"
    with socket.create_connection(("127.0.0.1", sim.port)) as s:
        assert s.getpeername()[0] == "127.0.0.1"
    r = client.get("/", headers={"Host": "evil.example.com"})
    assert (r.status_code, r.content) == (403, b"")
    assert client.get("/", headers={"Host": f"localhost:{sim.port}"}).status_code == 200


def test_requests_are_recorded(sim: Simulator, client: httpx.Client) -> None:
    client.get("/api/tags")
    client.post("/api/show", json={"model": "llama3.2"})
    assert sim.requests[-2:] == [("GET", "/api/tags", None), ("POST", "/api/show", {"model": "llama3.2"})]


# --------------------------------------------------------------------------- tags / show


def test_tags_shape(sim: Simulator, client: httpx.Client) -> None:
    models = client.get("/api/tags").json()["models"]
    names = [m["name"] for m in models]
    assert set(names) == {"llama3.2:latest", "llava:7b", "qwen3:8b", "nomic-embed-text:latest"}
    assert names == sim.installed()
    stamps = [dt.datetime.fromisoformat(m["modified_at"]) for m in models]
    assert stamps == sorted(stamps, reverse=True)  # most recent first
    for m in models:
        assert m["model"] == m["name"]
        assert HEX64.fullmatch(m["digest"])
        assert m["size"] > 100_000_000
        assert stamps[0].tzinfo is not None
        d = m["details"]
        assert set(d) == {"parent_model", "format", "family", "families", "parameter_size", "quantization_level"}
        assert d["format"] == "gguf"
    llama = models[names.index("llama3.2:latest")]
    assert 1.9e9 < llama["size"] < 2.1e9
    assert llama["details"]["parameter_size"] == "3.2B"


def test_show(client: httpx.Client) -> None:
    s = client.post("/api/show", json={"model": "llama3.2"}).json()
    assert s["capabilities"] == ["completion", "tools"]
    assert s["model_info"]["general.architecture"] == "llama"
    assert s["model_info"]["llama.context_length"] == 131072
    assert isinstance(s["model_info"]["general.parameter_count"], int)
    assert s["model_info"]["tokenizer.ggml.tokens"] == []  # arrays > 5 are emptied unless verbose
    assert s["license"].count("\n") > 20
    assert s["modelfile"].startswith('# Modelfile generated by "ollama show"')
    assert "FROM llama3.2:latest" in s["modelfile"]
    assert re.search(r'^stop\s+"<\|eot_id\|>"$', s["parameters"], re.M)
    assert "{{" in s["template"]
    assert s["details"]["family"] == "llama"
    assert dt.datetime.fromisoformat(s["modified_at"]).tzinfo is not None
    assert s["tensors"]

    verbose = client.post("/api/show", json={"model": "llama3.2", "verbose": True}).json()
    assert len(verbose["model_info"]["tokenizer.ggml.tokens"]) > 5

    assert client.post("/api/show", json={"model": "LLAMA3.2:Latest"}).status_code == 200
    assert client.post("/api/show", json={"model": "qwen3:8b"}).json()["capabilities"] == [
        "completion", "tools", "thinking"]
    llava = client.post("/api/show", json={"model": "llava:7b"}).json()
    assert "vision" in llava["capabilities"] and llava["system"]
    assert client.post("/api/show", json={"model": "nomic-embed-text"}).json()["capabilities"] == ["embedding"]

    r = client.post("/api/show", json={"model": "nope"})
    assert (r.status_code, r.json()) == (404, {"error": "model 'nope' not found"})
    assert client.post("/api/show", json={"model": "bad name!"}).status_code == 400


# --------------------------------------------------------------------------- pull


def pull_sim(**kw: Any) -> Simulator:
    s = Simulator(token_rate=math.inf, pull_rate=kw.pop("pull_rate", 2e6), pull_tick=kw.pop("pull_tick", 0.002))
    s.add_remote_model("acme/tiny:1b", [40_000, 300, 120], family="llama", parameter_size="1B")
    return s.start()


def check_pull_sequence(lines: list[dict], n_layers: int) -> list[list[dict]]:
    """Assert the exact status grammar of a pull; return the per-layer line groups."""
    statuses = [line["status"] for line in lines]
    assert statuses[0] == "pulling manifest"
    tail = ["verifying sha256 digest", "writing manifest", "success"]
    if "removing unused layers" in statuses:
        tail.insert(2, "removing unused layers")
    assert statuses[-len(tail):] == tail
    groups: list[list[dict]] = []
    for line in lines[1: -len(tail)]:
        assert line["status"].startswith("pulling ")
        if not groups or groups[-1][0]["digest"] != line["digest"]:
            groups.append([])
        groups[-1].append(line)
    assert len(groups) == n_layers  # one layer at a time, never interleaved
    for g in groups:
        digest = g[0]["digest"]
        assert digest.startswith("sha256:") and HEX64.fullmatch(digest[7:])
        assert all(x["status"] == f"pulling {digest[7:19]}" for x in g)
        assert len({x["total"] for x in g}) == 1
        done = [x.get("completed", 0) for x in g]
        assert done == sorted(done) and done[-1] <= g[0]["total"]
        assert all("completed" not in x or x["completed"] > 0 for x in g)  # omitempty
    return groups


def test_pull_sequence_and_install() -> None:
    with pull_sim() as sim, Client(sim) as client:
        lines = stream_lines(client, "/api/pull", {"model": "acme/tiny:1b"})
        groups = check_pull_sequence(lines, 3)
        first = groups[0]
        assert "completed" not in first[0] and len(first) > 5  # progressed over several ticks
        assert first[-1]["completed"] == first[0]["total"] == 40_000
        assert "acme/tiny:1b" in [m["name"] for m in client.get("/api/tags").json()["models"]]
        assert "acme/tiny:1b" in sim.installed()

        # up to date: one line per layer with completed == total
        lines = stream_lines(client, "/api/pull", {"model": "acme/tiny:1b"})
        for g in check_pull_sequence(lines, 3):
            assert len(g) == 1 and g[0]["completed"] == g[0]["total"]
        assert "removing unused layers" not in [x["status"] for x in lines]
        assert sim.errors == []


def test_pull_installed_model_is_quick_and_update_changes_digest(sim: Simulator, client: httpx.Client) -> None:
    before = {m["name"]: m["digest"] for m in client.get("/api/tags").json()["models"]}
    lines = stream_lines(client, "/api/pull", {"model": "llama3.2"})
    for g in check_pull_sequence(lines, 5):
        assert [x.get("completed") for x in g] == [g[0]["total"]]
    assert client.get("/api/tags").json()["models"][0]["digest"] == before["llama3.2:latest"]

    sim.publish_update("llama3.2")
    lines = stream_lines(client, "/api/pull", {"model": "llama3.2:latest"})
    groups = check_pull_sequence(lines, 5)
    assert "removing unused layers" in [x["status"] for x in lines]
    assert "completed" not in groups[0][0]  # the new weights blob is downloaded
    after = {m["name"]: m["digest"] for m in client.get("/api/tags").json()["models"]}
    assert after["llama3.2:latest"] != before["llama3.2:latest"]


def test_pull_errors(client: httpx.Client) -> None:
    lines = stream_lines(client, "/api/pull", {"model": "no-such-model"})
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    for bad in ("bad:", "/model", "ns//m", "a b"):
        r = client.post("/api/pull", json={"model": bad})
        assert (r.status_code, r.json()) == (400, {"error": "invalid model name"})
    r = client.post("/api/pull", json={"model": "no-such-model", "stream": False})
    assert r.status_code == 500 and r.json() == {"error": "pull model manifest: file does not exist"}


def test_pull_stream_false(sim: Simulator, client: httpx.Client) -> None:
    r = client.post("/api/pull", json={"model": "tinyllama", "stream": False})
    assert (r.status_code, r.json()) == (200, {"status": "success"})
    assert r.headers["content-type"].startswith("application/json")
    assert "tinyllama:latest" in sim.installed()


def test_pull_resumes_after_disconnect() -> None:
    with pull_sim(pull_rate=4e5, pull_tick=0.002) as sim, Client(sim) as client:
        seen = 0
        with client.stream("POST", "/api/pull", json={"model": "acme/tiny:1b"}) as r:
            for raw in r.iter_lines():
                line = json.loads(raw)
                if line.get("completed", 0) >= 8_000:
                    seen = line["completed"]
                    break  # leaving the block closes the connection: a cancel
        assert 0 < seen < 40_000
        lines = stream_lines(client, "/api/pull", {"model": "acme/tiny:1b"})
        groups = check_pull_sequence(lines, 3)
        assert groups[0][0].get("completed", 0) >= seen  # resumed, not restarted
        assert "acme/tiny:1b" in sim.installed()
        assert sim.errors == []


def test_concurrent_pulls_and_chat_while_pulling() -> None:
    with pull_sim(pull_rate=4e6, pull_tick=0.002) as sim:
        sim.add_remote_model("acme/other:2b", [30_000, 200], family="llama")
        results: dict[str, list[dict]] = {}

        def pull(name: str, key: str) -> None:
            with Client(sim) as c:
                results[key] = stream_lines(c, "/api/pull", {"model": name})

        threads = [threading.Thread(target=pull, args=args) for args in
                   [("acme/tiny:1b", "a"), ("acme/other:2b", "b"), ("acme/tiny:1b", "a2")]]
        for t in threads:
            t.start()
        with Client(sim) as c:
            chat = stream_lines(c, "/api/chat", {"model": "llama3.2", "messages": USER})
        for t in threads:
            t.join(10)
        assert chat[-1]["done"] is True
        assert [x["status"] for x in results["a"]][-1] == "success"
        assert [x["status"] for x in results["a2"]][-1] == "success"
        check_pull_sequence(results["b"], 2)
        assert {"acme/tiny:1b", "acme/other:2b"} <= set(sim.installed())
        assert sim.errors == []


# --------------------------------------------------------------------------- chat / generate


def test_chat_stream_and_stats() -> None:
    reply = "Paris is the capital of France. It has about 2.1 million inhabitants!"
    with Simulator(token_rate=1000, reply=reply) as sim, Client(sim) as client:
        lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER})
        chunks, final = lines[:-1], lines[-1]
        assert "".join(c["message"]["content"] for c in chunks) == reply
        for c in chunks:
            assert c["model"] == "llama3.2"  # echoed as sent
            assert c["done"] is False and c["message"]["role"] == "assistant"
            assert dt.datetime.fromisoformat(c["created_at"]).utcoffset() == dt.timedelta(0)
            assert c["created_at"].endswith("Z")
            assert "eval_count" not in c
        assert final["done"] is True and final["done_reason"] == "stop"
        assert final["message"] == {"role": "assistant", "content": ""}
        assert final["eval_count"] == len(chunks)
        assert final["eval_count"] / final["eval_duration"] * 1e9 == pytest.approx(1000, rel=0.01)
        assert final["prompt_eval_count"] > 5 and final["prompt_eval_duration"] > 0
        assert final["load_duration"] > 0  # the model was not loaded
        assert final["total_duration"] >= (final["load_duration"] + final["prompt_eval_duration"]
                                           + final["eval_duration"])
        assert all(isinstance(final[k], int) for k in ("total_duration", "eval_duration"))

        again = stream_lines(client, "/api/chat", {"model": "llama3.2:latest", "messages": USER})[-1]
        assert "load_duration" not in again  # already loaded: 0, so omitted
        assert again["model"] == "llama3.2:latest"

        sim.set_model_rate("llama3.2", 500)
        slow = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER})[-1]
        assert slow["eval_count"] / slow["eval_duration"] * 1e9 == pytest.approx(500, rel=0.01)
        assert sim.errors == []


def test_chat_default_reply_mentions_user_and_is_deterministic(client: httpx.Client) -> None:
    body = {"model": "llama3.2", "messages": USER}
    a = "".join(c["message"]["content"] for c in stream_lines(client, "/api/chat", body))
    b = "".join(c["message"]["content"] for c in stream_lines(client, "/api/chat", body))
    assert a == b and "capital of France" in a


def test_chat_options_format_and_stream_false(sim: Simulator, client: httpx.Client) -> None:
    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER, "options": {"num_predict": 3}})
    assert len(lines) == 4 and lines[-1]["done_reason"] == "length" and lines[-1]["eval_count"] == 3

    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER, "format": "json"})
    assert isinstance(json.loads("".join(c["message"]["content"] for c in lines)), dict)
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}}}
    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER, "format": schema})
    obj = json.loads("".join(c["message"]["content"] for c in lines))
    assert set(obj) == {"city", "population"} and isinstance(obj["population"], int)

    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "stream": False,
                                       "options": {"seed": 42, "temperature": 0.1}})
    one = r.json()
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert one["done"] is True and "capital of France" in one["message"]["content"]
    assert one["eval_count"] > 10

    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "options": {"temperature": "hot"}})
    assert (r.status_code, r.json()) == (500, {"error": 'option "temperature" must be of type float32'})
    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "options": {"stop": "x"}})
    assert r.status_code == 500
    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "format": "yaml"})
    assert r.status_code == 500
    r = client.post("/api/chat", json={"model": "nope", "messages": USER})
    assert (r.status_code, r.json()) == (404, {"error": "model 'nope' not found"})
    assert client.post("/api/chat", json={"model": "bad name", "messages": USER}).status_code == 400


def test_reply_callable_and_stop_sequences() -> None:
    seen: list[tuple[str, list[dict]]] = []

    def reply(model: str, messages: list[dict]) -> str:
        seen.append((model, messages))
        return "alpha beta STOP gamma"

    with Simulator(token_rate=0, reply=reply) as sim, Client(sim) as client:
        lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER,
                                                   "options": {"stop": ["STOP"]}})
        assert "".join(c["message"]["content"] for c in lines) == "alpha beta "
        assert seen == [("llama3.2:latest", USER)]


def test_thinking(client: httpx.Client) -> None:
    lines = stream_lines(client, "/api/chat", {"model": "qwen3:8b", "messages": USER})
    kinds = ["thinking" if c["message"].get("thinking") else "content" for c in lines[:-1]]
    assert kinds[0] == "thinking" and "content" in kinds
    assert kinds == sorted(kinds, key=lambda k: k != "thinking")  # all thinking before the answer
    assert all(c["message"]["content"] == "" for c in lines[:-1] if c["message"].get("thinking"))
    assert lines[-1]["eval_count"] == len(lines) - 1

    lines = stream_lines(client, "/api/chat", {"model": "qwen3:8b", "messages": USER, "think": False})
    assert not any("thinking" in c["message"] for c in lines)
    lines = stream_lines(client, "/api/chat", {"model": "qwen3:8b", "messages": USER, "think": "high"})
    assert any("thinking" in c["message"] for c in lines)
    one = client.post("/api/chat", json={"model": "qwen3:8b", "messages": USER, "stream": False}).json()
    assert one["message"]["thinking"] and one["message"]["content"]

    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "think": True})
    assert (r.status_code, r.json()) == (400, {"error": '"llama3.2" does not support thinking'})
    assert client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "think": False,
                                          "stream": False}).status_code == 200

    gen = stream_lines(client, "/api/generate", {"model": "qwen3:8b", "prompt": "why?"})
    assert gen[0]["thinking"] and gen[0]["response"] == ""


def test_capability_errors(client: httpx.Client) -> None:
    r = client.post("/api/chat", json={"model": "nomic-embed-text", "messages": USER})
    assert (r.status_code, r.json()) == (400, {"error": '"nomic-embed-text" does not support chat'})
    r = client.post("/api/generate", json={"model": "nomic-embed-text", "prompt": "x"})
    assert (r.status_code, r.json()) == (400, {"error": '"nomic-embed-text" does not support generate'})
    img = [{"role": "user", "content": "what is this?", "images": ["aGVsbG8="]}]
    r = client.post("/api/chat", json={"model": "llama3.2", "messages": img})
    assert r.status_code == 400 and "does not support" in r.json()["error"]
    ok = client.post("/api/chat", json={"model": "llava:7b", "messages": img, "stream": False})
    assert ok.status_code == 200 and "image" in ok.json()["message"]["content"]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    r = client.post("/api/chat", json={"model": "llava:7b", "messages": USER, "tools": tools})
    assert (r.status_code, r.json()) == (400, {"error": '"llava:7b" does not support tools'})


def test_tool_calls(client: httpx.Client) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    msgs = [{"role": "user", "content": "Use get_weather for Paris please"}]
    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": msgs, "tools": tools})
    calls = [tc for c in lines for tc in c["message"].get("tool_calls", [])]
    assert len(calls) == 1
    assert re.fullmatch(r"call_[a-z0-9]{8}", calls[0]["id"])
    assert calls[0]["function"] == {"index": 0, "name": "get_weather", "arguments": {"city": "Paris"}}
    follow = msgs + [{"role": "assistant", "content": "", "tool_calls": calls},
                     {"role": "tool", "content": "22 degrees and sunny", "tool_name": "get_weather"}]
    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": follow, "tools": tools})
    assert "22 degrees" in "".join(c["message"]["content"] for c in lines)


ADD = {"type": "function", "function": {"name": "add", "parameters": {
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}
ECHO = {"type": "function", "function": {"name": "echo", "parameters": {
    "type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}}}


def _calls(lines: list[dict]) -> list[dict]:
    return [tc for c in lines for tc in c["message"].get("tool_calls", [])]


def test_tool_calls_take_named_arguments_and_two_tools(client: httpx.Client) -> None:
    msgs = [{"role": "user", "content": "use the echo tool with text=hi and the add tool with a=2 b=3"}]
    calls = _calls(stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": msgs, "tools": [ADD, ECHO]}))
    assert [c["function"]["name"] for c in calls] == ["echo", "add"]  # in the order the prompt names them
    assert calls[0]["function"]["arguments"] == {"text": "hi"}
    assert calls[1]["function"] == {"index": 1, "name": "add", "arguments": {"a": 2, "b": 3}}
    follow = msgs + [{"role": "assistant", "content": "", "tool_calls": calls},
                     {"role": "tool", "content": "hi", "tool_name": "echo"},
                     {"role": "tool", "content": "5", "tool_name": "add"}]
    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": follow, "tools": [ADD, ECHO]})
    text = "".join(c["message"]["content"] for c in lines)
    assert not _calls(lines) and "`echo`: hi" in text and "`add`: 5" in text
    # "address" is not the add tool
    msgs = [{"role": "user", "content": "what is my address"}]
    assert not _calls(stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": msgs, "tools": [ADD]}))


def test_tool_rounds(client: httpx.Client) -> None:
    msgs: list[dict] = [{"role": "user", "content": "use add a=1 b=1 rounds=2"}]
    for expected in (1, 1, 0):
        lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": msgs, "tools": [ADD]})
        calls = _calls(lines)
        assert len(calls) == expected
        msgs += [{"role": "assistant", "content": "", "tool_calls": calls},
                 {"role": "tool", "content": "2", "tool_name": "add"}]


def test_generate(client: httpx.Client) -> None:
    lines = stream_lines(client, "/api/generate", {"model": "llama3.2", "prompt": "Tell me a joke"})
    assert all("response" in c and "message" not in c for c in lines)
    assert "Tell me a joke" in "".join(c["response"] for c in lines)
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop" and final["response"] == ""
    assert isinstance(final["context"], list) and final["context"]
    assert final["eval_count"] == len(lines) - 1

    r = client.post("/api/generate", json={"model": "llama3.2", "prompt": ""})
    assert r.json()["done_reason"] == "load" and r.json()["response"] == ""
    r = client.post("/api/generate", json={"model": "llama3.2", "prompt": "", "keep_alive": 0})
    assert r.json()["done_reason"] == "unload"
    assert ps_names(client) == []


# --------------------------------------------------------------------------- ps / keep_alive


def test_load_unload_and_ps(sim: Simulator, client: httpx.Client) -> None:
    assert client.get("/api/ps").json() == {"models": []}
    r = client.post("/api/chat", json={"model": "llama3.2", "messages": []})
    body = r.json()
    assert r.status_code == 200 and body["done_reason"] == "load" and body["done"] is True
    assert body["message"] == {"role": "assistant", "content": ""}
    m = ps_entry(client, "llama3.2:latest")
    assert m["model"] == "llama3.2:latest" and HEX64.fullmatch(m["digest"])
    assert m["size_vram"] == m["size"] > 2e9 and m["context_length"] == 4096
    assert 290 < seconds_until(m["expires_at"]) <= 300
    assert sim.loaded() == ["llama3.2:latest"]

    client.post("/api/chat", json={"model": "qwen3:8b", "messages": []})
    q = ps_entry(client, "qwen3:8b")
    assert 0 < q["size_vram"] < q["size"]  # partly on the CPU

    r = client.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": 0})
    assert r.json()["done_reason"] == "unload"
    assert ps_names(client) == ["qwen3:8b"] and sim.loaded() == ["qwen3:8b"]

    client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "keep_alive": 0, "stream": False})
    assert "llama3.2:latest" not in ps_names(client)  # unloaded when the request ended


def test_keep_alive_values(client: httpx.Client) -> None:
    client.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": -1})
    assert dt.datetime.fromisoformat(ps_entry(client, "llama3.2:latest")["expires_at"]).year > 2200
    client.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": "1h30m"})
    assert 5390 < seconds_until(ps_entry(client, "llama3.2:latest")["expires_at"]) <= 5400
    # absent keep_alive on a loaded model keeps its setting
    client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "stream": False})
    assert 5390 < seconds_until(ps_entry(client, "llama3.2:latest")["expires_at"]) <= 5400
    client.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": 120})
    assert 110 < seconds_until(ps_entry(client, "llama3.2:latest")["expires_at"]) <= 120

    r = client.post("/api/chat", json={"model": "llama3.2", "messages": [], "keep_alive": "300"})
    assert r.status_code == 400 and "missing unit" in r.json()["error"]

    client.post("/api/generate", json={"model": "qwen3:8b", "prompt": "", "keep_alive": "30ms"})
    wait_sync(lambda: "qwen3:8b" not in ps_names(client))  # expired models disappear


# --------------------------------------------------------------------------- embed


def test_embed(sim: Simulator, client: httpx.Client) -> None:
    r = client.post("/api/embed", json={"model": "nomic-embed-text", "input": "hello"}).json()
    assert r["model"] == "nomic-embed-text" and len(r["embeddings"]) == 1
    vec = r["embeddings"][0]
    assert len(vec) == 768 and sum(v * v for v in vec) == pytest.approx(1.0, rel=1e-4)
    assert r["prompt_eval_count"] > 0 and r["total_duration"] > 0
    two = client.post("/api/embed", json={"model": "nomic-embed-text", "input": ["hello", "world"]}).json()
    assert two["embeddings"][0] == vec and two["embeddings"][1] != vec
    assert client.post("/api/embed", json={"model": "nomic-embed-text"}).json()["embeddings"] == []
    assert client.post("/api/embed", json={"model": "nomic-embed-text", "input": 5}).status_code == 400
    assert client.post("/api/embed", json={"model": "nope", "input": "x"}).status_code == 404
    assert "nomic-embed-text:latest" in sim.loaded()
    legacy = client.post("/api/embeddings", json={"model": "nomic-embed-text", "prompt": "hello"}).json()
    assert len(legacy["embedding"]) == 768


# --------------------------------------------------------------------------- delete / copy / create


def test_delete(sim: Simulator, client: httpx.Client) -> None:
    r = client.request("DELETE", "/api/delete", json={"model": "llava:7b"})
    assert (r.status_code, r.content) == (200, b"")
    assert "llava:7b" not in sim.installed()
    r = client.request("DELETE", "/api/delete", json={"model": "llava:7b"})
    assert (r.status_code, r.json()) == (404, {"error": "model 'llava:7b' not found"})
    assert client.request("DELETE", "/api/delete", json={"model": "a b"}).status_code == 400
    # the blobs went too: pulling again downloads
    lines = stream_lines(client, "/api/pull", {"model": "llava:7b"})
    assert "completed" not in lines[1]


def test_copy(sim: Simulator, client: httpx.Client) -> None:
    r = client.post("/api/copy", json={"source": "llama3.2", "destination": "my-llama"})
    assert (r.status_code, r.content) == (200, b"")
    tags = {m["name"]: m["digest"] for m in client.get("/api/tags").json()["models"]}
    assert tags["my-llama:latest"] == tags["llama3.2:latest"]
    client.post("/api/copy", json={"source": "qwen3:8b", "destination": "MY-LLAMA"})  # overwrite
    tags = {m["name"]: m["digest"] for m in client.get("/api/tags").json()["models"]}
    assert tags["my-llama:latest"] == tags["qwen3:8b"]
    r = client.post("/api/copy", json={"source": "nope", "destination": "x"})
    assert (r.status_code, r.json()) == (404, {"error": 'model "nope" not found'})
    assert client.post("/api/copy", json={"source": "llama3.2", "destination": "bad name"}).status_code == 400
    assert client.post("/api/copy", json={"source": "x:", "destination": "y"}).status_code == 400


def test_create(sim: Simulator, client: httpx.Client) -> None:
    lines = stream_lines(client, "/api/create", {
        "model": "mario", "from": "llama3.2", "system": "You are Mario from Super Mario Bros.",
        "parameters": {"temperature": 0.7, "num_ctx": 8192}, "template": "{{ .System }} {{ .Prompt }}"})
    statuses = [x["status"] for x in lines]
    assert statuses[0].startswith("using existing layer sha256:")
    assert any(s.startswith("creating new layer sha256:") for s in statuses)
    assert all(re.fullmatch(r"(using existing|creating new) layer sha256:[0-9a-f]{64}", s) for s in statuses[:-2])
    assert statuses[-2:] == ["writing manifest", "success"]
    assert "mario:latest" in sim.installed()
    show = client.post("/api/show", json={"model": "mario"}).json()
    assert show["system"] == "You are Mario from Super Mario Bros."
    assert show["template"] == "{{ .System }} {{ .Prompt }}"
    assert re.search(r"^temperature\s+0.7$", show["parameters"], re.M)
    assert show["details"]["parent_model"] == "llama3.2:latest"
    assert 'SYSTEM """You are Mario' in show["modelfile"]
    loaded = client.post("/api/chat", json={"model": "mario", "messages": []})
    assert loaded.status_code == 200 and ps_entry(client, "mario:latest")["context_length"] == 8192

    r = client.post("/api/create", json={"model": "x", "from": "nope"})
    assert r.status_code == 404
    assert client.post("/api/create", json={"model": "x"}).status_code == 400
    assert client.post("/api/create", json={"model": "bad name", "from": "llama3.2"}).status_code == 400

    # from a model that is only in the registry: pulled first, pull statuses appear
    lines = stream_lines(client, "/api/create", {"model": "tiny2", "from": "tinyllama", "system": "Be brief."})
    statuses = [x["status"] for x in lines]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert {"tinyllama:latest", "tiny2:latest"} <= set(sim.installed())
    r = client.post("/api/create", json={"model": "tiny3", "from": "tinyllama", "stream": False})
    assert r.json() == {"status": "success"}


def test_push(client: httpx.Client) -> None:
    client.post("/api/copy", json={"source": "llama3.2", "destination": "me/llama"})
    lines = stream_lines(client, "/api/push", {"model": "me/llama"})
    assert lines[0] == {"status": "retrieving manifest"} and lines[-1] == {"status": "success"}
    lines = stream_lines(client, "/api/push", {"model": "llama3.2"})
    assert "error" in lines[-1]


# --------------------------------------------------------------------------- faults


def test_fault_status(sim: Simulator, client: httpx.Client) -> None:
    sim.inject("/api/chat", "status", status=503, message="server busy, please try again.")
    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER})
    assert (r.status_code, r.json()) == (503, {"error": "server busy, please try again."})
    assert client.post("/api/chat", json={"model": "llama3.2", "messages": USER, "stream": False}).status_code == 200

    sim.inject("*", "status", status=500, times=2)
    assert client.get("/api/tags").status_code == 500
    assert client.get("/").status_code == 500
    assert client.get("/").status_code == 200

    sim.inject("/api/tags", "status", status=502, times=None)
    assert [client.get("/api/tags").status_code for _ in range(3)] == [502] * 3
    sim.clear_faults()
    assert client.get("/api/tags").status_code == 200
    with pytest.raises(ValueError):
        sim.inject("/api/chat", "explode")


def test_fault_error_mid_stream(sim: Simulator, client: httpx.Client) -> None:
    sim.inject("/api/chat", "error_mid_stream", after=3, message="runner crashed")
    lines = stream_lines(client, "/api/chat", {"model": "llama3.2", "messages": USER})
    assert len(lines) == 4 and lines[-1] == {"error": "runner crashed"}
    assert not any(x.get("done") for x in lines)

    sim.inject("/api/pull", "error_mid_stream", after=1, message="max retries exceeded: EOF")
    lines = stream_lines(client, "/api/pull", {"model": "tinyllama"})
    assert lines == [{"status": "pulling manifest"}, {"error": "max retries exceeded: EOF"}]

    sim.inject("/api/tags", "error_mid_stream", message="boom")  # non-streamed: an error status
    r = client.get("/api/tags")
    assert (r.status_code, r.json()) == (500, {"error": "boom"})


def test_fault_drop_and_truncated(sim: Simulator, client: httpx.Client) -> None:
    got: list[str] = []
    sim.inject("/api/chat", "drop", after=2)
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", "/api/chat", json={"model": "llama3.2", "messages": USER}) as r:
            for line in r.iter_lines():
                got.append(line)
    assert len(got) == 2 and all(json.loads(x)["done"] is False for x in got)

    sim.inject("/api/pull", "truncated", after=2)
    data = b""
    with pytest.raises(httpx.RemoteProtocolError):
        with client.stream("POST", "/api/pull", json={"model": "llama3.2"}) as r:
            for chunk in r.iter_bytes():
                data += chunk
    *whole, partial = data.split(b"\n")
    assert len(whole) == 2 and [json.loads(x) for x in whole][0] == {"status": "pulling manifest"}
    assert partial.startswith(b'{"status":"pulling') and not partial.endswith(b"}")

    sim.inject("/api/tags", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/api/tags")
    assert client.get("/api/tags").status_code == 200  # the server keeps serving


def test_fault_malformed_empty_nonjson_and_slow(sim: Simulator, client: httpx.Client) -> None:
    sim.inject("/api/chat", "malformed_line", after=1)
    with client.stream("POST", "/api/chat", json={"model": "llama3.2", "messages": USER}) as r:
        raw = list(r.iter_lines())
    assert raw[1] == "this is not json {"
    assert json.loads(raw[-1])["done"] is True
    assert all(json.loads(x) for i, x in enumerate(raw) if i != 1)

    sim.inject("/api/chat", "empty_body")
    r = client.post("/api/chat", json={"model": "llama3.2", "messages": USER})
    assert (r.status_code, r.content) == (200, b"")
    sim.inject("/api/tags", "non_json")
    r = client.get("/api/tags")
    assert (r.status_code, r.text) == (200, "<html>oops</html>")

    sim.inject("/api/version", "slow_first_byte", delay=0.15)
    started = time.monotonic()
    assert client.get("/api/version").status_code == 200
    assert time.monotonic() - started >= 0.15


# --------------------------------------------------------------------------- stop()


def test_stop_is_quick_with_open_stream_and_slow_first_byte() -> None:
    sim = Simulator(token_rate=50, reply="word " * 2000).start()  # a slow stream: 40 s for the reply
    sim.inject("/api/version", "slow_first_byte", delay=60)
    first_chunk = threading.Event()
    outcomes: dict[str, BaseException | None] = {}

    def chat() -> None:
        try:
            with Client(sim) as c:
                with c.stream("POST", "/api/chat", json={"model": "llama3.2", "messages": USER}) as r:
                    for _ in r.iter_lines():
                        first_chunk.set()
            outcomes["chat"] = None
        except httpx.HTTPError as e:
            outcomes["chat"] = e

    def slow() -> None:
        try:
            httpx.get(sim.url + "/api/version", timeout=10, verify=SSL)
            outcomes["slow"] = None
        except httpx.HTTPError as e:
            outcomes["slow"] = e

    threads = [threading.Thread(target=chat), threading.Thread(target=slow)]
    for t in threads:
        t.start()
    assert first_chunk.wait(5)
    wait_sync(lambda: ("GET", "/api/version", None) in sim.requests)
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 1.0
    for t in threads:
        t.join(5)
    assert isinstance(outcomes["chat"], httpx.HTTPError)
    assert isinstance(outcomes["slow"], httpx.HTTPError)
    sim.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(sim.url, timeout=2, verify=SSL)
    assert sim.errors == []


def test_stop_without_start_and_context_manager() -> None:
    Simulator().stop()
    with Simulator(**FAST) as sim:
        assert httpx.get(sim.url, verify=SSL).status_code == 200


def test_simulator_does_not_import_textual() -> None:
    code = "import sys, tui.simulator; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_runs_in_foreground() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tui.simulator", "--token-rate", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert httpx.get(url, timeout=5, verify=SSL).text == "Ollama is running"
    finally:
        proc.terminate()
        assert proc.wait(5) == 0
    assert proc.stderr is not None and "Traceback" not in proc.stderr.read()


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize("name", [
    "llama3.2", "llama3.2:latest", "ns/model:tag", "host:5000/ns/model", "hf.co/user/model:Q4_K_M",
    "model:cloud", "gpt-oss:20b-cloud", "_m", "a" * 80,
])
def test_valid_names(name: str) -> None:
    assert parse_name(name) is not None


@pytest.mark.parametrize("name", [
    "", "model:", "/model", "ns//m", "a/b/c/d", "-model", "mo del", "ns.x/model", "a" * 81, "m:-tag", "m:t/x",
])
def test_invalid_names(name: str) -> None:
    assert parse_name(name) is None


def test_name_normalisation() -> None:
    assert parse_name("llama3.2").short == "llama3.2:latest"  # type: ignore[union-attr]
    assert parse_name("registry.ollama.ai/library/Llama3.2:latest").key == parse_name("llama3.2").key  # type: ignore[union-attr]
    assert parse_name("me/m").short == "me/m:latest"  # type: ignore[union-attr]
    assert parse_name("host:5000/ns/model").short == "host:5000/ns/model:latest"  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "seconds"), [
    ("5m", 300), ("1h30m", 5400), ("-1m", -60), ("0", 0), ("1.5s", 1.5), ("300ms", 0.3), ("2h45m30s", 9930),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["300", "5d", "", "m", "1..5s"])
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_duration(text)


@given(st.text())
def test_tokenize_round_trips(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_preload_makes_a_model_loaded_as_a_chat_would(tmp_path):
    """`--demo` starts with llama3.2 loaded, so /api/ps (Monitor, status line) shows it."""
    import json
    import urllib.request

    with Simulator(token_rate=0) as sim:
        sim.preload("llama3.2")
        with urllib.request.urlopen(sim.url + "/api/ps") as answer:
            models = json.load(answer)["models"]
    assert [m["name"] for m in models] == ["llama3.2:latest"] and models[0]["size_vram"] > 0
