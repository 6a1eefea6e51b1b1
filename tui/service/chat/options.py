"""Per-session option overrides typed as `key=value` pairs, checked against the preset ranges."""

from __future__ import annotations

import shlex
from typing import Any

from tui.service.config.schema import PRESET_INDEX

SESSION_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "num_ctx",
                "num_predict", "seed", "stop", "format")


def parse_overrides(text: str) -> tuple[dict[str, Any], list[str]]:
    """'temperature=0.3 num_ctx=8192 stop=END' → ({...}, errors). `key=` clears a key (None).

    Each error names the key and the allowed range, e.g. "temperature: 3 is out of range 0–2".
    """
    values: dict[str, Any] = {}
    errors: list[str] = []
    try:
        words = shlex.split(text)
    except ValueError as exc:
        return {}, [f"cannot read that: {exc}"]
    for word in words:
        key, sep, raw = word.partition("=")
        key = key.strip()
        if not sep:
            errors.append(f"{word}: write key=value")
            continue
        if key not in SESSION_KEYS:
            errors.append(f"{key}: not a session option (one of: {', '.join(SESSION_KEYS)})")
            continue
        if raw == "":
            values[key] = None
            continue
        field = PRESET_INDEX[key]
        try:
            parsed = field.parse_text(raw)
        except ValueError as exc:
            errors.append(f"{key}: {exc}")
            continue
        value, error = field.check(parsed)
        if error:
            errors.append(f"{key}: {error}")
        else:
            values[key] = value
    return values, errors


def format_overrides(options: dict[str, Any]) -> str:
    parts = []
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={shlex.quote(str(value))}")
    return " ".join(parts)
