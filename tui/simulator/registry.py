"""Model-management endpoints of the Ollama simulator: tags, show, delete, copy, pull, push, create."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from tui.simulator import catalogue as M
from tui.simulator.http import Collector, Response
from tui.simulator.state import (
    Blob,
    Installed,
    SimState,
    body_str,
    is_fast,
    quote,
    wants_stream,
)
from tui.simulator.support import Name, check_options, parse_name, rfc3339_local
from tui.simulator.wire import HTTPError, Request


def handle_tags(state: SimState, req: Request, resp: Response) -> None:
    with state.lock:
        items = sorted(state.installed.values(), key=lambda i: -i.modified)
    resp.json(200, {"models": [
        {"name": i.name, "model": i.name, "modified_at": rfc3339_local(i.modified), "size": i.spec.size,
         "digest": i.spec.digest, "details": i.spec.details()}
        for i in items
    ]})


def handle_show(state: SimState, req: Request, resp: Response) -> None:
    _n, inst = state.find(body_str(req.body, "model") or body_str(req.body, "name"))
    spec = inst.spec
    system = body_str(req.body, "system")
    if system:
        spec = replace(spec, system=system)
    resp.json(200, M.show_response(inst.name, spec, rfc3339_local(inst.modified), bool(req.body.get("verbose"))))


def handle_delete(state: SimState, req: Request, resp: Response) -> None:
    raw = body_str(req.body, "model") or body_str(req.body, "name")
    n = parse_name(raw)
    if n is None:
        raise HTTPError(400, f"name {quote(raw)} is invalid")
    with state.lock:
        inst = state.installed.pop(n.key, None)
        if inst is not None:
            state.prune_blobs()
    if inst is None:
        raise HTTPError(404, f"model '{raw}' not found")
    resp.empty(200)


def handle_copy(state: SimState, req: Request, resp: Response) -> None:
    src_raw, dst_raw = body_str(req.body, "source"), body_str(req.body, "destination")
    src = parse_name(src_raw)
    if src is None:
        raise HTTPError(400, f"source {quote(src_raw)} is invalid")
    dst = parse_name(dst_raw)
    if dst is None:
        raise HTTPError(400, f"destination {quote(dst_raw)} is invalid")
    with state.lock:
        inst = state.installed.get(src.key)
        if inst is None:
            raise HTTPError(404, f"model {quote(src_raw)} not found")
        existing = state.installed.get(dst.key)
        name = existing.name if existing is not None else dst.short
        state.installed[dst.key] = Installed(name, inst.spec, time.time())
    resp.empty(200)


# ---- pull / push / create
def handle_pull(state: SimState, req: Request, resp: Response) -> None:
    raw = body_str(req.body, "model") or body_str(req.body, "name")
    n = parse_name(raw)
    if n is None:
        raise HTTPError(400, "invalid model name")
    out = resp if wants_stream(req.body) else Collector(resp)
    _pull_into(state, n, out)
    out.line({"status": "success"})
    out.end_stream()


def _pull_into(state: SimState, n: Name, out: Response | Collector) -> Installed:
    out.line({"status": "pulling manifest"})
    with state.lock:
        remote = state.remote.get(n.key)
    if remote is None:
        out.stream_error("pull model manifest: file does not exist")
        raise AssertionError("unreachable")
    spec = remote.spec
    for layer in spec.layers:
        _download(state, layer, out)
    out.line({"status": "verifying sha256 digest"})
    out.line({"status": "writing manifest"})
    with state.lock:
        old = state.installed.get(n.key)
        inst = Installed(old.name if old is not None else remote.name, spec, time.time())
        state.installed[n.key] = inst
        state.mark_complete(spec)
        removed = old is not None and old.spec.digest != spec.digest and state.prune_blobs()
    if removed:
        out.line({"status": "removing unused layers"})
    return inst


def _download(state: SimState, layer: M.Layer, out: Response | Collector) -> None:
    base = {"status": f"pulling {layer.digest[:12]}", "digest": f"sha256:{layer.digest}", "total": layer.size}
    with state.lock:
        blob = state.blobs.setdefault(layer.digest, Blob(layer.size))
        done = blob.completed
    out.line({**base, "completed": done} if done else base)
    if done >= layer.size:
        return
    me = object()
    rate, tick = state.pull_rate, state.pull_tick
    fast = is_fast(rate) or tick <= 0
    step = layer.size if fast else max(1, int(rate * tick))
    next_tick = time.monotonic()
    try:
        while True:
            if not fast:
                next_tick += tick
                state.sleep_until(next_tick)
            else:
                with state.lock:
                    waiting = blob.owner is not None and blob.owner is not me
                # another stream is downloading this blob: poll its progress, don't spin
                state.sleep(0.005 if waiting else 0.0)
            with state.lock:
                if blob.owner is None:
                    blob.owner = me
                if blob.owner is me:
                    blob.completed = min(blob.total, blob.completed + step)
                completed = blob.completed
            out.line({**base, "completed": completed})
            if completed >= layer.size:
                return
    finally:
        with state.lock:
            if blob.owner is me:
                blob.owner = None


def handle_push(state: SimState, req: Request, resp: Response) -> None:
    raw = body_str(req.body, "model") or body_str(req.body, "name")
    if not raw:
        raise HTTPError(400, "model is required")
    n = parse_name(raw)
    if n is None:
        raise HTTPError(400, "invalid model name")
    out = resp if wants_stream(req.body) else Collector(resp)
    out.line({"status": "retrieving manifest"})
    inst = state.lookup(n)
    if inst is None:
        out.stream_error(f"model '{raw}' not found")
        return
    if n.namespace.lower() == "library":
        out.stream_error("you are not authorized to push to this namespace, create the model under a namespace you own")
        return
    for layer in inst.spec.layers:
        base = {"status": f"pushing {layer.digest[:12]}", "digest": f"sha256:{layer.digest}", "total": layer.size}
        out.line(base)
        out.line({**base, "completed": layer.size})
    out.line({"status": "pushing manifest"})
    out.line({"status": "success"})
    out.end_stream()


def handle_create(state: SimState, req: Request, resp: Response) -> None:
    body = req.body
    raw = body_str(body, "model") or body_str(body, "name")
    n = parse_name(raw)
    if n is None:
        raise HTTPError(400, "invalid model name")
    from_raw = body_str(body, "from")
    if not from_raw:
        if body.get("files"):
            raise HTTPError(400, "the simulator only supports creating models 'from' another model")
        raise HTTPError(400, "neither 'from' or 'files' was specified")
    fn = parse_name(from_raw)
    if fn is None:
        raise HTTPError(400, "invalid model name")
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise HTTPError(400, "json: cannot unmarshal parameters into Go struct field .parameters of type map")
    err = check_options(params)
    if err:
        raise HTTPError(400, err)
    messages = body.get("messages")
    if messages is not None and not (isinstance(messages, list) and all(isinstance(m, dict) for m in messages)):
        raise HTTPError(400, "json: cannot unmarshal messages into Go struct field .messages")
    with state.lock:
        base = state.installed.get(fn.key)
        in_registry = fn.key in state.remote
    if base is None and not in_registry:
        raise HTTPError(404, f"model '{from_raw}' not found")
    out = resp if wants_stream(body) else Collector(resp)
    if base is None:
        base = _pull_into(state, fn, out)
    spec = base.spec

    lic = body.get("license")
    license_text = "\n".join(lic) if isinstance(lic, list) else lic if isinstance(lic, str) else spec.license
    merged = {**spec.parameters, **params} if params else dict(spec.parameters)
    new = replace(
        spec,
        system=body_str(body, "system") if "system" in body else spec.system,
        template=body_str(body, "template") if "template" in body else spec.template,
        license=license_text,
        parameters=merged,
        messages=list(messages) if messages is not None else list(spec.messages),
        parent_model=base.name,
    )
    layers: list[M.Layer] = []
    quantize = body_str(body, "quantize").upper()
    for layer in spec.layers:
        if layer.kind not in ("model", "projector"):
            continue
        if layer.kind == "model" and quantize and quantize != spec.quantization_level:
            if spec.quantization_level not in ("F16", "F32", "BF16"):
                out.stream_error("quantization is only supported for F16 and F32 models")
            out.line({"status": f"quantizing {spec.quantization_level} model to {quantize}"})
            layer = M.Layer(M.sha(f"{layer.digest}:{quantize}"), int(layer.size * 0.3), "model")
            new.quantization_level = quantize
            out.line({"status": f"creating new layer sha256:{layer.digest}"})
        else:
            out.line({"status": f"using existing layer sha256:{layer.digest}"})
        layers.append(layer)
    old_digests = {layer.digest for layer in spec.layers}
    texts = [
        ("template", new.template), ("system", new.system), ("license", new.license),
        ("params", M.params_blob(new.parameters) if new.parameters else ""),
        ("messages", json.dumps(new.messages) if new.messages else ""),
    ]
    for kind, text in texts:
        if not text:
            continue
        layer = M.text_layer(kind, text)
        verb = "using existing" if layer.digest in old_digests else "creating new"
        out.line({"status": f"{verb} layer sha256:{layer.digest}"})
        layers.append(layer)
    layers.append(M.config_layer(n.key, new.details()))
    new.layers = layers
    out.line({"status": "writing manifest"})
    with state.lock:
        existing = state.installed.get(n.key)
        state.installed[n.key] = Installed(existing.name if existing else n.short, new, time.time())
        state.mark_complete(new)
    out.line({"status": "success"})
    out.end_stream()

