"""An OpenAI-compatible server on 127.0.0.1, as vLLM, llama.cpp's llama-server and LM Studio
speak it (stdlib only): `GET /v1/models`, `POST /v1/chat/completions` streamed as Server-Sent
Events (`data:` lines, a `usage` chunk with empty `choices` when asked, `data: [DONE]`), errors in
OpenAI's shape, an API key, and a vLLM-style `/metrics`.

Knobs: `api_key` (None: no key needed), `models`, `token_rate`, `reply`; `fault` makes the next
stream misbehave: "drop" (close mid-stream), "no_done" (end without [DONE]), "pings" (a `: ping`
comment line between chunks), or an HTTP status.

Tools: sent `tools`, a model calls the ones the user's last prompt names (as the Ollama
simulator's tools model: `name=value` words give arguments, `rounds=N` asks for N rounds), streamed
as `delta.tool_calls` with the arguments' JSON split over several chunks, then finish_reason
"tool_calls". `tool_support=False` answers a request with tools 400 as vLLM started without
--enable-auto-tool-choice does; `bad_tool_arguments=True` streams arguments that are not JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tui.simulator.exporter import ExporterState, serving_text
from tui.simulator.support import (
    last_user_text,
    pick_tools,
    tool_arguments,
    wants_tools,
)

ReplyFn = Callable[[str, list[dict[str, Any]]], str]

NO_AUTO_TOOL_CHOICE = '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'


def openai_error(message: str, type_: str, code: str | int | None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type_, "param": None, "code": code}}).encode()


class OpenAISimulator:
    def __init__(self, *, api_key: str | None = None, models: tuple[str, ...] = ("meta-llama/Llama-3.1-8B-Instruct",
                 "Qwen/Qwen2.5-7B-Instruct"), token_rate: float = 200.0, reply: str | ReplyFn | None = None,
                 owned_by: str = "vllm") -> None:
        self.api_key = api_key
        self.models = list(models)
        self.token_rate = token_rate
        self.reply = reply
        self.owned_by = owned_by
        self.fault: str | int | None = None
        self.fault_after = 3  # chunks sent before "drop"
        self.tool_support = True
        self.bad_tool_arguments = False
        self.argument_piece = 4  # characters of a tool call's arguments per chunk
        self.requests: list[tuple[str, str, dict[str, Any] | None, str | None]] = []  # + Authorization
        self.hangups = 0
        self.metrics = ExporterState(serving="vllm", node=False)
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self.url = ""

    # -- replies ------------------------------------------------------------------------------

    def tool_calls(self, messages: list[dict[str, Any]], tools: Any) -> list[dict[str, Any]]:
        """The calls the model makes now (OpenAI's shape, arguments a JSON string), or none."""
        if not isinstance(tools, list) or not tools or not messages or not wants_tools(messages):
            return []
        asked = last_user_text(messages)
        calls = []
        turn = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
        for index, func in enumerate(pick_tools(tools, asked)):
            args = json.dumps(tool_arguments(func.get("parameters"), asked))
            if self.bad_tool_arguments:
                args = args[:-1] + ', "unfinished'
            calls.append({"index": index, "id": f"chatcmpl-tool-{turn}-{index}", "type": "function",
                          "function": {"name": str(func.get("name")), "arguments": args}})
        return calls

    def _text(self, model: str, messages: list[dict[str, Any]]) -> str:
        last_message = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        if last_message.get("role") == "tool" and not callable(self.reply):
            names = {c.get("id"): (c.get("function") or {}).get("name") for m in messages
                     if isinstance(m, dict) and m.get("role") == "assistant" for c in m.get("tool_calls") or ()
                     if isinstance(c, dict)}
            results = []
            for m in reversed(messages):
                if not isinstance(m, dict) or m.get("role") != "tool":
                    break
                results.append(f"`{names.get(m.get('tool_call_id'), '?')}` ({m.get('tool_call_id')}): "
                               f"{str(m.get('content', ''))[:200]}")
            return "The tools returned: " + "; ".join(reversed(results)) + ". That settles it."
        if callable(self.reply):
            return self.reply(model, messages)
        if isinstance(self.reply, str):
            return self.reply
        last = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
        if isinstance(last, list):  # content parts (text + images)
            last = " ".join(p.get("text", "") for p in last if isinstance(p, dict))
        return f"This reply came from {model} over the OpenAI-compatible API. You said: {last}"

    @staticmethod
    def tokens(text: str) -> list[str]:
        out, word = [], ""
        for ch in text:
            word += ch
            if ch == " ":
                out.append(word)
                word = ""
        return out + ([word] if word else [])

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> OpenAISimulator:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self) -> bool:
                if sim.api_key is None or self.headers.get("Authorization") == f"Bearer {sim.api_key}":
                    return True
                self._send(401, openai_error("Incorrect API key provided.", "invalid_request_error",
                                             "invalid_api_key"))
                return False

            def do_GET(self) -> None:  # noqa: N802
                sim.requests.append(("GET", self.path, None, self.headers.get("Authorization")))
                if self.path == "/metrics":
                    self._send(200, serving_text(sim.metrics).encode(), "text/plain; version=0.0.4")
                elif self.path == "/v1/models":
                    if self._authorized():
                        data = [{"id": m, "object": "model", "created": 1733000000, "owned_by": sim.owned_by,
                                 "max_model_len": 32768} for m in sim.models]
                        self._send(200, json.dumps({"object": "list", "data": data}).encode())
                else:
                    self._send(404, openai_error(f"Not Found: {self.path}", "NotFoundError", 404))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                sim.requests.append(("POST", self.path, body, self.headers.get("Authorization")))
                if self.path != "/v1/chat/completions":
                    self._send(404, openai_error(f"Not Found: {self.path}", "NotFoundError", 404))
                    return
                if not self._authorized():
                    return
                if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                    self._send(400, openai_error("messages: field required", "BadRequestError", 400))
                    return
                if isinstance(sim.fault, int):
                    status, sim.fault = sim.fault, None
                    self._send(status, openai_error(f"simulated failure {status}", "InternalServerError", status))
                    return
                if body.get("tools") and not sim.tool_support:
                    self._send(400, openai_error(NO_AUTO_TOOL_CHOICE, "BadRequestError", 400))
                    return
                model = body.get("model")
                if model not in sim.models:
                    self._send(404, openai_error(f"The model `{model}` does not exist.", "NotFoundError", 404))
                    return
                calls = sim.tool_calls(body["messages"], body.get("tools"))
                text = "" if calls else sim._text(model, body["messages"])
                if body.get("max_tokens"):
                    text = "".join(sim.tokens(text)[: int(body["max_tokens"])])
                if body.get("stream"):
                    self._stream(model, text, body, calls)
                else:
                    usage = {"prompt_tokens": 12, "completion_tokens": len(sim.tokens(text)),
                             "total_tokens": 12 + len(sim.tokens(text))}
                    self._send(200, json.dumps({
                        "id": "chatcmpl-sim", "object": "chat.completion", "created": int(time.time()),
                        "model": model, "usage": usage,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text or None,
                                                             **({"tool_calls": calls} if calls else {})},
                                     "finish_reason": "tool_calls" if calls else "stop"}]}).encode())

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def _event(self, obj: Any) -> None:
                self._chunk(b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n")

            def _stream(self, model: str, text: str, body: dict[str, Any],
                        calls: list[dict[str, Any]] = ()) -> None:
                fault, sim.fault = sim.fault, None
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                base = {"id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": model}
                tokens = sim.tokens(text)
                delay = 1.0 / sim.token_rate if sim.token_rate and sim.token_rate > 0 else 0.0
                try:
                    self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                      "finish_reason": None}]})
                    for i, token in enumerate(tokens):
                        if fault == "drop" and i == sim.fault_after:
                            self.close_connection = True
                            return
                        if fault == "pings":
                            self._chunk(b": ping\n\n")
                        if delay:
                            time.sleep(delay)
                        self._event({**base, "choices": [{"index": 0, "delta": {"content": token},
                                                          "finish_reason": None}]})
                    for call in calls:  # the head (id, name), then the arguments in pieces
                        args, step = call["function"]["arguments"], max(1, sim.argument_piece)
                        head = {"index": call["index"], "id": call["id"], "type": "function",
                                "function": {"name": call["function"]["name"], "arguments": ""}}
                        self._event({**base, "choices": [{"index": 0, "delta": {"tool_calls": [head]},
                                                          "finish_reason": None}]})
                        for at in range(0, len(args), step):
                            piece = {"index": call["index"], "function": {"arguments": args[at:at + step]}}
                            self._event({**base, "choices": [{"index": 0, "delta": {"tool_calls": [piece]},
                                                              "finish_reason": None}]})
                    self._event({**base, "choices": [{"index": 0, "delta": {},
                                                      "finish_reason": "tool_calls" if calls else "stop"}]})
                    if (body.get("stream_options") or {}).get("include_usage"):
                        self._event({**base, "choices": [], "usage": {
                            "prompt_tokens": 12, "completion_tokens": len(tokens), "total_tokens": 12 + len(tokens)}})
                    if fault != "no_done":
                        self._event(b"[DONE]")
                    self._chunk(b"")
                except (BrokenPipeError, ConnectionResetError):
                    sim.hangups += 1
                    self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, name="openai-sim", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> OpenAISimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def chat_requests(self) -> list[dict[str, Any]]:
        return [body for method, path, body, _auth in self.requests
                if path == "/v1/chat/completions" and isinstance(body, dict)]
