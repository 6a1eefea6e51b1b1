"""Every key binding of the app in one table (for the help screen, the README and its test), and
the config's [keys] table checked against it: the keymap Textual applies (`App.set_keymap`, by
binding id) and an issue, with its line, for every entry that cannot apply."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, key_to_character
from textual.types import NoActiveAppError

from tui.service.config.schema import ConfigIssue
from tui.ui.access import tui_app

if TYPE_CHECKING:
    from tui.ui.access import TuiApp

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


def keys_label(keys: str) -> str:
    """'f1,alt+1' → 'F1 / Alt+1'."""
    return " / ".join(key_label(k.strip()) for k in keys.split(","))


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Action:
    """One binding the help screen lists: its id (the [keys] name), where it applies, its default
    keys, and whether it is a priority binding (it then shadows every scope inside its own)."""

    id: str
    where: str
    keys: str
    description: str
    priority: bool


def scopes(app_class: type[App]) -> list[tuple[str, list[BindingType]]]:
    """(where, bindings) for the app (its class: a TuiApp) and every class its `key_scopes()`
    names (the panes, and the widgets inside them with keys of their own), in that order."""
    declared = cast("type[TuiApp]", app_class).key_scopes()
    return [("Everywhere", list(app_class.BINDINGS)), *((where, list(cls.BINDINGS)) for where, cls in declared)]


def actions(app: App | type[App]) -> list[Action]:
    """Every listed binding (one with a description), in the help screen's order."""
    app_class = app if isinstance(app, type) else type(app)
    return [Action(binding.id or "", where, binding.key, binding.description, binding.priority)
            for where, bindings in scopes(app_class) for binding in bindings
            if isinstance(binding, Binding) and binding.description]


def binding_rows(app: App | type[App]) -> list[tuple[str, str, str, str]]:
    """(where, keys, action name, description) of every binding; the keys those in use when
    `app` is a running app (its [keys]), the defaults for the class."""
    overrides: Mapping[str, str] = {} if isinstance(app, type) else cast("TuiApp", app).key_overrides
    return [(a.where, keys_label(overrides.get(a.id, a.keys)), a.id, a.description) for a in actions(app)]


def bound_keys(node: DOMNode, action_id: str, default: str) -> tuple[str, ...]:
    """The keys `action_id` has in `node`'s app now ([keys] or `default`, Textual's notation)."""
    try:
        overrides: Mapping[str, str] = tui_app(node).key_overrides
    except NoActiveAppError:  # a widget made outside an app: the defaults
        overrides = {}
    return tuple(k.strip() for k in overrides.get(action_id, default).split(","))


# --------------------------------------------------------------------------- [keys]

MODIFIERS = frozenset({"alt", "ctrl", "hyper", "meta", "shift", "super"})
_NAMED_KEYS = frozenset(k.value.rpartition("+")[2] for k in Keys if not k.value.startswith("<")) | {
    "slash", "backslash", "at", "minus", "plus", "underscore", "comma", "space"}


def parse_key(text: str) -> str:
    """One key in Textual's notation as Textual names it ("Ctrl+W" → "ctrl+w", "?" →
    "question_mark", "shift+a" → "A"); ValueError saying why it is not a key."""
    raw = text.strip()
    if not raw:
        raise ValueError("an empty key")
    *mods, base = raw.split("+") if raw != "+" else ["plus"]
    modifiers = sorted({m.lower() for m in mods})  # Textual names them in alphabetical order
    unknown = [m for m in mods if m.lower() not in MODIFIERS]
    if unknown or not base:
        bad = unknown[0] if unknown else raw
        raise ValueError(f"{bad!r} is not a modifier (alt, ctrl, meta, shift, super, hyper)"
                         if unknown else f"{raw!r} is not a key")
    if len(base) == 1:
        if modifiers == ["shift"] and base.isalpha():
            return base.upper()  # Textual reports Shift+A as "A"
        base = base.lower() if modifiers else _character_to_key(base)
    else:
        base = base.lower()
        if base not in _NAMED_KEYS and key_to_character(base) is None:
            raise ValueError(f"{base!r} is not a key name (e.g. \"ctrl+w\", \"f2\", \"shift+tab\", "
                             "\"question_mark\", \"space\")")
    return "+".join([*modifiers, base])


def parse_keys(text: str) -> str:
    """A comma-separated list of keys, each as `parse_key` names it, duplicates dropped."""
    keys: list[str] = []
    for part in text.split(","):
        key = parse_key(part)
        if key not in keys:
            keys.append(key)
    return ",".join(keys)


def _covers(outer: Action, inner: Action) -> bool:
    """A priority binding of `outer` takes its key before any binding of a scope inside it."""
    return outer.priority and (outer.where == "Everywhere" or inner.where.startswith(outer.where + ":"))


def _clash(a: Action, b: Action) -> bool:
    return a.where == b.where or _covers(a, b) or _covers(b, a)


def resolve_keymap(entries: Mapping[str, str], lines: Mapping[str, int | None],
                   app: App | type[App]) -> tuple[dict[str, str], list[ConfigIssue]]:
    """The keymap for `App.set_keymap` from the config's [keys], and an issue (with its line) for
    every entry left out: an unknown action, an invalid key, or a key another action has where
    both apply (the later line is left out; its action keeps its default keys). Never raises."""
    table = actions(app)
    by_id = {a.id: a for a in table}
    issues: list[ConfigIssue] = []

    def report(name: str, message: str) -> None:
        issues.append(ConfigIssue(f"keys.{name}", lines.get(name), message))

    accepted: dict[str, str] = {}
    for name, text in entries.items():
        if name not in by_id:
            near = difflib.get_close_matches(name, list(by_id), n=1)
            report(name, "no such action" + (f" (did you mean {near[0]}?)" if near else "")
                   + "; the names are in the help screen (?) and the README")
            continue
        try:
            keys = parse_keys(text)
        except ValueError as exc:
            report(name, f"{exc}; the default keys ({keys_label(by_id[name].keys)}) apply")
            continue
        typed = next((k for k in keys.split(",") if "+" not in k and (key_to_character(k) or "").isprintable()
                      and key_to_character(k)), None)
        if by_id[name].priority and typed:
            # A priority binding takes its key before a focused text field: never a character.
            report(name, f"{key_label(typed)} is typed in text fields, and {name} works in them too "
                         f"(it would take the character); choose a key with Ctrl or Alt, or an F-key; "
                         f"the default keys ({keys_label(by_id[name].keys)}) apply")
            continue
        accepted[name] = keys
    while (clash := _first_clash(table, accepted, lines)) is not None:
        loser, winner, key = clash
        report(loser.id, f"{key_label(key)} is already {winner.id} ({winner.description}, "
                         f"{winner.where}); this line is ignored, {keys_label(loser.keys)} stays")
        del accepted[loser.id]
    issues.sort(key=lambda issue: issue.line or 0)
    return accepted, issues


def _first_clash(table: list[Action], accepted: Mapping[str, str],
                 lines: Mapping[str, int | None]) -> tuple[Action, Action, str] | None:
    """(the entry to leave out, the action it clashes with, the key), or None."""
    owners: dict[str, list[Action]] = {}
    for action in table:
        for key in (accepted.get(action.id) or parse_keys(action.keys)).split(","):
            owners.setdefault(key, []).append(action)
    for key, holders in owners.items():
        for i, a in enumerate(holders):
            for b in holders[i + 1:]:
                rebound = [x for x in (a, b) if x.id in accepted]
                if rebound and _clash(a, b):
                    loser = max(rebound, key=lambda x: lines.get(x.id) or 0)
                    return loser, (b if loser is a else a), key
    return None
