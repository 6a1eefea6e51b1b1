"""Session export to Markdown and JSON."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tui.service.chat.export import (
    export_session,
    format_stats,
    session_to_json,
    session_to_markdown,
)
from tui.service.history import HistoryNotFound, HistoryStore

STATS = {
    "eval_count": 120,
    "eval_duration": 3_000_000_000,
    "prompt_eval_count": 30,
    "prompt_eval_duration": 100_000_000,
    "load_duration": 500_000_000,
    "total_duration": 3_700_000_000,
    "ttft": 0.42,
}


@pytest.fixture
async def store(tmp_path):
    s = await HistoryStore.open(tmp_path / "history.db")
    yield s
    await s.close()


@pytest.fixture
async def chat(store):
    ses = await store.create_session(
        title="Debugging *the* parser",
        model="qwen3:8b",
        preset="coder",
        options={"temperature": 0.1, "num_ctx": 16384},
        system_prompt="You are a careful engineer.\nAnswer briefly.",
        think=True,
        keep_alive="30m",
    )
    await store.add_message(ses.id, "user", "Why does it crash?", images=[("trace.png", "image/png", b"PNGDATA")])
    await store.add_message(
        ses.id,
        "assistant",
        "Because of a null pointer.",
        thinking="The trace shows a segfault in parse().\n</details> sneaky",
        model="qwen3:8b",
        stats=STATS,
    )
    old = await store.add_message(ses.id, "user", "Fix it plz (typo version)")
    await store.add_message(ses.id, "assistant", "Old answer", model="qwen3:8b")
    await store.supersede_from(old.id)
    await store.add_message(ses.id, "user", "Please fix it")
    await store.add_message(
        ses.id,
        "assistant",
        "Here:\n```python\ndef parse(x):\n    return x",
        model="qwen3:8b",
        status="stopped",
        error="stopped by user",
    )
    await store.add_message(ses.id, "user", "and now?")
    await store.add_message(ses.id, "assistant", "", model="qwen3:8b", status="error", error="model not found")
    return ses.id


async def test_markdown(store, chat):
    session = await store.get_session(chat)
    messages = await store.messages(chat, limit=None, include_superseded=True)
    md = session_to_markdown(session, messages)

    assert md.startswith("# Debugging *the* parser\n")
    assert "`qwen3:8b`" in md
    assert '"temperature": 0.1' in md and "num_ctx" in md
    assert "**Preset:** coder" in md
    assert "**Keep alive:** 30m" in md
    assert "> You are a careful engineer.\n> Answer briefly." in md
    for role in ("### User", "### Assistant"):
        assert role in md
    for text in ["Why does it crash?", "Because of a null pointer.", "Please fix it", "and now?"]:
        assert text in md
    # thinking is collapsible and cannot close the block early
    assert "<details>\n<summary>Thinking</summary>" in md
    assert "The trace shows a segfault in parse()." in md
    assert "</details> sneaky" not in md and "&lt;/details> sneaky" in md
    # stats line
    assert "120 tokens · 40.0 tok/s" in md
    assert "prompt 30 tokens (300.0 tok/s)" in md
    assert "first token 0.42 s" in md and "total 3.70 s" in md
    # statuses and attachments
    assert "Stopped before the end (stopped by user)" in md
    assert "**Error:** model not found" in md
    assert "`trace.png` (image/png, 7 B)" in md
    assert "PNGDATA" not in md
    # the stopped code block is closed before the next message
    stopped_at = md.index("return x")
    assert md[stopped_at:].split("\n")[1] == "```"
    # the superseded branch comes after the active conversation
    assert "## Earlier branches" in md and "### Branch 1" in md
    assert md.index("Old answer") > md.index("## Earlier branches") > md.index("and now?")
    assert "#### User" in md


async def test_markdown_empty_session(store):
    ses = await store.create_session(model="m", title="   ")
    md = session_to_markdown(ses, [])
    assert md.startswith("# Untitled chat")
    assert "*(no messages)*" in md


async def test_json_round_trip(store, chat):
    session = await store.get_session(chat)
    messages = await store.messages(chat, limit=None, include_superseded=True)
    doc = json.loads(session_to_json(session, messages))
    assert doc["format"] == "ollama-tui-session" and doc["version"] == 1
    assert {"exported_at", "session", "messages"} <= set(doc)
    s = doc["session"]
    assert s["title"] == "Debugging *the* parser"
    assert s["model"] == "qwen3:8b"
    assert s["options"] == {"temperature": 0.1, "num_ctx": 16384}
    assert (s["think"], s["keep_alive"], s["preset"]) == (True, "30m", "coder")
    assert s["system_prompt"].startswith("You are")
    msgs = doc["messages"]
    assert len(msgs) == 8
    expected_keys = {
        "id", "parent_id", "role", "content", "thinking", "created_at", "model",
        "status", "error", "stats", "branch", "superseded", "attachments", "tool_calls", "tool_name",
    }
    assert all(set(m) == expected_keys for m in msgs)
    assert msgs[0]["attachments"] == [{"name": "trace.png", "mime": "image/png", "size": 7}]
    assert msgs[1]["stats"] == STATS
    assert [m["status"] for m in msgs][-3:] == ["stopped", "complete", "error"]
    assert [m["superseded"] for m in msgs] == [False, False, True, True, False, False, False, False]
    assert [m["id"] for m in msgs] == sorted(m["id"] for m in msgs)
    assert "PNGDATA" not in json.dumps(doc)


async def test_export_session_files(store, chat, tmp_path):
    out = tmp_path / "exports" / "chat.md"
    written = await export_session(store, chat, out, "markdown")
    assert written == out
    text = out.read_text(encoding="utf-8")
    assert "Because of a null pointer." in text and "Old answer" in text
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600

    out_json = tmp_path / "exports" / "chat.json"
    await export_session(store, chat, out_json, "json", include_superseded=False)
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    assert len(doc["messages"]) == 6 and not any(m["superseded"] for m in doc["messages"])

    # overwriting replaces the file whole; no temp files are left behind
    out.write_text("old contents")
    await export_session(store, chat, out, "md")
    assert out.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in out.parent.iterdir()) == ["chat.json", "chat.md"]

    with pytest.raises(ValueError):
        await export_session(store, chat, out, "pdf")
    with pytest.raises(HistoryNotFound):
        await export_session(store, 9999, tmp_path / "x.md", "markdown")
    assert not (tmp_path / "x.md").exists()


def test_format_stats_tolerates_partial_or_odd_values():
    assert format_stats(None) == ""
    assert format_stats({}) == ""
    assert format_stats({"eval_count": 5}) == "5 tokens"
    assert format_stats({"eval_count": 5, "eval_duration": 0}) == "5 tokens"
    assert format_stats({"eval_count": "many", "ttft": None, "total_duration": True}) == ""


# ------------------------------------------------------------------ untrusted text (issue 14, item 6)

HOSTILE = "clip\x1b]52;c;cm0gLXJmIH4=\x07 wipe\x1b[2J evil\u202egnp.exe bare\rCR del\x7f csi\x9b"


def only_safe_bytes(data: bytes) -> bool:
    """No byte below 0x20 but \\n and \\t, no DEL, no C1 or bidi control (as UTF-8)."""
    text = data.decode("utf-8")
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
           or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069]
    return not bad


@pytest.fixture
async def hostile(store):
    ses = await store.create_session(title=f"title {HOSTILE}", model="model\x1b[31m\u202e", preset="p\x1b",
                                     options={"stop": ["\x1b[0m"]}, system_prompt=f"sys {HOSTILE}",
                                     keep_alive="5m\x1b")
    await store.add_message(ses.id, "user", f"ask {HOSTILE}",
                            images=[("pic\x1b[2J\u202e.png", "image/png\x1b", b"x")])
    await store.add_message(ses.id, "assistant", f"reply {HOSTILE}", thinking=f"think {HOSTILE}",
                            model="m\x1b]0;title\x07", status="error", error=f"err {HOSTILE}")
    return ses.id


async def test_markdown_export_writes_controls_by_code_point(store, hostile, tmp_path):
    out = await export_session(store, hostile, tmp_path / "chat.md", "markdown")
    data = out.read_bytes()
    assert only_safe_bytes(data), "the Markdown export carries a control character `cat` would run"
    assert b"\x1b" not in data and b"\r" not in data and "\u202e".encode() not in data
    text = data.decode("utf-8")
    assert "␛]52;c;cm0gLXJmIH4=␇" in text and "␛[2J" in text and "⟨U+202E⟩gnp.exe" in text
    for field in ("# title clip␛", "reply clip␛", "think clip␛", "err clip␛", "sys clip␛", "ask clip␛",
                  "`model␛[31m⟨U+202E⟩`", "m␛]0;title␇", "pic␛[2J⟨U+202E⟩.png"):
        assert field in text, field
    assert "bareCR" in text  # a bare CR is dropped, as on screen
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


async def test_json_export_escapes_controls_and_keeps_the_data(store, hostile, tmp_path):
    out = await export_session(store, hostile, tmp_path / "chat.json", "json")
    data = out.read_bytes()
    assert only_safe_bytes(data)
    assert b"\\u202e" in data and b"\\u001b" in data and b"\\u009b" in data and b"\\u007f" in data
    doc = json.loads(data)  # the same text back, nothing lost
    assert doc["session"]["title"] == f"title {HOSTILE}"
    assert [m["content"] for m in doc["messages"]] == [f"ask {HOSTILE}", f"reply {HOSTILE}"]
    assert doc["messages"][1]["thinking"] == f"think {HOSTILE}"


async def test_tool_calls_and_results_are_exported(store, tmp_path):
    ses = await store.create_session(title="tools", model="llama3.2")
    await store.add_message(ses.id, "user", "use add a=2 b=3")
    calls = [{"name": "add", "arguments": {"a": 2, "b": 3}}]
    await store.add_message(ses.id, "assistant", "", model="llama3.2", tool_calls=calls)
    await store.add_message(ses.id, "tool", "5 ``` \x1b[31mred", tool_name="add", tool_calls=calls)
    await store.add_message(ses.id, "tool", "The user refused", tool_name="rm", error="refused",
                            tool_calls=[{"name": "rm", "arguments": {"path": "/"}}])
    await store.add_message(ses.id, "assistant", "It is 5.", model="llama3.2")
    messages = await store.messages(ses.id)
    md = session_to_markdown(await store.get_session(ses.id), messages)
    assert "Tool calls: `add(a=2, b=3)`" in md and "*(empty)*" not in md
    assert "## Tool · `add`" in md and "Call: `add(a=2, b=3)` — ran" in md
    assert "````text\n5 ``` ␛[31mred\n````" in md  # fenced past its backticks, escapes inert
    assert 'Call: `rm(path="/")` — refused by the user' in md
    data = json.loads(session_to_json(await store.get_session(ses.id), messages))
    roles = [(m["role"], m["tool_name"], m["tool_calls"]) for m in data["messages"]]
    assert roles[1] == ("assistant", None, calls) and roles[2] == ("tool", "add", calls)
    assert data["messages"][3]["error"] == "refused"
