"""Ollama model names: `[host/][namespace/]model[:tag]` — validation, normalisation, comparison."""

from __future__ import annotations

import re
from typing import NamedTuple

from tui.service.ollama.errors import InvalidModelName

__all__ = [
    "DEFAULT_REGISTRY",
    "DEFAULT_NAMESPACE",
    "DEFAULT_TAG",
    "ModelName",
    "split_model_name",
    "validate_model_name",
    "normalize_model_name",
    "same_model",
    "shorten_model_name",
]

DEFAULT_REGISTRY = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_FIRST = re.compile(r"[A-Za-z0-9_]")
# part → (allowed characters after the first, maximum length)
_RULES: dict[str, tuple[re.Pattern[str], int]] = {
    "host": (re.compile(r"[A-Za-z0-9_.:-]"), 350),
    "namespace": (re.compile(r"[A-Za-z0-9_-]"), 80),
    "model": (re.compile(r"[A-Za-z0-9_.-]"), 80),
    "tag": (re.compile(r"[A-Za-z0-9_.-]"), 80),
}
_DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")


class ModelName(NamedTuple):
    """The parts of a name as written; None for a part that was left out."""

    host: str | None
    namespace: str | None
    model: str
    tag: str | None
    digest: str | None = None


def split_model_name(name: str) -> ModelName:
    """Split without validating. The tag is split off only if the last `:` follows the last `/`
    (so `host:5000/ns/model` has no tag). A trailing `@sha256:…` digest is split off first."""
    digest = None
    if "@" in name:
        name, _, digest = name.partition("@")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
    parts = name.split("/")
    model = parts[-1]
    namespace = parts[-2] if len(parts) >= 2 else None
    host = "/".join(parts[:-2]) if len(parts) >= 3 else None
    return ModelName(host, namespace, model, tag, digest)


def _check_part(kind: str, value: str) -> None:
    allowed, limit = _RULES[kind]
    if not value:
        raise InvalidModelName(f"empty {kind}")
    if not _FIRST.fullmatch(value[0]):
        raise InvalidModelName(f"{kind} must start with a letter, digit or _ (got {value[0]!r})")
    for ch in value[1:]:
        if not allowed.fullmatch(ch):
            raise InvalidModelName(f"{kind} contains an invalid character {ch!r}")
    if len(value) > limit:
        raise InvalidModelName(f"{kind} part longer than {limit} characters")


def validate_model_name(name: str) -> None:
    """Raise InvalidModelName (a ValueError) with a human reason if `name` breaks Ollama's rules."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidModelName("model name is empty")
    if name != name.strip():
        raise InvalidModelName("model name has leading or trailing spaces")
    if name.count("/") > 2:
        raise InvalidModelName("too many '/' (expected [host/][namespace/]model[:tag])")
    parts = split_model_name(name)
    if parts.digest is not None and not _DIGEST.fullmatch(parts.digest):
        raise InvalidModelName("digest must look like sha256:<64 hex digits>")
    if parts.host is not None:
        _check_part("host", parts.host)
    if parts.namespace is not None:
        _check_part("namespace", parts.namespace)
    _check_part("model", parts.model)
    if parts.tag is not None:
        _check_part("tag", parts.tag)


def normalize_model_name(name: str) -> str:
    """The short form `/api/tags` and `/api/ps` use, lowercased, always with a tag.

    `llama3.2` → `llama3.2:latest`; `library/x` and `registry.ollama.ai/library/x:tag` → `x:tag`;
    `registry.ollama.ai/user/x` → `user/x:latest`; other hosts are kept. Does not validate.
    """
    parts = split_model_name(name.strip().lower())
    host = parts.host if parts.host not in (None, DEFAULT_REGISTRY) else None
    namespace = parts.namespace
    if host is None and namespace in (None, DEFAULT_NAMESPACE):
        namespace = None
    elif namespace is None:
        namespace = DEFAULT_NAMESPACE
    out = parts.model
    if namespace is not None:
        out = f"{namespace}/{out}"
    if host is not None:
        out = f"{host}/{out}"
    out = f"{out}:{parts.tag or DEFAULT_TAG}"
    if parts.digest:
        out = f"{out}@{parts.digest}"
    return out


def same_model(a: str, b: str) -> bool:
    """Whether two spellings name the same model (`llama3.2` vs `Llama3.2:latest`)."""
    return normalize_model_name(a) == normalize_model_name(b)


ELLIPSIS = "…"


def _cut_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters: its start and end kept, an ellipsis between."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    keep = width - 1
    head = (keep + 1) // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head):]


def shorten_model_name(name: str, width: int) -> str:
    """`name` in at most `width` characters for a narrow column, its `:tag` kept whole.

    What goes first: the host and namespace (`hf.co/bartowski/Llama…:Q4_K_M` →
    `…/Llama…:Q4_K_M`), then the middle of the model part (`qwen2.5-coder:32b-instruct-q4_K_M` →
    `qwen…der:32b-instruct-q4_K_M`); only when the tag alone does not fit is its middle cut.
    Counts characters (Ollama names are ASCII); the name is not validated."""
    if len(name) <= width:
        return name
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    colon = name.rfind(":")
    head, tail = (name[:colon], name[colon:]) if colon > name.rfind("/") else (name, "")
    segments = head.split("/")
    model = segments[-1]
    # drop the leading parts (host, then namespace) while the rest is too long
    for drop in range(1, len(segments)):
        shorter = ELLIPSIS + "/" + "/".join(segments[drop:]) + tail
        if len(shorter) <= width:
            return shorter
    lead = ELLIPSIS + "/" if len(segments) > 1 else ""
    room = width - len(tail) - len(lead)
    enough = min(3, len(model))  # a cut model part keeps at least its first and last character
    if room < enough and lead:  # tight: "…" alone says the namespace was dropped
        lead, room = ELLIPSIS, room + 1
    if room >= max(enough, 1):
        return lead + _cut_middle(model, room) + tail
    if len(tail) + 1 <= width:
        return ELLIPSIS + tail
    return ELLIPSIS + _cut_middle(tail, width - 1)
