"""ConfigStore: load the TOML config without ever failing, edit it keeping every comment, save it
atomically with a backup and a check for changes made behind our back."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.items import AoT, Table, Whitespace

from tui.service import paths
from tui.service.config_schema import (
    FIELDS,
    MODEL_INDEX,
    PRESET_INDEX,
    Config,
    ConfigIssue,
    KeyPath,
    build_config,
    check_header,
    field_for,
    format_key_path,
)


class ConfigError(Exception):
    """Base class of what ConfigStore.save and friends raise."""


class ConfigConflict(ConfigError):
    """The file changed on disk since it was loaded; save(force=True) overwrites it."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} was changed by another program since it was loaded")
        self.path = path


class ConfigInvalid(ConfigError):
    """Refused to write: the document has errors (each in `issues`)."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = list(issues)
        first = str(self.issues[0]) if self.issues else "invalid config"
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(first + more)


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
class _Parsed:
    config: Config
    issues: list[ConfigIssue]
    doc: tomlkit.TOMLDocument | None = None  # None: the text cannot be edited
    data: dict[str, Any] | None = None  # what tomllib read


def _syntax_issue(message: str, line: int | None, column: int | None) -> ConfigIssue:
    message = _QUOTED_CHAR.sub("", message).strip().rstrip(".")
    return ConfigIssue("", line, f"TOML syntax error: {message[:1].lower()}{message[1:]}", column)


def analyse(text: str) -> _Parsed:
    """Parse and validate config text. Never raises."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        try:
            tomlkit.parse(text)
        except ParseError as kit:  # tomlkit places errors better (duplicate keys, for one)
            message = re.sub(r"\s+at line \d+ col \d+$", "", str(kit))
            return _Parsed(Config(), [_syntax_issue(message, kit.line, kit.col + 1)])
        except Exception:  # noqa: BLE001 — a parser bug must not stop the app
            pass
        m = _LOCATION.search(str(exc))
        message = _LOCATION.sub("", str(exc))
        if m and m.group(1):
            line, column = int(m.group(1)), int(m.group(2))
        else:
            line, column = text.count("\n") + 1, None
        return _Parsed(Config(), [_syntax_issue(message, line, column)])
    except Exception as exc:  # noqa: BLE001 — e.g. RecursionError on absurd nesting
        return _Parsed(Config(), [ConfigIssue("", None, f"cannot read this TOML: {type(exc).__name__}")])
    try:
        config, issues = build_config(data, scan_layout(text).line_of)
    except Exception as exc:  # noqa: BLE001
        return _Parsed(Config(), [ConfigIssue("", None, f"cannot read this config: {type(exc).__name__}")], data=data)
    doc: tomlkit.TOMLDocument | None
    try:
        doc = tomlkit.parse(text)
        if doc.as_string() != text:
            raise ValueError("round trip differs")
    except Exception:  # noqa: BLE001
        doc = None
        issues.append(ConfigIssue("", None, "this file's layout cannot be edited safely here; use "
                                            "the raw editor", severity="warning"))
    return _Parsed(config, issues, doc, data)


def _decode(raw: bytes) -> tuple[str | None, bool, ConfigIssue | None]:
    """(text, had a BOM, problem)."""
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        return raw[3 if bom else 0 :].decode("utf-8"), bom, None
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if bom else 0)
        line = raw[:start].count(b"\n") + 1
        column = start - (raw.rfind(b"\n", 0, start) + 1) + 1
        return None, bom, ConfigIssue("", line, "not UTF-8 text (is this a config file?)", column)


def _read(path: Path) -> tuple[bytes | None, ConfigIssue | None]:
    try:
        return path.read_bytes(), None
    except FileNotFoundError:
        return None, ConfigIssue("", None, f"{path} does not exist")
    except IsADirectoryError:
        return None, ConfigIssue("", None, f"{path} is a directory, not a file")
    except OSError as exc:
        return None, ConfigIssue("", None, f"cannot read {path}: {exc.strerror or exc}")


def _digest(raw: bytes | None) -> str | None:
    return None if raw is None else hashlib.sha256(raw).hexdigest()


def _has_headers(data: Mapping[str, Any] | None) -> bool:
    server = (data or {}).get("server")
    return isinstance(server, Mapping) and bool(server.get("headers"))


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file in the same folder and os.replace: readers see old or new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------- document edits

_MISSING = object()


def _get(data: Any, parts: KeyPath) -> Any:
    for part in parts:
        if not isinstance(data, Mapping) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _nest(parts: KeyPath, value: Any) -> dict[str, Any]:
    for part in reversed(parts):
        value = {part: value}
    return value


def _insert_key(container: Any, key: str, value: Any) -> None:
    """Add a new key to a table: after its last key, before the blank line and comments that
    introduce what follows (tomlkit alone would put it after them)."""
    body = getattr(getattr(container, "value", None), "body", None)
    if not isinstance(container, Table) or body is None:
        container[key] = value
        return
    end = next((i for i, (k, v) in enumerate(body) if isinstance(v, Table | AoT) and k), len(body))
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


def _add_table_text(text: str, parts: KeyPath, values: Mapping[str, Any]) -> str | None:
    """Text with table `parts` added after its siblings (before the next section's comments)."""
    block = tomlkit.dumps(_nest(parts, _plain(values)))
    block = block[block.index("["):] if "[" in block else block
    lines = _text_lines(text)
    layout = scan_layout(text)
    parent = parts[:-1]
    group = [i for i, (_, p) in enumerate(layout.headers) if p[: len(parent)] == parent and len(p) >= len(parent)]
    if parent and not group and _get(tomllib.loads(text), parent) is not _MISSING:
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


def _delete_table_text(text: str, parts: KeyPath) -> str | None:
    lines = _text_lines(text)
    span = _table_span(scan_layout(text), lines, parts)
    if span is None:
        return None
    start, end = span
    if start > 0 and not lines[start - 1].strip():
        start -= 1  # with the blank line above, so no double blank remains
    return "\n".join(lines[:start] + lines[end:])


def _rename_table_text(text: str, parts: KeyPath, new_name: str) -> str | None:
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


# --------------------------------------------------------------------------- the store

_PRESET_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ConfigStore:
    """The config file: typed view, issues, comment-preserving edits, safe saves.

    `config` always reflects the current document, unsaved edits included (`dirty` says
    whether there are any). Edits return the issues that stopped them ([] = applied).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        self.config = Config()
        self.issues: list[ConfigIssue] = []
        self.text = ""  # the raw text as loaded (or last saved)
        self._doc: tomlkit.TOMLDocument | None = None
        self._data: dict[str, Any] | None = None
        self._disk: str | None = None  # sha256 of the bytes we loaded / wrote
        self._bom = False

    def __repr__(self) -> str:
        return f"ConfigStore(path={str(self.path)!r}, issues={len(self.issues)}, dirty={self.dirty})"

    # ----------------------------------------------------------------- reading

    def load(self) -> tuple[Config, list[ConfigIssue]]:
        """Read the file (creating it from config.example.toml if missing). Never raises, never
        rewrites an existing file; problems come back as issues and defaults fill the gaps."""
        created: list[ConfigIssue] = []
        if not self.path.exists() and not self.path.is_symlink():
            created = self._create()
        raw, problem = _read(self.path)
        if raw is None:
            self._disk = None
            if created:  # could not create it: run on the example, save later creates it
                self._adopt(self._example_text(), None)
                self.issues = created + self.issues
            else:
                self._broken("", [problem] if problem else [])
            return self.config, self.issues
        self._disk = _digest(raw)
        text, self._bom, problem = _decode(raw)
        if text is None:
            self._broken("", [problem] if problem else [])
        else:
            self._adopt(text, None)
        return self.config, self.issues

    def validate_text(self, text: str) -> tuple[Config | None, list[ConfigIssue]]:
        """Check text from the raw editor: (config, issues), config None on a syntax error."""
        parsed = analyse(text)
        return (parsed.config if parsed.data is not None else None), parsed.issues

    def changed_on_disk(self) -> bool:
        """Whether the file's bytes differ from what was loaded or last saved."""
        raw, _ = _read(self.path)
        return _digest(raw) != self._disk

    @property
    def dirty(self) -> bool:
        return self._doc is not None and self._doc.as_string() != self.text

    @property
    def document_text(self) -> str:
        """The current text, unsaved edits included."""
        return self._doc.as_string() if self._doc is not None else self.text

    def _adopt(self, text: str, parsed: Any) -> None:
        parsed = parsed or analyse(text)
        self.text, self.config, self.issues = text, parsed.config, parsed.issues
        self._doc, self._data = parsed.doc, parsed.data

    def _broken(self, text: str, issues: list[ConfigIssue]) -> None:
        self.text, self.config, self.issues = text, Config(), issues
        self._doc = self._data = None

    def _create(self) -> list[ConfigIssue]:
        text = self._example_text()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(text.encode())
                try:
                    os.link(tmp, self.path)  # atomic and never replaces a file that appeared meanwhile
                except FileExistsError:
                    pass
                except OSError:
                    with open(self.path, "xb") as f:
                        f.write(text.encode())
            finally:
                os.unlink(tmp)
        except FileExistsError:
            pass
        except OSError as exc:
            return [ConfigIssue("", None, f"cannot create {self.path}: {exc.strerror or exc}; "
                                          "using defaults", severity="warning")]
        return []

    @staticmethod
    def _example_text() -> str:
        try:
            return paths.example_config_text()
        except OSError:
            return "version = 1\n"

    # ----------------------------------------------------------------- editing

    def set(self, key_path: str | Sequence[str], value: Any) -> list[ConfigIssue]:
        """Set one key (validated; comments kept; tables created as needed). None deletes it."""
        try:
            parts = parse_key_path(key_path)
        except ValueError as exc:
            return [ConfigIssue(str(key_path), None, str(exc))]
        if value is None:
            return self.delete(parts)
        spec = field_for(parts)
        if parts == ("server", "headers"):
            spec = next(f for f in FIELDS["server"] if f.key == "headers")
        elif parts[:2] == ("server", "headers") and len(parts) == 3 and (bad := check_header(parts[2], value)):
            return [self._issue(parts, bad)]
        if spec is None:
            return [self._issue(parts, "no such setting")]
        checked, problem = spec.check(value)
        if problem:
            return [self._issue(parts, problem)]
        if (parts == ("chat", "default_preset") or (parts[0] == "models" and parts[-1] == "preset"
                                                     and len(parts) == 3)) and checked not in self.config.presets:
            return [self._issue(parts, f"no preset named {json.dumps(checked)}")]
        ops = [("materialize",)] if parts[0] == "presets" else []
        return self._edit([*ops, ("set", parts, _plain(checked))])

    def delete(self, key_path: str | Sequence[str]) -> list[ConfigIssue]:
        """Remove a key or a table (a preset, a model's overrides); it reverts to its default."""
        try:
            parts = parse_key_path(key_path)
        except ValueError as exc:
            return [ConfigIssue(str(key_path), None, str(exc))]
        if len(parts) == 2 and parts[0] == "presets":
            if (problem := self._preset_in_use(parts[1])):
                return [self._issue(parts, problem)]
        ops = [("materialize",)] if parts[0] == "presets" and len(parts) > 1 else []
        if self._data is not None and _get(self._data, parts) is _MISSING:
            if not ops or "presets" in self._data or parts[1] not in self.config.presets:
                return []  # nothing to delete
        return self._edit([*ops, ("del", parts)])

    def add_preset(self, name: str, **values: Any) -> list[ConfigIssue]:
        """A new [presets.<name>] with the given keys (each validated)."""
        if (problem := self._new_preset_name(name)):
            return [self._issue(("presets", name), problem)]
        checked = {}
        for key, value in values.items():
            spec = PRESET_INDEX.get(key)
            if spec is None:
                return [self._issue(("presets", name, key), "no such preset key")]
            if value is None:
                continue
            checked[key], problem = spec.check(value)
            if problem:
                return [self._issue(("presets", name, key), problem)]
        return self._edit([("materialize",), ("add", ("presets", name), _plain(checked))])

    def duplicate_preset(self, src: str, new: str) -> list[ConfigIssue]:
        if src not in self.config.presets:
            return [self._issue(("presets", src), "no such preset")]
        if (problem := self._new_preset_name(new)):
            return [self._issue(("presets", new), problem)]
        source = _get(self._data, ("presets", src))
        values = source if source is not _MISSING else self.config.presets[src].values()
        return self._edit([("materialize",), ("add", ("presets", new), _plain(values))])

    def rename_preset(self, old: str, new: str) -> list[ConfigIssue]:
        """Rename, and point chat.default_preset and models.*.preset at the new name."""
        if old not in self.config.presets:
            return [self._issue(("presets", old), "no such preset")]
        if (problem := self._new_preset_name(new)):
            return [self._issue(("presets", new), problem)]
        ops: list[tuple[Any, ...]] = [("materialize",), ("rename", ("presets", old), new)]
        if _get(self._data, ("chat", "default_preset")) == old or self.config.chat.default_preset == old:
            ops.append(("set", ("chat", "default_preset"), new))
        models = _get(self._data, ("models",))
        for model, raw in models.items() if isinstance(models, Mapping) else ():
            if isinstance(raw, Mapping) and raw.get("preset") == old:
                ops.append(("set", ("models", model, "preset"), new))
        return self._edit(ops)

    def _new_preset_name(self, name: str) -> str | None:
        if not isinstance(name, str) or not _PRESET_NAME.fullmatch(name):
            return "a preset name is 1–64 letters, digits, _ or -"
        if name in self.config.presets:
            return f"a preset named {name} already exists"
        return None

    def _preset_in_use(self, name: str) -> str | None:
        if self.config.chat.default_preset == name:
            return "this is chat.default_preset; choose another default first"
        users = [m for m, o in self.config.models.items() if o.preset == name]
        if users:
            return "used by " + ", ".join(f'models."{m}"' for m in users)
        return None

    def _issue(self, parts: KeyPath, message: str) -> ConfigIssue:
        return ConfigIssue(format_key_path(parts), scan_layout(self.document_text).line_of(parts), message)

    def _edit(self, ops: list[tuple[Any, ...]]) -> list[ConfigIssue]:
        """Apply ops to the document; keep the result only if it parses back to exactly the
        intended data (so a tomlkit quirk can never corrupt the file)."""
        if self._doc is None or self._data is None:
            return [ConfigIssue("", None, "the file has errors that stop editing here; fix them "
                                          "in the raw editor first")]
        doc, data = self._doc, self._data
        before = doc.as_string()
        expected = copy.deepcopy(data)
        try:
            for op in ops:
                doc = self._apply(doc, expected, op)
            text = doc.as_string()
            if tomllib.loads(text) != expected:
                raise ValueError("edit did not round-trip")
        except Exception:  # noqa: BLE001
            self._doc = tomlkit.parse(before)
            return [ConfigIssue(format_key_path(ops[-1][1]) if len(ops[-1]) > 1 else "", None,
                                "this part of the file is written in a form that cannot be edited "
                                "here; use the raw editor")]
        parsed = analyse(text)
        self._doc, self._data, self.config, self.issues = parsed.doc, parsed.data, parsed.config, parsed.issues
        return []

    def _apply(self, doc: Any, expected: dict[str, Any], op: tuple[Any, ...]) -> Any:
        kind = op[0]
        if kind == "materialize":  # turn the built-in presets into tables before editing them
            if "presets" in expected:
                return doc
            for name, preset in self.config.presets.items():
                doc = self._apply(doc, expected, ("add", ("presets", name), _plain(preset.values())))
            return doc
        parts: KeyPath = op[1]
        if kind == "set":
            value = op[2]
            parent, key = parts[:-1], parts[-1]
            holder = _get(expected, parent)
            if holder is _MISSING:
                # Create the first missing table with everything under it.
                n = next(i for i in range(1, len(parent) + 1) if _get(expected, parent[:i]) is _MISSING)
                doc = self._apply(doc, expected, ("add", parent[:n], _nest(parts[n:], value)))
                return doc
            if not isinstance(holder, Mapping):
                raise ValueError("not a table")
            container = doc
            for part in parent:
                container = container[part]
            if key in container:
                container[key] = value
            else:
                _insert_key(container, key, value)
            holder[key] = value
            return doc
        if kind == "add":
            values = op[2]
            text = _add_table_text(doc.as_string(), parts, values)
            if text is None:
                container = doc
                for part in parts[:-1]:
                    container = container[part]
                container[parts[-1]] = values
            else:
                doc = tomlkit.parse(text)
            holder = expected
            for part in parts[:-1]:
                holder = holder.setdefault(part, {})
            holder[parts[-1]] = copy.deepcopy(values)
            return doc
        if kind == "del":
            value = _get(expected, parts)
            text = _delete_table_text(doc.as_string(), parts) if isinstance(value, Mapping) else None
            if text is None:
                container = doc
                for part in parts[:-1]:
                    container = container[part]
                del container[parts[-1]]
            else:
                doc = tomlkit.parse(text)
            del _get(expected, parts[:-1])[parts[-1]]
            return doc
        if kind == "rename":
            new = op[2]
            text = _rename_table_text(doc.as_string(), parts, new)
            if text is None:
                container = doc
                for part in parts[:-1]:
                    container = container[part]
                container._replace(parts[-1], new, container[parts[-1]])
            else:
                doc = tomlkit.parse(text)
            holder = _get(expected, parts[:-1])
            holder[new] = holder.pop(parts[-1])
            return doc
        raise AssertionError(kind)

    # ----------------------------------------------------------------- writing

    def save(self, *, force: bool = False) -> None:
        """Write the edited document. Raises ConfigInvalid if it has errors, ConfigConflict if
        the file changed on disk since it was loaded (unless force)."""
        if self._doc is None:
            raise ConfigInvalid([i for i in self.issues if i.is_error] or
                                [ConfigIssue("", None, "the file could not be read; nothing to save")])
        errors = [i for i in self.issues if i.is_error]
        if errors:
            raise ConfigInvalid(errors)
        if not force and self.changed_on_disk():
            raise ConfigConflict(self.path)
        if not self.dirty and not self.changed_on_disk():
            return
        self._write(self._doc.as_string(), self._data)

    def save_text(self, text: str, *, force: bool = False) -> list[ConfigIssue]:
        """Replace the file with raw text. Returns its issues; written only if none is an error.
        Raises ConfigConflict when the file changed on disk (unless force)."""
        parsed = analyse(text)
        if parsed.data is None or any(i.is_error for i in parsed.issues):
            return parsed.issues
        if not force and self.changed_on_disk():
            raise ConfigConflict(self.path)
        self._write(text, parsed.data, parsed)
        return parsed.issues

    def export_to(self, path: Path | str) -> None:
        """Write the current document (unsaved edits included) to another file."""
        target = Path(path).expanduser()
        mode = 0o600 if _has_headers(self._data) else 0o644
        _atomic_write(target, self.document_text.encode(), mode)

    def import_from(self, path: Path | str, *, force: bool = False) -> list[ConfigIssue]:
        """Replace the config with another file's text, if that text has no errors."""
        raw, problem = _read(Path(path).expanduser())
        if raw is None:
            return [problem] if problem else []
        text, _, problem = _decode(raw)
        if text is None:
            return [problem] if problem else []
        return self.save_text(text, force=force)

    def reset_to_defaults(self) -> None:
        """Replace the file with config.example.toml (the old one stays as <name>.bak)."""
        self._bom = False
        self._write(self._example_text(), None)

    def _write(self, text: str, data: Mapping[str, Any] | None, parsed: Any = None) -> None:
        target = Path(os.path.realpath(self.path))  # keep a dotfiles symlink a symlink
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o600
        parsed = parsed or analyse(text)
        if _has_headers(parsed.data if data is None else data):
            mode &= 0o700
        old, _ = _read(target)
        if old is not None:
            _atomic_write(target.with_name(target.name + ".bak"), old, 0o600)
        raw = ("\ufeff" if self._bom else "").encode() + text.encode()
        _atomic_write(target, raw, mode)
        self._disk = _digest(raw)
        self._adopt(text, parsed)


def backup_path(path: Path | str) -> Path:
    """Where save() keeps the previous version of `path`."""
    target = Path(os.path.realpath(Path(path).expanduser()))
    return target.with_name(target.name + ".bak")


__all__ = [
    "ConfigConflict", "ConfigError", "ConfigInvalid", "ConfigStore", "analyse", "backup_path",
    "parse_key_path", "scan_layout",
]
