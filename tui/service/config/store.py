"""ConfigStore: load the TOML config without ever failing, edit it keeping every comment, save it
atomically with a backup and a check for changes made behind our back."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit

from tui.service import paths
from tui.service.config.model import Config
from tui.service.config.schema import (
    PRESET_INDEX,
    SUPPORTED_VERSION,
    ConfigIssue,
    KeyPath,
    field_for,
    format_key_path,
)
from tui.service.config.toml_edit import (
    MISSING,
    Parsed,
    add_table_text,
    analyse,
    decode_config_bytes,
    delete_table_text,
    get_in,
    insert_key,
    nest,
    parse_key_path,
    plain,
    pruned,
    rename_table_text,
    scan_layout,
)
from tui.service.files import atomic_write

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """Base class of what ConfigStore.save and friends raise."""


class ConfigConflict(ConfigError):
    """The file changed on disk since it was loaded; save(force=True) overwrites it."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} was changed by another program since it was loaded")
        self.path = path


class ConfigWriteError(ConfigError):
    """The file could not be written (read-only folder, disk full…); the old file is untouched."""


class ConfigInvalid(ConfigError):
    """Refused to write: the document has errors (each in `issues`)."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = list(issues)
        first = str(self.issues[0]) if self.issues else "invalid config"
        more = f" (and {len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(first + more)


MAX_CONFIG_BYTES = 1 << 20


def _read(path: Path) -> tuple[bytes | None, ConfigIssue | None]:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            return None, ConfigIssue("", None, f"{path} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            return None, ConfigIssue("", None, f"{path} is not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            return None, ConfigIssue("", None, f"{path} is too large to be a config file")
        return path.read_bytes(), None
    except FileNotFoundError:
        return None, ConfigIssue("", None, f"{path} does not exist")
    except OSError as exc:
        return None, ConfigIssue("", None, f"cannot read {path}: {exc.strerror or exc}")


def _digest(raw: bytes | None) -> str | None:
    return None if raw is None else hashlib.sha256(raw).hexdigest()


def _has_headers(data: Mapping[str, Any] | None) -> bool:
    """Whether the config holds a secret ([server.headers], a host's headers or api_key): the
    file is then written 0600."""
    from tui.service.config.secrets import _slots

    return any(owner[key] for _where, owner, key in _slots(data or {}))


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file in the same folder and os.replace: readers see old or new, never half."""
    try:
        atomic_write(path, data, mode)
    except OSError as exc:
        raise ConfigWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc


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
        #: The config as loaded or last saved (what the app uses), unsaved edits not included.
        self.saved = self.config
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
        text, self._bom, problem = decode_config_bytes(raw)
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

    def _adopt(self, text: str, parsed: Parsed | None) -> None:
        parsed = parsed or analyse(text)
        self.text, self.config, self.issues = text, parsed.config, parsed.issues
        self._doc, self._data = parsed.doc, parsed.data
        self.saved = self.config

    def _broken(self, text: str, issues: list[ConfigIssue]) -> None:
        self.text, self.config, self.issues = text, Config(), issues
        self._doc = self._data = None
        self.saved = self.config

    def _create(self) -> list[ConfigIssue]:
        text = self._example_text().encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self.path, text, 0o600, exclusive=True)  # never over a file that appeared meanwhile
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
        if spec is None:
            return [self._issue(parts, "no such setting")]
        checked, problem = spec.check(value)
        if problem:
            return [self._issue(parts, problem)]
        names_a_preset = parts == ("chat", "default_preset") or (parts[0] == "models" and parts[2:] == ("preset",))
        if names_a_preset and checked not in self.config.presets:
            return [self._issue(parts, f"no preset named {json.dumps(checked)}")]
        ops = [("materialize",)] if parts[0] == "presets" else []
        return self._edit([*ops, ("set", parts, plain(checked))])

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
        if self._data is not None and get_in(self._data, parts) is MISSING:
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
        return self._edit([("materialize",), ("add", ("presets", name), plain(checked))])

    def duplicate_preset(self, src: str, new: str) -> list[ConfigIssue]:
        if src not in self.config.presets:
            return [self._issue(("presets", src), "no such preset")]
        if (problem := self._new_preset_name(new)):
            return [self._issue(("presets", new), problem)]
        source = get_in(self._data, ("presets", src))
        values = source if source is not MISSING else self.config.presets[src].values()
        return self._edit([("materialize",), ("add", ("presets", new), plain(values))])

    def rename_preset(self, old: str, new: str) -> list[ConfigIssue]:
        """Rename, and point chat.default_preset and models.*.preset at the new name."""
        if old not in self.config.presets:
            return [self._issue(("presets", old), "no such preset")]
        if (problem := self._new_preset_name(new)):
            return [self._issue(("presets", new), problem)]
        ops: list[tuple[Any, ...]] = [("materialize",), ("rename", ("presets", old), new)]
        if self.config.chat.default_preset == old:
            ops.append(("set", ("chat", "default_preset"), new))
        models = get_in(self._data, ("models",))
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
            if "\r\n" in before and "\n" not in before.replace("\r\n", ""):  # keep a CRLF file CRLF
                text = text.replace("\r\n", "\n").replace("\n", "\r\n")
                doc = tomlkit.parse(text)
            if pruned(tomllib.loads(text)) != pruned(expected):
                raise ValueError("edit did not round-trip")
        except Exception:  # noqa: BLE001 — whatever went wrong, the document must stay intact
            log.warning("config edit refused: %s", [(op[0], *op[1:2]) for op in ops], exc_info=True)
            self._doc = tomlkit.parse(before)
            return [ConfigIssue(format_key_path(ops[-1][1]) if len(ops[-1]) > 1 else "", None,
                                "this part of the file is written in a form that cannot be edited "
                                "here; use the raw editor")]
        parsed = analyse(text, doc)
        self._doc, self._data, self.config, self.issues = parsed.doc, parsed.data, parsed.config, parsed.issues
        return []

    def _apply(self, doc: Any, expected: dict[str, Any], op: tuple[Any, ...]) -> Any:
        kind = op[0]
        if kind == "materialize":  # turn the built-in presets into tables before editing them
            if "presets" in expected:
                return doc
            for name, preset in self.config.presets.items():
                doc = self._apply(doc, expected, ("add", ("presets", name), plain(preset.values())))
            return doc
        parts: KeyPath = op[1]
        if kind == "set":
            value = op[2]
            parent, key = parts[:-1], parts[-1]
            holder = get_in(expected, parent)
            if holder is MISSING:
                # Create the first missing table with everything under it.
                n = next(i for i in range(1, len(parent) + 1) if get_in(expected, parent[:i]) is MISSING)
                doc = self._apply(doc, expected, ("add", parent[:n], nest(parts[n:], value)))
                return doc
            if not isinstance(holder, Mapping):
                raise ValueError("not a table")
            container = _container(doc, parent)
            if key in container:
                container[key] = value
            else:
                insert_key(container, key, value)
            holder[key] = value
            return doc
        if kind == "add":
            values = op[2]
            text = add_table_text(doc.as_string(), parts, values)
            if text is None:
                _container(doc, parts[:-1])[parts[-1]] = values
            else:
                doc = tomlkit.parse(text)
            holder = expected
            for part in parts[:-1]:
                holder = holder.setdefault(part, {})
            holder[parts[-1]] = copy.deepcopy(values)
            return doc
        if kind == "del":
            value = get_in(expected, parts)
            text = delete_table_text(doc.as_string(), parts) if isinstance(value, Mapping) else None
            if text is None:
                del _container(doc, parts[:-1])[parts[-1]]
            else:
                doc = tomlkit.parse(text)
            del get_in(expected, parts[:-1])[parts[-1]]
            return doc
        if kind == "rename":
            new = op[2]
            text = rename_table_text(doc.as_string(), parts, new)
            if text is None:
                container = _container(doc, parts[:-1])
                container._replace(parts[-1], new, container[parts[-1]])
            else:
                doc = tomlkit.parse(text)
            holder = get_in(expected, parts[:-1])
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
        newer = self._newer_version()
        if newer is not None:
            raise ConfigInvalid([ConfigIssue(
                "version", None, f"the file is format version {newer}, written by a newer ollama-tui; "
                f"this version (format {SUPPORTED_VERSION}) does not write to it, so nothing it does "
                "not know is lost")])
        changed = self.changed_on_disk()
        if changed and not force:
            raise ConfigConflict(self.path)
        if changed or self.dirty:
            text = self._doc.as_string()
            self._write(text, analyse(text, self._doc))

    def _newer_version(self) -> int | None:
        """The file's format version when it is newer than this app reads (else None)."""
        version = (self._data or {}).get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > SUPPORTED_VERSION:
            return version
        return None

    def save_text(self, text: str, *, force: bool = False) -> list[ConfigIssue]:
        """Replace the file with raw text. Returns its issues; written only if none is an error.
        Raises ConfigConflict when the file changed on disk (unless force)."""
        parsed = analyse(text)
        if parsed.data is None or any(i.is_error for i in parsed.issues):
            return parsed.issues
        if not force and self.changed_on_disk():
            raise ConfigConflict(self.path)
        self._write(text, parsed)
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
        text, _, problem = decode_config_bytes(raw)
        if text is None:
            return [problem] if problem else []
        return self.save_text(text, force=force)

    def reset_to_defaults(self) -> None:
        """Replace the file with config.example.toml (the old one stays as <name>.bak)."""
        self._bom = False
        text = self._example_text()
        self._write(text, analyse(text))

    def _write(self, text: str, parsed: Parsed) -> None:
        """Back up what is on disk now, then replace it atomically, keeping its mode (private
        when the new text holds headers)."""
        target = Path(os.path.realpath(self.path))  # keep a dotfiles symlink a symlink
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ConfigWriteError(f"cannot create {target.parent}: {exc.strerror or exc}") from exc
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o600
        if _has_headers(parsed.data):
            mode &= 0o700
        old, _ = _read(target)
        if old is not None:
            _atomic_write(backup_path(target), old, 0o600)
        raw = ("\ufeff" if self._bom else "").encode() + text.encode()
        _atomic_write(target, raw, mode)
        self._disk = _digest(raw)
        self._adopt(text, parsed)


def _container(doc: Any, parts: KeyPath) -> Any:
    for part in parts:
        doc = doc[part]
    return doc


def backup_path(path: Path | str) -> Path:
    """Where save() keeps the previous version of `path`."""
    target = Path(os.path.realpath(Path(path).expanduser()))
    return target.with_name(target.name + ".bak")


__all__ = ["ConfigConflict", "ConfigError", "ConfigInvalid", "ConfigStore", "ConfigWriteError", "backup_path"]
