"""The Models pane: installed models, their details, pulls with live progress, running models.

The pane lists the installed models (filter, sort, details) and the loaded ones. The pulls are a
widget of their own (`pull_panel.PullPanel`); delete / copy / load / unload are done by a helper
the pane owns (`model_actions.ModelActions`). The pane binds every key (they work wherever the
focus is in it), hands each to the part that acts on it, and routes what those parts post: a
finished pull or a deleted / copied model lists the installed models again, a load / unload
samples the loaded ones."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label, Static, TextArea

from tui.service.config import Config
from tui.service.connection import ConnectionState
from tui.service.ollama.errors import OllamaError
from tui.service.ollama.names import same_model
from tui.service.ollama.types import ModelInfo, ModelShow
from tui.service.providers.protocol import (
    COPY,
    CREATE,
    DELETE,
    LOAD,
    PS,
    PULL,
    feature_label,
)
from tui.service.untrusted import inert
from tui.ui.access import services, tui_app
from tui.ui.events import ConfigChanged, ConnectionChanged
from tui.ui.models.details import ModelDetails
from tui.ui.models.library import (
    COLUMNS,
    SORT_KEYS,
    FilterInput,
    LibraryTable,
    ModelSummary,
)
from tui.ui.models.model_actions import ModelActions
from tui.ui.models.pull_panel import PullPanel
from tui.ui.models.running import RunningTable

# Actions bound to plain letters: never while a text field has focus.
_LETTER_ACTIONS = frozenset({
    "sort_next", "sort_reverse", "details", "refresh",
    *(b.action for b in (*PullPanel.PANE_KEYS, *ModelActions.PANE_KEYS)),
})


class ModelsPane(Vertical):
    """Installed models, their details, pulls and loaded models.

    Letter keys act on the selected model (k / l on the loaded-models row when that table has
    focus) and never fire while the filter has focus. Tab moves between the filter, the table,
    the details, the pull rows (↑/↓ pick the ▶ row, Enter shows its layers) and the loaded models.
    """

    BINDINGS = [
        Binding("/", "focus_filter", "Filter", id="models_filter"),
        Binding("s", "sort_next", "Sort by the next column", show=False, id="models_sort"),
        Binding("S", "sort_reverse", "Reverse sort order", show=False, id="models_sort_reverse"),
        Binding("i", "details", "Details of the model (also Enter)", show=False, id="models_details"),
        *PullPanel.PANE_KEYS,  # p x t X u U: handed to the pull panel
        *ModelActions.PANE_KEYS,  # d c n l k: the selected model
        Binding("R", "refresh", "Refresh the lists", show=False, id="models_refresh"),
        Binding("escape", "back", "Back to the model list", show=False, id="models_back"),
    ]

    #: Seconds between `/api/ps` samples while the pane is visible.
    PS_INTERVAL = 3.0
    #: Pane width from which the details may sit beside the table.
    WIDE = 110
    #: Narrowest the details sit beside the table: when the table needs more room to show every
    #: name in full, the details yield (Enter / i shows them in the table's place).
    DETAILS_MIN = 40
    #: The most of the pane's width the details take beside the table.
    DETAILS_SHARE = 0.45
    #: Seconds before listing the models again after the server failed to list them.
    LIST_RETRY = 3.0
    #: Seconds the cursor must rest on a model before its details are fetched.
    DETAILS_DELAY = 0.15

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models: list[ModelInfo] = []
        self.model_actions = ModelActions(self)
        self.list_error: str | None = None
        self._shows: dict[tuple[str, str], ModelShow] = {}
        self._show_errors: dict[tuple[str, str], str] = {}
        self._tags_dirty = True
        self._was_up: bool | None = None
        self._ps_timer: Timer | None = None
        self._details_timer: Timer | None = None
        self._list_retry: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="models-toolbar"):
            yield Label("Filter (/)", id="filter-label")
            yield FilterInput(placeholder="name, family or quantization", id="models-filter", compact=True)
            yield Static(id="models-status")
        with Horizontal(id="models-main"):
            with Vertical(id="library-box"):
                yield LibraryTable(id="library")
                yield ModelSummary(id="model-summary")
            yield ModelDetails(id="model-details")
        yield PullPanel(id="pulls-box")
        with Vertical(id="running-box"):
            yield Static(id="running-title")
            yield RunningTable(id="running")

    def on_mount(self) -> None:
        self.query_one(ModelSummary).show(None, None)
        self._show_status()
        self._show_running_title(None)

    def on_config_changed(self, event: ConfigChanged) -> None:
        self.apply_config(event.config)

    def on_connection_changed(self, event: ConnectionChanged) -> None:
        self.on_connection(event.state)

    def apply_config(self, config: Config) -> None:
        """New settings: the download limit applies at once (keep_alive is read per action)."""
        try:
            panel = self.pull_panel
        except NoMatches:  # not built yet: it reads the config when it is
            return
        panel.set_concurrency(config.pulls.concurrent)

    def start_pull(self, name: str) -> None:
        """Pull `name` (the App hands the chat's "not installed" model here)."""
        if self.pull_panel.remote_target(name) is not None or self.can(PULL):
            self.pull_panel.start_pull(name)

    def can(self, feature: str) -> bool:
        """Whether the current host offers `feature`; when it does not, a toast says so."""
        hosts = services(self).hosts
        if hosts.provider.supports(feature):
            return True
        why = ("an OpenAI-compatible server serves the models it was started with" if hosts.host.kind == "openai"
               else "this server does not offer it")
        self.notify(f"{feature_label(feature)} are not available on this host ({inert(hosts.host.name)}: {why})",
                    severity="warning", timeout=5)
        return False

    # -- parts ----------------------------------------------------------------------------------

    @property
    def library(self) -> LibraryTable:
        return self.query_one(LibraryTable)

    @property
    def running(self) -> RunningTable:
        return self.query_one(RunningTable)

    @property
    def pull_panel(self) -> PullPanel:
        return self.query_one(PullPanel)

    @property
    def details(self) -> ModelDetails:
        return self.query_one(ModelDetails)

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterInput).value

    # -- visibility: poll only while someone looks ----------------------------------------------

    @property
    def visible(self) -> bool:
        if not self.is_attached or not self.display:
            return False
        return tui_app(self).current_pane == self.id

    def focus_default(self) -> None:
        if self.has_class("-details-full"):
            self.details.focus()
        else:
            self.library.focus()

    def on_show(self) -> None:
        self._became_visible()

    def on_hide(self) -> None:
        self._stop_ps_timer()

    def _became_visible(self) -> None:
        if not self.visible:
            return
        if self._tags_dirty:
            self.refresh_models()
        self.refresh_running()

    def on_connection(self, state: ConnectionState) -> None:
        up = state.up
        came_back = up and self._was_up is False
        self._was_up = up
        if came_back:
            self._tags_dirty = True
            self._became_visible()

    def on_resize(self) -> None:
        self._fit_layout()

    @on(LibraryTable.NeedChanged)
    def _table_need_changed(self, message: LibraryTable.NeedChanged) -> None:
        message.stop()
        self._fit_layout()

    def _fit_layout(self) -> None:
        """The details beside the table when the pane is wide and the table keeps the room to
        show every column and every name in full; else the table has the whole width."""
        width = self.size.width
        room = width - self.library.full_width
        wide = width >= self.WIDE and room >= self.DETAILS_MIN
        was_visible = self.details_visible
        self.details.styles.width = min(room, int(width * self.DETAILS_SHARE)) if wide else None
        self.set_class(wide, "-wide")
        if wide and self.has_class("-details-full"):
            self.remove_class("-details-full")
        if self.details_visible and not was_visible:
            self._show_details()

    # -- the installed models -------------------------------------------------------------------

    @work(group="tags", exclusive=True, exit_on_error=False, description="list installed models")
    async def refresh_models(self, select: str | None = None) -> None:
        try:
            models = await services(self).provider.tags()
        except OllamaError as exc:
            self.list_error = exc.message
            self._tags_dirty = True
            self._show_status()
            self._selection_changed()
            # try again shortly while someone is looking; the last good list stays, marked stale
            if self._list_retry is not None:
                self._list_retry.stop()
            self._list_retry = self.set_timer(self.LIST_RETRY, self._retry_models)
            return
        self.list_error = None
        self._tags_dirty = False
        self.models = models
        keep = None
        if select is not None:
            keep = next((m.name for m in models if same_model(m.name, select)), None)
        self.library.show_models(models, self.filter_text, select=keep)
        self._show_status()
        self._selection_changed()

    def _retry_models(self) -> None:
        self._list_retry = None
        if self._tags_dirty and self.visible:
            self.refresh_models()

    def _show_status(self) -> None:
        table = self.library
        label = dict((k, lbl) for k, lbl, _w in COLUMNS)[table.sort_column].lower()
        arrow = "▼" if table.sort_reverse else "▲"
        count = (f"{len(table.shown)} of {len(self.models)}" if self.filter_text
                 else f"{len(self.models)}")
        parts: list[Any] = [f"{count} model{'s' if len(self.models) != 1 else ''} · by {label} {arrow}"]
        if self.list_error:
            parts = [("✕ list not refreshed", "bold $text-error")]
        self.query_one("#models-status", Static).update(Content.assemble(*parts), layout=False)

    @on(Input.Changed, "#models-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.library.show_models(self.models, event.value)
        self._show_status()
        self._selection_changed()

    @on(FilterInput.Leave)
    def _filter_left(self, event: FilterInput.Leave) -> None:
        event.stop()
        self.library.focus()

    @on(DataTable.RowHighlighted, "#library")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._selection_changed()

    @on(DataTable.RowSelected, "#library")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def _selected_details(self) -> tuple[ModelInfo | None, ModelShow | None, str | None]:
        info = self.library.selected
        if info is None:
            return None, None, None
        key = (info.name, info.digest)
        return info, self._shows.get(key), self._show_errors.get(key)

    @property
    def details_visible(self) -> bool:
        return self.has_class("-wide") or self.has_class("-details-full")

    def _selection_changed(self) -> None:
        """Show what is known about the selected model now; fetch the rest after a pause."""
        info, show, error = self._selected_details()
        self.query_one(ModelSummary).show(info, show, error=error, list_error=self.list_error)
        self._show_details()
        if info is not None and show is None and error is None:
            if self._details_timer is not None:
                self._details_timer.stop()
            self._details_timer = self.set_timer(self.DETAILS_DELAY, lambda: self.load_details(info))

    def _show_details(self) -> None:
        """Fill the details view — only while it is on screen (it is large to lay out)."""
        if not self.details_visible:
            return
        info, show, error = self._selected_details()
        details = self.details
        if info is None:
            details.show_message(None, "No model matches the filter." if self.models else "No model selected.")
        elif show is not None:
            details.show_details(info, show)
        elif error is not None:
            details.show_message(info, f"Details unavailable: {error}", error=True)
        else:
            details.show_message(info, "Loading details…")

    @work(group="details", exclusive=True, exit_on_error=False, description="fetch a model's details")
    async def load_details(self, info: ModelInfo) -> None:
        key = (info.name, info.digest)
        if key in self._shows:
            return
        try:
            show = await services(self).provider.show(info.name, digest=info.digest or None)
        except OllamaError as exc:
            self._show_errors[key] = exc.message
        else:
            self._shows[key] = show
            self._show_errors.pop(key, None)
        current = self.library.selected
        if current is not None and (current.name, current.digest) == key:
            self._selection_changed()

    # -- the running models ---------------------------------------------------------------------

    def _stop_ps_timer(self) -> None:
        if self._ps_timer is not None:
            self._ps_timer.stop()
            self._ps_timer = None

    def _next_ps(self) -> None:
        self._ps_timer = None
        if self.visible:
            self.refresh_running()

    @work(group="ps", exclusive=True, exit_on_error=False, description="list running models")
    async def refresh_running(self) -> None:
        """Take one sample, show it, then schedule the next one (only while visible)."""
        self._stop_ps_timer()
        if not services(self).provider.supports(PS):  # asked again when the host changes
            self.running.show_models([])
            self._show_running_title(0, unavailable=True)
            return
        try:
            models = await services(self).provider.ps()
        except OllamaError as exc:
            self._show_running_title(None, error=exc.message)
        else:
            self.running.show_models(models)
            self._show_running_title(len(models))
        if self.visible:
            self._ps_timer = self.set_timer(self.PS_INTERVAL, self._next_ps)

    def _show_running_title(self, count: int | None, *, error: str | None = None,
                            unavailable: bool = False) -> None:
        title = self.query_one("#running-title", Static)
        if unavailable:
            title.update(Content.assemble(("Loaded models ", "bold"),
                                          ("not available on this kind of server", "$text-muted")))
            self.running.display = False
            return
        if error is not None:
            title.update(Content.assemble(("Loaded models ", "bold"), ("✕ ", "$text-error"),
                                          (inert(error), "$text-error")))
            return
        if count is None:
            title.update(Content.assemble(("Loaded models ", "bold"), ("…", "$text-muted")))
            return
        hint = "none — l loads the selected model" if count == 0 else f"{count} · l keeps loaded, k unloads"
        title.update(Content.assemble(("Loaded models ", "bold"), (hint, "$text-muted")))
        self.running.display = count > 0

    # -- what the parts post ---------------------------------------------------------------------

    def _models_changed(self) -> None:
        self._tags_dirty = True  # listed when the pane is next shown, if not now
        if self.visible:
            self.refresh_models()

    @on(PullPanel.Finished)
    def _pull_finished(self, message: PullPanel.Finished) -> None:
        message.stop()
        self._models_changed()

    @on(ModelActions.LibraryChanged)
    def _library_changed(self, message: ModelActions.LibraryChanged) -> None:
        message.stop()
        self.refresh_models(select=message.select)

    @on(ModelActions.RunningChanged)
    def _running_changed(self, message: ModelActions.RunningChanged) -> None:
        message.stop()
        self.refresh_running()

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in _LETTER_ACTIONS and isinstance(self.app.focused, (Input, TextArea)):
            return False
        return True

    def _selected_or_say(self) -> ModelInfo | None:
        info = self.library.selected
        if info is None:
            self.notify("Select a model in the list first.", severity="warning", timeout=3)
        return info

    def action_focus_filter(self) -> None:
        if self.has_class("-details-full"):
            self.remove_class("-details-full")
        self.query_one(FilterInput).focus()

    def action_back(self) -> None:
        if self.has_class("-details-full"):
            self.remove_class("-details-full")
        self.library.focus()

    def action_sort_next(self) -> None:
        table = self.library
        index = SORT_KEYS.index(table.sort_column)
        table.sort_by(SORT_KEYS[(index + 1) % len(SORT_KEYS)], reverse=False)
        self._show_status()

    def action_sort_reverse(self) -> None:
        table = self.library
        table.sort_by(table.sort_column, reverse=not table.sort_reverse)
        self._show_status()

    def action_details(self) -> None:
        if self._selected_or_say() is None:
            return
        if not self.has_class("-wide"):
            self.add_class("-details-full")
            self._show_details()
        self.details.focus()

    def action_refresh(self) -> None:
        self.refresh_models()
        self.refresh_running()

    # -- keys handed to the pull panel ----------------------------------------------------------

    def action_pull(self) -> None:
        if self.can(PULL):
            self.pull_panel.ask_pull()

    def action_cancel_pull(self) -> None:
        self.pull_panel.cancel_selected()

    def action_toggle_layers(self) -> None:
        self.pull_panel.toggle_layers()

    def action_clear_pulls(self) -> None:
        self.pull_panel.clear_finished()

    def action_update(self) -> None:
        if not self.can(PULL):
            return
        info = self._selected_or_say()
        if info is not None:
            self.pull_panel.check_update(info.name)

    def action_update_all(self) -> None:
        if self.can(PULL):
            self.pull_panel.check_updates([m.name for m in self.models])

    def action_create(self) -> None:
        if not self.can(CREATE):
            return
        info = self.library.selected
        self.pull_panel.ask_create(info.name if info else "")

    # -- keys handed to the model actions -------------------------------------------------------

    def _target(self) -> str | None:
        """The model `k` / `l` act on: the loaded-models row when that table has focus."""
        if self.app.focused is self.running and self.running.selected is not None:
            return self.running.selected.name
        info = self.library.selected
        return info.name if info else None

    def action_delete(self) -> None:
        if not self.can(DELETE):
            return
        info = self._selected_or_say()
        if info is not None:
            self.model_actions.delete(info)

    def action_copy(self) -> None:
        if not self.can(COPY):
            return
        info = self._selected_or_say()
        if info is not None:
            self.model_actions.copy(info)

    def action_load(self) -> None:
        if not self.can(LOAD):
            return
        name = self._target()
        if name is None:
            self.notify("Select a model in the list first.", severity="warning", timeout=3)
            return
        info = next((m for m in self.models if same_model(name, m.name)), None)
        self.model_actions.load(name, info.size if info else None)

    def action_unload(self) -> None:
        if not self.can(LOAD):
            return
        name = self._target()
        if name is None:
            self.notify("Select a model first.", severity="warning", timeout=3)
            return
        self.model_actions.unload(name)

    # -- the command palette --------------------------------------------------------------------

    # (title, help, action) for the App's command palette; the App shows this pane first.
    COMMANDS = (
        ("Models: pull a model", "Download a model by name (p in the Models pane)", "pull"),
        ("Models: check all for updates", "Re-pull every installed model (U)", "update_all"),
        ("Models: create a model", "From a base model, system prompt, parameters (n)", "create"),
        ("Models: refresh", "List installed and loaded models again (R)", "refresh"),
    )

