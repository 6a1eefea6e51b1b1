"""The config's schema: every key with its type, default, range and help text.

One table (`FIELDS`, `PRESET_FIELDS`, `MODEL_FIELDS`) drives validation, the typed defaults
(config_model.py), the Settings form and the shipped config.example.toml.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from tui.service.hosts import DEFAULT_HOST, parse_host

SUPPORTED_VERSION = 1

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


# --------------------------------------------------------------------------- durations

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


# --------------------------------------------------------------------------- fields

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOML_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
                    list: "an array", dict: "a table"}


def type_name(value: Any) -> str:
    for kind, name in _TOML_TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return "a date/time" if hasattr(value, "isoformat") else type(value).__name__


def _num(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def show_value(value: Any) -> str:
    """A short, quoted rendering of a user's value for an issue message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _num(value)
    if isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
        return shown if len(shown) <= 42 else shown[:40] + "…\""
    return type_name(value)


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
                return None, f"{show_value(value)} is not a whole number"
            if kind == "int" and not -(2**63) <= value < 2**63:  # TOML integers are 64-bit
                return None, f"{show_value(value)} is too large"
            if isinstance(value, float) and not math.isfinite(value):
                return None, f"{show_value(value)} is not a finite number"
            value = float(value) if kind == "float" else value
            if value in self.special:
                return value, None
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                return None, f"{show_value(value)} is out of range {self.describe_range()}"
            return value, None
        if kind == "str":
            if not isinstance(value, str):
                return None, self._wrong_type(value, "a string")
            if self.choices and value not in self.choices:
                return None, f"{show_value(value)} is not {self.describe_range()}"
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
                    return None, f"item {i + 1} is {type_name(item)}, expected a string"
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
        return f"expected {expected}, got {show_value(value) if isinstance(value, str) else type_name(value)}"

    def parse_text(self, text: str) -> Any:
        """Typed value from what a user typed in a form field; ValueError (with a message) if not.

        "" means "unset" (None) for fields without a default (preset keys), else "".
        The result still needs `check` for ranges.
        """
        raw = text.strip()
        kind = self.type
        if raw == "" and self.default is None:
            return None
        if kind == "str":
            return text
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
                raise ValueError(f"{show_value(raw)} is not a whole number") from None
        if kind == "float":
            try:
                return float(raw)
            except ValueError:
                raise ValueError(f"{show_value(raw)} is not a number") from None
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
        return None, f"expected seconds or a duration like \"5m\", got {type_name(value)}"
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"{show_value(value)} is not a finite number"
    if isinstance(value, str):
        try:
            parse_go_duration(value)
        except ValueError:
            if re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value):
                return None, f"{show_value(value)} needs a unit, e.g. \"{value.strip()}s\" (or write the number without quotes)"
            return None, f"{show_value(value)} is not a duration (units ns us ms s m h, e.g. \"5m\", \"1h30m\", \"-1m\")"
    return value, None


def check_header(name: Any, value: Any) -> str | None:
    """Why a [server.headers] entry is unusable, or None. The value is never quoted back."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        return f"{show_value(name)} is not a valid HTTP header name"
    if not isinstance(value, str):
        return f"header {name}: expected a string, got {type_name(value)}"
    if any(c in value for c in "\r\n\0"):
        return f"header {name}: line breaks and NUL are not allowed in a header value"
    return None


def _host_check(value: str) -> str | None:
    try:
        parse_host(value)
    except ValueError as exc:  # its message quotes the value, which may hold a password: drop that
        reason = str(exc).removeprefix(f"invalid host {value!r}").lstrip(": ")
        return f"not a usable server URL{': ' + reason if reason else ''}"
    return None


def _url_check(value: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    return None


def _urls_check(values: tuple[str, ...]) -> str | None:
    return next((f"{problem}: {i + 1}. entry" for i, v in enumerate(values) if (problem := _url_check(v))), None)


_PCT = dict(min=1, max=100, unit="%")

FIELDS: dict[str, tuple[Field, ...]] = {
    "server": (
        Field("host", "str", DEFAULT_HOST, validate=_host_check,
              help="URL of the Ollama server. $OLLAMA_HOST and --host override it."),
        Field("connect_timeout", "float", 3.0, 0.5, 60, unit="s",
              help="Seconds to wait for a connection before calling the server unreachable."),
        Field("request_timeout", "float", 30.0, 1, 3600, unit="s",
              help="Seconds to wait for a reply (or between streamed chunks) before giving up."),
        Field("pull_stall_timeout", "float", 60.0, 1, 3600, unit="s",
              help="Seconds a model download may go without receiving any data before it is "
                   "given up as a dead connection; pulling again resumes it."),
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
        Field("think", "bool", True,
              help="Let thinking models think (shown folded). Ignored for models that cannot."),
        Field("max_tool_rounds", "int", 8, 1, 50,
              help="Rounds of tool calls one turn may make (the model calls, gets the results, "
                   "may call again); the request after the last round offers no tools, so the model "
                   "answers with what it has."),
        Field("tool_timeout", "float", 30.0, 1, 3600, unit="s",
              help="Seconds a tool call ([mcp.servers]) may take before it is given up; the model "
                   "is told it timed out."),
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
        Field("prometheus", "str", "", validate=lambda v: _url_check(v) if v else None,
              help="A Prometheus server to ask for the [hosts] GPUs (with each host's "
                   "prometheus_labels), instead of or besides their exporters. \"\" = none."),
    ),
    "ui": (
        Field("theme", "str", "ollama-dark", help="Theme name (shipped or from the themes folder)."),
        Field("resource_strip", "bool", True,
              help="Show the one-line CPU/RAM/GPU strip at the bottom of every pane."),
        Field("log_level", "str", "warning", choices=("debug", "info", "warning", "error"),
              help="How much the log file ($XDG_STATE_HOME/ollama-tui/ollama-tui.log) records. "
                   "--log-level overrides it."),
    ),
}

SECTION_HELP: dict[str, str] = {
    "server": "Where the Ollama server is and how to talk to it.",
    "chat": "Chat defaults.",
    "presets": "Named sets of generation options; every key optional (unset = the model's default).",
    "models": "Per-model overrides, keyed by model name.",
    "pulls": "Model downloads.",
    "monitor": "The Monitor pane and the resource strip.",
    "ui": "Looks, and the log file.",
    "keys": "Keys: an action name (listed in the help screen, ?) = a key in Textual's notation.",
}

# Keys of the config that were read once and are no longer: each is reported (a warning with its
# line) with what replaced it, instead of as an unknown key.
OBSOLETE_KEYS: dict[KeyPath, str] = {
    ("chat", "newline_key"): "obsolete: keys are set in [keys] now (prompt_newline; Ctrl+J, Alt+Enter "
                             "and Shift+Enter insert a newline unless you rebind it there); this line "
                             "is ignored: delete it",
}

# [keys]: action name = key(s). Which actions exist and which keys are valid is the UI's to say
# (tui/ui/keymap.py checks both); the config only holds the strings.
KEYS_FIELD_HELP = ("Key for this action in Textual's notation: \"ctrl+w\", \"f2\", \"shift+tab\", "
                   "\"question_mark\"; several separated by commas (\"f1,alt+1\"). Its default keys "
                   "then no longer apply.")

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

# Keys of [hosts.<name>]: one model server of the fleet (and its exporters).
HOST_KINDS = ("ollama", "openai")
HOST_FIELDS: tuple[Field, ...] = (
    Field("url", "str", None, validate=_host_check,
          help="The server: host, host:port or http(s)://… (OpenAI-compatible: with or without /v1)."),
    Field("kind", "str", None, choices=HOST_KINDS,
          help="\"ollama\" or \"openai\" (vLLM, llama-server, LM Studio, hosted APIs). Default: \"ollama\"."),
    Field("api_key", "str", None, secret=True, help="API key sent as a bearer token (openai hosts). Never shown."),
    Field("api_key_env", "str", None, help="Name of an environment variable holding the API key instead."),
    Field("metrics", "str_list", None, validate=_urls_check,
          help="Prometheus text endpoints of that box: dcgm-exporter, node_exporter, the engine's /metrics."),
    Field("prometheus_labels", "str_table", None,
          help="Label matchers picking this box's series on [monitor] prometheus, e.g. {Hostname = \"gpu1\"}."),
    Field("headers", "str_table", None, secret=True, help="HTTP headers sent to that server. Never shown."),
)

# Keys of [mcp.servers.<name>]: one MCP server whose tools the chat offers to models that can
# call tools. Either `command` (+ `args`, `env`: started over stdio) or `url` (streamable HTTP).
MCP_SERVER_FIELDS: tuple[Field, ...] = (
    Field("command", "str", None, help="Program that runs the server over stdio, e.g. \"npx\"."),
    Field("args", "str_list", None, help="Its arguments."),
    Field("env", "str_table", None, secret=True,
          help="Environment variables for it (on top of a minimal default set). Never shown."),
    Field("url", "str", None, validate=_url_check,
          help="The server's streamable HTTP endpoint instead of a command, e.g. http://localhost:8000/mcp."),
    Field("headers", "str_table", None, secret=True, help="HTTP headers sent to a url server. Never shown."),
    Field("enabled", "bool", True, help="Offer this server's tools (false = keep the table, don't start it)."),
)

VERSION_FIELD = Field("version", "int", SUPPORTED_VERSION, 1,
                      help="Format version of this file; leave it as it is.")

SECTION_INDEX = {s: {f.key: f for f in fs} for s, fs in FIELDS.items()}
PRESET_INDEX = {f.key: f for f in PRESET_FIELDS}
MODEL_INDEX = {f.key: f for f in MODEL_FIELDS}
HOST_INDEX = {f.key: f for f in HOST_FIELDS}
MCP_SERVER_INDEX = {f.key: f for f in MCP_SERVER_FIELDS}


def field_for(parts: KeyPath) -> Field | None:
    """The Field governing a key path, e.g. ("presets", "fast", "top_k"); None if none does."""
    match parts:
        case ("version",):
            return VERSION_FIELD
        case ("server", "headers", name):
            return Field(name, "str", "", help="HTTP header value.", secret=True,
                         validate=lambda value: check_header(name, value))
        case ("keys", name):
            return Field(name, "str", "", help=KEYS_FIELD_HELP)
        case (section, key) if section in SECTION_INDEX:
            return SECTION_INDEX[section].get(key)
        case ("presets", _name, key):
            return PRESET_INDEX.get(key)
        case ("models", _name, "options", key):
            return PRESET_INDEX.get(key)
        case ("models", _name, key):
            return MODEL_INDEX.get(key)
        case ("hosts", _name, "headers", name):
            return Field(name, "str", "", help="HTTP header value.", secret=True,
                         validate=lambda value: check_header(name, value))
        case ("hosts", _name, key):
            return HOST_INDEX.get(key)
        case ("mcp", "servers", _name, "headers", name):
            return Field(name, "str", "", help="HTTP header value.", secret=True,
                         validate=lambda value: check_header(name, value))
        case ("mcp", "servers", _name, "env", name):
            return Field(name, "str", "", help="Environment variable value.", secret=True)
        case ("mcp", "servers", _name, key):
            return MCP_SERVER_INDEX.get(key)
    return None
