"""The typed config (frozen dataclasses), how parsed TOML becomes one, and the example file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tui.service.config.schema import (
    FIELDS,
    HOST_FIELDS,
    HOST_INDEX,
    MCP_SERVER_FIELDS,
    MCP_SERVER_INDEX,
    MODEL_FIELDS,
    MODEL_INDEX,
    OBSOLETE_KEYS,
    OPTION_KEYS,
    PRESET_FIELDS,
    PRESET_INDEX,
    SECTION_INDEX,
    SUPPORTED_VERSION,
    VERSION_FIELD,
    ConfigIssue,
    Field,
    KeyPath,
    Severity,
    check_header,
    format_key_path,
    show_value,
    type_name,
)


def _default(section: str, key: str) -> Any:
    return SECTION_INDEX[section][key].default


# --------------------------------------------------------------------------- typed config


@dataclass(frozen=True)
class ServerConfig:
    host: str = _default("server", "host")
    connect_timeout: float = _default("server", "connect_timeout")
    request_timeout: float = _default("server", "request_timeout")
    pull_stall_timeout: float = _default("server", "pull_stall_timeout")
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
    think: bool = _default("chat", "think")
    max_tool_rounds: int = _default("chat", "max_tool_rounds")
    tool_timeout: float = _default("chat", "tool_timeout")


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
    prometheus: str = _default("monitor", "prometheus")


@dataclass(frozen=True)
class UIConfig:
    theme: str = _default("ui", "theme")
    resource_strip: bool = _default("ui", "resource_strip")
    log_level: str = _default("ui", "log_level")


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
class HostConfig:
    """[hosts.<name>]: one server of the fleet. `api_key` is resolved (from `api_key_env` when
    that names a variable that is set); neither it nor `headers` is ever in a repr."""

    name: str
    url: str
    kind: str = "ollama"
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    metrics: tuple[str, ...] = ()
    prometheus_labels: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class McpServerConfig:
    """[mcp.servers.<name>]: one MCP server, started over stdio (`command`, `args`, `env`) or
    reached at `url` (streamable HTTP, with `headers`). `env` and `headers` are never in a repr."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    enabled: bool = True

    @property
    def where(self) -> str:
        """What the server is, for the Tools view: the command line or the URL (no secrets)."""
        if self.url:
            return self.url
        return " ".join([self.command or "", *self.args]).strip()


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
    hosts: dict[str, HostConfig] = field(default_factory=dict)
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)
    pulls: PullsConfig = field(default_factory=PullsConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    #: [keys]: action name → key(s) as written (which actions and keys exist, the UI checks),
    #: and the line of each (for reporting a conflict there).
    keys: dict[str, str] = field(default_factory=dict)
    key_lines: dict[str, int | None] = field(default_factory=dict, compare=False, repr=False)

    def secret_values(self) -> list[str]:
        """Every secret the config holds ([server.headers], each host's headers and API key): the
        log scrubs them."""
        values = list(self.server.headers.values())
        for host in self.hosts.values():
            values += list(host.headers.values())
            if host.api_key:
                values.append(host.api_key)
        return values

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

    def preset_for(self, model: str, chosen: str | None = None) -> str:
        """The preset a request to `model` uses: `chosen` (a session's explicit pick) > the
        model's [models."<model>"] preset > [chat] default_preset; a name with no such preset
        (deleted since) is passed over."""
        for name in (chosen, self.model_override(model).preset, self.chat.default_preset):
            if name and name in self.presets:
                return name
        return self.chat.default_preset

    def chat_settings(self, model: str, preset: str | None = None) -> ChatSettings:
        """Resolve preset (given > model's > default, see preset_for), options (preset < the
        model's [models."<model>".options]), think, format, system prompt and keep_alive for a
        request to `model`."""
        override = self.model_override(model)
        name = self.preset_for(model, preset)
        merged = self.preset(name).merged(override.options)
        think = merged.think if merged.think is not None else self.chat.think
        system = override.system_prompt if override.system_prompt is not None else self.chat.system_prompt
        keep_alive = override.keep_alive if override.keep_alive is not None else self.server.keep_alive
        return ChatSettings(model=model, preset=name, options=merged.to_options(), think=think,
                            format=merged.format or None, system_prompt=system, keep_alive=keep_alive)


# --------------------------------------------------------------------------- validation

Locate = Callable[[KeyPath], int | None]
_SECTION_TYPES = {"server": ServerConfig, "chat": ChatConfig, "pulls": PullsConfig,
                  "monitor": MonitorConfig, "ui": UIConfig}
TOP_LEVEL_KEYS = frozenset({"version", *FIELDS, "presets", "models", "hosts", "mcp", "keys"})


class _Checker:
    def __init__(self, locate: Locate) -> None:
        self.locate = locate
        self.issues: list[ConfigIssue] = []

    def issue(self, parts: KeyPath, message: str, severity: Severity = "error", *, near: KeyPath = ()) -> None:
        line = self.locate(parts)
        if line is None and near:
            line = self.locate(near)
        self.issues.append(ConfigIssue(format_key_path(parts), line, message, severity=severity))

    def unknown(self, parts: KeyPath) -> None:
        self.issue(parts, "unknown key (kept in the file, not used)", "warning")

    def table(self, data: Mapping[str, Any], parts: KeyPath) -> Mapping[str, Any] | None:
        value = data.get(parts[-1])
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.issue(parts, f"expected a table, got {type_name(value)}; using defaults")
            return None
        return value

    def values(self, table: Mapping[str, Any], parts: KeyPath, index: Mapping[str, Field]) -> dict[str, Any]:
        """Checked values of known keys; issues for bad and unknown ones."""
        out: dict[str, Any] = {}
        for key, raw in table.items():
            where = (*parts, key)
            spec = index.get(key)
            if spec is None:
                if where in OBSOLETE_KEYS:
                    self.issue(where, OBSOLETE_KEYS[where], "warning")
                else:
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
        values = c.values(plain, (section,), SECTION_INDEX[section])
        if section == "server" and "headers" in table:
            values["headers"] = _valid_headers(c, table["headers"])
        sections[section] = kind(**values)

    presets = dict(DEFAULT_PRESETS)
    raw_presets = c.table(data, ("presets",))
    if raw_presets is not None:
        presets = {}
        for name, raw in raw_presets.items():
            if not isinstance(raw, Mapping):
                c.issue(("presets", name), f"expected a table, got {type_name(raw)}; preset ignored")
                continue
            presets[name] = Preset(**c.values(raw, ("presets", name), PRESET_INDEX))

    models: dict[str, ModelOverride] = {}
    for name, raw in (c.table(data, ("models",)) or {}).items():
        if not isinstance(raw, Mapping):
            c.issue(("models", name), f"expected a table, got {type_name(raw)}; ignored")
            continue
        plain = {k: v for k, v in raw.items() if k != "options"}
        values = c.values(plain, ("models", name), MODEL_INDEX)
        if values.get("preset") is not None and values["preset"] not in presets:
            c.issue(("models", name, "preset"), f"no preset named {show_value(values['preset'])}; using the default preset")
            del values["preset"]
        options = c.table(raw, ("models", name, "options"))
        if options is not None:
            values["options"] = Preset(**c.values(options, ("models", name, "options"), PRESET_INDEX))
        models[name] = ModelOverride(**values)

    keys: dict[str, str] = {}
    for name, value in (c.table(data, ("keys",)) or {}).items():
        if isinstance(value, str):
            keys[str(name)] = value
        else:
            c.issue(("keys", name), f"expected a key like \"ctrl+w\", got {type_name(value)}; "
                                    "the default keys apply")
    hosts = _hosts(c, c.table(data, ("hosts",)) or {})
    mcp_servers = _mcp_servers(c, c.table(data, ("mcp",)) or {})

    chat: ChatConfig = sections["chat"]
    if chat.default_preset not in presets:
        c.issue(("chat", "default_preset"), f"no preset named {show_value(chat.default_preset)}; using "
                f"{show_value(_fallback_preset(presets)) if presets else 'no preset'}", near=("presets",))
        sections["chat"] = replace(chat, default_preset=_fallback_preset(presets))

    config = Config(server=sections["server"], chat=sections["chat"], presets=presets, models=models,
                    hosts=hosts, mcp_servers=mcp_servers, pulls=sections["pulls"], monitor=sections["monitor"], ui=sections["ui"],
                    keys=keys, key_lines={name: c.locate(("keys", name)) for name in keys})
    return config, c.issues


def _hosts(c: _Checker, raw_hosts: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, HostConfig]:
    """[hosts.<name>] tables; a host without a usable url is left out (with an issue)."""
    import os

    env = os.environ if environ is None else environ
    hosts: dict[str, HostConfig] = {}
    for name, raw in raw_hosts.items():
        where = ("hosts", name)
        if not isinstance(raw, Mapping):
            c.issue(where, f"expected a table, got {type_name(raw)}; host ignored")
            continue
        plain = {k: v for k, v in raw.items() if k != "headers"}
        values = c.values(plain, where, HOST_INDEX)
        if "headers" in raw:
            values["headers"] = _valid_headers(c, raw["headers"], where)
        if not values.get("url"):
            if "url" not in raw:
                c.issue(where, "no url; host ignored")
            continue
        values = {k: v for k, v in values.items() if v is not None}
        variable = values.get("api_key_env")
        if variable and not values.get("api_key"):
            if env.get(variable):
                values["api_key"] = env[variable]
            else:
                c.issue((*where, "api_key_env"), f"the environment variable {show_value(variable)} is not set; "
                        "no API key sent", "warning")
        hosts[str(name)] = HostConfig(name=str(name), **values)
    return hosts


def _mcp_servers(c: _Checker, mcp: Mapping[str, Any]) -> dict[str, McpServerConfig]:
    """[mcp.servers.<name>] tables; a server with neither a command nor a url (or both) is left
    out (with an issue)."""
    for key in mcp:
        if key != "servers":
            c.unknown(("mcp", key))
    servers: dict[str, McpServerConfig] = {}
    for name, raw in (c.table(mcp, ("mcp", "servers")) or {}).items():
        where = ("mcp", "servers", name)
        if not isinstance(raw, Mapping):
            c.issue(where, f"expected a table, got {type_name(raw)}; server ignored")
            continue
        plain = {k: v for k, v in raw.items() if k not in ("headers", "env")}
        values = c.values(plain, where, MCP_SERVER_INDEX)
        if "headers" in raw:
            values["headers"] = _valid_headers(c, raw["headers"], where)
        if "env" in raw:
            values["env"] = _valid_env(c, raw["env"], where)
        values = {k: v for k, v in values.items() if v is not None}
        if bool(values.get("command")) == bool(values.get("url")):
            if "command" in raw and "url" in raw:
                c.issue(where, "both a command and a url; give one; server ignored")
            elif "command" not in raw and "url" not in raw:
                c.issue(where, "no command or url; server ignored")
            continue
        if "args" in values:
            values["args"] = tuple(values["args"])
        servers[str(name)] = McpServerConfig(name=str(name), **values)
    return servers


def _valid_env(c: _Checker, raw: Any, where: KeyPath) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        c.issue((*where, "env"), f"expected a table of strings, got {type_name(raw)}; no variables set")
        return {}
    out = {}
    for name, value in raw.items():
        if not isinstance(value, str) or "\0" in value or "\0" in str(name) or "=" in str(name):
            c.issue((*where, "env", str(name)), "expected a string (no NUL; no = in the name); variable not set")
        else:
            out[str(name)] = value
    return out


def _fallback_preset(presets: Mapping[str, Preset]) -> str:
    default = _default("chat", "default_preset")
    return default if default in presets or not presets else next(iter(presets))


def _valid_headers(c: _Checker, raw: Any, where: KeyPath = ("server",)) -> dict[str, str]:
    """The usable entries of a headers table ([server.headers], [hosts.<name>.headers]); an
    issue for each unusable one."""
    if not isinstance(raw, Mapping):
        c.issue((*where, "headers"), f"expected a table of strings, got {type_name(raw)}; no headers sent")
        return {}
    out = {}
    for name, value in raw.items():
        problem = check_header(name, value)
        if problem:
            c.issue((*where, "headers", str(name)), problem + "; header not sent")
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
            headers = SECTION_INDEX["server"]["headers"]
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
    out += ["", *_comment("Per-model overrides, one table per model name as `ollama list` shows it "
                          "(quote names with dots or colons). The keys:")]
    for f in MODEL_FIELDS:
        out.append(f"#   {f.key:<13}  {f.help}")
    out += ["#   [models.\"<name>\".options]  any preset key, applied on top of the preset.",
            "#", '# [models."llama3.2"]', '# preset = "precise"', '# keep_alive = "30m"', "#",
            '# [models."llama3.2".options]', "# num_ctx = 8192"]
    out += ["", *_comment("Several servers, one table each: the Monitor watches every one, the palette "
                          "(Ctrl+P) points the chat at one by name, `--host NAME` starts on one. The keys:")]
    for f in HOST_FIELDS:
        out += textwrap.wrap(f.help, width=99, initial_indent=f"#   {f.key:<17}  ",
                             subsequent_indent="#   " + " " * 19)
    out += ["#", '# [hosts.workstation]', '# url = "http://ws.lan:11434"',
            '# metrics = ["http://ws.lan:9400/metrics", "http://ws.lan:9100/metrics"]  # dcgm-exporter, node_exporter',
            "#", '# [hosts.rack-vllm]', '# url = "http://rack1:8000/v1"', '# kind = "openai"',
            '# api_key_env = "VLLM_API_KEY"', '# metrics = ["http://rack1:8000/metrics"]',
            '# prometheus_labels = { Hostname = "rack1" }  # with [monitor] prometheus']
    out += ["", *_comment("MCP servers: their tools are offered to models that can call tools (the "
                          "'tools' capability). A call is shown and asked about before it runs "
                          "(y runs it, n refuses, a allows that tool for the session); the Tools view "
                          "(Ctrl+P, Tools) lists them. A server starts when first needed and stops "
                          "when the app does. The keys:")]
    for f in MCP_SERVER_FIELDS:
        out += textwrap.wrap(f.help, width=99, initial_indent=f"#   {f.key:<9}  ",
                             subsequent_indent="#   " + " " * 11)
    out += ["#", "# [mcp.servers.files]", '# command = "npx"',
            '# args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]',
            "#", "# [mcp.servers.remote]", '# url = "http://localhost:8000/mcp"',
            '# headers = { Authorization = "Bearer <token>" }']
    for section in ("pulls", "monitor", "ui"):
        out += ["", f"[{section}]"]
        for f in FIELDS[section]:
            out += [*_comment(_field_doc(f)), f"{f.key} = {_toml_value(f.default)}"]
    out += ["", *_comment("Keys: one line per action to rebind, its name (the help screen, ?, and the "
                          "README's key table list them) = the key in Textual's notation: \"ctrl+w\", "
                          "\"f2\", \"shift+tab\", \"question_mark\"; several keys separated by commas. "
                          "The action's default keys then no longer apply. An unknown action or key, "
                          "or a key another action already has where both apply, is reported with "
                          "its line, and that line is ignored."),
            "[keys]", '# quit = "ctrl+w"', '# prompt_newline = "ctrl+j,alt+enter,shift+enter"',
            '# prompt_send = "enter"']
    return "\n".join(out) + "\n"
