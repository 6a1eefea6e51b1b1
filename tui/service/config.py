"""The typed config, its schema and the store that loads and saves it (one import for users).

The schema (fields, ranges, defaults, validation) lives in config_schema.py; reading and writing
the file in config_store.py.
"""

from tui.service.config_schema import (
    DEFAULT_HOST,
    DEFAULT_PRESETS,
    FIELDS,
    MODEL_FIELDS,
    OPTION_KEYS,
    PRESET_FIELDS,
    SECTION_HELP,
    SUPPORTED_VERSION,
    ChatConfig,
    ChatSettings,
    Config,
    ConfigIssue,
    Field,
    ModelOverride,
    MonitorConfig,
    Preset,
    PullsConfig,
    ServerConfig,
    UIConfig,
    build_config,
    field_for,
    format_key_path,
    model_key,
    normalize_host,
    parse_go_duration,
    render_example_config,
    resolve_host,
)
from tui.service.config_store import (
    ConfigConflict,
    ConfigError,
    ConfigInvalid,
    ConfigStore,
    backup_path,
    parse_key_path,
)

__all__ = [
    "DEFAULT_HOST", "DEFAULT_PRESETS", "FIELDS", "MODEL_FIELDS", "OPTION_KEYS", "PRESET_FIELDS",
    "SECTION_HELP", "SUPPORTED_VERSION", "ChatConfig", "ChatSettings", "Config", "ConfigConflict",
    "ConfigError", "ConfigInvalid", "ConfigIssue", "ConfigStore", "Field", "ModelOverride",
    "MonitorConfig", "Preset", "PullsConfig", "ServerConfig", "UIConfig", "backup_path",
    "build_config", "field_for", "format_key_path", "model_key", "normalize_host",
    "parse_go_duration", "parse_key_path", "render_example_config", "resolve_host",
]
