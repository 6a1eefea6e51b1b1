"""One error path for workers: an exception a worker's own code did not handle is shown as a
toast and logged with its traceback, wherever the worker was started (the app, a pane, a
screen, a dialog).

Textual's Worker.StateChanged does not bubble: it reaches only the node that started the
worker, so a handler on the App would miss the panes' and screens' workers. Every worker,
whatever node starts it, is kept by the one App-wide WorkerManager (`DOMNode.workers` is
`self.app.workers`), which hears of each worker's end: that is where this hooks in.
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import TYPE_CHECKING

from textual.css.query import NoMatches
from textual.worker import Worker, WorkerState
from textual.worker_manager import WorkerManager

from tui.service.untrusted import inert

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)

MAX_TEXT = 300  # characters of the exception's text in the toast (the log has all of it)


def what_failed(worker: Worker) -> str:
    """The worker's description ("send a prompt"), else its name."""
    description = worker.description or ""
    if not description or description.startswith("<"):  # Textual's default: repr(work)
        description = worker.name or "a background task"
    return description


def failure_text(worker: Worker, error: BaseException) -> str:
    """"send a prompt failed: ValueError: boom": short and inert (shown with markup off)."""
    detail = inert(str(error)).strip()
    if len(detail) > MAX_TEXT:
        detail = detail[: MAX_TEXT - 1] + "…"
    kind = type(error).__name__
    return f"{what_failed(worker)} failed: {kind}: {detail}" if detail else f"{what_failed(worker)} failed: {kind}"


TOAST_TIMEOUT = 10.0


def closed_meanwhile(app: App, worker: Worker) -> bool:
    """The worker's screen was closed while the worker waited (F10 twice, Esc on a dialog), and
    what failed was a query for one of that screen's widgets, gone with it. Textual cancels a
    screen's workers only once all of its widgets are removed, so a worker that resumes in
    between finds none: not a failure to show."""
    from textual.screen import Screen

    if not isinstance(worker.error, NoMatches) or worker.node is app:
        return False
    node = worker.node
    try:
        screen = node if isinstance(node, Screen) else node.screen  # type: ignore[attr-defined]
    except Exception:  # no screen: the widget itself was removed
        return True
    return screen not in app.screen_stack


def report(app: App, worker: Worker, shown: dict[str, float] | None = None) -> None:
    """Log one failed worker with its traceback, and toast it — unless the same toast is still
    on screen (`shown`: text → when it was shown): a worker run at each key (search) that fails
    each time is logged each time and shown once."""
    error = worker.error
    if error is None:
        return
    if closed_meanwhile(app, worker):
        log.info("%s stopped: its screen was closed meanwhile (%s)", what_failed(worker), error)
        return
    log.error("%s failed (worker %r, group %r, started by %s)", what_failed(worker), worker.name,
              worker.group, type(worker.node).__name__, exc_info=(type(error), error, error.__traceback__))
    text = failure_text(worker, error)
    if shown is not None:
        now = monotonic()
        if now - shown.get(text, float("-inf")) < TOAST_TIMEOUT:
            return
        shown[text] = now
    try:
        app.notify(text, title="Something went wrong", severity="error", timeout=TOAST_TIMEOUT, markup=False)
    except Exception:  # the app is going away: the log has it
        log.debug("could not show a worker failure", exc_info=True)


class ReportingWorkerManager(WorkerManager):
    """The App's worker manager: a worker that ends in ERROR is reported (`report`).

    A cancelled worker is not an error; a worker with exit_on_error=True ends the app, whose
    exception handler logs it instead. Errors a worker catches itself never get here.
    """

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self._shown: dict[str, float] = {}

    def _remove_worker(self, worker: Worker) -> None:
        super()._remove_worker(worker)
        if worker.state == WorkerState.ERROR and not worker.exit_on_error:
            report(self._app, worker, self._shown)
