"""Inference endpoints of the Ollama simulator: model loading, ps, chat, generate, embed."""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from typing import Any

from tui.simulator import catalogue as M
from tui.simulator.http import Response
from tui.simulator.state import (
    Installed,
    Loaded,
    SimState,
    body_keep_alive,
    body_str,
    is_fast,
    quote,
    wants_stream,
)
from tui.simulator.support import (
    Name,
    check_options,
    default_reply,
    json_reply,
    last_user_text,
    pick_tools,
    rfc3339_local,
    rfc3339_utc,
    thinking_text,
    token_ids,
    tokenize,
    tool_arguments,
    wants_tools,
)
from tui.simulator.wire import Abort, HTTPError, Request

DEFAULT_KEEP_ALIVE = 300.0  # seconds (Ollama's 5m)
DEFAULT_NUM_CTX = 4096
THINK_LEVELS = ("low", "medium", "high", "max")


def handle_ps(state: SimState, req: Request, resp: Response) -> None:
    with state.lock:
        state.purge_expired()
        items = sorted(state.loaded.values(), key=lambda m: -m.expires)
        models = []
        for m in items:
            size, vram = M.runtime_size(m.spec, m.num_ctx)
            models.append({
                "name": m.name, "model": m.name, "size": size, "digest": m.spec.digest,
                "details": m.spec.details(), "expires_at": rfc3339_local(m.expires),
                "size_vram": vram, "context_length": m.num_ctx,
            })
    resp.json(200, {"models": models})


# ---- loading
def load_time(state: SimState, spec: M.ModelSpec, key: str = "") -> float:
    """Seconds a cold load of the model takes (set by `set_model_load_time`, else from its size)."""
    with state.lock:
        configured = state.load_times.get(key)
    if configured is not None:
        return configured
    if is_fast(state.token_rate):
        return 0.0
    return min(0.5, spec.size / 1e9 * 4.0 / state.token_rate)


def acquire(state: SimState, n: Name, inst: Installed, keep_alive: float | None, options: dict) -> float:
    """Make sure the model is loaded and mark it in use; returns the load time (0 if it was)."""
    explicit_ctx = options.get("num_ctx")
    num_ctx = int(explicit_ctx or inst.spec.parameters.get("num_ctx") or DEFAULT_NUM_CTX)
    num_ctx = max(1, min(num_ctx, inst.spec.context_length))
    with state.lock:
        state.purge_expired()
        cur = state.loaded.get(n.key)
        if cur is not None and cur.spec.digest == inst.spec.digest and (not explicit_ctx or cur.num_ctx == num_ctx):
            if keep_alive is not None:
                cur.keep_alive = keep_alive
            cur.in_use += 1
            cur.expires = _expiry(cur.keep_alive)
            return 0.0
        if cur is not None and cur.in_use == 0:
            del state.loaded[n.key]
    started = time.monotonic()
    state.sleep(load_time(state, inst.spec, n.key))
    elapsed = max(time.monotonic() - started, 1e-6)
    with state.lock:
        ka = keep_alive if keep_alive is not None else DEFAULT_KEEP_ALIVE
        cur = state.loaded.get(n.key)
        if cur is None or cur.spec.digest != inst.spec.digest or cur.num_ctx != num_ctx:
            in_use = cur.in_use if cur is not None else 0
            cur = Loaded(inst.name, inst.spec, num_ctx, ka, _expiry(ka), in_use)
            state.loaded[n.key] = cur
        elif keep_alive is not None:
            cur.keep_alive = keep_alive
        cur.in_use += 1
    return elapsed


def _expiry(keep_alive: float) -> float:
    return math.inf if math.isinf(keep_alive) else time.time() + keep_alive


def release(state: SimState, n: Name) -> None:
    """A request is done with the model: unload it now (keep_alive 0) or when it expires."""
    with state.lock:
        cur = state.loaded.get(n.key)
        if cur is None:
            return
        cur.in_use = max(0, cur.in_use - 1)
        if cur.in_use == 0 and cur.keep_alive == 0:
            del state.loaded[n.key]
        else:
            cur.expires = _expiry(cur.keep_alive)


def _unload(state: SimState, n: Name) -> None:
    with state.lock:
        cur = state.loaded.get(n.key)
        if cur is None:
            return
        if cur.in_use:
            cur.keep_alive = 0.0
        else:
            del state.loaded[n.key]


# ---- chat / generate
def handle_chat(state: SimState, req: Request, resp: Response) -> None:
    _infer(state, req, resp, chat=True)


def handle_generate(state: SimState, req: Request, resp: Response) -> None:
    _infer(state, req, resp, chat=False)


def _infer(state: SimState, req: Request, resp: Response, *, chat: bool) -> None:
    t0 = time.monotonic()
    body = req.body
    raw = body_str(body, "model")
    n, inst = state.find(raw)
    keep_alive = body_keep_alive(body)
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise HTTPError(400, "json: cannot unmarshal options into Go struct field .options of type map[string]interface {}")
    if chat:
        conv = body.get("messages") or []
        if not isinstance(conv, list) or not all(isinstance(m, dict) for m in conv):
            raise HTTPError(400, "json: cannot unmarshal messages into Go struct field ChatRequest.messages of type []api.Message")
        empty = not conv
        images = sum(len(m.get("images") or []) for m in conv)
    else:
        prompt = body_str(body, "prompt")
        empty = prompt == ""
        images = len(body.get("images") or [])
        user: dict[str, Any] = {"role": "user", "content": prompt}
        if body.get("images"):
            user["images"] = body["images"]
        system = body_str(body, "system")
        conv = ([{"role": "system", "content": system}] if system else []) + [user]

    if empty and keep_alive == 0:
        _unload(state, n)
        resp.json(200, _done_obj(chat, raw, "unload"))
        return

    caps = inst.spec.capabilities
    think = body.get("think")
    if think is not None and not isinstance(think, bool) and think not in THINK_LEVELS:
        raise HTTPError(400, f"invalid think value: {quote(str(think))}")
    if "thinking" in caps:
        think_on = think is None or think is True or isinstance(think, str)
    else:
        if think is True or isinstance(think, str):
            raise HTTPError(400, f"{quote(raw)} does not support thinking")
        think_on = False
    if "completion" not in caps:
        raise HTTPError(400, f"{quote(raw)} does not support {'chat' if chat else 'generate'}")
    tools = body.get("tools") if chat else None
    if tools and "tools" not in caps:
        raise HTTPError(400, f"{quote(raw)} does not support tools")
    if images and "vision" not in caps:
        raise HTTPError(400, f"{quote(raw)} does not support images")
    err = check_options(options)
    if err:
        raise HTTPError(500, err)
    fmt = body.get("format")
    if fmt not in (None, "", "json") and not isinstance(fmt, dict):
        raise HTTPError(500, 'invalid format: expected "json" or a valid JSON schema')

    load_s = acquire(state, n, inst, keep_alive, options)
    try:
        if empty:
            resp.json(200, _done_obj(chat, raw, "load"))
            return
        _respond(state, resp, chat=chat, raw=raw, inst=inst, n=n, conv=conv, options=options, fmt=fmt,
                      think_on=think_on, tools=tools if isinstance(tools, list) else None, images=images,
                      load_s=load_s, t0=t0, stream=wants_stream(body))
    finally:
        release(state, n)


def _done_obj(chat: bool, raw: str, reason: str) -> dict[str, Any]:
    if chat:
        return {"model": raw, "created_at": rfc3339_utc(), "message": {"role": "assistant", "content": ""},
                "done_reason": reason, "done": True}
    return {"model": raw, "created_at": rfc3339_utc(), "response": "", "done": True, "done_reason": reason}


def _reply_text(state: SimState, model: str, conv: list[dict], fmt: Any) -> str:
    r = state.reply
    if r is None:
        return json_reply(fmt, model, conv) if fmt else default_reply(model, conv)
    text = r if isinstance(r, str) else str(r(model, conv))
    if fmt:
        try:
            if isinstance(json.loads(text), (dict, list)):
                return text
        except ValueError:
            pass
        return json.dumps({"response": text}, ensure_ascii=False)
    return text


def _prompt_tokens(spec: M.ModelSpec, conv: list[dict], tools: list | None, images: int) -> int:
    count = len(tokenize(spec.system)) if spec.system and not any(m.get("role") == "system" for m in conv) else 0
    for m in conv:
        count += 4 + len(tokenize(str(m.get("content") or "")))
    if tools:
        count += len(tokenize(json.dumps(tools)))
    return count + 576 * images + 3


def _wants_tools(conv: list[dict]) -> bool:
    return wants_tools(conv)


def _respond(state: SimState, resp: Response, *, chat: bool, raw: str, inst: Installed, n: Name, conv: list[dict],
             options: dict, fmt: Any, think_on: bool, tools: list | None, images: int, load_s: float,
             t0: float, stream: bool) -> None:
    with state.lock:
        rate = state.model_rates.get(n.key, state.token_rate)
    fast = is_fast(rate)
    text = _reply_text(state, inst.name, conv, fmt)
    tool_calls: list[dict[str, Any]] = []
    if tools and conv and _wants_tools(conv):
        asked = last_user_text(conv)
        seed = hashlib.sha256(json.dumps([inst.name, asked, len(conv)]).encode()).digest()
        rng = random.Random(seed)
        for index, func in enumerate(pick_tools(tools, asked)):
            rid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
            args = tool_arguments(func.get("parameters"), asked)
            tool_calls.append({"id": f"call_{rid}",
                               "function": {"index": index, "name": str(func.get("name")), "arguments": args}})
        if tool_calls:
            text = ""
    thinking = thinking_text(inst.name, conv) if think_on else ""
    for stop in options.get("stop") or []:
        if stop and stop in text:
            text = text[: text.index(stop)]
    pieces = [("thinking", p) for p in tokenize(thinking)] + [("content", p) for p in tokenize(text)]
    tool_tokens = sum(len(tokenize(json.dumps(c["function"]))) for c in tool_calls)
    reason = "stop"
    limit = options.get("num_predict")
    if isinstance(limit, (int, float)) and limit > 0 and len(pieces) + tool_tokens > limit:
        pieces, reason = pieces[: int(limit)], "length"
        tool_calls, tool_tokens = [], 0
    prompt_count = _prompt_tokens(inst.spec, conv, tools, images)

    started = time.monotonic()
    prompt_s = 0.0 if fast else prompt_count / (rate * 10.0)
    state.sleep(prompt_s)
    prompt_ns = int(prompt_s * 1e9) if not fast else max(1, int((time.monotonic() - started) * 1e9))

    def chunk(kind: str, piece: str) -> dict[str, Any]:
        ts = rfc3339_utc()
        if chat:
            msg = {"role": "assistant", "content": piece if kind == "content" else ""}
            if kind == "thinking":
                msg["thinking"] = piece
            return {"model": raw, "created_at": ts, "message": msg, "done": False}
        obj: dict[str, Any] = {"model": raw, "created_at": ts, "response": piece if kind == "content" else ""}
        if kind == "thinking":
            obj["thinking"] = piece
        obj["done"] = False
        return obj

    gen_start = time.monotonic()
    for i, (kind, piece) in enumerate(pieces):
        if not fast:
            state.sleep_until(gen_start + (i + 1) / rate)
        elif state.stopping.is_set():
            raise Abort
        if stream:
            resp.line(chunk(kind, piece))
    eval_count = len(pieces) + tool_tokens
    if tool_calls:
        if not fast:
            state.sleep_until(gen_start + eval_count / rate)
        if stream:
            c = chunk("content", "")
            c["message"]["tool_calls"] = tool_calls
            resp.line(c)
    eval_ns = int(eval_count / rate * 1e9) if not fast else max(1, int((time.monotonic() - gen_start) * 1e9))
    load_ns = int(load_s * 1e9)
    total_ns = max(int((time.monotonic() - t0) * 1e9), load_ns + prompt_ns + eval_ns)
    metrics = {"total_duration": total_ns, "load_duration": load_ns, "prompt_eval_count": prompt_count,
               "prompt_eval_duration": prompt_ns, "eval_count": eval_count, "eval_duration": eval_ns}
    metrics = {k: v for k, v in metrics.items() if v}  # Go's omitempty

    full_text = "".join(p for k, p in pieces if k == "content")
    full_thinking = "".join(p for k, p in pieces if k == "thinking")
    if chat:
        msg: dict[str, Any] = {"role": "assistant", "content": "" if stream else full_text}
        if not stream and full_thinking:
            msg["thinking"] = full_thinking
        if not stream and tool_calls:
            msg["tool_calls"] = tool_calls
        final = {"model": raw, "created_at": rfc3339_utc(), "message": msg, "done_reason": reason,
                 "done": True, **metrics}
    else:
        final = {"model": raw, "created_at": rfc3339_utc(), "response": "" if stream else full_text}
        if not stream and full_thinking:
            final["thinking"] = full_thinking
        final.update({"done": True, "done_reason": reason,
                      "context": token_ids(tokenize(str(conv[-1].get("content", ""))) + [p for _, p in pieces])})
        final.update(metrics)
    if stream:
        resp.line(final)
        resp.end_stream()
    else:
        resp.json(200, final)


# ---- embeddings
def _vector(n: Name, spec: M.ModelSpec, text: str, dims: int = 0) -> list[float]:
    seed = hashlib.sha256(f"{n.key}\x00{text}".encode()).digest()
    rng = random.Random(seed)
    size = spec.embedding_length
    if 0 < dims < size:
        size = dims
    vec = [rng.gauss(0.0, 1.0) for _ in range(size)]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [float(f"{v / norm:.8g}") for v in vec]


def _embed_common(state: SimState, req: Request) -> tuple[str, Name, Installed, float | None, dict]:
    raw = body_str(req.body, "model")
    n, inst = state.find(raw)
    options = req.body.get("options") or {}
    if not isinstance(options, dict):
        raise HTTPError(400, "json: cannot unmarshal options into Go struct field .options")
    err = check_options(options)
    if err:
        raise HTTPError(500, err)
    return raw, n, inst, body_keep_alive(req.body), options


def handle_embed(state: SimState, req: Request, resp: Response) -> None:
    t0 = time.monotonic()
    value = req.body.get("input")
    if isinstance(value, str):
        inputs = [value] if value else []
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        inputs = list(value)
    elif value is None:
        inputs = []
    else:
        raise HTTPError(400, "invalid input type")
    raw, n, inst, keep_alive, options = _embed_common(state, req)
    dims = req.body.get("dimensions")
    dims = int(dims) if isinstance(dims, (int, float)) and not isinstance(dims, bool) else 0
    load_s = acquire(state, n, inst, keep_alive, options)
    try:
        if not inputs:
            resp.json(200, {"model": raw, "embeddings": []})
            return
        vecs = [_vector(n, inst.spec, text, dims) for text in inputs]
        count = sum(len(tokenize(t)) + 2 for t in inputs)
        if not is_fast(state.token_rate):
            state.sleep(count / (state.token_rate * 20.0))
        obj: dict[str, Any] = {"model": raw, "embeddings": vecs,
                               "total_duration": max(1, int((time.monotonic() - t0) * 1e9))}
        if load_s:
            obj["load_duration"] = int(load_s * 1e9)
        obj["prompt_eval_count"] = count
        resp.json(200, obj)
    finally:
        release(state, n)


def handle_embeddings(state: SimState, req: Request, resp: Response) -> None:
    raw, n, inst, keep_alive, options = _embed_common(state, req)
    prompt = body_str(req.body, "prompt")
    acquire(state, n, inst, keep_alive, options)
    try:
        resp.json(200, {"embedding": _vector(n, inst.spec, prompt) if prompt else []})
    finally:
        release(state, n)


