"""The Models pane's pulls and creates: the pull rows and their title, the download manager that
runs them, starting one (with the free-space check; `name @ host` on another configured Ollama
host), cancelling, clearing, update checks, and what a finished job tells the user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Static

from tui.service.hosts import is_loopback
from tui.service.ollama.errors import InvalidModelName
from tui.service.ollama.names import normalize_model_name, validate_model_name
from tui.service.pulls import ProviderOpener, PullJob, PullManager
from tui.service.units import format_size
from tui.service.untrusted import inert
from tui.ui.access import services
from tui.ui.models.create_form import CreateModelDialog, CreateRequest
from tui.ui.models.pull_rows import PullChanged, PullList, PullRow
from tui.ui.shell.status_line import StatusLine
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


def name_error(name: str) -> str | None:
    """Why `name` is not a model name Ollama accepts, or None."""
    try:
        validate_model_name(name.strip())
    except InvalidModelName as exc:
        return str(exc)
    return None


class PullPanel(Vertical):
    """The pull (and create) rows with their title; hidden while there are none.

    It owns the `PullManager` that runs the jobs and the rows' bookkeeping (which rows are update
    checks, which were cleared, which finished job was reported). A job that ends in success or
    failure is toasted here; one on the current host's client is posted as `PullPanel.Finished`
    (the installed models changed). A job on another host (`name @ host`) is a row like any other
    ("name @ host") but changes nothing in this host's list, so it is not posted.
    """

    #: The keys of this panel. They work anywhere in the Models pane, so the pane binds them
    #: (Textual looks for bindings on the focused widget and its ancestors only, and this panel is
    #: hidden until there is a pull) and hands each to the method of the same meaning here:
    #: p → ask_pull, x → cancel_selected, t → toggle_layers, X → clear_finished,
    #: u → check_update (the selected model), U → check_updates (every installed model).
    PANE_KEYS = [
        Binding("p", "pull", "Pull", id="models_pull"),
        Binding("x", "cancel_pull", "Cancel pull (the ▶ row)", id="models_cancel_pull"),
        Binding("t", "toggle_layers", "Show/hide the layers of the ▶ pull", show=False, id="models_layers"),
        Binding("X", "clear_pulls", "Clear finished pulls", show=False, id="models_clear_pulls"),
        Binding("u", "update", "Check the model for an update", show=False, id="models_update"),
        Binding("U", "update_all", "Check every model for updates", show=False, id="models_update_all"),
    ]

    class Finished(Message):
        """A pull or create on the current host's client ended in success or failure: the
        installed models may have changed. (Never for a job on another host.)"""

        def __init__(self, job: PullJob) -> None:
            super().__init__()
            self.job = job

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.manager: PullManager | None = None
        self._update_checks: set[int] = set()
        self._reported: set[int] = set()
        self._cleared: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static(id="pulls-title")
        yield PullList(id="pull-list")

    def on_mount(self) -> None:
        # The manager follows host switches (Services.make_pulls hands it the new client).
        self.manager = services(self).make_pulls(concurrent=services(self).config.pulls.concurrent,
                                                 on_change=lambda job: self.post_message(PullChanged(job)))
        self.display = False

    async def on_unmount(self) -> None:
        if self.manager is not None:
            try:
                await self.manager.aclose()
            except Exception:  # the client may already be closed on the way out
                pass

    def set_concurrency(self, concurrent: int) -> None:
        """How many downloads run at once (the rest wait in the queue)."""
        if self.manager is not None:
            self.manager.set_concurrency(concurrent)

    @property
    def pull_list(self) -> PullList:
        return self.query_one(PullList)

    # -- starting jobs --------------------------------------------------------------------------

    def _space_warning(self, name: str) -> str | None:
        if self.manager is None or not is_loopback(services(self).provider.base_url):
            return None  # the models directory of a remote server is not ours to measure
        try:
            return self.manager.free_space_warning(name)
        except OSError:
            return None

    def remote_target(self, text: str) -> tuple[str, str] | None:
        """`name @ host` naming another configured host: (name, host); else None."""
        name, sep, host = text.rpartition("@")
        host = host.strip()
        hosts = services(self).hosts
        if not sep or hosts.named(host) is None or host == hosts.host.name:
            return None
        return name.strip(), host

    def _target_error(self, text: str) -> str | None:
        """The pull dialog's check: a model name, or `name @ host` with an Ollama host."""
        name, sep, host = text.rpartition("@")
        if sep:
            target = services(self).hosts.named(host.strip())
            if target is None:
                return f"no configured host is named {host.strip()!r}"
            if target.kind != "ollama":
                return f"{host.strip()} is not an Ollama host: pulls are not available there"
            return name_error(name)
        return name_error(text)

    def start_pull(self, name: str, *, update_check: bool = False) -> None:
        """Pull `name` (or `name @ host`, on that configured host): refused with a toast when it
        is no model name; asks first when the disk looks too small for it."""
        name = name.strip()
        remote = self.remote_target(name)
        if remote is not None:
            self._begin_pull(*remote)
            return
        name = name.rpartition("@")[0].strip() if "@" in name else name  # `name @ <this host>`
        error = name_error(name)
        if error is not None:
            self.notify(f"Not a valid model name: {error}", title="Pull refused", severity="error")
            return
        warning = self._space_warning(name)
        if warning is None:
            self._begin_pull(name, update_check=update_check)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._begin_pull(name, update_check=update_check)

        self.app.push_screen(ConfirmDialog(f"{warning}. Pull {name} anyway?"), answer)

    def _begin_pull(self, name: str, host: str = "", *, update_check: bool = False) -> PullJob | None:
        """Start (or find) the pull of `name` on the current host, or on the configured `host`:
        its row replaces a finished row of the same model there."""
        assert self.manager is not None
        try:
            job = self.manager.start(name, host=host, opener=self._opener(host))
        except (InvalidModelName, RuntimeError, ValueError) as exc:
            self.notify(inert(str(exc)), title="Pull refused", severity="error")
            return None
        pull_list = self.pull_list
        if pull_list.row(job.id) is None:
            key = normalize_model_name(name)
            stale = [r for r in pull_list.rows if r.job.finished and r.job.kind == "pull"
                     and r.job.host == host and normalize_model_name(r.job.name) == key]
            self._cleared.update(r.job.id for r in stale)
            pull_list.remove_rows(stale)
            if update_check:
                self._update_checks.add(job.id)
        pull_list.upsert(job, update_check=job.id in self._update_checks)
        pull_list.select(job.id)
        self._show_title()
        return job

    def _opener(self, host: str) -> ProviderOpener | None:
        """How a job on the configured `host` gets its provider: borrowed from the registry for
        the job's run (closed at its end unless it is the current host's). None for ""."""
        if not host:
            return None
        hosts = services(self).hosts
        target = hosts.named(host)
        if target is None:
            raise ValueError(f"no configured host is named {host!r}")
        if target.kind != "ollama":  # what the dialog refuses; a pull handed in from the chat too
            raise ValueError(f"{host} is not an Ollama host: pulls are not available there")
        return lambda: hosts.borrow(target)

    def start_create(self, request: CreateRequest) -> PullJob | None:
        """Create a model (from the create dialog); its progress is a row like a pull's."""
        assert self.manager is not None
        try:
            job = self.manager.create(request.name, from_=request.from_, system=request.system,
                                      parameters=request.parameters or None, template=request.template)
        except (InvalidModelName, RuntimeError) as exc:
            self.notify(str(exc), title="Create refused", severity="error")
            return None
        self.pull_list.upsert(job)
        self.pull_list.select(job.id)
        self._show_title()
        return job

    # -- what the keys do -----------------------------------------------------------------------

    def ask_pull(self) -> None:
        """The pull dialog; it starts with the ▶ row's name when the pull rows have focus."""
        value = ""
        row = self.pull_list.selected
        if self.app.focused is self.pull_list and row is not None and row.job.kind == "pull":
            value = f"{row.job.name} @ {row.job.host}" if row.job.host else row.job.name

        def done(name: str | None) -> None:
            if name:
                self.start_pull(name)

        prompt = "Pull a model — e.g. llama3.2, qwen3:8b, namespace/model:tag"
        if services(self).hosts.fleet:
            prompt += " — or name @ host to pull on another configured Ollama host (e.g. llama3.2 @ gpu2)"
        self.app.push_screen(TextDialog(prompt, value, placeholder="model[:tag] [@ host]",
                                        validate=self._target_error), done)

    def ask_create(self, base: str) -> None:
        """The create dialog, its base model field filled with `base`."""

        def done(request: CreateRequest | None) -> None:
            if request is not None:
                self.start_create(request)

        self.app.push_screen(CreateModelDialog(base), done)

    def cancel_selected(self) -> None:
        row: PullRow | None = self.pull_list.selected
        if row is None or not row.job.active or self.manager is None:
            self.notify("No running or queued pull is selected.", severity="warning", timeout=3)
            return
        self.manager.cancel(row.job.id)

    def toggle_layers(self) -> None:
        self.pull_list.action_toggle()

    def clear_finished(self) -> None:
        finished = [r for r in self.pull_list.rows if r.job.finished]
        self._cleared.update(r.job.id for r in finished)
        self.pull_list.remove_rows(finished)
        if self.manager is not None:
            self.manager.clear_finished()
        self.call_after_refresh(self._show_title)

    def check_update(self, name: str) -> None:
        """Re-pull `name`: only what changed is downloaded; the row says whether it was updated."""
        self._begin_pull(name, update_check=True)

    def check_updates(self, names: Sequence[str]) -> None:
        """Re-pull every one of `names` after the user agrees; the first one's row is ▶."""
        names = list(names)
        if not names:
            self.notify("No installed models to check.", severity="warning", timeout=3)
            return

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            first = None
            for name in names:
                job = self._begin_pull(name, update_check=True)
                first = first or job
            if first is not None:
                self.pull_list.select(first.id)

        self.app.push_screen(ConfirmDialog(
            f"Check all {len(names)} installed models for updates? Each one is re-pulled; only "
            "what changed is downloaded (x cancels a row)."), answer)

    # -- news from the manager ------------------------------------------------------------------

    @on(PullChanged)
    def _pull_changed(self, message: PullChanged) -> None:
        message.stop()
        job = message.job
        if job.id in self._cleared:
            return
        self.pull_list.upsert(job, update_check=job.id in self._update_checks)
        self._show_title()
        if job.finished and job.id not in self._reported:
            self._reported.add(job.id)
            self._job_finished(job)

    def _job_finished(self, job: PullJob) -> None:
        name = inert(job.name)
        where = f" on {inert(job.host)}" if job.host else ""
        if job.state == "success":
            if job.kind == "create":
                self.notify(f"Created {name}", title="Create")
            elif job.update_result == "up to date":
                self.notify(f"{name}{where} is up to date", title="Update check")
            elif job.update_result == "updated":
                self.notify(f"{name}{where} was updated", title="Update check")
            else:
                self.notify(f"Pulled {name}{where} ({format_size(job.bytes_total)})", title="Pull")
        elif job.state == "error":
            verb = "Create" if job.kind == "create" else "Pull"
            self.notify(f"{name}{where}: {inert(job.error or 'failed')}", title=f"{verb} failed", severity="error")
        else:
            return
        if not job.host:  # another host's models are not this list's (a create may have half-happened)
            self.post_message(self.Finished(job))

    def _show_title(self) -> None:
        jobs = [r.job for r in self.pull_list.rows]
        running = sum(1 for j in jobs if j.state == "running")
        queued = sum(1 for j in jobs if j.state == "queued")
        self.display = bool(jobs)
        parts = [f"{running} running"]
        if queued:
            parts.append(f"{queued} queued")
        done = len(jobs) - running - queued
        if done:
            parts.append(f"{done} done")
        keys = "x cancel ▶ · t layers" + (" · X clear done" if done else "")
        self.query_one("#pulls-title", Static).update(Content.assemble(
            ("Pulls ", "bold"), (" · ".join(parts), ""), ("  " + keys, "$text-muted")), layout=False)
        try:
            self.app.query_one(StatusLine).active_pulls = running + queued
        except NoMatches:
            pass
