"""The config's secrets — [server.headers] values, each [hosts.<name>]'s `headers` values and
`api_key`, each [mcp.servers.<name>]'s `headers` and `env` values — as the raw view shows them (masked), and the text to save from what the user edited
there (masks put back to the stored values).

The mask is MASK, the same for every secret, so it says nothing about the value (not even its
length). On save, a secret whose value is still MASK keeps the value stored at that place (the
same table and name); a value the user typed replaces it; one removed from the text is removed. A
MASK with no stored value behind it (a header added or renamed with the mask left in) is refused:
the mask is never written to the file in place of a secret.
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

Path = tuple[str, ...]


class MaskLeft(ValueError):
    """Secrets whose value is the mask with no stored value behind it."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        shown = ", ".join(names)
        super().__init__(f"header {shown}: the value shown as {MASK} is hidden and there is no stored "
                         f"value under that name; type the value")


def _slots(doc: Any) -> list[tuple[Path, Any, Any]]:
    """(where, container, key) of every secret in a parsed config: each [server.headers] and
    [hosts.<name>.headers] entry and each [hosts.<name>] api_key. A `headers` that is not a
    table is a slot of its own (an error the file reports, but maybe a secret)."""
    out: list[tuple[Path, Any, Any]] = []

    def headers_of(owner: Any, where: Path, table: str = "headers") -> None:
        if table not in owner:
            return
        headers = owner[table]
        if isinstance(headers, Mapping):
            out.extend(((*where, table, str(k)), headers, k) for k in list(headers))
        else:
            out.append(((*where, table), owner, table))

    if not isinstance(doc, Mapping):
        return out
    server = doc.get("server")
    if isinstance(server, Mapping):
        headers_of(server, ("server",))
    hosts = doc.get("hosts")
    if isinstance(hosts, Mapping):
        for name in list(hosts):
            host = hosts[name]
            if not isinstance(host, Mapping):
                continue
            if "api_key" in host:
                out.append((("hosts", str(name), "api_key"), host, "api_key"))
            headers_of(host, ("hosts", str(name)))
    mcp = doc.get("mcp")
    servers = mcp.get("servers") if isinstance(mcp, Mapping) else None
    if isinstance(servers, Mapping):
        for name in list(servers):
            server = servers[name]
            if isinstance(server, Mapping):
                for table in ("headers", "env"):
                    headers_of(server, ("mcp", "servers", str(name)), table)
    return out


def _unquote(key: str) -> str:
    if key[:1] in "\"'":
        try:
            return str(tomllib.loads(f"k = {key}")["k"])
        except tomllib.TOMLDecodeError:
            return key.strip("\"'")
    return key


def _table_path(name: str) -> Path:
    parts = [p for p in re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^.\s]+', name)]
    return tuple(_unquote(p) for p in parts)


def _scan(text: str) -> tuple[str, dict[Path, str]]:
    """For a text TOML cannot read: mask every string on the lines of a headers table
    ([server.headers], [hosts.<name>.headers]), on any line naming `headers` or `api_key`;
    also return the values found there by place (best effort)."""
    out: list[str] = []
    values: dict[Path, str] = {}
    table: Path = ()
    for line in text.splitlines(keepends=True):
        found = _TABLE_RE.match(line)
        if found:
            table = _table_path(found.group(1))
            out.append(line)
            continue
        in_headers = ((table[-1:] == ("headers",) and table[:1] in (("server",), ("hosts",)))
                      or (table[:2] == ("mcp", "servers") and table[-1:] in (("headers",), ("env",))))
        key_side = line.split("=", 1)[0]
        if in_headers or "headers" in key_side or "api_key" in key_side or re.search(r"\benv\b", key_side):
            entry = _ENTRY_RE.match(line)
            if entry and (in_headers or (table[:1] == ("hosts",) and _unquote(entry.group(1)) == "api_key")):
                literal = _STRING_RE.match(entry.group(2).strip())
                if literal:
                    try:
                        value = str(tomllib.loads(f"v = {literal.group(0)}")["v"])
                        values[(*table, _unquote(entry.group(1)))] = value
                    except tomllib.TOMLDecodeError:
                        pass
            line = _STRING_RE.sub(f'"{MASK}"', line) if "=" in line else line
        out.append(line)
    return "".join(out), values


def stored_secrets(text: str) -> dict[Path, str]:
    """Every secret string value written in `text`, by place (best effort if it is not valid TOML)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _scan(text)[1]
    return {where: owner[key] for where, owner, key in _slots(doc) if isinstance(owner[key], str)}


def stored_headers(text: str) -> dict[str, str]:
    """The [server.headers] string values written in `text` (best effort if it is not valid TOML)."""
    return {where[2]: value for where, value in stored_secrets(text).items()
            if where[:2] == ("server", "headers") and len(where) == 3}


def mask_headers(text: str) -> str:
    """`text` with every secret ([server.headers], hosts' headers and api_key) replaced by MASK,
    all else as it was."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text)
    except (TOMLKitError, ValueError):
        return _scan(text)[0]
    slots = [(owner, key) for _w, owner, key in _slots(doc) if not isinstance(owner[key], Mapping | list)]
    if not slots:
        return text
    for owner, key in slots:
        owner[key] = MASK
    return doc.as_string()


def unmask_headers(text: str, original: str) -> str:
    """The text to save: `text` (edited from mask_headers(original)) with each secret still MASK
    put back to the value `original` has at that place. Raises MaskLeft if a MASK has no stored
    value. A text that does not parse is returned as it is (it cannot be saved anyway)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    if MASK not in text:
        return text
    try:
        doc = tomlkit.parse(text)
    except (TOMLKitError, ValueError):
        return text
    stored: dict[Path, Any] = dict(stored_secrets(original))
    try:  # the stored items themselves, so each keeps its quoting and escapes as written
        stored.update({where: owner[key] for where, owner, key in _slots(tomlkit.parse(original))
                       if isinstance(owner[key], str)})
    except (TOMLKitError, ValueError):
        pass
    missing: list[str] = []
    for where, owner, key in _slots(doc):
        if owner[key] == MASK:
            if where in stored:
                owner[key] = stored[where]
            else:
                missing.append(where[-1] if where[:2] == ("server", "headers") and len(where) == 3
                               else ".".join(where) if len(where) != 2 else f"({'.'.join(where)})")
    if missing:
        raise MaskLeft(missing)
    return doc.as_string()
