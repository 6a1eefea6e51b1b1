"""Pure helpers for the built-in Ollama simulator (stdlib only, no textual).

Model-name validation, Go-style durations, RFC 3339 times, a whitespace-preserving
tokenizer, option type checks and the deterministic reply/thinking text generators.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------- model names

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_HOST_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}")
_NAMESPACE_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,79}")
_PART_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")


@dataclass(frozen=True)
class Name:
    """A parsed `[host/][namespace/]model[:tag]` name, case as given."""

    host: str
    namespace: str
    model: str
    tag: str

    @property
    def key(self) -> str:
        """Case-insensitive identity: the full name, lower-cased."""
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}".lower()

    @property
    def short(self) -> str:
        """Go's `DisplayShortest`: defaults dropped, tag always kept."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"


def parse_name(text: object) -> Name | None:
    """Parse and validate a model name; None when it breaks Ollama's naming rules."""
    if not isinstance(text, str) or not text:
        return None
    rest, tag = text, DEFAULT_TAG
    colon, slash = text.rfind(":"), text.rfind("/")
    if colon > slash:
        rest, tag = text[:colon], text[colon + 1 :]
    parts = rest.split("/")
    if len(parts) > 3:
        return None
    host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) == 3:
        host, namespace, model = parts
    elif len(parts) == 2:
        namespace, model = parts
    else:
        model = parts[0]
    if not (
        _HOST_RE.fullmatch(host)
        and _NAMESPACE_RE.fullmatch(namespace)
        and _PART_RE.fullmatch(model)
        and _PART_RE.fullmatch(tag)
    ):
        return None
    return Name(host, namespace, model, tag)


# --------------------------------------------------------------------------- durations

FOREVER = math.inf
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_go_duration(text: str) -> float:
    """Go's `time.ParseDuration`, in seconds. Raises ValueError with Go's message."""
    orig, s, sign = text, text, 1.0
    if s[:1] in ("+", "-"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {json.dumps(orig)}")
    total = 0.0
    while s:
        m = re.match(r"[0-9]*(\.[0-9]*)?", s)
        num = m.group(0) if m else ""
        if not any(c.isdigit() for c in num):
            raise ValueError(f"time: invalid duration {json.dumps(orig)}")
        s = s[len(num) :]
        u = re.match(r"[^0-9.]*", s)
        unit = u.group(0) if u else ""
        if not unit:
            raise ValueError(f"time: missing unit in duration {json.dumps(orig)}")
        if unit not in _UNITS:
            raise ValueError(f"time: unknown unit {json.dumps(unit)} in duration {json.dumps(orig)}")
        s = s[len(unit) :]
        total += float(num) * _UNITS[unit]
    return sign * total


def parse_keep_alive(value: Any) -> float | None:
    """keep_alive from a request: None (absent), seconds (>= 0) or FOREVER. ValueError if bad."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("json: cannot unmarshal bool into Go struct field of type api.Duration")
    if isinstance(value, (int, float)):
        return FOREVER if value < 0 else float(value)
    if isinstance(value, str):
        secs = parse_go_duration(value)
        return FOREVER if secs < 0 else secs
    raise ValueError(f"Unsupported type: '{type(value).__name__}'")


# --------------------------------------------------------------------------- times

_FOREVER_DELTA = _dt.timedelta(microseconds=(2**63 - 1) // 1000)  # Go's max Duration


def rfc3339_utc(ns: int | None = None) -> str:
    """UTC RFC 3339 with up to 9 fraction digits and `Z` (like Go's `created_at`)."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    f = f"{frac:09d}".rstrip("0")
    return f"{base}.{f}Z" if f else f"{base}Z"


def _format_local(dt: _dt.datetime, frac_ns: int) -> str:
    off = dt.utcoffset() or _dt.timedelta(0)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    f = f"{frac_ns:09d}".rstrip("0")
    base = f"{base}.{f}" if f else base
    if not off:
        return base + "Z"
    total = int(off.total_seconds())
    sign = "+" if total >= 0 else "-"
    hh, mm = divmod(abs(total) // 60, 60)
    return f"{base}{sign}{hh:02d}:{mm:02d}"


def rfc3339_local(epoch: float) -> str:
    """Local-offset RFC 3339 (like Go's `modified_at` / `expires_at`). math.inf = ~292 years on."""
    if math.isinf(epoch):
        dt = _dt.datetime.now().astimezone() + _FOREVER_DELTA
        return _format_local(dt, dt.microsecond * 1000)
    ns = round(epoch * 1e6) * 1000  # a float epoch is only good to ~0.2 µs
    secs, frac = divmod(ns, 1_000_000_000)
    dt = _dt.datetime.fromtimestamp(secs).astimezone()
    return _format_local(dt, frac)


# --------------------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")


def tokenize(text: str) -> list[str]:
    """Split into word/punctuation pieces that keep their leading whitespace.

    `"".join(tokenize(t)) == t` for every string.
    """
    return _TOKEN_RE.findall(text)


def token_ids(pieces: list[str]) -> list[int]:
    """Deterministic fake token ids (for generate's `context`)."""
    return [int.from_bytes(hashlib.blake2s(p.encode()).digest()[:4], "big") % 128000 for p in pieces]


# --------------------------------------------------------------------------- options

_INT_OPTS = {
    "num_keep", "seed", "num_predict", "top_k", "repeat_last_n", "mirostat", "num_ctx",
    "num_batch", "num_gpu", "main_gpu", "num_thread",
}
_FLOAT_OPTS = {
    "top_p", "min_p", "typical_p", "temperature", "repeat_penalty", "presence_penalty",
    "frequency_penalty", "tfs_z", "mirostat_tau", "mirostat_eta",
}
_BOOL_OPTS = {"numa", "use_mmap", "use_mlock", "low_vram", "f16_kv", "vocab_only", "penalize_newline"}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_options(opts: dict[str, Any]) -> str | None:
    """Go's `Options.FromMap` type checks: the error message, or None. Unknown keys pass."""
    for key, val in opts.items():
        if val is None:
            continue
        if key in _INT_OPTS and not _is_number(val):
            return f'option "{key}" must be of type integer'
        if key in _FLOAT_OPTS and not _is_number(val):
            return f'option "{key}" must be of type float32'
        if key in _BOOL_OPTS and not isinstance(val, bool):
            return f'option "{key}" must be of type boolean'
        if key == "stop":
            if not isinstance(val, list):
                return f'option "{key}" must be of type array'
            if not all(isinstance(s, str) for s in val):
                return f'option "{key}" must be of an array of strings'
    return None


def go_value(v: Any) -> str:
    """Go's `%#v` for a JSON-decoded parameter value (strings quoted, 1.0 -> 1)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def modelfile_value(v: Any) -> str:
    """A PARAMETER value as written in a Modelfile."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --------------------------------------------------------------------------- replies


def _digest_int(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:8], "big")


def _one_line(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def last_user_text(messages: list[dict]) -> str:
    for m in reversed(messages):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else ""
    return ""


def _count_images(messages: list[dict]) -> int:
    n = 0
    for m in messages:
        if isinstance(m, dict) and isinstance(m.get("images"), list):
            n += len(m["images"])
    return n


def default_reply(model: str, messages: list[dict]) -> str:
    """A deterministic Markdown reply that mentions the last user message."""
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    if last.get("role") == "tool":
        results = []
        for m in reversed(messages):
            if not isinstance(m, dict) or m.get("role") != "tool":
                break
            results.append(m)
        results.reverse()
        lines = "\n".join(f"> `{m.get('tool_name') or 'tool'}`: {_one_line(str(m.get('content', '')), 200)}"
                          for m in results)
        tool = results[-1].get("tool_name") or "tool"
        return (
            f"The `{tool}` tool returned:\n\n{lines}\n\n"
            "Based on that result, here is the summary: everything looks **consistent**, "
            "and no further tool calls are needed."
        )
    asked = _one_line(last_user_text(messages))
    if not asked:
        return f"Hello! I am `{model}`, running inside the **Ollama simulator**. How can I help you today?"
    images = _count_images(messages)
    seen = ""
    if images:
        seen = (
            f"I can see {images} image{'s' if images != 1 else ''}: it shows a simulated scene "
            "with soft colours and a few geometric shapes.\n\n"
        )
    variant = _digest_int(model, asked) % 3
    head = f"{seen}You asked: *\"{asked}\"*\n\n"
    if variant == 0:
        return head + (
            "## Short answer\n\n"
            f"Here is a **simulated** answer from `{model}`. The key points are:\n\n"
            "1. Start with the simplest approach that works.\n"
            "2. Measure before you optimise.\n"
            "3. Keep the feedback loop short.\n\n"
            "```python\n"
            "def answer(question: str) -> str:\n"
            "    return f\"Simulated reply to {question!r}\"\n"
            "```\n\n"
            "> This reply was generated by the built-in Ollama simulator."
        )
    if variant == 1:
        return head + (
            "### Overview\n\n"
            "| Option | Speed | Effort |\n"
            "|---|---|---|\n"
            "| Simple | fast | low |\n"
            "| Thorough | slow | high |\n\n"
            "- Pick **Simple** for quick experiments.\n"
            "- Pick *Thorough* when correctness matters most.\n\n"
            f"Let me know if you want `{model}` to go deeper into any of these."
        )
    return head + (
        "Great question! In short:\n\n"
        "- **What:** a deterministic, simulated explanation.\n"
        "- **Why:** so that tests and demos behave the same every time.\n"
        "- **How:** run `ollama-tui --demo` and try it yourself.\n\n"
        "```bash\n"
        "ollama run llama3.2 \"hello\"\n"
        "```\n\n"
        "Anything else you would like to know?"
    )


def thinking_text(model: str, messages: list[dict]) -> str:
    asked = _one_line(last_user_text(messages), 80) or "this"
    return (
        f"The user is asking about \"{asked}\". Let me think about what matters here. "
        "First, I should understand the question; then outline the key points, "
        "and finally give a clear, well-structured answer with an example."
    )


def schema_instance(schema: Any, hint: str, depth: int = 0) -> Any:
    """A small value that satisfies a (simple) JSON schema."""
    if not isinstance(schema, dict) or depth > 6:
        return hint
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "string")
    if typ == "object" or (typ is None and "properties" in schema):
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        return {k: schema_instance(v, hint, depth + 1) for k, v in props.items()}
    if typ == "array":
        return [schema_instance(schema.get("items"), hint, depth + 1)]
    if typ == "integer":
        return 42
    if typ == "number":
        return 3.14
    if typ == "boolean":
        return True
    if typ == "null":
        return None
    return hint


def json_reply(fmt: Any, model: str, messages: list[dict]) -> str:
    asked = _one_line(last_user_text(messages), 80)
    if isinstance(fmt, dict):
        return json.dumps(schema_instance(fmt, asked or "simulated"), ensure_ascii=False)
    return json.dumps(
        {"model": model, "question": asked, "answer": "This is a simulated JSON reply.", "confidence": 0.87},
        ensure_ascii=False,
    )


_ARG = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|[^\s,;]+)")


def _coerce(raw: str, schema: Any) -> Any:
    """A `key=value` word of the prompt as the parameter's JSON type (best effort)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    text = raw.strip("\"'")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text)
            return int(number) if number.is_integer() else number
        if kind == "boolean":
            return text.lower() in ("1", "true", "yes")
    except ValueError:
        pass
    return text


def tool_arguments(params: Any, user_text: str) -> dict[str, Any]:
    """Arguments for a simulated tool call, from the tool's parameter schema. `name=value` words
    in the user's text give the parameter of that name its value ("a=2 b=3")."""
    words = re.findall(r"[A-Z][a-zA-Z]+", user_text)
    hint = words[-1] if words else (_one_line(user_text, 40) or "example")
    value = schema_instance(params, hint)
    args = value if isinstance(value, dict) else {}
    props = params.get("properties") if isinstance(params, dict) else None
    if isinstance(props, dict):
        for key, raw in _ARG.findall(user_text):
            if key in props:
                args[key] = _coerce(raw, props[key])
    return args


def pick_tools(tools: list[Any], user_text: str) -> list[dict]:
    """Every tool named in the user's text as a whole word ("use the add tool"), in the order
    the text names them."""
    low = user_text.lower()
    found: list[tuple[int, dict]] = []
    for t in tools:
        f = t.get("function") if isinstance(t, dict) else None
        name = str(f.get("name", "")) if isinstance(f, dict) else ""
        if not name:
            continue
        match = re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", low)
        if match:
            found.append((match.start(), f))
    return [f for _, f in sorted(found, key=lambda pair: pair[0])]


def wants_tools(conv: list[dict]) -> bool:
    """Call the tools the user's last prompt names: at once, and again after their results
    while fewer rounds were made than the prompt's `rounds=N` asks (default 1)."""
    last = conv[-1] if conv and isinstance(conv[-1], dict) else {}
    if last.get("role") == "user":
        return True
    if last.get("role") != "tool":
        return False
    rounds = 0
    for m in reversed(conv):
        if not isinstance(m, dict) or m.get("role") == "user":
            break
        if m.get("role") == "assistant" and m.get("tool_calls"):
            rounds += 1
    return rounds < tool_rounds_wanted(last_user_text(conv))


def tool_rounds_wanted(user_text: str) -> int:
    """How many rounds of tool calls the prompt asks for: `rounds=N` (default 1)."""
    match = re.search(r"\brounds=(\d+)", user_text)
    return max(1, int(match.group(1))) if match else 1


def pick_tool(tools: list[Any], user_text: str) -> dict | None:
    """The first tool whose name is mentioned in the user's text (or the only tool)."""
    low = user_text.lower()
    funcs = [t.get("function") for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    for f in funcs:
        name = str(f.get("name", ""))
        if name and (name.lower() in low or name.lower().replace("_", " ") in low):
            return f
    return None
