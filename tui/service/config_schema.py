"""The config's schema — every key with its type, default, range and help — and the typed Config.

One table (`FIELDS`, `PRESET_FIELDS`, `MODEL_FIELDS`) drives validation, the defaults, the
Settings form and the shipped `config.example.toml` (see `render_example_config`).
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import textwrap
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Any, Literal

SUPPORTED_VERSION = 1
DEFAULT_HOST = "http://127.0.0.1:11434"

# Field.type values. "duration" is Ollama's keep_alive: a number of seconds or a Go duration
# string; "str_list" is an array of strings; "str_table" a table of string → string.
FieldType = Literal["str", "int", "float", "bool", "duration", "str_list", "str_table"]
Severity = Literal["error", "warning"]
KeyPath = tuple[str, ...]


# --------------------------------------------------------------------------- issues and keys

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_key_path(parts: KeyPath | list[str]) -> str:
    """`("models", "llama3.2", "keep_alive")` → `models."llama3.2".keep_alive` (TOML quoting)."""
    return ".".join(p if _BARE_KEY.fullmatch(p) else json.dumps(p, ensure_ascii=False) for p in parts)


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file. `key` is the dotted key path ("" = the whole file)."""

    key: str
    line: int | None
    message: str
    column: int | None = None
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = ""
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        head = ": ".join(part for part in (where, self.key) if part)
        return f"{head}: {self.message}" if head else self.message


# --------------------------------------------------------------------------- durations, hosts

_DURATION_UNITS = {
    "ns": Fraction(1, 10**9),
    "us": Fraction(1, 10**6),
    "\u00b5s": Fraction(1, 10**6),  # micro sign
    "\u03bcs": Fraction(1, 10**6),  # Greek mu
    "ms": Fraction(1, 1000),
    "s": Fraction(1),
    "m": Fraction(60),
    "h": Fraction(3600),
}
_MAX_DURATION_S = Fraction(2**63 - 1, 10**9)


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string ("5m", "1h30m", "-1m", ".5s", "0"), as Go parses it.

    Raises ValueError on anything Go's `time.ParseDuration` rejects — a bare number other than
    "0" included (Ollama answers "300" with a 400).
    """
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError("empty duration")
    total = Fraction(0)
    while s:
        i = 0
        while i < len(s) and "0" <= s[i] <= "9":
            i += 1
        whole, s = s[:i], s[i:]
        frac = ""
        if s[:1] == ".":
            i = 1
            while i < len(s) and "0" <= s[i] <= "9":
                i += 1
            frac, s = s[1:i], s[i:]
        if not whole and not frac:
            raise ValueError("expected a number")
        i = 0
        while i < len(s) and s[i] != "." and not ("0" <= s[i] <= "9"):
            i += 1
        unit, s = s[:i], s[i:]
        if not unit:
            raise ValueError("missing unit")
        if unit not in _DURATION_UNITS:
            raise ValueError(f"unknown unit {unit!r}")
        value = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
        total += value * _DURATION_UNITS[unit]
        if total > _MAX_DURATION_S + Fraction(1, 10**9):
            raise ValueError("duration too long")
    return float(sign * total)


def normalize_host(raw: str) -> str:
    """The URL a client should use for an OLLAMA_HOST-style value (rules in ollama-api.md).

    Like the official client: no scheme → http and port 11434; `http://h` → port 80, `https://h`
    → 443; `:PORT` → 127.0.0.1; a path is kept. Unlike it: spaces and quotes are trimmed, and the
    listen-everywhere addresses 0.0.0.0 / [::] become loopback. Raises ValueError when unusable.
    """
    s = raw.strip().strip("\"'").strip()
    if not s:
        return DEFAULT_HOST
    port = 11434
    scheme, sep, hostport = s.partition("://")
    if not sep:
        scheme, hostport = "http", s
    else:
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported scheme {scheme!r} (use http or https)")
        port = 80 if scheme == "http" else 443
    if any(c.isspace() for c in hostport):
        raise ValueError("spaces are not allowed in a host")
    split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
    host = split.hostname or "127.0.0.1"
    port = split.port or port  # .port raises ValueError for a bad port
    if host == "0.0.0.0":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        if isinstance(address, ipaddress.IPv6Address):
            host = "[::1]" if address.is_unspecified else f"[{host}]"
    path = split.path.strip("/")
    return f"{scheme}://{host}:{port}/{path}" if path else f"{scheme}://{host}:{port}"


def resolve_host(config_host: str, *, flag: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The server URL to use: `--host` flag > `$OLLAMA_HOST` > the config value, normalised."""
    env = os.environ if environ is None else environ
    for candidate in (flag, env.get("OLLAMA_HOST"), config_host):
        if candidate and candidate.strip():
            return normalize_host(candidate)
    return DEFAULT_HOST


# --------------------------------------------------------------------------- fields

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOML_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
                    list: "an array", dict: "a table"}


def _type_name(value: Any) -> str:
    for kind, name in _TOML_TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return "a date/time" if hasattr(value, "isoformat") else type(value).__name__


def _num(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    """A short, quoted rendering of a user's value for an issue message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _num(value)
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 42 else shown[:40] + "…\""
    return _type_name(value)


@dataclass(frozen=True)
class Field:
    """One config key: what the loader checks, the example documents and the Settings form shows.

    `type` is one of FieldType. `min`/`max` bound numbers (inclusive, None = open); `special`
    lists values allowed outside them (num_predict's -1); `choices` restricts strings. Preset
    fields have default None: "not set, Ollama's own default applies".
    """

    key: str
    type: FieldType
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""
    unit: str = ""
    special: tuple[Any, ...] = ()
    secret: bool = False
    validate: Callable[[Any], str | None] | None = field(default=None, compare=False, repr=False)

    def describe_range(self) -> str:
        """"0–2", "-1 or 1–131072", "one of: a, b", "at least -1"; "" when unbounded."""
        if self.choices:
            return "one of: " + ", ".join(json.dumps(c) for c in self.choices)
        if self.min is None and self.max is None:
            return ""
        if self.max is None:
            span = f"at least {_num(self.min)}"
        elif self.min is None:
            span = f"at most {_num(self.max)}"
        else:
            span = f"{_num(self.min)}–{_num(self.max)}"
        return " or ".join([*(_num(s) for s in self.special), span])

    def check(self, value: Any) -> tuple[Any, str | None]:
        """(the value as Config holds it, None) or (None, why it is invalid). Never leaks secrets."""
        kind = self.type
        if kind == "bool":
            return (value, None) if isinstance(value, bool) else (None, self._wrong_type(value, "a boolean (true or false)"))
        if kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None, self._wrong_type(value, "an integer" if kind == "int" else "a number")
            if kind == "int" and isinstance(value, float):
                return None, f"{_show(value)} is not a whole number"
            if isinstance(value, float) and not math.isfinite(value):
                return None, f"{_show(value)} is not a finite number"
            value = float(value) if kind == "float" else value
            if value in self.special:
                return value, None
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                return None, f"{_show(value)} is out of range {self.describe_range()}"
            return value, None
        if kind == "str":
            if not isinstance(value, str):
                return None, self._wrong_type(value, "a string")
            if self.choices and value not in self.choices:
                return None, f"{_show(value)} is not {self.describe_range()}"
            if self.validate and (problem := self.validate(value)):
                return None, problem
            return value, None
        if kind == "duration":
            return check_keep_alive(value)
        if kind == "str_list":
            if not isinstance(value, list | tuple):
                return None, self._wrong_type(value, "an array of strings")
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    return None, f"item {i + 1} is {_type_name(item)}, expected a string"
            return tuple(value), None
        if kind == "str_table":
            if not isinstance(value, Mapping):
                return None, self._wrong_type(value, "a table of strings")
            out: dict[str, str] = {}
            for name, item in value.items():
                problem = check_header(name, item)
                if problem:
                    return None, problem
                out[name] = item
            return out, None
        raise AssertionError(f"unknown field type {kind!r}")  # a schema bug, not user input

    def _wrong_type(self, value: Any, expected: str) -> str:
        if self.secret:
            return f"expected {expected}"
        return f"expected {expected}, got {_show(value) if isinstance(value, str) else _type_name(value)}"

    def parse_text(self, text: str) -> Any:
        """Typed value from what a user typed in a form field; ValueError (with a message) if not.

        "" means "unset" (None) for fields without a default (preset keys), else "".
        The result still needs `check` for ranges.
        """
        raw = text.strip()
        kind = self.type
        if kind == "str":
            return text
        if raw == "" and self.default is None:
            return None
        if kind == "bool":
            if raw.lower() in ("true", "yes", "on", "1"):
                return True
            if raw.lower() in ("false", "no", "off", "0"):
                return False
            raise ValueError("expected true or false")
        if kind == "int":
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{_show(raw)} is not a whole number") from None
        if kind == "float":
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"{_show(raw)} is not a number") from None
        if kind == "duration":
            try:
                return int(raw)
            except ValueError:
                pass
            try:
                return float(raw)
            except ValueError:
                return raw
        if kind == "str_list":
            # Comma separated; a JSON array for values that contain commas.
            if raw.startswith("["):
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a valid list: {exc.msg}") from None
                return value
            return [part.strip() for part in raw.split(",") if part.strip()]
        raise ValueError("edit this setting in the raw editor")

    def format_value(self, value: Any) -> str:
        """The inverse of parse_text, for filling a form field."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _num(value)
        if isinstance(value, list | tuple):
            return ", ".join(value) if all("," not in v for v in value) else json.dumps(list(value))
        return str(value)


def check_keep_alive(value: Any) -> tuple[Any, str | None]:
    """Ollama's keep_alive: seconds (number; negative = forever) or a Go duration string."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, f"expected seconds or a duration like \"5m\", got {_type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"{_show(value)} is not a finite number"
    if isinstance(value, str):
        try:
            parse_go_duration(value)
        except ValueError:
            if re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value):
                return None, f"{_show(value)} needs a unit, e.g. \"{value.strip()}s\" (or write the number without quotes)"
            return None, f"{_show(value)} is not a duration (units ns us ms s m h, e.g. \"5m\", \"1h30m\", \"-1m\")"
    return value, None


def check_header(name: Any, value: Any) -> str | None:
    """Why a [server.headers] entry is unusable, or None. The value is never quoted back."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        return f"{_show(name)} is not a valid HTTP header name"
    if not isinstance(value, str):
        return f"header {name}: expected a string, got {_type_name(value)}"
    if any(c in value for c in "\r\n\0"):
        return f"header {name}: line breaks and NUL are not allowed in a header value"
    return None


def _host_check(value: str) -> str | None:
    try:
        normalize_host(value)
    except ValueError as exc:
        return f"{_show(value)} is not a usable server URL: {exc}"
    return None


_PCT = dict(min=1, max=100, unit="%")

FIELDS: dict[str, tuple[Field, ...]] = {
    "server": (
        Field("host", "str", DEFAULT_HOST, validate=_host_check,
              help="URL of the Ollama server. $OLLAMA_HOST and --host override it."),
        Field("connect_timeout", "float", 3.0, 0.5, 60, unit="s",
              help="Seconds to wait for a connection before calling the server unreachable."),
        Field("request_timeout", "float", 30.0, 1, 3600, unit="s",
              help="Seconds to wait for a reply (or between streamed chunks) before giving up."),
        Field("retries", "int", 2, 0, 10,
              help="Times to retry a failed connection before reporting it."),
        Field("auto_start", "bool", False,
              help="Start `ollama serve` when no server answers on a local host."),
        Field("keep_alive", "duration", "5m",
              help="How long a model stays loaded after a request: seconds (negative = forever, "
                   "0 = unload now) or a duration string with units ns us ms s m h, e.g. \"5m\", "
                   "\"1h30m\", \"-1m\". A number in quotes without a unit is invalid."),
        Field("headers", "str_table", {}, secret=True,
              help="Extra HTTP headers sent with every request, e.g. Authorization for a "
                   "reverse proxy. The file is kept private (mode 0600) while it holds any."),
    ),
    "chat": (
        Field("default_model", "str", "llama3.2", help="Model a new chat starts with."),
        Field("fallback_model", "str", "",
              help="Model to offer when the default one is not installed (\"\" = none)."),
        Field("default_preset", "str", "balanced",
              help="Preset a new chat starts with; must name a [presets.<name>] table."),
        Field("system_prompt", "str", "",
              help="System prompt for new chats (\"\" = none, or the model's own)."),
        Field("newline_key", "str", "ctrl+j", choices=("shift+enter", "ctrl+j", "alt+enter"),
              help="Key that inserts a newline in the message box (Enter sends). Many terminals "
                   "cannot tell shift+enter from enter."),
        Field("think", "bool", True,
              help="Let thinking models think (shown folded). Ignored for models that cannot."),
    ),
    "pulls": (
        Field("concurrent", "int", 2, 1, 8, help="Model downloads that may run at once."),
    ),
    "monitor": (
        Field("interval", "float", 1.0, 0.5, 10, unit="s", help="Seconds between samples."),
        Field("window", "int", 300, 30, 3600, unit="s", help="Seconds of history the graphs show."),
        Field("cpu_warn", "float", 90.0, **_PCT, help="CPU use (%) shown as a warning."),
        Field("ram_warn", "float", 90.0, **_PCT, help="RAM use (%) shown as a warning."),
        Field("vram_warn", "float", 90.0, **_PCT, help="GPU memory use (%) shown as a warning."),
        Field("gpu_temp_warn", "float", 85.0, 40, 120, unit="°C",
              help="GPU temperature (°C) shown as a warning."),
        Field("fit_margin", "float", 0.1, 0, 1,
              help="Share of GPU memory kept free when judging whether a model fits."),
    ),
    "ui": (
        Field("theme", "str", "ollama-dark", help="Theme name (shipped or from the themes folder)."),
        Field("resource_strip", "bool", True,
              help="Show the one-line CPU/RAM/GPU strip at the bottom of every pane."),
    ),
}

SECTION_HELP: dict[str, str] = {
    "server": "Where the Ollama server is and how to talk to it.",
    "chat": "Chat defaults.",
    "presets": "Named sets of generation options; every key optional (unset = the model's default).",
    "models": "Per-model overrides, keyed by model name.",
    "pulls": "Model downloads.",
    "monitor": "The Monitor pane and the resource strip.",
    "ui": "Looks.",
}

# Ollama request options a preset may set. `format` and `think` are request fields, not options.
PRESET_FIELDS: tuple[Field, ...] = (
    Field("temperature", "float", None, 0, 2,
          help="Randomness: low = focused and repeatable, high = creative. Ollama's default: 0.8."),
    Field("top_p", "float", None, 0, 1,
          help="Sample only from the most likely tokens covering this probability. Default: 0.9."),
    Field("top_k", "int", None, 1, 100,
          help="Sample only from this many most likely tokens. Default: 40."),
    Field("min_p", "float", None, 0, 1,
          help="Drop tokens less likely than this share of the top token. Default: 0."),
    Field("repeat_penalty", "float", None, 0, 2,
          help="Penalise repeated tokens (1 = off). Default: 1."),
    Field("num_ctx", "int", None, 512, 131072,
          help="Context window in tokens; more uses more memory. Default: by GPU memory."),
    Field("num_predict", "int", None, 1, 131072, special=(-1,),
          help="Most tokens to generate (-1 = until the model stops). Default: -1."),
    Field("seed", "int", None, -1,
          help="Random seed; the same seed and prompt give the same reply (-1 = random)."),
    Field("stop", "str_list", None, help="Strings that end the reply when generated."),
    Field("num_batch", "int", None, 1, 512,
          help="Prompt tokens processed per batch (changing it reloads the model). Default: 512."),
    Field("format", "str", None, choices=("", "json"),
          help="\"json\" forces a JSON reply; \"\" = free text."),
    Field("think", "bool", None, help="Override [chat] think for this preset."),
)
NON_OPTION_KEYS = frozenset({"format", "think"})
OPTION_KEYS: tuple[str, ...] = tuple(f.key for f in PRESET_FIELDS if f.key not in NON_OPTION_KEYS)

# Keys of [models."<name>"]; its [models."<name>".options] table takes PRESET_FIELDS.
MODEL_FIELDS: tuple[Field, ...] = (
    Field("preset", "str", None, help="Preset for this model instead of [chat] default_preset."),
    Field("system_prompt", "str", None, help="System prompt for this model."),
    Field("keep_alive", "duration", None, help="keep_alive for this model (see [server])."),
)

VERSION_FIELD = Field("version", "int", SUPPORTED_VERSION, 1,
                      help="Format version of this file; leave it as it is.")

_SECTION_INDEX = {s: {f.key: f for f in fs} for s, fs in FIELDS.items()}
PRESET_INDEX = {f.key: f for f in PRESET_FIELDS}
MODEL_INDEX = {f.key: f for f in MODEL_FIELDS}


def field_for(parts: KeyPath) -> Field | None:
    """The Field governing a key path, e.g. ("presets", "fast", "top_k"); None if none does."""
    match parts:
        case ("version",):
            return VERSION_FIELD
        case ("server", "headers", _name):
            return Field(_name, "str", "", help="HTTP header value.", secret=True)
        case (section, key) if section in _SECTION_INDEX:
            return _SECTION_INDEX[section].get(key)
        case ("presets", _name, key):
            return PRESET_INDEX.get(key)
        case ("models", _name, "options", key):
            return PRESET_INDEX.get(key)
        case ("models", _name, key):
            return MODEL_INDEX.get(key)
    return None


def _default(section: str, key: str) -> Any:
    return _SECTION_INDEX[section][key].default


# --------------------------------------------------------------------------- typed config


@dataclass(frozen=True)
class ServerConfig:
    host: str = _default("server", "host")
    connect_timeout: float = _default("server", "connect_timeout")
    request_timeout: float = _default("server", "request_timeout")
    retries: int = _default("server", "retries")
    auto_start: bool = _default("server", "auto_start")
    keep_alive: str | int | float = _default("server", "keep_alive")
    headers: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # header values are secrets
        masked = {name: "***" for name in self.headers}
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "headers")
        return f"ServerConfig({shown}, headers={masked!r})"


@dataclass(frozen=True)
class ChatConfig:
    default_model: str = _default("chat", "default_model")
    fallback_model: str = _default("chat", "fallback_model")
    default_preset: str = _default("chat", "default_preset")
    system_prompt: str = _default("chat", "system_prompt")
    newline_key: str = _default("chat", "newline_key")
    think: bool = _default("chat", "think")


@dataclass(frozen=True)
class PullsConfig:
    concurrent: int = _default("pulls", "concurrent")


@dataclass(frozen=True)
class MonitorConfig:
    interval: float = _default("monitor", "interval")
    window: int = _default("monitor", "window")
    cpu_warn: float = _default("monitor", "cpu_warn")
    ram_warn: float = _default("monitor", "ram_warn")
    vram_warn: float = _default("monitor", "vram_warn")
    gpu_temp_warn: float = _default("monitor", "gpu_temp_warn")
    fit_margin: float = _default("monitor", "fit_margin")


@dataclass(frozen=True)
class UIConfig:
    theme: str = _default("ui", "theme")
    resource_strip: bool = _default("ui", "resource_strip")


@dataclass(frozen=True)
class Preset:
    """Generation settings; None = not set (the model's / server's default applies)."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None
    num_ctx: int | None = None
    num_predict: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    num_batch: int | None = None
    format: str | None = None
    think: bool | None = None

    def to_options(self) -> dict[str, Any]:
        """The Ollama `options` object: only the keys that are set (format/think excluded)."""
        options: dict[str, Any] = {}
        for key in OPTION_KEYS:
            value = getattr(self, key)
            if value is not None:
                options[key] = list(value) if key == "stop" else value
        return options

    def values(self) -> dict[str, Any]:
        """Every set key, format/think included (what a [presets.<name>] table holds)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def merged(self, override: Preset) -> Preset:
        """This preset with every key that `override` sets replaced."""
        return replace(self, **override.values())


@dataclass(frozen=True)
class ModelOverride:
    """[models."<name>"]: None = not overridden."""

    preset: str | None = None
    system_prompt: str | None = None
    keep_alive: str | int | float | None = None
    options: Preset = field(default_factory=Preset)


@dataclass(frozen=True)
class ChatSettings:
    """What one chat request to `model` should carry, all layers resolved.

    `think` is the wish; send it only to models with the `thinking` capability (Ollama answers
    400 otherwise). `format` is None for free text.
    """

    model: str
    preset: str
    options: dict[str, Any]
    think: bool
    format: str | None
    system_prompt: str
    keep_alive: str | int | float


DEFAULT_PRESETS: dict[str, Preset] = {
    "fast": Preset(temperature=0.7, top_p=0.9, top_k=40, num_ctx=2048, num_predict=512, think=False),
    "creative": Preset(temperature=1.1, top_p=0.95, top_k=80, min_p=0.05, repeat_penalty=1.1, num_ctx=4096),
    "balanced": Preset(temperature=0.7, top_p=0.9, top_k=40, num_ctx=4096),
    "precise": Preset(temperature=0.2, top_p=0.8, top_k=20, repeat_penalty=1.05, num_ctx=8192),
    "long_form": Preset(temperature=0.8, top_p=0.95, repeat_penalty=1.1, num_ctx=16384, num_predict=-1),
}
PRESET_BLURBS: dict[str, str] = {
    "fast": "Quick answers: small context, short replies, no thinking.",
    "creative": "Brainstorming and fiction: more randomness.",
    "balanced": "Everyday chat.",
    "precise": "Facts, code and extraction: low randomness, bigger context.",
    "long_form": "Long documents and essays: big context, no reply limit.",
}


def model_key(name: str) -> str:
    """A model name as Ollama compares it: lower case, with `:latest` when no tag is given."""
    name = name.strip().lower()
    return name if name.rfind(":") > name.rfind("/") else name + ":latest"


@dataclass(frozen=True)
class Config:
    """The whole typed config. Treat the dicts as read-only."""

    server: ServerConfig = field(default_factory=ServerConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    presets: dict[str, Preset] = field(default_factory=lambda: dict(DEFAULT_PRESETS))
    models: dict[str, ModelOverride] = field(default_factory=dict)
    pulls: PullsConfig = field(default_factory=PullsConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    ui: UIConfig = field(default_factory=UIConfig)

    def preset(self, name: str) -> Preset:
        """The named preset, or an empty one (nothing set) if there is none by that name."""
        return self.presets.get(name, Preset())

    def model_override(self, model: str) -> ModelOverride:
        """[models."<model>"], matching `llama3.2` with `llama3.2:latest`; empty if none."""
        if model in self.models:
            return self.models[model]
        wanted = model_key(model)
        for name, override in self.models.items():
            if model_key(name) == wanted:
                return override
        return ModelOverride()

    def chat_settings(self, model: str, preset: str | None = None) -> ChatSettings:
        """Resolve preset (given > model's > default), options (preset < model options), think,
        format, system prompt and keep_alive for a request to `model`."""
        override = self.model_override(model)
        name = preset or override.preset or self.chat.default_preset
        merged = self.preset(name).merged(override.options)
        think = merged.think if merged.think is not None else self.chat.think
        system = override.system_prompt if override.system_prompt is not None else self.chat.system_prompt
        keep_alive = override.keep_alive if override.keep_alive is not None else self.server.keep_alive
        return ChatSettings(model=model, preset=name, options=merged.to_options(), think=think,
                            format=merged.format or None, system_prompt=system, keep_alive=keep_alive)

    def host(self, *, flag: str | None = None, environ: Mapping[str, str] | None = None) -> str:
        """The normalised server URL: flag > $OLLAMA_HOST > [server] host."""
        return resolve_host(self.server.host, flag=flag, environ=environ)


# --------------------------------------------------------------------------- validation

Locate = Callable[[KeyPath], int | None]
_SECTION_TYPES = {"server": ServerConfig, "chat": ChatConfig, "pulls": PullsConfig,
                  "monitor": MonitorConfig, "ui": UIConfig}
TOP_LEVEL_KEYS = frozenset({"version", *FIELDS, "presets", "models"})


class _Checker:
    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.issues: list[ConfigIssue] = []

    def issue(self, parts: KeyPath, message: str, severity: Severity = "error") -> None:
        self.issues.append(ConfigIssue(format_key_path(parts), self.locate(parts), message, severity=severity))

    def unknown(self, parts: KeyPath) -> None:
        self.issue(parts, "unknown key (kept in the file, not used)", "warning")

    def table(self, data: Mapping[str, Any], parts: KeyPath) -> Mapping[str, Any] | None:
        value = data.get(parts[-1])
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.issue(parts, f"expected a table, got {_type_name(value)}; using defaults")
            return None
        return value

    def values(self, table: Mapping[str, Any], parts: KeyPath, index: Mapping[str, Field]) -> dict[str, Any]:
        """Checked values of known keys; issues for bad and unknown ones."""
        out: dict[str, Any] = {}
        for key, raw in table.items():
            where = (*parts, key)
            spec = index.get(key)
            if spec is None:
                self.unknown(where)
                continue
            value, problem = spec.check(raw)
            if problem:
                self.issue(where, problem + ("" if spec.default is None else "; using the default"))
            else:
                out[key] = value
        return out


def build_config(data: Mapping[str, Any], locate: Locate = lambda parts: None) -> tuple[Config, list[ConfigIssue]]:
    """Typed Config from parsed TOML, with an issue for every bad or unknown key.

    A bad value falls back to its default alone; the rest of the file still applies.
    """
    c = _Checker(locate)
    version = data.get("version", SUPPORTED_VERSION)
    value, problem = VERSION_FIELD.check(version)
    if problem:
        c.issue(("version",), problem)
    elif value > SUPPORTED_VERSION:
        c.issue(("version",), f"file is format version {value}, this ollama-tui reads version "
                              f"{SUPPORTED_VERSION}: keys it does not know are ignored", "warning")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            c.unknown((key,))

    sections: dict[str, Any] = {}
    for section, kind in _SECTION_TYPES.items():
        table = c.table(data, (section,)) or {}
        plain = {k: v for k, v in table.items() if not (section == "server" and k == "headers")}
        values = c.values(plain, (section,), _SECTION_INDEX[section])
        if section == "server" and "headers" in table:
            values["headers"] = _valid_headers(c, table["headers"])
        sections[section] = kind(**values)

    presets = dict(DEFAULT_PRESETS)
    raw_presets = c.table(data, ("presets",))
    if raw_presets is not None:
        presets = {}
        for name, raw in raw_presets.items():
            if not isinstance(raw, Mapping):
                c.issue(("presets", name), f"expected a table, got {_type_name(raw)}; preset ignored")
                continue
            presets[name] = Preset(**c.values(raw, ("presets", name), PRESET_INDEX))

    models: dict[str, ModelOverride] = {}
    for name, raw in (c.table(data, ("models",)) or {}).items():
        if not isinstance(raw, Mapping):
            c.issue(("models", name), f"expected a table, got {_type_name(raw)}; ignored")
            continue
        plain = {k: v for k, v in raw.items() if k != "options"}
        values = c.values(plain, ("models", name), MODEL_INDEX)
        if values.get("preset") is not None and values["preset"] not in presets:
            c.issue(("models", name, "preset"), f"no preset named {_show(values['preset'])}; using the default preset")
            del values["preset"]
        options = c.table(raw, ("models", name, "options"))
        if options is not None:
            values["options"] = Preset(**c.values(options, ("models", name, "options"), PRESET_INDEX))
        models[name] = ModelOverride(**values)

    chat: ChatConfig = sections["chat"]
    if chat.default_preset not in presets:
        where = ("chat", "default_preset")
        if locate(where) is None and raw_presets is not None:
            where = ("presets",)
        c.issue(where, f"no preset named {_show(chat.default_preset)}; using "
                       f"{_show(_fallback_preset(presets)) if presets else 'no preset'}")
        sections["chat"] = replace(chat, default_preset=_fallback_preset(presets))

    config = Config(server=sections["server"], chat=sections["chat"], presets=presets, models=models,
                    pulls=sections["pulls"], monitor=sections["monitor"], ui=sections["ui"])
    return config, c.issues


def _fallback_preset(presets: Mapping[str, Preset]) -> str:
    default = _default("chat", "default_preset")
    return default if default in presets or not presets else next(iter(presets))


def _valid_headers(c: _Checker, raw: Any) -> dict[str, str]:
    """The usable entries of [server.headers]; an issue for each unusable one."""
    if not isinstance(raw, Mapping):
        c.issue(("server", "headers"), f"expected a table of strings, got {_type_name(raw)}; no headers sent")
        return {}
    out = {}
    for name, value in raw.items():
        problem = check_header(name, value)
        if problem:
            c.issue(("server", "headers", str(name)), problem + "; header not sent")
        else:
            out[name] = value
    return out


# --------------------------------------------------------------------------- the example file


def _toml_value(value: Any) -> str:
    import tomlkit

    return tomlkit.item(list(value) if isinstance(value, tuple) else value).as_string()


def _comment(text: str, width: int = 99) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent="# ", subsequent_indent="# ") or ["#"]


def _field_doc(f: Field, with_default: bool = True) -> str:
    parts = [f.help]
    if with_default:
        parts.append(f"Default: {_toml_value(f.default)}.")
    if rng := f.describe_range():
        parts.append(f"Range: {rng}{' ' + f.unit if f.unit and f.unit != '%' else ''}.")
    return " ".join(parts)


def render_example_config() -> str:
    """The text of config.example.toml, generated from the schema (a test keeps them equal)."""
    out = [
        "# ollama-tui configuration.",
        "#",
        *_comment("Created at ~/.config/ollama-tui/config.toml on first run (or $OLLAMA_TUI_CONFIG). "
                  "Edit it here or in the Settings pane, which keeps your comments. Every key is "
                  "optional: a missing key takes its default, an invalid one is reported with its "
                  "line and replaced by its default."),
        "",
        *_comment(_field_doc(VERSION_FIELD, with_default=False)),
        f"version = {SUPPORTED_VERSION}",
    ]
    for section in ("server", "chat"):
        out += ["", f"[{section}]"]
        for f in FIELDS[section]:
            if f.key == "headers":
                continue
            out += [*_comment(_field_doc(f)), f"{f.key} = {_toml_value(f.default)}"]
        if section == "server":
            headers = _SECTION_INDEX["server"]["headers"]
            out += ["", *_comment(f"{headers.help} Default: none."), "[server.headers]",
                    '# Authorization = "Bearer <token>"']
    out += ["", *_comment("Presets: named sets of generation options. Every key is optional; an "
                          "unset key leaves the model's own default. [chat] default_preset names "
                          "the one new chats use. The keys:")]
    width = max(len(f.key) for f in PRESET_FIELDS)
    for f in PRESET_FIELDS:
        rng = f.describe_range()
        out += textwrap.wrap(f"{f.help}{f' Range: {rng}.' if rng else ''}", width=99,
                             initial_indent=f"#   {f.key:<{width}}  ",
                             subsequent_indent="#   " + " " * (width + 2))
    for name, preset in DEFAULT_PRESETS.items():
        out += ["", f"# {PRESET_BLURBS[name]}", f"[presets.{name}]"]
        out += [f"{key} = {_toml_value(value)}" for key, value in preset.values().items()]
    out += ["", *_comment(f"Per-model overrides, one table per model name as `ollama list` shows it "
                          "(quote names with dots or colons). The keys:")]
    for f in MODEL_FIELDS:
        out.append(f"#   {f.key:<13}  {f.help}")
    out += ["#   [models.\"<name>\".options]  any preset key, applied on top of the preset.",
            "#", '# [models."llama3.2"]', '# preset = "precise"', '# keep_alive = "30m"', "#",
            '# [models."llama3.2".options]', "# num_ctx = 8192"]
    for section in ("pulls", "monitor", "ui"):
        out += ["", f"[{section}]"]
        for f in FIELDS[section]:
            out += [*_comment(_field_doc(f)), f"{f.key} = {_toml_value(f.default)}"]
    return "\n".join(out) + "\n"
