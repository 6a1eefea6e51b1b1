"""Export a chat session to Markdown or JSON.

Stats are the Ollama response fields (``eval_count``, ``prompt_eval_count`` and the
``*_duration`` fields in nanoseconds) plus ``ttft``, the client-measured time to first token
in seconds. Attachments are exported by name, MIME type and size, never their bytes.
Model output is untrusted: the Markdown is made inert as the screen is (control characters and
bidi controls written by code point, so `cat export.md` runs no escape sequence), the JSON
writes them as \\u escapes (the same data to a parser).
Superseded messages (earlier branches left by edit-and-resend) are exported after the
active conversation, one section per branch.

This module must not import textual.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tui.service.files import atomic_write
from tui.service.history import HistoryNotFound, Message, Session
from tui.service.units import format_bytes
from tui.service.untrusted import inert, inert_json

if TYPE_CHECKING:
    from tui.service.history import HistoryStore

__all__ = ["export_session", "format_stats", "session_to_json", "session_to_markdown"]

JSON_FORMAT = "ollama-tui-session"
JSON_VERSION = 1

ExportFormat = Literal["markdown", "md", "json"]

_ROLE_TITLES = {"user": "User", "assistant": "Assistant", "system": "System", "tool": "Tool"}
_TOOL_OUTCOMES = {"refused": "refused by the user", "error": "the tool reported an error",
                  "timeout": "timed out", "failed": "could not run"}


def _call_text(call: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in (call.get("arguments") or {}).items())
    return _one_line(f"{call.get('name', '')}({args})")


def _fenced(text: str) -> list[str]:
    """`text` in a fence longer than any backtick run in it (a tool's output is not Markdown)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", text.strip("\n"), fence]
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


# --------------------------------------------------------------------------- helpers


def _local_time(ts: float | None) -> str:
    if ts is None:
        return ""
    try:
        return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    except (OverflowError, OSError, ValueError):
        return str(ts)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    try:
        return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _ns_to_s(value: Any) -> float | None:
    v = _num(value)
    return None if v is None else v / 1e9


def format_stats(stats: Mapping[str, Any] | None) -> str:
    """One line such as ``312 tokens · 41.2 tok/s · prompt 25 tokens · first token 0.41 s``."""
    if not stats:
        return ""
    parts: list[str] = []
    eval_count = _num(stats.get("eval_count"))
    eval_s = _ns_to_s(stats.get("eval_duration"))
    if eval_count is not None:
        parts.append(f"{int(eval_count)} tokens")
        if eval_s:
            parts.append(f"{eval_count / eval_s:.1f} tok/s")
    prompt_count = _num(stats.get("prompt_eval_count"))
    if prompt_count is not None:
        text = f"prompt {int(prompt_count)} tokens"
        prompt_s = _ns_to_s(stats.get("prompt_eval_duration"))
        if prompt_s:
            text += f" ({prompt_count / prompt_s:.1f} tok/s)"
        parts.append(text)
    ttft = _num(stats.get("ttft"))
    if ttft is not None:
        parts.append(f"first token {ttft:.2f} s")
    load_s = _ns_to_s(stats.get("load_duration"))
    if load_s:
        parts.append(f"load {load_s:.2f} s")
    total_s = _ns_to_s(stats.get("total_duration"))
    if total_s is not None:
        parts.append(f"total {total_s:.2f} s")
    return " · ".join(parts)


def _close_fences(text: str) -> str:
    """Close a code fence left open (a stopped stream) so it does not swallow the rest."""
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE_RE.match(line)
        if not m:
            continue
        marker, rest = m.group(1), m.group(2)
        if fence is None:
            if marker[0] == "`" and "`" in rest:
                continue  # not a fence: backtick fences' info strings cannot contain `
            fence = marker
        elif marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip():
            fence = None
    if fence is not None:
        text = text.rstrip("\n") + "\n" + fence
    return text


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- markdown


def _message_markdown(msg: Message, level: int) -> str:
    hashes = "#" * level
    header = _ROLE_TITLES.get(msg.role, msg.role.capitalize())
    bits = [header]
    if msg.role == "assistant" and msg.model:
        bits.append(f"`{msg.model}`")
    if msg.role == "tool":
        bits.append(f"`{_one_line(msg.tool_name or '')}`")
    when = _local_time(msg.created_at)
    if when:
        bits.append(when)
    out: list[str] = [f"{hashes} {' · '.join(bits)}", ""]

    if msg.thinking.strip():
        thinking = re.sub(r"(?i)</details", "&lt;/details", _close_fences(msg.thinking.strip("\n")))
        out += ["<details>", "<summary>Thinking</summary>", "", thinking, "", "</details>", ""]

    if msg.role == "tool":
        call = msg.tool_calls[0] if msg.tool_calls else {"name": msg.tool_name or "", "arguments": {}}
        outcome = _TOOL_OUTCOMES.get(msg.error or "", "ran")
        out += [f"Call: `{_call_text(call)}` — {outcome}", "", *_fenced(msg.content), ""]
        return "\n".join(out)
    if msg.content:
        out += [_close_fences(msg.content.strip("\n")), ""]
    elif msg.status == "complete" and not msg.tool_calls:
        out += ["*(empty)*", ""]
    if msg.tool_calls:
        out += ["Tool calls: " + ", ".join(f"`{_call_text(c)}`" for c in msg.tool_calls), ""]

    if msg.attachments:
        names = ", ".join(
            f"`{_one_line(a.name)}` ({a.mime}, {format_bytes(a.size)})" for a in msg.attachments
        )
        out += [f"Attachments: {names}", ""]

    stats = format_stats(msg.stats)
    if stats:
        out += [f"*{stats}*", ""]

    if msg.status == "stopped":
        note = "Stopped before the end"
        if msg.error:
            note += f" ({_one_line(msg.error)})"
        out += [f"> **{note}.**", ""]
    elif msg.status == "error":
        out += [f"> **Error:** {_one_line(msg.error or 'unknown error')}", ""]
    elif msg.status == "streaming":
        out += ["> **Still being generated when exported.**", ""]
    return "\n".join(out)


def session_to_markdown(session: Session, messages: Sequence[Message]) -> str:
    """A readable Markdown transcript: metadata, the active conversation, then any earlier
    branches (messages superseded by edit-and-resend)."""
    out: list[str] = [f"# {_one_line(session.title) or 'Untitled chat'}", ""]
    meta: list[tuple[str, str]] = [("Model", f"`{session.model}`" if session.model else "—")]
    if session.preset:
        meta.append(("Preset", session.preset))
    if session.options:
        meta.append(("Options", f"`{json.dumps(session.options, ensure_ascii=False, sort_keys=True)}`"))
    if session.think is not None:
        meta.append(("Thinking", json.dumps(session.think) if isinstance(session.think, bool) else str(session.think)))
    if session.keep_alive is not None:
        meta.append(("Keep alive", str(session.keep_alive)))
    meta.append(("Created", _local_time(session.created_at)))
    meta.append(("Updated", _local_time(session.updated_at)))
    out += [f"- **{k}:** {v}" for k, v in meta]
    out.append("")

    if session.system_prompt:
        out += ["## System prompt", "", _quote(session.system_prompt), ""]

    active = [m for m in messages if not m.superseded]
    branches: dict[int, list[Message]] = {}
    for m in messages:
        if m.superseded:
            branches.setdefault(m.branch, []).append(m)

    out += ["## Conversation", ""]
    if not active:
        out += ["*(no messages)*", ""]
    for m in active:
        out += [_message_markdown(m, 3), "---", ""]

    if branches:
        out += ["## Earlier branches", ""]
        out += ["*Turns replaced when an earlier message was edited and re-sent.*", ""]
        for number in sorted(branches):
            out += [f"### Branch {number}", ""]
            for m in branches[number]:
                out += [_message_markdown(m, 4), ""]
    # Every field (title, model, options, system prompt, content, thinking, errors, attachment
    # names) is untrusted text: the whole transcript is made inert at once, so none is missed.
    return inert("\n".join(out).rstrip("\n") + "\n")


# --------------------------------------------------------------------------- json


def _session_dict(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "title": session.title,
        "model": session.model,
        "preset": session.preset,
        "options": dict(session.options),
        "system_prompt": session.system_prompt,
        "think": session.think,
        "keep_alive": session.keep_alive,
        "created_at": _iso(session.created_at),
        "updated_at": _iso(session.updated_at),
    }


def _message_dict(msg: Message) -> dict[str, Any]:
    return {
        "id": msg.id,
        "parent_id": msg.parent_id,
        "role": msg.role,
        "content": msg.content,
        "thinking": msg.thinking,
        "created_at": _iso(msg.created_at),
        "model": msg.model,
        "status": msg.status,
        "error": msg.error,
        "stats": dict(msg.stats) if msg.stats is not None else None,
        "branch": msg.branch,
        "superseded": msg.superseded,
        "attachments": [{"name": a.name, "mime": a.mime, "size": a.size} for a in msg.attachments],
        "tool_calls": [dict(c) for c in msg.tool_calls],
        "tool_name": msg.tool_name,
    }


def session_to_json(session: Session, messages: Sequence[Message]) -> str:
    """``{"format", "version", "exported_at", "session": {...}, "messages": [...]}``; messages
    in creation order, with ``branch`` / ``superseded`` / ``parent_id`` for the branches."""
    doc = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": datetime.now(timezone.utc).isoformat(),
        "session": _session_dict(session),
        "messages": [_message_dict(m) for m in messages],
    }
    return inert_json(json.dumps(doc, ensure_ascii=False, indent=2)) + "\n"


# --------------------------------------------------------------------------- files


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)


async def export_session(
    store: HistoryStore,
    session_id: int,
    path: Path | str,
    fmt: ExportFormat = "markdown",
    *,
    include_superseded: bool = True,
) -> Path:
    """Write one session to ``path`` (created 0600 through a temp file + rename, so a
    reader never sees half a file). ``fmt``: "markdown" (or "md") or "json". Returns the
    path written. Raises HistoryNotFound for an unknown session, ValueError for a bad fmt,
    OSError when the file cannot be written."""
    kind = fmt.lower()
    if kind not in ("markdown", "md", "json"):
        raise ValueError(f"unknown export format {fmt!r}; expected 'markdown' or 'json'")
    session = await store.get_session(session_id)
    if session is None:
        raise HistoryNotFound(f"no session {session_id}")
    messages = await store.messages(session_id, limit=None, include_superseded=include_superseded)
    text = session_to_json(session, messages) if kind == "json" else session_to_markdown(session, messages)
    target = Path(path).expanduser()
    await asyncio.to_thread(_write_atomic, target, text)
    return target
