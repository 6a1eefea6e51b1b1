"""TOML text work for the config: key paths, where keys sit (lines), parsing with located
syntax errors, and the text edits that add, delete and rename tables keeping comments."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import AoT, Table, Whitespace

from tui.service.config.model import Config, build_config
from tui.service.config.schema import MODEL_INDEX, ConfigIssue, KeyPath, format_key_path

# --------------------------------------------------------------------------- key paths


def _parse_dotted(s: str) -> tuple[KeyPath, str] | None:
    """Leading TOML dotted key of `s` → (parts, the rest); None if `s` does not start with one."""
    parts: list[str] = []
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            if j >= n:
                return None
            try:
                parts.append(json.loads(s[i : j + 1]))
            except ValueError:
                parts.append(s[i + 1 : j])
            i = j + 1
        elif i < n and s[i] == "'":
            j = s.find("'", i + 1)
            if j < 0:
                return None
            parts.append(s[i + 1 : j])
            i = j + 1
        else:
            m = re.compile(r"[A-Za-z0-9_-]+").match(s, i)
            if not m:
                return None
            parts.append(m.group())
            i = m.end()
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        return tuple(parts), s[i:]


def parse_key_path(path: str | Sequence[str]) -> KeyPath:
    """"presets.fast.temperature" / 'models."qwen2.5:7b".options.num_ctx' / a tuple of parts.

    Model names may also go unquoted (`models.qwen2.5:7b.keep_alive`): everything between
    `models.` and a known key is the name. Raises ValueError for an unusable path.
    """
    if not isinstance(path, str):
        parts = tuple(path)
        if not parts or not all(isinstance(p, str) for p in parts):
            raise ValueError("a key path is a non-empty sequence of strings")
        return parts
    if path.startswith("models.") and not any(q in path for q in "\"'"):
        segs = path[len("models."):].split(".")
        if len(segs) >= 3 and segs[-2] == "options":
            return ("models", ".".join(segs[:-2]), "options", segs[-1])
        if len(segs) >= 2 and (segs[-1] == "options" or segs[-1] in MODEL_INDEX):
            return ("models", ".".join(segs[:-1]), segs[-1])
        return ("models", ".".join(segs))
    parsed = _parse_dotted(path)
    if parsed is None or parsed[1].strip():
        raise ValueError(f"{path!r} is not a key path like presets.fast.temperature")
    return parsed[0]


# --------------------------------------------------------------------------- finding lines


@dataclass
class _Layout:
    """Where keys and table headers sit in a TOML text (1-based lines), found by a line scanner."""

    keys: dict[KeyPath, int] = field(default_factory=dict)
    headers: list[tuple[int, KeyPath]] = field(default_factory=list)  # [table] lines only

    def line_of(self, parts: KeyPath) -> int | None:
        """The line of `parts`, else of its nearest enclosing key/table that is in the text."""
        for n in range(len(parts), 0, -1):
            line = self.keys.get(parts[:n])
            if line is not None:
                return line
        return None


def scan_layout(text: str) -> _Layout:
    layout = _Layout()
    table: KeyPath = ()
    open_string: str | None = None
    for number, line in enumerate(text.split("\n"), 1):
        if open_string:
            if open_string in line:
                open_string = None
            continue
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("["):
            is_array = s.startswith("[[")
            parsed = _parse_dotted(s[2 if is_array else 1 :])
            if parsed is None or not parsed[1].startswith("]"):
                continue
            table = parsed[0]
            for n in range(1, len(table) + 1):
                layout.keys.setdefault(table[:n], number)
            if not is_array:
                layout.headers.append((number, table))
            continue
        parsed = _parse_dotted(s)
        if parsed is None or not parsed[1].startswith("="):
            continue
        full = table + parsed[0]
        for n in range(len(table) + 1, len(full) + 1):
            layout.keys.setdefault(full[:n], number)
        value = parsed[1][1:].lstrip()
        for delim in ('"""', "'''"):
            if value.startswith(delim) and value.count(delim) == 1:
                open_string = delim
    return layout


# --------------------------------------------------------------------------- parsing

_LOCATION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")
_QUOTED_CHAR = re.compile(r":?\s*'[^']{0,6}'")  # a quoted character from the text: maybe a secret's


@dataclass
class Parsed:
    config: Config
    issues: list[ConfigIssue]
    doc: tomlkit.TOMLDocument | None = None  # None: the text cannot be edited
    data: dict[str, Any] | None = None  # what tomllib read


def _syntax_issue(message: str, line: int | None, column: int | None) -> ConfigIssue:
    message = _QUOTED_CHAR.sub("", message).strip().rstrip(".")
    return ConfigIssue("", line, f"TOML syntax error: {message[:1].lower()}{message[1:]}", column)


def analyse(text: str, doc: tomlkit.TOMLDocument | None = None) -> Parsed:
    """Parse and validate config text (`doc`: its tomlkit document, if already parsed). Never raises."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        try:
            tomlkit.parse(text)
        except ParseError as kit:  # tomlkit places errors better (duplicate keys, for one)
            message = re.sub(r"\s+at line \d+ col \d+$", "", str(kit))
            return Parsed(Config(), [_syntax_issue(message, kit.line, kit.col + 1)])
        except Exception:  # noqa: BLE001 — a parser bug must not stop the app
            pass
        m = _LOCATION.search(str(exc))
        message = _LOCATION.sub("", str(exc))
        if m and m.group(1):
            line, column = int(m.group(1)), int(m.group(2))
        else:
            line, column = text.count("\n") + 1, None
        return Parsed(Config(), [_syntax_issue(message, line, column)])
    except Exception as exc:  # noqa: BLE001 — e.g. RecursionError on absurd nesting
        return Parsed(Config(), [ConfigIssue("", None, f"cannot read this TOML: {type(exc).__name__}")])
    try:
        config, issues = build_config(data, scan_layout(text).line_of)
    except Exception as exc:  # noqa: BLE001
        return Parsed(Config(), [ConfigIssue("", None, f"cannot read this config: {type(exc).__name__}")], data=data)
    try:
        doc = doc or tomlkit.parse(text)
        if doc.as_string() != text:
            raise ValueError("round trip differs")
    except Exception as exc:  # noqa: BLE001 — tomlkit trips on a few valid layouts
        doc = None
        issues.append(ConfigIssue("", getattr(exc, "line", None), "this file's layout cannot be edited "
                                  "safely here; use the raw editor", severity="warning"))
    return Parsed(config, issues, doc, data)


def decode_config_bytes(raw: bytes) -> tuple[str | None, bool, ConfigIssue | None]:
    """(text, had a BOM, problem)."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw[3 if bom else 0 :].decode("utf-8"), bom, None
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if bom else 0)
        line = raw[:start].count(b"\n") + 1
        column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        return None, bom, ConfigIssue("", line, "not UTF-8 text (is this a config file?)", column)


# --------------------------------------------------------------------------- document edits

MISSING = object()


def get_in(data: Any, parts: KeyPath) -> Any:
    for part in parts:
        if not isinstance(data, Mapping) or part not in data:
            return MISSING
        data = data[part]
    return data


def plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value


def pruned(data: Any) -> Any:
    """Data with empty tables dropped: removing a table's last entry may drop the table itself."""
    if isinstance(data, Mapping):
        kept = {k: pruned(v) for k, v in data.items()}
        return {k: v for k, v in kept.items() if v != {}}
    return data


def nest(parts: KeyPath, value: Any) -> dict[str, Any]:
    for part in reversed(parts):
        value = {part: value}
    return value


def insert_key(container: Any, key: str, value: Any) -> None:
    """Add a new key to a table: after its last key, before the blank line and comments that
    introduce what follows (tomlkit alone would put it after them)."""
    body = getattr(getattr(container, "value", None), "body", None)
    if not isinstance(container, Table) or body is None:
        container[key] = value
        return
    end = next((i for i, (k, v) in enumerate(body) if isinstance(v, Table | AoT) and k is not None), len(body))
    start = end
    while start > 0 and body[start - 1][0] is None:
        start -= 1
    cut = next((i for i in range(start, end) if isinstance(body[i][1], Whitespace)), end)
    if cut >= len(body):
        container[key] = value
        return
    container.value._insert_at(cut, key, value)
    dict.__setitem__(container, key, container.value[key])
    following = body[cut + 1][1]
    if isinstance(following, Table) and not following.trivia.indent.startswith("\n"):
        following.trivia.indent = "\n" + following.trivia.indent  # a blank line before [sub.table]


def _text_lines(text: str) -> list[str]:
    return text.split("\n")


def _is_comment(line: str) -> bool:
    return line.strip().startswith("#")


def _table_span(layout: _Layout, lines: list[str], parts: KeyPath) -> tuple[int, int] | None:
    """0-based [start, end) of the lines of table `parts` and its sub-tables, with the comment
    block right above its header; None unless it is written as a plain [header]."""
    own = [i for i, (_, p) in enumerate(layout.headers) if p[: len(parts)] == parts]
    if not own or layout.headers[own[0]][1] != parts or own != list(range(own[0], own[-1] + 1)):
        return None
    start = layout.headers[own[0]][0] - 1
    nxt = own[-1] + 1
    end = layout.headers[nxt][0] - 1 if nxt < len(layout.headers) else len(lines)
    end = _block_end(lines, layout.headers[own[-1]][0], end)
    while start > 0 and _is_comment(lines[start - 1]):
        start -= 1
    return start, end


def _block_end(lines: list[str], lo: int, hi: int) -> int:
    """Where a table's own lines end in lines[lo:hi] (lo = the line after its header): after its
    last key line and any comments glued to it; blank lines and free-standing comment blocks
    after that introduce what follows."""
    j = hi - 1
    while j >= lo and (not lines[j].strip() or _is_comment(lines[j])):
        j -= 1
    j = max(j, lo - 1)
    while j + 1 < hi and _is_comment(lines[j + 1]):
        j += 1
    return j + 1


def add_table_text(text: str, parts: KeyPath, values: Mapping[str, Any]) -> str | None:
    """Text with table `parts` added after its siblings (before the next section's comments)."""
    block = tomlkit.dumps(nest(parts, plain(values)))
    block = block[block.index("["):] if "[" in block else block
    lines = _text_lines(text)
    layout = scan_layout(text)
    parent = parts[:-1]
    group = [i for i, (_, p) in enumerate(layout.headers) if p[: len(parent)] == parent and len(p) >= len(parent)]
    if parent and not group and get_in(tomllib.loads(text), parent) is not MISSING:
        return None  # the parent is written some other way (dotted keys, inline): let tomlkit do it
    if group:
        nxt = group[-1] + 1
        hi = layout.headers[nxt][0] - 1 if nxt < len(layout.headers) else len(lines)
        at = _block_end(lines, layout.headers[group[-1]][0], hi)
    else:
        at = _block_end(lines, 0, len(lines))
    new = block.rstrip("\n").split("\n")
    if at > 0:
        new.insert(0, "")
    if at < len(lines) and lines[at].strip():
        new.append("")
    return "\n".join([*lines[:at], *new, *lines[at:]])


def delete_table_text(text: str, parts: KeyPath) -> str | None:
    lines = _text_lines(text)
    span = _table_span(scan_layout(text), lines, parts)
    if span is None:
        return None
    start, end = span
    if start > 0 and not lines[start - 1].strip():
        start -= 1  # with the blank line above, so no double blank remains
    return "\n".join(lines[:start] + lines[end:])


def rename_table_text(text: str, parts: KeyPath, new_name: str) -> str | None:
    lines = _text_lines(text)
    layout = scan_layout(text)
    if _table_span(layout, lines, parts) is None:
        return None
    for number, p in layout.headers:
        if p[: len(parts)] == parts:
            line = lines[number - 1]
            indent = line[: len(line) - len(line.lstrip())]
            close = _parse_dotted(line.strip()[1:])
            assert close is not None
            renamed = (*parts[:-1], new_name, *p[len(parts):])
            lines[number - 1] = f"{indent}[{format_key_path(renamed)}{close[1]}"
    return "\n".join(lines)


