"""Typed, immutable views of what the Ollama API sends back (see /work/shared/ollama-api.md).

Every `from_json` ignores fields it does not know and tolerates missing optional ones: Go omits
zero values (`omitempty`), so an absent count means 0 and an absent string means "".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.service.untrusted import SHORT_LIMIT, TEXT_LIMIT, inert_deep, inert_short

__all__ = [
    "ModelDetails",
    "ModelInfo",
    "ModelShow",
    "RunningModel",
    "PullEvent",
    "ProgressEvent",
    "ToolCall",
    "GenerationStats",
    "ChatChunk",
    "GenerateChunk",
    "EmbedResult",
    "parse_time",
    "parse_parameters",
]


# ---------------------------------------------------------------------------------------------
# small tolerant converters


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 (Go's time.Time) → aware datetime; None when absent or unparsable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _opt_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    return None


# Every string the server sends passes through one of these: made inert (no terminal escapes,
# no bidi overrides) and bounded, so nothing built from a typed result can replay it.


def _str(value: Any, default: str = "", limit: int = SHORT_LIMIT) -> str:
    return inert_short(value, limit) if isinstance(value, str) else default


def _text(value: Any) -> str:
    """A long text field a server describes a model with (Modelfile, template, license)."""
    return inert_short(value, TEXT_LIMIT) if isinstance(value, str) else ""


def _output(value: Any) -> str:
    """Model output, kept exactly as the model wrote it (history stores what was said): the
    widgets that show it and the exports that write it make it inert (`untrusted.inert`). Its
    size is bounded by the transport's line limit."""
    return value if isinstance(value, str) else ""


def _opt_str(value: Any) -> str | None:
    return inert_short(value) if isinstance(value, str) and value != "" else None


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(inert_short(v) for v in value[:64] if isinstance(v, str))
    return ()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _scalar(text: str) -> Any:
    """One Modelfile parameter value as written by /api/show: quoted string, number, bool."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


# Parameters whose option type is an array: always a list, even with one value.
_LIST_PARAMETERS = frozenset({"stop"})


def parse_parameters(text: str) -> dict[str, Any]:
    """`/api/show`'s `parameters` text (`key value` per line) → dict.

    Values are converted (quoted strings unquoted, numbers and booleans typed). A key that
    appears more than once (typically `stop`) becomes a list; `stop` is always a list.
    """
    out: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, raw = line.partition(" ")
        if not raw.strip():
            continue
        value = _scalar(raw)
        if key in out:
            prev = out[key]
            out[key] = (prev if isinstance(prev, list) else [prev]) + [value]
        elif key in _LIST_PARAMETERS:
            out[key] = [value]
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# models


@dataclass(frozen=True, slots=True)
class ModelDetails:
    format: str = ""
    family: str = ""
    families: tuple[str, ...] = ()
    parameter_size: str = ""
    quantization_level: str = ""
    parent_model: str = ""

    @classmethod
    def from_json(cls, d: Mapping[str, Any] | None) -> ModelDetails:
        d = _dict(d)
        return cls(
            format=_str(d.get("format")),
            family=_str(d.get("family")),
            families=_str_tuple(d.get("families")),
            parameter_size=_str(d.get("parameter_size")),
            quantization_level=_str(d.get("quantization_level")),
            parent_model=_str(d.get("parent_model")),
        )


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One entry of `GET /api/tags`."""

    name: str
    model: str = ""
    size: int = 0
    digest: str = ""
    modified_at: datetime | None = None
    details: ModelDetails = field(default_factory=ModelDetails)
    capabilities: tuple[str, ...] = ()  # newer servers only; empty when not reported

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ModelInfo:
        d = _dict(d)
        name = _str(d.get("name")) or _str(d.get("model"))
        return cls(
            name=name,
            model=_str(d.get("model")) or name,
            size=_int(d.get("size")),
            digest=_str(d.get("digest")),
            modified_at=parse_time(d.get("modified_at")),
            details=ModelDetails.from_json(d.get("details")),
            capabilities=_str_tuple(d.get("capabilities")),
        )


@dataclass(frozen=True, slots=True)
class ModelShow:
    """`POST /api/show`: a model's Modelfile, template, parameters, GGUF metadata, capabilities."""

    modelfile: str = ""
    parameters: str = ""  # raw text, `key value` per line
    template: str = ""
    system: str = ""
    license: str = ""
    details: ModelDetails = field(default_factory=ModelDetails)
    model_info: Mapping[str, Any] = field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    modified_at: datetime | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ModelShow:
        d = _dict(d)
        lic = d.get("license")
        if isinstance(lic, list):  # some servers send a list of license texts
            lic = "\n\n".join(x for x in lic if isinstance(x, str))
        return cls(
            modelfile=_text(d.get("modelfile")),
            parameters=_text(d.get("parameters")),
            template=_text(d.get("template")),
            system=_text(d.get("system")),
            license=_text(lic),
            details=ModelDetails.from_json(d.get("details")),
            model_info=inert_deep(_dict(d.get("model_info"))),
            capabilities=_str_tuple(d.get("capabilities")),
            modified_at=parse_time(d.get("modified_at")),
        )

    @property
    def parameters_dict(self) -> dict[str, Any]:
        return parse_parameters(self.parameters)

    @property
    def architecture(self) -> str | None:
        arch = self.model_info.get("general.architecture")
        return arch if isinstance(arch, str) and arch else None

    @property
    def context_length(self) -> int | None:
        arch = self.architecture
        if arch is None:
            return None
        return _opt_int(self.model_info.get(f"{arch}.context_length"))

    @property
    def parameter_count(self) -> int | None:
        return _opt_int(self.model_info.get("general.parameter_count"))

    def has(self, capability: str) -> bool:
        return capability in self.capabilities


@dataclass(frozen=True, slots=True)
class RunningModel:
    """One entry of `GET /api/ps`."""

    name: str
    model: str = ""
    size: int = 0
    size_vram: int = 0
    digest: str = ""
    details: ModelDetails = field(default_factory=ModelDetails)
    expires_at: datetime | None = None
    context_length: int | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RunningModel:
        d = _dict(d)
        name = _str(d.get("name")) or _str(d.get("model"))
        return cls(
            name=name,
            model=_str(d.get("model")) or name,
            size=_int(d.get("size")),
            size_vram=_int(d.get("size_vram")),
            digest=_str(d.get("digest")),
            details=ModelDetails.from_json(d.get("details")),
            expires_at=parse_time(d.get("expires_at")),
            context_length=_opt_int(d.get("context_length")) or None,
        )

    @property
    def gpu_fraction(self) -> float:
        """Share of the model held in VRAM, 0.0–1.0 (0.0 when the size is unknown)."""
        if self.size <= 0:
            return 0.0
        return max(0.0, min(1.0, self.size_vram / self.size))


# ---------------------------------------------------------------------------------------------
# pull / create progress


@dataclass(frozen=True, slots=True)
class PullEvent:
    """One NDJSON line of `/api/pull` (or `/api/create`): per-layer `total`/`completed`.

    `completed` is None while 0 (Go omits it); `total`/`digest` only on layer lines.
    """

    status: str
    digest: str | None = None
    total: int | None = None
    completed: int | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PullEvent:
        d = _dict(d)
        return cls(
            status=_str(d.get("status")),
            digest=_opt_str(d.get("digest")),
            total=_opt_int(d.get("total")),
            completed=_opt_int(d.get("completed")),
        )


# `/api/create` streams the same shape (and pull lines when `from` is not local).
ProgressEvent = PullEvent


# ---------------------------------------------------------------------------------------------
# chat / generate


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A whole tool call from `message.tool_calls` (Ollama never sends deltas)."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""
    index: int | None = None
    #: Why the call can't be run (its arguments were not valid JSON): shown and sent as the result.
    error: str = ""

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ToolCall:
        d = _dict(d)
        fn = _dict(d.get("function"))
        args = fn.get("arguments")
        if isinstance(args, str):  # tolerate OpenAI-style JSON-in-a-string
            try:
                args = json.loads(args)
            except ValueError:
                args = {"_raw": args}
        return cls(
            name=_str(fn.get("name")),
            arguments=_dict(args),  # model output, like content: shown through inert()
            id=_str(d.get("id")),
            index=_opt_int(fn.get("index")),
        )

    def to_json(self) -> dict[str, Any]:
        """The shape to send back inside an assistant message's `tool_calls`."""
        fn: dict[str, Any] = {"name": self.name, "arguments": dict(self.arguments)}
        if self.index is not None:
            fn["index"] = self.index
        out: dict[str, Any] = {"function": fn}
        if self.id:
            out["id"] = self.id
        return out


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """Timings of the final chunk. Durations are integer nanoseconds; counts are tokens."""

    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0
    prompt_eval_duration: int = 0
    eval_count: int = 0
    eval_duration: int = 0

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> GenerationStats:
        d = _dict(d)
        return cls(
            total_duration=_int(d.get("total_duration")),
            load_duration=_int(d.get("load_duration")),
            prompt_eval_count=_int(d.get("prompt_eval_count")),
            prompt_eval_duration=_int(d.get("prompt_eval_duration")),
            eval_count=_int(d.get("eval_count")),
            eval_duration=_int(d.get("eval_duration")),
        )

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed; None when the server reported no duration."""
        if self.eval_duration <= 0:
            return None
        return self.eval_count / self.eval_duration * 1e9

    @property
    def prompt_tokens_per_second(self) -> float | None:
        if self.prompt_eval_duration <= 0:
            return None
        return self.prompt_eval_count / self.prompt_eval_duration * 1e9

    @property
    def total_seconds(self) -> float:
        return self.total_duration / 1e9

    @property
    def load_seconds(self) -> float:
        return self.load_duration / 1e9

    @property
    def prompt_eval_seconds(self) -> float:
        return self.prompt_eval_duration / 1e9

    @property
    def eval_seconds(self) -> float:
        return self.eval_duration / 1e9


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One line of `/api/chat`. `stats` is set only on the final (`done`) chunk."""

    content: str = ""
    thinking: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    done: bool = False
    done_reason: str | None = None
    model: str = ""
    created_at: datetime | None = None
    role: str = "assistant"
    stats: GenerationStats | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ChatChunk:
        d = _dict(d)
        msg = _dict(d.get("message"))
        calls = msg.get("tool_calls")
        done = d.get("done") is True
        return cls(
            content=_output(msg.get("content")),
            thinking=_output(msg.get("thinking")),
            tool_calls=tuple(ToolCall.from_json(c) for c in calls if isinstance(c, dict))
            if isinstance(calls, list)
            else (),
            done=done,
            done_reason=_opt_str(d.get("done_reason")),
            model=_str(d.get("model")),
            created_at=parse_time(d.get("created_at")),
            role=_str(msg.get("role"), "assistant") or "assistant",
            stats=GenerationStats.from_json(d) if done else None,
        )


@dataclass(frozen=True, slots=True)
class GenerateChunk:
    """One line of `/api/generate`. `stats` is set only on the final (`done`) chunk."""

    response: str = ""
    thinking: str = ""
    done: bool = False
    done_reason: str | None = None
    model: str = ""
    created_at: datetime | None = None
    stats: GenerationStats | None = None

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> GenerateChunk:
        d = _dict(d)
        done = d.get("done") is True
        return cls(
            response=_output(d.get("response")),
            thinking=_output(d.get("thinking")),
            done=done,
            done_reason=_opt_str(d.get("done_reason")),
            model=_str(d.get("model")),
            created_at=parse_time(d.get("created_at")),
            stats=GenerationStats.from_json(d) if done else None,
        )


@dataclass(frozen=True, slots=True)
class EmbedResult:
    """`POST /api/embed`: one vector per input."""

    model: str = ""
    embeddings: tuple[tuple[float, ...], ...] = ()
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_count: int = 0

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> EmbedResult:
        d = _dict(d)
        raw = d.get("embeddings")
        vectors: tuple[tuple[float, ...], ...] = ()
        if isinstance(raw, list):
            vectors = tuple(
                tuple(float(x) for x in v if isinstance(x, (int, float))) for v in raw if isinstance(v, list)
            )
        return cls(
            model=_str(d.get("model")),
            embeddings=vectors,
            total_duration=_int(d.get("total_duration")),
            load_duration=_int(d.get("load_duration")),
            prompt_eval_count=_int(d.get("prompt_eval_count")),
        )

    @property
    def dimensions(self) -> int:
        return len(self.embeddings[0]) if self.embeddings else 0
