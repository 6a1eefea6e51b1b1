"""Compare & bench: side-by-side replies, benchmarks with a results table and chart, batch runs,
and the saved runs to reopen. The runs themselves live in tui/service/bench/. Compare and
benchmark offer the models of every reachable host (another host's as `model @ host`), so an
Ollama model and a vLLM one run on the same prompts; a batch runs on the current host."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)

from tui.service.bench import (
    DEFAULT_SEED,
    BatchRun,
    BenchmarkRun,
    BenchPlan,
    BenchResult,
    CompareRun,
    Run,
    preset_options,
    turn_request,
    vram_in_use,
)
from tui.service.bench.export import COLUMNS, row_cells, write_export
from tui.service.bench.hosts import ModelHosts, model_ref, split_ref
from tui.service.bench.prompts import BUILTIN_SETS, PromptSetError, load_prompts
from tui.service.bench.store import BenchStore
from tui.service.ollama.errors import OllamaError
from tui.service.ollama.names import normalize_model_name
from tui.service.providers.listing import list_everywhere
from tui.service.untrusted import inert
from tui.ui.access import services, tui_app
from tui.ui.chat.pane import ChatPane
from tui.ui.compare.widgets import CompareColumn, RateChart
from tui.ui.shell.key_bar import KeyBar
from tui.ui.widgets.dialogs import TextDialog

TABS = ("compare", "benchmark", "batch", "saved")
#: How long the model lists wait for each host (all asked at once; a slow one is skipped).
LIST_TIMEOUT = 3.0
FILE_SET = "file"


class BenchScreen(Screen[None]):
    """Reached with F10 (or Alt+5) and from the command palette."""

    CSS_PATH = "compare.tcss"
    BINDINGS = [
        Binding("escape", "stop_or_close", "Stop all runs (again: close)", id="bench_stop"),
        Binding("ctrl+r", "run", "Run this tab's compare, benchmark or batch", id="bench_run"),
        # priority: a focused Input would take Ctrl+E as "cursor to the end" (End does that too)
        Binding("ctrl+e", "export", "Export results (.md, .json, .csv)", priority=True, id="bench_export"),
        Binding("ctrl+l", "last_prompt", "Compare: use the chat's last prompt", id="bench_last_prompt"),
        Binding("d", "delete_saved", "Delete the saved run (Saved runs tab)", show=False, id="bench_delete"),
    ]

    def __init__(self, tab: str = "compare") -> None:
        super().__init__()
        self.initial_tab = tab if tab in TABS else "compare"
        self.run: Run | None = None
        self.result: BenchResult | None = None  # the latest or reopened run (what Ctrl+E exports)
        self.shown: dict[str, BenchResult] = {}  # tab -> result on show there
        self.models: list[str] = []

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        presets = [(Text(inert(name)), name) for name in services(self).config.presets]
        default_preset = services(self).config.chat.default_preset
        with TabbedContent(initial=self.initial_tab, id="bench-tabs"):
            with TabPane("Compare", id="compare"):
                with Horizontal(classes="bench-form"):
                    yield SelectionList[str](id="compare-models", classes="model-list")
                    with Vertical():
                        yield Input(placeholder="Prompt (Enter or Ctrl+R runs; Ctrl+L: the chat's last prompt)",
                                    id="compare-prompt")
                        yield Checkbox("Run at once (the server queues what it can't run in parallel)",
                                       id="compare-concurrent")
                        yield Button("Run", id="compare-run", variant="primary")
                yield Horizontal(id="compare-columns")
                yield RateChart(id="compare-chart")
            with TabPane("Benchmark", id="benchmark"):
                with Horizontal(classes="bench-form"):
                    yield SelectionList[str](id="bench-models", classes="model-list")
                    with Vertical():
                        with Horizontal(classes="field-row"):
                            yield Label("Prompts")
                            yield Select([(f"built-in: {name}", name) for name in BUILTIN_SETS]
                                         + [("a file…", FILE_SET)], value="short", allow_blank=False,
                                         id="bench-set")
                            yield Input(placeholder="prompt file (.txt one per line, or .toml)", id="bench-file")
                        with Horizontal(classes="field-row"):
                            yield Label("Repeats")
                            yield Input("3", id="bench-repeats", type="integer")
                            yield Label("Preset")
                            yield Select(presets, value=default_preset if default_preset in services(self).config.presets
                                         else Select.BLANK, id="bench-preset")
                        yield Checkbox("Unload first and measure the cold load", True, id="bench-cold")
                        yield Button("Run", id="bench-run", variant="primary")
                yield ProgressBar(id="bench-progress", show_eta=False)
                yield Static("", id="bench-status", classes="status")
                yield DataTable(id="bench-table", cursor_type="row", zebra_stripes=True)
                yield RateChart(id="bench-chart")
            with TabPane("Batch", id="batch"):
                with Vertical(classes="bench-form"):
                    with Horizontal(classes="field-row"):
                        yield Label("Model")
                        yield Select([], id="batch-model")
                        yield Label("At once")
                        yield Input("2", id="batch-concurrency", type="integer")
                    with Horizontal(classes="field-row"):
                        yield Label("Prompts")
                        yield Input(placeholder="prompt file: one prompt per line, or a .toml list",
                                    id="batch-file")
                        yield Button("Run", id="batch-run", variant="primary")
                yield ProgressBar(id="batch-progress", show_eta=False)
                yield Static("Each reply becomes a chat session titled “Batch #N · …”.", id="batch-status",
                             classes="status")
            with TabPane("Saved runs", id="saved"):
                yield DataTable(id="saved-table", cursor_type="row", zebra_stripes=True)
                yield Static("Enter reopens the run · d deletes it (a batch's chats stay)", classes="status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#bench-table", DataTable).add_columns(*COLUMNS)
        self.query_one("#saved-table", DataTable).add_columns("#", "When", "Kind", "Status", "Models", "Title")
        self.query_one("#bench-file", Input).display = False
        self.load_models()
        self.load_saved()

    # -- data -----------------------------------------------------------------------------------

    @work(group="bench-models", exclusive=True, exit_on_error=False, description="list the installed models")
    async def load_models(self) -> None:
        """Every reachable host's models: the current host's by name, the others' as
        `model @ host` (compare and benchmark run across hosts; a batch on the current one)."""
        hosts = services(self).hosts
        current = hosts.host.name
        listing = await list_everywhere(hosts, timeout=LIST_TIMEOUT)
        local: list[str] = []
        refs: list[str] = []
        for entry in listing:
            if entry.error is not None:
                if entry.host.name == current:
                    self.notify(f"Cannot list the models: {entry.error}", severity="error", markup=False)
                else:
                    self.notify(f"Host {entry.host.name}: not reachable ({entry.error}); its models are not "
                                "offered.", severity="warning", markup=False)
                continue
            names = sorted(m.name for m in entry.models if "embedding" not in (m.capabilities or ()))
            if entry.host.name == current:
                local = names
            refs += [model_ref(name, entry.host.name, current) for name in names]
        self.models = refs
        for list_id in ("#compare-models", "#bench-models"):
            selection = self.query_one(list_id, SelectionList)
            selection.clear_options()
            selection.add_options([(Text(inert(ref)), ref) for ref in self.models])
        batch = self.query_one("#batch-model", Select)
        batch.set_options([(Text(inert(name)), name) for name in local])
        if local:
            batch.value = local[0]

    @property
    def store(self) -> BenchStore | None:
        history = services(self).history
        return BenchStore(history) if history is not None else None

    @work(group="bench-saved", exclusive=True, exit_on_error=False, description="list the saved runs")
    async def load_saved(self) -> None:
        store = self.store
        if store is None:
            return
        table = self.query_one("#saved-table", DataTable)
        table.clear()
        for run in await store.list_runs():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created_at))
            table.add_row(*(Text(inert(str(c))) for c in (run.id, when, run.kind, run.status,
                                                          ", ".join(run.models), run.title)), key=str(run.id))

    # -- running --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.run is not None

    def _options(self, preset: str | None) -> dict[str, Any] | None:
        try:
            return preset_options(services(self).config, preset, DEFAULT_SEED)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None

    async def _vram(self) -> int | None:
        snapshot = tui_app(self).sampler.last
        return vram_in_use(snapshot.gpu) if snapshot is not None else None

    def action_run(self) -> None:
        if self.running:
            self.notify("A run is going on; Esc stops it.", severity="warning")
            return
        tab = self.query_one(TabbedContent).active
        if tab == "compare":
            self.start_compare()
        elif tab == "benchmark":
            self.start_benchmark()
        elif tab == "batch":
            self.start_batch()

    @on(Button.Pressed, "#compare-run, #bench-run, #batch-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Input.Submitted, "#compare-prompt")
    def _prompt_submitted(self) -> None:
        self.action_run()

    def _selected(self, list_id: str) -> list[str] | None:
        models = list(self.query_one(list_id, SelectionList).selected)
        if not models:
            self.notify("Pick at least one model (Space selects).", severity="warning")
            return None
        return models

    def start_compare(self) -> None:
        models = self._selected("#compare-models")
        prompt = self.query_one("#compare-prompt", Input).value.strip()
        if not models:
            return
        if not prompt:
            self.notify("Type a prompt first (or Ctrl+L for the chat's last one).", severity="warning")
            return
        options = self._options(None)
        if options is None:
            return
        concurrent = self.query_one("#compare-concurrent", Checkbox).value
        self._run_compare(models, prompt, options, concurrent)

    @work(group="bench-run", exclusive=True, exit_on_error=False, description="compare the models")
    async def _run_compare(self, models: list[str], prompt: str, options: dict[str, Any], concurrent: bool) -> None:
        columns = await self._new_columns(models)
        hosts = await self._open_hosts(models, "Compare")
        if hosts is None:
            return
        async with hosts:
            run = CompareRun(services(self).provider, models, prompt, options=options, concurrent=concurrent,
                             preset=services(self).config.chat.default_preset, vram_probe=self._vram,
                             on_delta=lambda i, piece: columns[i].feed(piece),
                             on_measurement=lambda i, m: columns[i].show_stats(None, m), provider_for=hosts)
            result = await self._execute(run)
        await self._show_compare(result, columns)

    async def _open_hosts(self, models: list[str] | tuple[str, ...], what: str) -> ModelHosts | None:
        """The providers of the hosts `models` are on, opened (None: one could not be made; said)."""
        hosts = ModelHosts(services(self).hosts, models)
        try:
            await hosts.open()
        except (OllamaError, ValueError) as exc:  # a host whose client cannot be made
            self.notify(f"{what} not run: {exc}", severity="error", markup=False)
            return None
        return hosts

    async def _new_columns(self, models: list[str]) -> list[CompareColumn]:
        box = self.query_one("#compare-columns", Horizontal)
        await box.remove_children()
        columns = [CompareColumn(model, i) for i, model in enumerate(models)]
        await box.mount_all(columns)
        self.query_one("#compare-chart", RateChart).show([])
        return columns

    async def _show_compare(self, result: BenchResult, columns: list[CompareColumn]) -> None:
        summaries = result.summaries()
        ranks = {s.model: i for i, s in enumerate(summaries, 1) if s.median("tokens_per_s") is not None}
        by_index = {m.model: m for m in result.measurements}
        for column in columns:
            if column.model in by_index:
                await column.finish(by_index[column.model], ranks.get(column.model))
        self.query_one("#compare-chart", RateChart).show(summaries)
        self.shown["compare"] = result

    def start_benchmark(self) -> None:
        models = self._selected("#bench-models")
        if not models:
            return
        chosen = self.query_one("#bench-set", Select).value
        source = self.query_one("#bench-file", Input).value.strip() if chosen == FILE_SET else str(chosen)
        try:
            prompts = load_prompts(source)
        except PromptSetError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        repeats_text = self.query_one("#bench-repeats", Input).value.strip()
        if not repeats_text.isdigit() or int(repeats_text) < 1:
            self.notify("Repeats must be a whole number of at least 1.", severity="error")
            return
        preset_value = self.query_one("#bench-preset", Select).value
        preset = preset_value if isinstance(preset_value, str) else None
        options = self._options(preset)
        if options is None:
            return
        plan = BenchPlan(tuple(models), tuple(prompts), repeats=int(repeats_text), options=options,
                         preset=preset or services(self).config.chat.default_preset,
                         prompt_set=source if chosen != FILE_SET else Path(source).name,
                         cold=self.query_one("#bench-cold", Checkbox).value)
        self._run_benchmark(plan)

    @work(group="bench-run", exclusive=True, exit_on_error=False, description="benchmark the models")
    async def _run_benchmark(self, plan: BenchPlan) -> None:
        bar = self.query_one("#bench-progress", ProgressBar)
        status = self.query_one("#bench-status", Static)
        hosts = await self._open_hosts(plan.models, "Benchmark")
        if hosts is None:
            return
        async with hosts:
            run = BenchmarkRun(services(self).provider, plan, vram_probe=self._vram, provider_for=hosts,
                               on_progress=lambda done, total, label: (bar.update(total=total, progress=done),
                                                                      status.update(Text(inert(label)))))
            bar.update(total=run.total, progress=0)
            result = await self._execute(run)
        status.update(Text(f"{result.status} · {run.done}/{run.total} runs"))
        self.show_results(result)

    def show_results(self, result: BenchResult) -> None:
        table = self.query_one("#bench-table", DataTable)
        table.clear()
        summaries = result.summaries()
        for summary in summaries:
            table.add_row(*(Text(inert(cell)) for cell in row_cells(summary)), key=summary.model)
        self.query_one("#bench-chart", RateChart).show(summaries)
        self.shown["benchmark"] = result

    def start_batch(self) -> None:
        history = services(self).history
        model = self.query_one("#batch-model", Select).value
        if history is None or not isinstance(model, str):
            self.notify("Pick a model (and wait for the history to open).", severity="warning")
            return
        concurrency = self.query_one("#batch-concurrency", Input).value.strip()
        if not concurrency.isdigit() or not 1 <= int(concurrency) <= 16:
            self.notify("At once must be between 1 and 16.", severity="error")
            return
        source = self.query_one("#batch-file", Input).value.strip()
        try:
            prompts = load_prompts(source) if source else []
        except PromptSetError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        if not prompts:
            self.notify("Give a prompt file.", severity="warning")
            return
        self._run_batch(model, prompts, int(concurrency), source)

    @work(group="bench-run", exclusive=True, exit_on_error=False, description="run the batch")
    async def _run_batch(self, model: str, prompts: list[str], concurrency: int, source: str) -> None:
        history = services(self).require_history()
        provider = services(self).provider
        request = await turn_request(provider, services(self).config, model, None)
        bar = self.query_one("#batch-progress", ProgressBar)
        status = self.query_one("#batch-status", Static)
        run = BatchRun(provider, history, BenchStore(history), request, prompts, concurrency=concurrency,
                       source=source, vram_probe=self._vram,
                       on_progress=lambda done, total, label: (bar.update(total=total, progress=done),
                                                              status.update(Text(inert(label)))))
        bar.update(total=run.total, progress=0)
        result = await self._execute(run, save=False)  # the batch saves itself (its id tags the sessions)
        status.update(Text(f"Batch #{result.id} {result.status}: {len(run.session_ids)} chat sessions written"))
        self._list_chats_again()
        self.show_results(result)

    def _list_chats_again(self) -> None:
        """The chat's session list, after a batch wrote sessions into the history."""
        chat = self.app.query_one(ChatPane)
        if chat.store is not None:
            self.run_worker(chat.refresh_sessions(), group="relist-chats", exit_on_error=False,
                            description="list the chats again")

    async def _execute(self, run: Run, *, save: bool = True) -> BenchResult:
        """Run, then remember and save the result however it ended."""
        self.run = run
        try:
            result = await run.run()
        finally:
            self.run = None
        self.result = result
        store = self.store
        if save and store is not None:
            await store.save(result)
        self.load_saved()
        if result.status == "cancelled":
            self.notify("Stopped; what was measured is kept.", title=result.kind.title())
        return result

    # -- keys -----------------------------------------------------------------------------------

    def action_stop_or_close(self) -> None:
        if self.run is not None:
            self.run.cancel()
        else:
            self.action_close()

    def action_close(self) -> None:
        if self.run is not None:
            self.run.cancel()
        self.dismiss(None)

    @work(group="bench-misc", exclusive=True, exit_on_error=False, description="read the chat's last prompt")
    async def action_last_prompt(self) -> None:
        history = services(self).history
        session = self.app.query_one(ChatPane).session
        prompts = await history.user_prompts(session.id, 1) if history is not None and session else []
        if not prompts:
            self.notify("The open chat has no prompt yet.", severity="warning")
            return
        self.query_one(TabbedContent).active = "compare"
        self.query_one("#compare-prompt", Input).value = prompts[-1]
        model = session.model
        selection = self.query_one("#compare-models", SelectionList)
        hosts = services(self).hosts
        host = session.host or hosts.host.name  # the session's host, when it has one
        wanted = normalize_model_name(model) if model else None  # "llama3.2" is "llama3.2:latest"
        for ref in self.models:
            on, name = split_ref(ref, hosts.known, hosts.host.name)
            if on == host and normalize_model_name(name) == wanted:
                selection.select(ref)

    def action_export(self) -> None:
        tab = self.query_one(TabbedContent).active
        result = self.shown.get("benchmark" if tab in ("batch", "saved") else tab) or self.result
        if result is None:
            self.notify("Nothing to export yet: run or reopen something first.", severity="warning")
            return
        default = str(Path.home() / f"ollama-bench-{result.id or 'run'}.md")

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                written = write_export(result, path)
            except (OSError, ValueError) as exc:
                self.notify(f"Not exported: {exc}", severity="error", markup=False)
            else:
                self.notify(f"Exported to {written}", markup=False)

        self.app.push_screen(TextDialog("Export to (.md, .json or .csv):", default), chosen)

    @on(DataTable.RowSelected, "#saved-table")
    def _reopen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.reopen(int(event.row_key.value))

    @work(group="bench-misc", exclusive=True, exit_on_error=False, description="reopen the saved run")
    async def reopen(self, run_id: int) -> None:
        store = self.store
        result = await store.load(run_id) if store is not None else None
        if result is None:
            self.notify(f"Run #{run_id} is gone.", severity="warning")
            return
        self.result = result
        if result.kind == "compare":
            self.query_one("#compare-prompt", Input).value = result.prompts[0] if result.prompts else ""
            columns = await self._new_columns(result.models)
            summaries = {s.model: i for i, s in enumerate(result.summaries(), 1)}
            # Saved in the order the replies finished (models run at once finish in any order):
            # each column takes its own model's measurement.
            by_model = {m.model: m for m in result.measurements}
            for column in columns:
                if column.model in by_model:
                    await column.show_saved(by_model[column.model], summaries.get(column.model))
            await self._show_compare(result, columns)
            self.query_one(TabbedContent).active = "compare"
        else:
            self.show_results(result)
            self.query_one("#bench-status", Static).update(
                Text(inert(f"Run #{run_id} · {result.kind} · {result.title} · {result.status}")))
            self.query_one(TabbedContent).active = "benchmark"

    def action_delete_saved(self) -> None:
        table = self.query_one("#saved-table", DataTable)
        if self.query_one(TabbedContent).active != "saved" or table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None:
            self._delete(int(key))

    @work(group="bench-misc", exclusive=True, exit_on_error=False, description="delete the saved run")
    async def _delete(self, run_id: int) -> None:
        store = self.store
        if store is not None and await store.delete(run_id):
            self.notify(f"Run #{run_id} deleted.")
            self.load_saved()

    @on(Select.Changed, "#bench-set")
    def _set_changed(self, event: Select.Changed) -> None:
        self.query_one("#bench-file", Input).display = event.value == FILE_SET
