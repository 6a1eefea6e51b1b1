"""Every key binding of the app in one table: for the help screen, the README and its test."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding, BindingType

# Keys are shown the way a user types them.
_KEY_NAMES = {"question_mark": "?", "escape": "Esc", "enter": "Enter", "tab": "Tab", "delete": "Del",
              "pageup": "PgUp", "pagedown": "PgDn", "up": "↑", "down": "↓", "home": "Home", "end": "End"}


def key_label(key: str) -> str:
    """'ctrl+shift+x' → 'Ctrl+Shift+X', 'f1' → 'F1', 'question_mark' → '?'."""
    out = []
    parts = key.split("+")
    for part in parts:
        if part in _KEY_NAMES:
            out.append(_KEY_NAMES[part])
        elif len(part) == 1:
            out.append(part.upper() if len(parts) > 1 else part)
        else:
            out.append(part[:1].upper() + part[1:])
    return "+".join(out)


def _rows(where: str, bindings: list[BindingType]) -> list[tuple[str, str, str]]:
    rows = []
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        keys = " / ".join(key_label(k.strip()) for k in binding.key.split(","))
        rows.append((where, keys, binding.description))
    return rows


def inner_scopes() -> list[tuple[str, type]]:
    """Widgets inside a pane with keys of their own, listed after the pane's keys."""
    from tui.ui.models.library import FilterInput
    from tui.ui.models.pull_rows import PullList
    from tui.ui.settings.form import FieldInput

    return [("Models: filter", FilterInput), ("Models: pull list", PullList), ("Settings: a value", FieldInput)]


def scopes(app_class: type[App]) -> list[tuple[str, list[BindingType]]]:
    """(where, bindings) for the app, every class its `key_scopes()` names and the inner
    widgets of those panes (`inner_scopes`), each after its pane."""
    declared = list(app_class.key_scopes()) if hasattr(app_class, "key_scopes") else []
    for inner in inner_scopes():
        pane = inner[0].split(":")[0]
        last = max((i for i, (where, _) in enumerate(declared) if where.split(":")[0] == pane),
                   default=len(declared) - 1)
        declared.insert(last + 1, inner)
    result = [("Everywhere", list(app_class.BINDINGS))]
    for where, cls in declared:
        result.append((where, list(cls.BINDINGS)))
    return result


def binding_rows(app: App | type[App]) -> list[tuple[str, str, str]]:
    app_class = app if isinstance(app, type) else type(app)
    rows: list[tuple[str, str, str]] = [("Everywhere", "Ctrl+P", "Command palette")]
    for where, bindings in scopes(app_class):
        rows.extend(_rows(where, bindings))
    return rows
