"""The Settings pane: the config file as a form or as raw TOML; save, export, import, reset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, Input, Static, TextArea

from tui.service.config import (
    ConfigConflict,
    ConfigError,
    ConfigInvalid,
    ConfigStore,
    backup_path,
    format_key_path,
)
from tui.service.config.secrets import MaskLeft
from tui.ui.access import services, tui_app
from tui.ui.settings.dialogs import ConflictDialog
from tui.ui.settings.form import FieldInput, SettingsForm, Target, preset_name_error
from tui.ui.settings.raw import RawEditor
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog, TextDialog

# Actions bound to plain letters: never while a text field has focus.
_PRESET_ACTIONS = frozenset({"new_preset", "duplicate_preset", "rename_preset", "delete_preset"})
FILE_ACTIONS = [
    ("export", "Export the config to a file…"),
    ("import", "Import a config file (checked first)…"),
    ("reset", "Reset to defaults (the old file is kept as .bak)…"),
    ("reload", "Reload from disk (drop unsaved changes)"),
]


def _shown_path(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


class SettingsPane(Vertical):
    """Two views of one config file. Form edits go into the document as you type; F5 writes."""

    BINDINGS = [
        Binding("f5", "save", "Save", priority=True, tooltip="Validate, write and apply the settings", id="settings_save"),
        Binding("f8", "switch_view", "Form ↔ raw TOML", priority=True, id="settings_view"),
        Binding("f9", "file_menu", "Export, import, reset, reload", priority=True, id="settings_file"),
        Binding("n", "new_preset", "New preset (in the list)", show=False, id="settings_new_preset"),
        Binding("c", "duplicate_preset", "Duplicate preset (in the list)", show=False, id="settings_duplicate_preset"),
        Binding("e", "rename_preset", "Rename preset (in the list)", show=False, id="settings_rename_preset"),
        Binding("d,delete", "delete_preset", "Delete preset (in the list)", show=False, id="settings_delete_preset"),
        Binding("escape", "back", "Back to the list of sections and presets", show=False, id="settings_back"),
    ]

    #: Seconds between checks for changes made to the file by other programs (while visible).
    DISK_CHECK_S = 2.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = "form"
        self.changed_on_disk = False

    @property
    def store(self) -> ConfigStore:
        return services(self).config_store

    @property
    def form(self) -> SettingsForm:
        return self.query_one(SettingsForm)

    @property
    def raw(self) -> RawEditor:
        return self.query_one(RawEditor)

    def compose(self) -> ComposeResult:
        yield Static(id="settings-status")
        with ContentSwitcher(initial="settings-form", id="settings-views"):
            yield SettingsForm(self.store, id="settings-form")
            yield RawEditor(id="settings-raw")

    def on_mount(self) -> None:
        self.form.fill_nav(Target("preset", self._chat_preset()))
        if not self._editable():
            self.raw.load(self.store.document_text, self.store.issues)
            self._set_view("raw", focus=False)
        self.set_interval(self.DISK_CHECK_S, self._check_disk)
        self._show_status()

    def focus_default(self) -> None:
        """F4: the list, on the preset the chat uses (unless you were in the middle of edits)."""
        self._check_disk()
        if self.view == "raw":
            if not self._unsaved() and self.raw.source_text != self.store.document_text:
                self.raw.load(self.store.document_text, self.store.issues)  # saved from elsewhere
            self.raw.editor.focus()
            return
        if not self._unsaved():  # fresh values: the palette's theme switch also saves the file
            self.form.fill_nav(Target("preset", self._chat_preset()))
        self.screen.set_focus(self.form.nav)  # at once: F4 Enter typed ahead must reach the list

    def _chat_preset(self) -> str:
        from tui.ui.chat.pane import ChatPane

        session = None
        try:
            session = self.app.query_one(ChatPane).session
        except NoMatches:
            pass
        model = (session.model if session is not None else None) or self.store.config.chat.default_model
        return self.store.config.preset_for(model, session.preset if session is not None else None)

    def _editable(self) -> bool:
        """Whether the document parses, so the form can edit it."""
        config, _issues = self.store.validate_text(self.store.document_text)
        return config is not None

    def _unsaved(self) -> bool:
        if self.view == "raw" and self.raw.dirty:
            return True
        return bool(self.store.dirty or self.form.pending)

    def _say(self, message: str, **kwargs: Any) -> None:
        """A notification; paths, keys and TOML errors are shown as they are, never as markup."""
        self.notify(message, markup=False, **kwargs)

    # -- status -----------------------------------------------------------------------------

    def _show_status(self) -> None:
        view = "form" if self.view == "form" else "raw TOML"
        parts: list[Any] = [("Settings", "bold"), " · ", view, ("  F8 switches", "$text-muted")]
        if self._unsaved():
            parts.append(("  ● unsaved (F5 saves)", "$text-warning"))
        if self.changed_on_disk:
            parts.append(("  ⚠ changed on disk", "bold $text-error"))
        errors = sum(1 for i in self.store.issues if i.is_error)
        if errors:
            parts.append((f"  {errors} problem(s)", "$text-error"))
        parts += ["  ", (_shown_path(self.store.path), "$text-muted")]
        self.query_one("#settings-status", Static).update(Content.assemble(*parts))

    @on(SettingsForm.Edited)
    def _edited(self) -> None:
        self._show_status()

    @on(TextArea.Changed, "#raw-editor")
    def _raw_edited(self) -> None:
        self._show_status()

    def _check_disk(self) -> None:
        if not self.display:
            return
        changed = self.store.changed_on_disk()
        if changed != self.changed_on_disk:
            self.changed_on_disk = changed
            self._show_status()
            if changed:
                self._say(f"{_shown_path(self.store.path)} was changed by another program. F9 → Reload "
                            "takes that version; saving asks before overwriting it.",
                            title="Config changed on disk", severity="warning", timeout=8)

    # -- views ------------------------------------------------------------------------------

    def action_switch_view(self) -> None:
        if self.view == "form":
            self.form.commit_all()
            if self.form.pending:
                keys = ", ".join(format_key_path(p) for p in self.form.pending)
                self._say(f"Left out (did not validate): {keys}", severity="warning", timeout=6)
                self.form.pending.clear()
            self.raw.load(self.store.document_text, self.store.issues)
            self._set_view("raw")
            return
        if not self.raw.dirty:
            self._back_to_form()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._back_to_form()

        self.app.push_screen(ConfirmDialog("Drop your unsaved raw edits and go back to the form? "
                                           "(F5 saves them instead.)"), answered)

    def _back_to_form(self) -> None:
        if not self._editable():
            self._say("The file has a TOML syntax error; fix it here first (its line is listed below).",
                        severity="error", timeout=6)
            return
        self.raw.loaded_text = self.raw.text
        self.form.fill_nav()
        self._set_view("form")

    def _set_view(self, view: str, *, focus: bool = True) -> None:
        self.view = view
        self.query_one("#settings-views", ContentSwitcher).current = f"settings-{view}"
        if focus:
            (self.raw.editor if view == "raw" else self.form.nav).focus()
        self._show_status()
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.view == "form" and isinstance(self.app.focused, FieldInput):
            self.form.nav.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _PRESET_ACTIONS or action == "back":
            if self.view != "form":
                return False
            if action in _PRESET_ACTIONS and isinstance(self.app.focused, (Input, TextArea)):
                return False
        return True

    # -- saving -----------------------------------------------------------------------------

    def action_save(self) -> None:
        # F5 is a priority key: it can overtake characters typed just before it that still
        # wait in the focused field's queue (typed ahead over SSH). Save after those.
        focused = self.app.focused
        if focused is not None and focused is not self:
            focused.call_later(self._save_now)
        else:
            self._save_now()

    def _save_now(self) -> None:
        if self.view == "raw":
            self._save_raw()
        else:
            self._save_form()

    def _save_form(self, force: bool = False) -> None:
        form = self.form
        form.commit_all()
        first = form.first_pending()
        if first is not None:
            parts, message = first
            self._say(f"{format_key_path(parts)}: {message}", title="Not saved: fix this value first",
                        severity="error", timeout=6)
            form.focus_pending()
            return
        if not force and not self.store.dirty and not self.store.changed_on_disk():
            self._say("No unsaved changes.", timeout=3)
            return
        try:
            self.store.save(force=force)
        except ConfigConflict:
            self._ask_conflict(lambda: self._save_form(force=True))
            return
        except ConfigInvalid as exc:
            listed = "\n".join(str(i) for i in exc.issues[:4])
            self._say(f"{listed}\nFix them here or in the raw view (F8).", title="Not saved: the file has errors",
                        severity="error", timeout=10)
            return
        except ConfigError as exc:
            self._say(str(exc), title="Not saved", severity="error", timeout=10)
            return
        self._applied("Saved")

    def _save_raw(self, force: bool = False) -> None:
        raw = self.raw
        try:
            text = raw.real_text  # header values left as the mask keep what is stored
        except MaskLeft as exc:
            self._say(str(exc), title="Not saved: a hidden header value", severity="error", timeout=10)
            return
        config, issues = self.store.validate_text(text)
        errors = [i for i in issues if i.is_error]
        if config is None or errors:
            raw.show_issues(issues, refused=True)
            first = errors[0] if errors else None
            if first is not None:
                raw.go_to(first.line, first.column)
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self._say(f"{first or 'the text does not parse'}{more}", title="Not saved: the TOML has errors",
                        severity="error", timeout=8)
            return
        if not force and not raw.dirty and not self.store.dirty and not self.store.changed_on_disk():
            self._say("No unsaved changes.", timeout=3)
            return
        try:
            issues = self.store.save_text(text, force=force)
        except ConfigConflict:
            self._ask_conflict(lambda: self._save_raw(force=True))
            return
        except ConfigError as exc:
            self._say(str(exc), title="Not saved", severity="error", timeout=10)
            return
        raw.saved(text)
        raw.show_issues(issues)
        self.form.pending.clear()
        self.form.fill_nav()
        self._applied("Saved")

    def _applied(self, what: str) -> None:
        """The store now holds what is on disk: make the app use it and say so."""
        self.changed_on_disk = False
        self._show_status()
        try:
            tui_app(self).apply_config()
        except Exception as exc:  # noqa: BLE001 — the file is written; a pane failing to follow must not crash
            self._say(f"{what} {_shown_path(self.store.path)}, but applying it failed: {exc}. "
                        "Restart to use every new value.", severity="error", timeout=10)
            return
        self._say(f"{what} {_shown_path(self.store.path)}; the new settings are in use.", timeout=4)

    def _ask_conflict(self, overwrite: Callable[[], None]) -> None:
        def answered(choice: str | None) -> None:
            if choice == "overwrite":
                overwrite()
            elif choice == "reload":
                self._reload_now()

        self.app.push_screen(ConflictDialog(_shown_path(self.store.path)), answered)

    # -- file: export, import, reset, reload --------------------------------------------------

    def action_file_menu(self) -> None:
        def picked(choice: str | None) -> None:
            if choice is not None:
                getattr(self, f"_file_{choice}")()

        self.app.push_screen(PickDialog("Config file", FILE_ACTIONS), picked)

    def _confirm_drop(self, question: str, then: Callable[[], None]) -> None:
        """Run `then`, after asking when it would drop unsaved changes."""
        if not self._unsaved():
            then()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question), answered)

    def _file_export(self) -> None:
        if self.view == "raw" and self.raw.dirty:
            self._say("Save (F5) or drop the raw edits first: export writes the saved document.",
                        severity="warning", timeout=6)
            return

        def check(text: str) -> str | None:
            path = Path(text.strip()).expanduser()
            if not text.strip():
                return "type a file path"
            if path.is_dir():
                return "that is a folder; add a file name"
            if not path.parent.is_dir():
                return f"there is no folder {path.parent}"
            return None

        def write(path: Path) -> None:
            try:
                self.store.export_to(path)
            except ConfigError as exc:
                self._say(str(exc), title="Not exported", severity="error", timeout=8)
                return
            extra = " (with your unsaved changes)" if self.store.dirty else ""
            self._say(f"Exported the config to {path}{extra}.", timeout=5)

        def chosen(text: str | None) -> None:
            if text is None:
                return
            path = Path(text.strip()).expanduser()
            if path.exists():
                self.app.push_screen(ConfirmDialog(f"{path} exists. Replace it?"),
                                     lambda yes: write(path) if yes else None)
            else:
                write(path)

        self.app.push_screen(TextDialog("Export the config to:", "~/ollama-tui-config.toml", validate=check), chosen)

    def _file_import(self) -> None:
        def check(text: str) -> str | None:
            path = Path(text.strip()).expanduser()
            if not text.strip():
                return "type a file path"
            if not path.is_file():
                return f"there is no file {path}"
            return None

        def run(path: Path, force: bool = False) -> None:
            try:
                issues = self.store.import_from(path, force=force)
            except ConfigConflict:
                self._ask_conflict(lambda: run(path, force=True))
                return
            except ConfigError as exc:
                self._say(str(exc), title="Not imported", severity="error", timeout=10)
                return
            errors = [i for i in issues if i.is_error]
            if errors:
                listed = "\n".join(str(i) for i in errors[:4])
                more = f"\n… and {len(errors) - 4} more" if len(errors) > 4 else ""
                self._say(f"{path}:\n{listed}{more}", title="Not imported: that file has errors",
                            severity="error", timeout=12)
                return
            self._refill()
            self._applied(f"Imported {path} into")

        def chosen(text: str | None) -> None:
            if text is not None:
                path = Path(text.strip()).expanduser()
                self._confirm_drop("Importing drops your unsaved changes. Go on?", lambda: run(path))

        self.app.push_screen(TextDialog("Import a config file (checked before it replaces anything):",
                                        validate=check), chosen)

    def _file_reset(self) -> None:
        path = _shown_path(self.store.path)
        backup = backup_path(self.store.path).name

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.store.reset_to_defaults()
            except ConfigError as exc:
                self._say(str(exc), title="Not reset", severity="error", timeout=10)
                return
            self._refill()
            self._applied(f"Reset to defaults (the old file is {backup}):")

        self.app.push_screen(ConfirmDialog(f"Replace {path} with the defaults? Unsaved changes are dropped; "
                                           f"the current file is kept as {backup}."), answered)

    def _file_reload(self) -> None:
        self._confirm_drop("Drop your unsaved changes and reload the file from disk?", self._reload_now)

    def _reload_now(self) -> None:
        self.store.load()
        self._refill()
        self._applied("Reloaded")
        if not self._editable():
            self._set_view("raw")

    def _refill(self) -> None:
        """Show the store's document in both views (after it was replaced)."""
        self.form.pending.clear()
        self.form.fill_nav()
        self.raw.load(self.store.document_text, self.store.issues)

    # -- presets ----------------------------------------------------------------------------

    def _selected_preset(self) -> str | None:
        target = self.form.target
        if target is not None and target.kind == "preset":
            return target.name
        self._say("Pick a preset in the list first.", severity="warning", timeout=3)
        return None

    def _ask_name(self, title: str, value: str, apply: Callable[[str], list[Any]], done: str) -> None:
        def chosen(text: str | None) -> None:
            if text is None:
                return
            name = text.strip()
            issues = apply(name)
            if issues:
                self._say(issues[0].message, title="Preset not changed", severity="error", timeout=6)
                return
            self.form.fill_nav(Target("preset", name))
            self.form.nav.focus()
            self._show_status()
            self._say(f"{done} {name}. F5 saves.", timeout=3)

        self.app.push_screen(TextDialog(title, value, validate=lambda text: preset_name_error(
            text.strip(), self.store.config.presets)), chosen)

    def _free_name(self, base: str) -> str:
        presets = self.store.config.presets
        name, n = f"{base}-copy", 2
        while name in presets:
            name, n = f"{base}-copy{n}", n + 1
        return name[:64]

    def action_new_preset(self) -> None:
        self._ask_name("Name of the new preset (letters, digits, _ or -):", "",
                       lambda name: self.store.add_preset(name), "Added preset")

    def action_duplicate_preset(self) -> None:
        source = self._selected_preset()
        if source is not None:
            self._ask_name(f"Duplicate {source} as:", self._free_name(source),
                           lambda name: self.store.duplicate_preset(source, name), "Added preset")

    def action_rename_preset(self) -> None:
        source = self._selected_preset()
        if source is not None:
            self._ask_name(f"Rename {source} to:", source,
                           lambda name: self.store.rename_preset(source, name), "Renamed to")

    def action_delete_preset(self) -> None:
        name = self._selected_preset()
        if name is None:
            return
        config = self.store.config
        if config.chat.default_preset == name:
            self._say(f"{name} is the default preset of new chats ([chat] default_preset); "
                        "choose another default first.", severity="error", timeout=6)
            return
        names = list(config.presets)
        index = names.index(name)
        neighbour = names[index + 1] if index + 1 < len(names) else names[index - 1] if index else None

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            issues = self.store.delete(("presets", name))
            if issues:
                self._say(issues[0].message, title="Preset not deleted", severity="error", timeout=6)
                return
            self.form.fill_nav(Target("preset", neighbour) if neighbour else None)
            self.form.nav.focus()
            self._show_status()
            self._say(f"Deleted preset {name}. F5 saves.", timeout=3)

        self.app.push_screen(ConfirmDialog(f"Delete the preset {name}?"), answered)
