"""The config service in one import: typed config, schema, and the store that loads and saves it.

config_schema.py  every key: type, default, range, help (drives validation and the Settings form)
config_model.py   the frozen Config dataclasses, TOML data → Config with issues, the example file
config_toml.py    key paths, line locations, parsing, comment-preserving table edits
config_store.py   ConfigStore: load (never fails), edit, save atomically with a backup
"""

from tui.service.config.model import (
    DEFAULT_PRESETS,
    ChatConfig,
    ChatSettings,
    Config,
    ModelOverride,
    MonitorConfig,
    Preset,
    PullsConfig,
    ServerConfig,
    UIConfig,
    build_config,
    model_key,
    render_example_config,
)
from tui.service.config.schema import (
    DEFAULT_HOST,
    FIELDS,
    MODEL_FIELDS,
    OPTION_KEYS,
    PRESET_FIELDS,
    SECTION_HELP,
    SUPPORTED_VERSION,
    ConfigIssue,
    Field,
    field_for,
    format_key_path,
    parse_go_duration,
)
from tui.service.config.store import (
    ConfigConflict,
    ConfigError,
    ConfigInvalid,
    ConfigStore,
    ConfigWriteError,
    backup_path,
)
from tui.service.config.toml_edit import parse_key_path

__all__ = [
    "DEFAULT_HOST", "DEFAULT_PRESETS", "FIELDS", "MODEL_FIELDS", "OPTION_KEYS", "PRESET_FIELDS",
    "SECTION_HELP", "SUPPORTED_VERSION", "ChatConfig", "ChatSettings", "Config", "ConfigConflict",
    "ConfigError", "ConfigInvalid", "ConfigIssue", "ConfigStore", "ConfigWriteError", "Field", "ModelOverride",
    "MonitorConfig", "Preset", "PullsConfig", "ServerConfig", "UIConfig", "backup_path",
    "build_config", "field_for", "format_key_path", "model_key", "parse_go_duration",
    "parse_key_path", "render_example_config",
]
