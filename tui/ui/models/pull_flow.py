"""The Models pane's pulls and creates: starting them (with the free-space check), the pull list
and its title, what a finished job tells the user, and the pull / cancel / update / create
actions. Mixed into ModelsPane (its PullChanged handler stays on the pane: Textual collects
``@on`` handlers only from widget classes)."""

from __future__ import annotations

from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Static

from tui.service.hosts import is_loopback
from tui.service.ollama.errors import InvalidModelName
from tui.service.ollama.names import normalize_model_name, validate_model_name
from tui.service.pulls import PullJob
from tui.service.units import format_size
from tui.service.untrusted import inert
from tui.ui.access import services
from tui.ui.models.create_form import CreateModelDialog, CreateRequest
from tui.ui.models.pull_rows import PullRow
from tui.ui.shell.status_line import StatusLine
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


def name_error(name: str) -> str | None:
    """Why `name` is not a model name Ollama accepts, or None."""
    try:
        validate_model_name(name.strip())
    except InvalidModelName as exc:
        return str(exc)
    return None


class PullFlow:
    """Needs: self.app, self.pulls, self.pull_list, self.library, self.models, self._cleared,
    self._reported, self._update_checks, self._tags_dirty, self.visible, self.refresh_models,
    self._selected_or_say, self.query_one, self.notify…"""

    def _space_warning(self, name: str) -> str | None:
        if self.pulls is None or not is_loopback(services(self).provider.base_url):
            return None  # the models directory of a remote server is not ours to measure
        try:
            return self.pulls.free_space_warning(name)
        except OSError:
            return None

    def start_pull(self, name: str, *, update_check: bool = False) -> None:
        """Pull `name` (from the pull dialog, `u`, or the chat's "not installed")."""
        name = name.strip()
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

    def _begin_pull(self, name: str, *, update_check: bool = False) -> PullJob | None:
        assert self.pulls is not None
        try:
            job = self.pulls.start(name)
        except (InvalidModelName, RuntimeError) as exc:
            self.notify(str(exc), title="Pull refused", severity="error")
            return None
        pull_list = self.pull_list
        if pull_list.row(job.id) is None:
            key = normalize_model_name(name)
            stale = [r for r in pull_list.rows
                     if r.job.finished and r.job.kind == "pull" and normalize_model_name(r.job.name) == key]
            self._cleared.update(r.job.id for r in stale)
            pull_list.remove_rows(stale)
            if update_check:
                self._update_checks.add(job.id)
        pull_list.upsert(job, update_check=job.id in self._update_checks)
        pull_list.select(job.id)
        self._pulls_changed()
        return job

    def _job_finished(self, job: PullJob) -> None:
        name = inert(job.name)
        if job.state == "success":
            if job.kind == "create":
                self.notify(f"Created {name}", title="Create")
            elif job.update_result == "up to date":
                self.notify(f"{name} is up to date", title="Update check")
            elif job.update_result == "updated":
                self.notify(f"{name} was updated", title="Update check")
            else:
                self.notify(f"Pulled {name} ({format_size(job.bytes_total)})", title="Pull")
            self._tags_dirty = True
            if self.visible:
                self.refresh_models()
        elif job.state == "error":
            verb = "Create" if job.kind == "create" else "Pull"
            self.notify(f"{name}: {inert(job.error or 'failed')}", title=f"{verb} failed", severity="error")
            self._tags_dirty = True  # a create may have half-happened; never leave the list lying
            if self.visible:
                self.refresh_models()

    def _pulls_changed(self) -> None:
        jobs = [r.job for r in self.pull_list.rows]
        running = sum(1 for j in jobs if j.state == "running")
        queued = sum(1 for j in jobs if j.state == "queued")
        self.query_one("#pulls-box").display = bool(jobs)
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

    # -- actions --------------------------------------------------------------------------------

    def action_pull(self) -> None:
        value = ""
        row = self.pull_list.selected
        if self.app.focused is self.pull_list and row is not None and row.job.kind == "pull":
            value = row.job.name

        def done(name: str | None) -> None:
            if name:
                self.start_pull(name)

        self.app.push_screen(TextDialog("Pull a model — e.g. llama3.2, qwen3:8b, namespace/model:tag",
                                        value, placeholder="model[:tag]", validate=name_error), done)

    def action_cancel_pull(self) -> None:
        row: PullRow | None = self.pull_list.selected
        if row is None or not row.job.active or self.pulls is None:
            self.notify("No running or queued pull is selected.", severity="warning", timeout=3)
            return
        self.pulls.cancel(row.job.id)

    def action_toggle_layers(self) -> None:
        self.pull_list.action_toggle()

    def action_clear_pulls(self) -> None:
        finished = [r for r in self.pull_list.rows if r.job.finished]
        self._cleared.update(r.job.id for r in finished)
        self.pull_list.remove_rows(finished)
        if self.pulls is not None:
            self.pulls.clear_finished()
        self.call_after_refresh(self._pulls_changed)

    def action_update(self) -> None:
        info = self._selected_or_say()
        if info is not None:
            self._begin_pull(info.name, update_check=True)

    def action_update_all(self) -> None:
        names = [m.name for m in self.models]
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

    def action_create(self) -> None:
        info = self.library.selected

        def done(request: CreateRequest | None) -> None:
            if request is not None:
                self.start_create(request)

        self.app.push_screen(CreateModelDialog(info.name if info else ""), done)

    def start_create(self, request: CreateRequest) -> PullJob | None:
        assert self.pulls is not None
        try:
            job = self.pulls.create(request.name, from_=request.from_, system=request.system,
                                    parameters=request.parameters or None, template=request.template)
        except (InvalidModelName, RuntimeError) as exc:
            self.notify(str(exc), title="Create refused", severity="error")
            return None
        self.pull_list.upsert(job)
        self.pull_list.select(job.id)
        self._pulls_changed()
        return job
