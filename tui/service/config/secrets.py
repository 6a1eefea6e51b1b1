"""[server.headers] values (and those of [mcp.servers.<name>.headers] and .env) are secrets: the config text as the raw view shows it (values masked),
and the text to save from what the user edited there (masks put back to the stored values).

The mask is MASK, the same for every header, so it says nothing about the value (not even its
length). On save, a header whose value is still MASK keeps the value stored under that name; a
value the user typed replaces it; a header removed from the text is removed. A MASK with no
stored value behind it (a header added or renamed with the mask left in) is refused: the mask is
never written to the file in place of a secret.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

MASK = "••••••"

_TABLE_RE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_STRING_RE = re.compile(r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'', re.S)
_ENTRY_RE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*=\s*(.*)$', re.S)


class MaskLeft(ValueError):
    """Headers whose value is the mask with no stored value behind it."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        shown = ", ".join(names)
        super().__init__(f"header {shown}: the value shown as {MASK} is hidden and there is no stored "
                         f"value under that name; type the value")


def _headers(doc: Any) -> Any:
    server = doc.get("server") if isinstance(doc, Mapping) else None
    return server.get("headers") if isinstance(server, Mapping) else None


def _unquote(key: str) -> str:
    if key[:1] in "\"'":
        try:
            return str(tomllib.loads(f"k = {key}")["k"])
        except tomllib.TOMLDecodeError:
            return key.strip("\"'")
    return key


def _is_headers_table(name: str) -> bool:
    plain = re.sub(r"[\s\"']", "", name)
    return plain == "server.headers" or re.fullmatch(r"mcp\.servers\..+\.(headers|env)", plain) is not None


def _mcp_secret_tables(doc: Any) -> list[tuple[str, Any, str]]:
    """(shown name, owning table, key) of each [mcp.servers.<name>] headers/env table."""
    mcp = doc.get("mcp") if isinstance(doc, Mapping) else None
    servers = mcp.get("servers") if isinstance(mcp, Mapping) else None
    out = []
    if isinstance(servers, Mapping):
        for name, server in servers.items():
            if isinstance(server, Mapping):
                out += [(f"mcp.servers.{name}.{key}", server, key) for key in ("headers", "env") if key in server]
    return out


def _scan(text: str) -> tuple[str, dict[str, str]]:
    """For a text TOML cannot read: mask every string on the lines of [server.headers] and on any
    line naming `headers`; also return the values found there by name (best effort)."""
    out: list[str] = []
    values: dict[str, str] = {}
    in_headers = False
    for line in text.splitlines(keepends=True):
        table = _TABLE_RE.match(line)
        if table:
            in_headers = _is_headers_table(table.group(1))
            out.append(line)
            continue
        key_part = line.split("=", 1)[0]
        if in_headers or "headers" in key_part or re.search(r"\benv\b", key_part):
            entry = _ENTRY_RE.match(line)
            if in_headers and entry:
                literal = _STRING_RE.match(entry.group(2).strip())
                if literal:
                    try:
                        values[_unquote(entry.group(1))] = str(tomllib.loads(f"v = {literal.group(0)}")["v"])
                    except tomllib.TOMLDecodeError:
                        pass
            line = _STRING_RE.sub(f'"{MASK}"', line) if "=" in line else line
        out.append(line)
    return "".join(out), values


def stored_headers(text: str) -> dict[str, str]:
    """The [server.headers] string values written in `text` (best effort if it is not valid TOML)."""
    try:
        headers = _headers(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return _scan(text)[1]
    if not isinstance(headers, Mapping):
        return {}
    return {str(k): v for k, v in headers.items() if isinstance(v, str)}


def mask_headers(text: str) -> str:
    """`text` with every [server.headers] value replaced by MASK, all else as it was."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except (TOMLKitError, ValueError):
        return _scan(text)[0]
    server = doc.get("server")
    tables = _mcp_secret_tables(doc)
    if isinstance(server, Mapping) and "headers" in server:
        tables.append(("server.headers", server, "headers"))
    if not tables:
        return text
    for _shown, owner, key in tables:
        values = owner[key]
        if isinstance(values, Mapping):
            for name in list(values):
                if not isinstance(values[name], Mapping | list):
                    values[name] = MASK
        else:
            owner[key] = MASK  # not a table (an error the file reports), but maybe a secret
    return doc.as_string()


def unmask_headers(text: str, original: str) -> str:
    """The text to save: `text` (edited from mask_headers(original)) with each header value
    still MASK put back to the value `original` has under that name. Raises MaskLeft if a
    MASK has no stored value. A text that does not parse is returned as it is (it cannot be
    saved anyway)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    if MASK not in text:
        return text
    try:
        doc = tomlkit.parse(text)
    except (TOMLKitError, ValueError):
        return text
    server = doc.get("server")
    headers = server.get("headers") if isinstance(server, Mapping) else None
    stored: dict[str, Any] = dict(stored_headers(original))
    try:  # the stored items themselves, so each keeps its quoting and escapes as written
        items = _headers(tomlkit.parse(original))
        if isinstance(items, Mapping):
            stored.update({str(k): v for k, v in items.items() if isinstance(v, str)})
    except (TOMLKitError, ValueError):
        pass
    missing: list[str] = []
    if isinstance(headers, Mapping):
        for name in list(headers):
            if headers[name] == MASK:
                if str(name) in stored:
                    headers[name] = stored[str(name)]
                else:
                    missing.append(str(name))
    elif isinstance(server, Mapping) and server.get("headers") == MASK:
        missing.append("(server.headers)")
    try:
        before = {shown: owner[key] for shown, owner, key in _mcp_secret_tables(tomlkit.parse(original))}
    except (TOMLKitError, ValueError):
        before = {}
    for shown, owner, key in _mcp_secret_tables(doc):
        values, kept = owner[key], before.get(shown)
        if values == MASK:
            if kept is None:
                missing.append(f"({shown})")
            else:
                owner[key] = kept
            continue
        if not isinstance(values, Mapping):
            continue
        for name in list(values):
            if values[name] == MASK:
                if isinstance(kept, Mapping) and isinstance(kept.get(name), str):
                    values[name] = kept[name]
                else:
                    missing.append(f"{shown}.{name}")
    if missing:
        raise MaskLeft(missing)
    return doc.as_string()
