"""Generate the README's key table and config table from the app itself.

    uv run python -m scripts.docs           # print both tables
    uv run python -m scripts.docs --write   # rewrite the marked sections of README.md

tests/test_readme.py fails when README.md is out of step with what this prints.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def keys_table() -> str:
    from tui.app import OllamaTUI
    from tui.ui.keymap import binding_rows

    lines = ["| Where | Key | Action | What it does |", "|---|---|---|---|"]
    for where, key, name, description in binding_rows(OllamaTUI):
        key = key.replace("|", "\\|")
        lines.append(f"| {where} | `{key}` | `{name}` | {description} |")
    return "\n".join(lines)


def config_table() -> str:
    from tui.service.config.schema import (
        FIELDS,
        HOST_FIELDS,
        MCP_SERVER_FIELDS,
        MODEL_FIELDS,
        PRESET_FIELDS,
    )

    def row(path: str, field) -> str:
        default = "" if field.default is None else f"`{field.format_value(field.default)}`"
        rng = field.describe_range().replace("|", "\\|")
        return f"| `{path}` | {default} | {rng} | {field.help} |"

    lines = ["| Key | Default | Allowed | Meaning |", "|---|---|---|---|"]
    for section, fields in FIELDS.items():
        lines += [row(f"{section}.{f.key}", f) for f in fields]
    lines.append("| `server.headers.<Name>` | | | Extra HTTP header sent to Ollama (e.g. `Authorization`); never shown or logged. |")
    lines.append("| `keys.<action>` | | a key, e.g. `ctrl+w` | Rebinds an action (the Action column of the key "
                 "table above) to a key in Textual's notation; several separated by commas. |")
    lines += [row(f"presets.<name>.{f.key}", f) for f in PRESET_FIELDS]
    lines += [row(f'models."<name>".{f.key}', f) for f in MODEL_FIELDS]
    lines.append('| `models."<name>".options.<option>` | | as in presets | Option overrides for this model. |')
    lines += [row(f"hosts.<name>.{f.key}", f) for f in HOST_FIELDS]
    lines += [row(f"mcp.servers.<name>.{f.key}", f) for f in MCP_SERVER_FIELDS]
    return "\n".join(lines)


SECTIONS = {"keys": keys_table, "config": config_table}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m: m.group(1) + make() + "\n" + m.group(2), text)
    return text


def main() -> int:
    if "--write" in sys.argv:
        README.write_text(render(README.read_text()))
        return 0
    print(keys_table())
    print()
    print(config_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
