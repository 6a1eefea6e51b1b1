"""The Settings form: a list of sections, presets and model overrides, and one row per key.

Every row validates as you type with the schema's own Field (parse_text, then check) and puts a
valid value straight into the ConfigStore's document; nothing reaches the disk until the pane
saves. A value that does not validate stays in its row, marked, and blocks saving.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.service.config import (
    FIELDS,
    MODEL_FIELDS,
    PRESET_FIELDS,
    SECTION_HELP,
    Config,
    ConfigIssue,
    Field,
    field_for,
    format_key_path,
)
from tui.service.config.schema import KEYS_FIELD_HELP
from tui.ui.keymap import actions, keys_label, parse_keys, resolve_keymap

if TYPE_CHECKING:
    from tui.service.config import ConfigStore

KeyPath = tuple[str, ...]
SECTIONS = ("server", "chat", "pulls", "monitor", "ui", "keys")
_PRESET_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
NAV_HINT = "Enter: edit · n new · c copy · e rename · d delete preset · F8 raw TOML · F9 file"
FIELD_HINT = "↑/↓ fields · Esc back to the list · F5 save"


def preset_name_error(name: str, existing: Any) -> str | None:
    """Why `name` cannot be a new preset's name, or None (the store checks the same)."""
    if not _PRESET_NAME.fullmatch(name):
        return "a preset name is 1–64 letters, digits, _ or -"
    if name in existing:
        return f"a preset named {name} already exists"
    return None


@dataclass(frozen=True)
class Target:
    """What the form shows: one section, one preset or one model's overrides."""

    kind: str  # "section" | "preset" | "model"
    name: str

    @property
    def option_id(self) -> str:
        return f"{self.kind}:{self.name}"

    @classmethod
    def from_option_id(cls, option_id: str) -> Target:
        kind, _, name = option_id.partition(":")
        return cls(kind, name)

    @property
    def table(self) -> str:
        """The TOML table header this target edits, as the user would write it."""
        if self.kind == "section":
            return f"[{self.name}]"
        return "[" + format_key_path(("presets" if self.kind == "preset" else "models", self.name)) + "]"


KEYS = Target("section", "keys")


def current_value(config: Config, parts: KeyPath) -> Any:
    """The value `parts` has in `config` (None = not set)."""
    match parts:
        case ("server", "headers", name):
            return config.server.headers.get(name)
        case ("keys", name):
            return config.keys.get(name)
        case (section, key) if section in FIELDS:
            return getattr(getattr(config, section), key)
        case ("presets", name, key):
            return getattr(config.preset(name), key)
        case ("models", name, "options", key):
            override = config.models.get(name)
            return getattr(override.options, key) if override else None
        case ("models", name, key):
            override = config.models.get(name)
            return getattr(override, key) if override else None
    return None


# The two values people tune most come first: from the list, Enter lands on temperature and
# one ↓ on num_ctx (the "tune a preset" journey fits in six keys, saving and going back included).
FIRST_OPTIONS = ("temperature", "num_ctx")


def option_fields() -> list[Field]:
    """PRESET_FIELDS in the order the form shows them (FIRST_OPTIONS, then the schema's order)."""
    rank = {key: i for i, key in enumerate(FIRST_OPTIONS)}
    return sorted(PRESET_FIELDS, key=lambda spec: rank.get(spec.key, len(rank)))


def rows_for(target: Target, config: Config, app: App) -> list[tuple[KeyPath, Field] | str]:
    """The form's rows for `target`: (key path, field) pairs and sub-headings (`app`: the
    running App, whose bindings [keys] rebinds)."""
    rows: list[tuple[KeyPath, Field] | str] = []
    if target == KEYS:
        rows += key_rows(app)
    elif target.kind == "section":
        for spec in FIELDS[target.name]:
            if spec.type == "str_table":  # [server.headers]: one masked row per header
                rows.append("headers — values hidden")
                for name in config.server.headers:
                    parts = ("server", "headers", name)
                    rows.append((parts, field_for(parts)))
                if not config.server.headers:
                    rows.append("none; add them in the raw view (F8) under [server.headers]")
            else:
                rows.append(((target.name, spec.key), spec))
    elif target.kind == "preset":
        rows += [(("presets", target.name, spec.key), spec) for spec in option_fields()]
    else:
        rows += [(("models", target.name, spec.key), spec) for spec in MODEL_FIELDS]
        rows.append("options — on top of the preset")
        rows += [(("models", target.name, "options", spec.key), spec) for spec in option_fields()]
    return rows


def key_rows(app: App) -> list[tuple[KeyPath, Field] | str]:
    """[keys]: a sub-heading per place, a row per action of `app` (empty = its default keys)."""
    def check(text: str) -> str | None:
        try:
            parse_keys(text)
        except ValueError as exc:
            return str(exc)
        return None

    rows: list[tuple[KeyPath, Field] | str] = []
    where = None
    for action in actions(app):
        if action.where != where:
            rows.append(where := action.where)
        rows.append((("keys", action.id), Field(
            action.id, "str", None, validate=check,
            help=f"{action.description} ({action.where}; default {keys_label(action.keys)}). "
                 f"{KEYS_FIELD_HELP}")))
    return rows


def range_text(spec: Field) -> str:
    if spec.type == "bool":
        return "true / false"
    shown = spec.describe_range()
    if shown and spec.unit and spec.unit != "%" and not spec.choices:
        shown += f" {spec.unit}"
    return shown


class SettingsNav(OptionList):
    """Sections, presets and model overrides; Enter moves into the form."""


class FieldInput(Input):
    """One value. ↑/↓ move between rows, Enter goes to the next row."""

    BINDINGS = [
        Binding("up", "app.focus_previous", "Previous setting", show=False, id="field_previous"),
        Binding("down", "app.focus_next", "Next setting", show=False, id="field_next"),
    ]

    def __init__(self, parts: KeyPath, spec: Field, value: str, *, suggestions: list[str] | None,
                 read_only: bool) -> None:
        super().__init__(
            value, password=spec.secret, compact=True, disabled=read_only,
            placeholder="not set" if spec.default is None else "",
            suggester=SuggestFromList(suggestions, case_sensitive=False) if suggestions else None,
        )
        self.parts = parts
        self.spec = spec


class FieldRow(Vertical):
    """key · input · allowed range, and the problem with the value under them."""

    def __init__(self, parts: KeyPath, spec: Field, value: str, *, suggestions: list[str] | None = None,
                 read_only: bool = False) -> None:
        super().__init__()
        self.parts = parts
        self.spec = spec
        self.value_text = value
        self.suggestions = suggestions
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield Label(Content(self.parts[-1]), classes="field-key")
            yield FieldInput(self.parts, self.spec, self.value_text, suggestions=self.suggestions,
                             read_only=self.read_only)
            yield Static(Content(range_text(self.spec)), classes="field-range")
        yield Static(classes="field-error")

    @property
    def input(self) -> FieldInput:
        return self.query_one(FieldInput)

    def show_problem(self, message: str | None, *, warning: bool = False) -> None:
        self.set_class(bool(message) and not warning, "-error")
        self.set_class(bool(message) and warning, "-warning")
        self.input.set_class(bool(message) and not warning, "-invalid")
        self.query_one(".field-error", Static).update(Content(f"{'⚠' if warning else '✕'} {message}" if message else ""))


class SettingsForm(Horizontal):
    """The form view. `pending` holds the rows whose text did not validate (key path → message)."""

    class Edited(Message):
        """The document changed, or a row became (in)valid."""

    def __init__(self, store: ConfigStore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.target: Target | None = None
        self.pending: dict[KeyPath, tuple[str, str]] = {}  # key path → (typed text, why invalid)
        self._rows_for: Target | None = None
        self._building = asyncio.Lock()
        self._key_issues_of: tuple[Config, list[ConfigIssue]] | None = None

    def compose(self) -> ComposeResult:
        yield SettingsNav(id="settings-nav")
        with Vertical(id="form-side"):
            yield VerticalScroll(id="form-fields", can_focus=False)
            yield Static(id="field-help")

    @property
    def nav(self) -> SettingsNav:
        return self.query_one(SettingsNav)

    # -- the list ---------------------------------------------------------------------------

    def targets(self) -> list[Target]:
        config = self.store.config
        return ([Target("section", s) for s in SECTIONS] + [Target("preset", p) for p in config.presets]
                + [Target("model", m) for m in config.models])

    def fill_nav(self, select: Target | None = None) -> None:
        """Rebuild the list from the store; highlight `select` (else keep the current target)."""
        config = self.store.config
        options: list[Option] = [Option(Content.styled("Sections", "bold"), disabled=True)]
        options += [Option(f" {s}", id=Target("section", s).option_id) for s in SECTIONS]
        options.append(Option(Content.styled("Presets", "bold"), disabled=True))
        options += [Option(Content(f" {p}"), id=Target("preset", p).option_id) for p in config.presets]
        if config.models:
            options.append(Option(Content.styled("Models", "bold"), disabled=True))
            options += [Option(Content(f" {m}"), id=Target("model", m).option_id) for m in config.models]
        nav = self.nav
        nav.set_options(options)
        wanted = select or self.target
        if wanted not in self.targets():
            wanted = Target("preset", config.chat.default_preset)
            if wanted not in self.targets():
                wanted = Target("section", SECTIONS[0])
        self._rows_for = None  # values may have changed: rebuild the rows even for the same target
        nav.highlighted = nav.get_option_index(wanted.option_id)
        self.target = wanted
        self.call_after_refresh(self._ensure_rows)

    def highlight(self, target: Target) -> None:
        if target in self.targets():
            self.nav.highlighted = self.nav.get_option_index(target.option_id)

    async def _ensure_rows(self) -> None:
        if self.target is not None and self._rows_for != self.target:
            await self.show(self.target)

    @on(OptionList.OptionHighlighted, "#settings-nav")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id:
            target = Target.from_option_id(event.option.id)
            if target == KEYS and self._rows_for != KEYS:
                await self._preview_keys()  # its ~80 rows are built on Enter, not while passing by
            else:
                await self.show(target)

    async def _preview_keys(self) -> None:
        self.target = KEYS
        config = self.store.config
        set_now = ", ".join(f"{name} = {keys}" for name, keys in config.keys.items()) or "none"
        async with self._building:
            self._rows_for = None
            scroll = self.query_one("#form-fields", VerticalScroll)
            async with scroll.batch():
                await scroll.remove_children()
                await scroll.mount_all([
                    Static(self._heading(KEYS), classes="form-heading"),
                    Static(Content(f"Enter lists every action with its keys, to rebind it (the help "
                                   f"screen, ?, lists them too). Set here now: {set_now}."))])

    @on(OptionList.OptionSelected, "#settings-nav")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            await self.show(Target.from_option_id(event.option.id))
            self.focus_first_field()

    # -- the rows ---------------------------------------------------------------------------

    async def show(self, target: Target) -> None:
        """Build the rows of `target` from the store's current document."""
        self.target = target
        async with self._building:  # one build at a time; a later caller finds the rows complete
            if self._rows_for != target:
                await self._build(target)

    async def _build(self, target: Target) -> None:
        self._rows_for = target
        config = self.store.config
        widgets: list[Widget] = [Static(self._heading(target), classes="form-heading")]
        for row in rows_for(target, config, self.app):
            if isinstance(row, str):
                widgets.append(Static(Content(row), classes="form-subheading"))
                continue
            parts, spec = row
            widgets.append(self._row(parts, spec, config))
        scroll = self.query_one("#form-fields", VerticalScroll)
        async with scroll.batch():
            await scroll.remove_children()
            await scroll.mount_all(widgets)
        scroll.scroll_home(animate=False)
        for row in scroll.query(FieldRow):
            self._show_row_problem(row)

    def _heading(self, target: Target) -> Content:
        if target.kind == "section":
            blurb = SECTION_HELP.get(target.name, "")
        elif target.kind == "preset":
            default = self.store.config.chat.default_preset == target.name
            blurb = "the default preset of new chats" if default else "a preset"
        else:
            blurb = "overrides for this model"
        return Content.assemble((target.table, "bold"), "  ", (blurb, "$text-muted"))

    def _row(self, parts: KeyPath, spec: Field, config: Config) -> FieldRow:
        if parts in self.pending:
            text = self.pending[parts][0]
        elif self._file_issue(parts) is not None and (value := self._value_in_file(parts)) is not None:
            text = spec.format_value(value)  # show the file's bad value, not the default used instead
        else:
            text = spec.format_value(current_value(config, parts))
        suggestions: list[str] | None = None
        if spec.type == "bool":
            suggestions = ["true", "false"]
        elif spec.choices:
            suggestions = [c for c in spec.choices if c]
        elif parts in (("chat", "default_preset"),) or parts[-1:] == ("preset",):
            suggestions = list(config.presets)
        elif parts == ("ui", "theme"):
            suggestions = sorted(self.app.available_themes)
        multi_line = "\n" in text and spec.type == "str"
        if multi_line:
            text = text.replace("\n", "⏎")
        return FieldRow(parts, spec, text, suggestions=suggestions, read_only=multi_line)

    def _file_issue(self, parts: KeyPath) -> ConfigIssue | None:
        key = format_key_path(parts)
        issues = self.store.issues
        if parts[0] == "keys" and self.store.config.keys:
            issues = [*issues, *self._key_issues()]
        return next((i for i in issues if i.key == key), None)

    def _key_issues(self) -> list[ConfigIssue]:
        """What the app reports of [keys] (unknown actions, keys taken), for the config as it is."""
        config = self.store.config
        if self._key_issues_of is None or self._key_issues_of[0] is not config:
            self._key_issues_of = (config, resolve_keymap(config.keys, config.key_lines, self.app)[1])
        return self._key_issues_of[1]

    def _value_in_file(self, parts: KeyPath) -> Any:
        try:
            value: Any = tomllib.loads(self.store.document_text)
            for part in parts:
                value = value[part]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            return None
        return value

    def _show_row_problem(self, row: FieldRow) -> None:
        if row.read_only:
            row.show_problem("several lines: edit it in the raw view (F8)", warning=True)
            return
        if row.parts in self.pending:
            row.show_problem(self.pending[row.parts][1])
            return
        issue = self._file_issue(row.parts)
        if issue is None:
            row.show_problem(None)
        else:
            where = f"line {issue.line}: " if issue.line else ""
            row.show_problem(where + issue.message, warning=not issue.is_error)

    def focus_first_field(self) -> None:
        inputs = [i for i in self.query(FieldInput) if not i.disabled]
        if inputs:
            inputs[0].focus()

    @property
    def rows_ready(self) -> bool:
        """Whether the rows shown are those of the current target, complete."""
        return self.target is not None and self._rows_for == self.target and not self._building.locked()

    @property
    def rows(self) -> list[FieldRow]:
        return list(self.query(FieldRow))

    # -- editing ----------------------------------------------------------------------------

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FieldInput):
            event.stop()
            field_input = event.input
            row = next((node for node in field_input.ancestors if isinstance(node, FieldRow)), None)
            if row is None:
                return  # a row of a target already replaced (F4 builds, then rebuilds at once)
            untouched = event.value == row.value_text and field_input.parts not in self.pending
            if untouched and self._file_issue(field_input.parts) is not None:
                return  # the row as built, showing the file's problem: leave it until edited or saved
            self.commit(field_input)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FieldInput):
            event.stop()
            self.commit(event.input)
            self.screen.focus_next()

    def commit(self, field_input: FieldInput) -> None:
        """Validate the row's text; put a valid value into the document, else mark the row."""
        parts, spec, text = field_input.parts, field_input.spec, field_input.value
        row = field_input.query_ancestor(FieldRow)
        if row.read_only:
            return
        problem = None
        try:
            # Empty = not set, for every key without a default (parse_text keeps "" for strings).
            value = None if spec.default is None and not text.strip() else spec.parse_text(text)
        except ValueError as exc:
            problem = str(exc)
        else:
            if value is not None:
                checked, problem = spec.check(value)
                if problem is None:
                    problem = self._extra_check(parts, checked)
                    value = checked if problem is None else value
        if problem is None and value != current_value(self.store.config, parts):
            issues = self.store.set(parts, value)
            problem = issues[0].message if issues else None
        if problem:
            self.pending[parts] = (text, problem)
        else:
            self.pending.pop(parts, None)
        self._show_row_problem(row)
        self.post_message(self.Edited())

    def _extra_check(self, parts: KeyPath, value: Any) -> str | None:
        if parts == ("ui", "theme") and value not in self.app.available_themes:
            return f"no theme named {value!r} (Ctrl+P → Theme lists them)"
        if parts[0] == "keys":  # a key another action has where both apply
            from tui.ui.keymap import resolve_keymap

            name = parts[1]
            entries = {**self.store.config.keys, name: value}
            lines = dict(self.store.config.key_lines)
            if value != self.store.config.keys.get(name):
                lines[name] = 1 << 30  # a key being typed gives way to those already there
            _keymap, issues = resolve_keymap(entries, lines, self.app)
            return next((i.message.split("; this line")[0] for i in issues if i.key == f"keys.{name}"), None)
        return None

    def commit_all(self) -> None:
        """Take every row's text as it is now (a save key can overtake the Changed messages)."""
        for field_input in self.query(FieldInput):
            if not field_input.disabled:
                self.commit(field_input)

    def first_pending(self) -> tuple[KeyPath, str] | None:
        for parts, (_text, message) in self.pending.items():
            return parts, message
        return None

    def focus_pending(self) -> None:
        """Show and focus the first row that does not validate."""
        first = self.first_pending()
        if first is None:
            return
        parts = first[0]
        target = (Target("section", parts[0]) if parts[0] in (*FIELDS, "keys") else
                  Target("preset", parts[1]) if parts[0] == "presets" else Target("model", parts[1]))
        self.highlight(target)

        async def focus() -> None:
            await self.show(target)
            for row in self.rows:
                if row.parts == parts:
                    row.input.focus()
                    row.scroll_visible()

        self.call_after_refresh(focus)

    # -- help -------------------------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        help_line = self.query_one("#field-help", Static)
        widget = event.widget
        if isinstance(widget, FieldInput):
            spec = widget.spec
            shown = range_text(spec)
            unset = " Empty = not set." if spec.default is None else ""
            secret = " The value is hidden." if spec.secret else ""
            help_line.update(Content.assemble(
                (format_key_path(widget.parts), "bold"), "  ", spec.help,
                f" Allowed: {shown}." if shown else "", unset, secret, "\n", (FIELD_HINT, "$text-muted")))
        elif isinstance(widget, SettingsNav):
            help_line.update(Content.styled(NAV_HINT, "$text-muted"))
