"""One row per pull (or create): bar, bytes, rate, ETA, stage, and per-layer detail on demand."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from tui.service.pulls import PullJob
from tui.service.pulls.progress import LayerProgress
from tui.service.units import format_duration, format_size
from tui.service.untrusted import inert

SYMBOLS = {"queued": "…", "running": "⇣", "success": "✓", "error": "✕", "cancelled": "⊘"}
STATE_WORDS = {"queued": "queued", "running": "", "success": "done", "error": "failed",
               "cancelled": "cancelled"}


class PullChanged(Message):
    """A pull or create job has news; a newer one for the same job replaces a queued older one."""

    def __init__(self, job: PullJob) -> None:
        super().__init__()
        self.job = job

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PullChanged) and message.job.id == self.job.id


def bar(fraction: float | None, width: int) -> tuple[str, str]:
    """(filled, empty) parts of a text progress bar `width` cells wide."""
    width = max(0, width)
    if fraction is None:
        return "", "░" * width
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "█" * filled, "░" * (width - filled)


def _cut(text: str, width: int) -> str:
    if width <= 1:
        return text[:max(0, width)]
    return text if len(text) <= width else text[: width - 1] + "…"


def layer_line(index: int, count: int, layer: LayerProgress, current: bool) -> str:
    digest = (layer.digest or "model").removeprefix("sha256:")[:12]
    total = layer.total or 0
    pct = f"{100 * layer.completed / total:3.0f}%" if total else "  ?%"
    sizes = f"{format_size(layer.completed)} / {format_size(total)}" if total else format_size(layer.completed)
    if layer.cached:
        note = "already present"
    elif layer.done:
        note = "done" + (f" (resumed from {format_size(layer.initial)})" if layer.resumed else "")
    elif current:
        note = "downloading" + (f", resumed from {format_size(layer.initial)}" if layer.resumed else "")
    else:
        note = ""
    return f"layer {index}/{count} {digest}  {pct}  {sizes}  {note}".rstrip()


class ShownProgress:
    """The fraction a row shows: never moves backwards, and still moves after the total grows.

    Ollama announces each layer only when it starts on it, so the known total grows during a
    pull and done/total can drop (a projector layer after the weights). Instead of freezing the
    bar until the real fraction catches up, the bytes known so far fill SHARE of the still-empty
    part of the bar, and each time the total grows the new bytes fill SHARE of what is left
    then. So the bar always moves while bytes arrive, and reaches the end only on success.
    """

    SHARE = 0.95

    def __init__(self) -> None:
        self.fraction: float | None = None
        self._total: float | None = None  # the total the current mapping is based on
        self._base_fraction = 0.0
        self._base_done = 0

    def update(self, job: PullJob) -> float | None:
        if job.state == "success":
            self.fraction = 1.0
            return self.fraction
        if job.percent is None:
            return self.fraction
        done = job.bytes_done
        target = 0.0
        if job.percent > 0:
            total = done * 100 / job.percent
            if self._total is None or total > self._total * 1.001:
                # the known total grew: map what is left onto the rest of the bar
                first = self._total is None
                self._total = total
                self._base_fraction = 0.0 if first else (self.fraction or 0.0)
                self._base_done = 0 if first else done
            left = self._total - self._base_done
            progress = (done - self._base_done) / left if left > 0 else 1.0
            progress = max(0.0, min(1.0, progress))
            target = self._base_fraction + (1.0 - self._base_fraction) * self.SHARE * progress
        if self.fraction is None or target > self.fraction:
            self.fraction = target
        return self.fraction


class PullRow(Widget):
    """Renders one PullJob snapshot; `expanded` adds a line per layer."""

    DEFAULT_CSS = "PullRow { height: auto; text-wrap: nowrap; }"

    def __init__(self, job: PullJob, *, update_check: bool = False) -> None:
        super().__init__(classes="pull-row")
        self.job = job
        self.update_check = update_check
        self.expanded = False
        self.selected = False
        self.progress = ShownProgress()
        self.progress.update(job)
        self._lines = 0

    @property
    def shown_fraction(self) -> float | None:
        return self.progress.fraction

    def set_job(self, job: PullJob) -> None:
        if job.id != self.job.id:  # a new attempt at the same model: start over
            self.progress = ShownProgress()
        self.job = job
        self.progress.update(job)
        self._refresh_lines()

    def _line_count(self) -> int:
        return len(self.lines(max(20, self.size.width)))

    def _refresh_lines(self) -> None:
        """A progress tick repaints the row; only a change in its height re-lays out the pane."""
        lines = self._line_count()
        self.refresh(layout=lines != self._lines)
        self._lines = lines

    def set_selected(self, selected: bool) -> None:
        self.selected = selected
        self.set_class(selected, "-selected")
        self.refresh()

    def toggle_expanded(self) -> None:
        self.expanded = not self.expanded
        self._refresh_lines()

    # -- text ---------------------------------------------------------------------------------

    def title(self) -> str:
        """The model, with the host when the job runs on another one ("llama3.2 @ gpu2"); the
        caller makes it inert (the host's name is config text, the model's may be a server's)."""
        job = self.job
        name = f"{job.name} @ {job.host}" if job.host else job.name
        if job.kind == "create":
            return f"create {name}"
        if self.update_check:
            return f"update {name}"
        return name

    def _cut_title(self, title: str, width: int) -> str:
        """`title` in `width` cells; a long model name is cut before " @ host", so the host of a
        job on another host stays in sight while there is room for a few letters of the name."""
        suffix = f" @ {inert(self.job.host)}" if self.job.host else ""
        if len(title) <= width or not suffix or width - len(suffix) < 4:
            return _cut(title, width)
        return _cut(title[: -len(suffix)], width - len(suffix)) + suffix

    def percent_text(self) -> str:
        if self.job.state == "success":
            return "100%"
        if self.shown_fraction is None:
            return "  ?%"
        return f"{int(self.shown_fraction * 100):3d}%"

    def detail_text(self) -> str:
        job = self.job
        total = f"{format_size(job.bytes_total)}{'' if job.total_known else '+'}"
        sizes = f"{format_size(job.bytes_done)} / {total}" if job.bytes_total else ""
        resumed = f"resuming from {format_size(job.resumed_bytes)}" if job.resumed else ""
        if job.state == "queued":
            return "queued — waiting for a free download slot"
        if job.state == "running":
            if job.kind == "create" and not job.bytes_total:
                return job.stage_text
            rate = f"{format_size(job.rate)}/s" if job.rate else "– /s"
            eta = f"ETA {format_duration(job.eta)}" if job.eta is not None else "ETA ?"
            parts = [p for p in (sizes, rate, eta, resumed, job.stage_text) if p]
            return " · ".join(parts)
        if job.state == "success":
            took = f" in {format_duration(job.elapsed)}" if job.elapsed is not None else ""
            if job.kind == "create":
                return f"created{took}"
            if job.update_result == "up to date":
                return f"up to date (checked{took})"
            if job.update_result == "updated":
                return f"updated{took}" + (f" · {format_size(job.bytes_total)}" if job.bytes_total else "")
            return f"pulled {format_size(job.bytes_total)}{took}" + (" (resumed)" if job.resumed else "")
        if job.state == "error":
            return f"error: {job.error or 'unknown error'}"
        # cancelled
        kept = f" at {sizes}" if sizes else ""
        same = "the same name @ host" if job.host else "the same name"
        again = f"p and {same} resumes it" if job.kind == "pull" else "n starts it again"
        return f"cancelled{kept} — {again}"

    def lines(self, width: int) -> list[Content]:
        """The row as lines no wider than `width` (cut, never wrapped by the renderer), so the
        row's height is known without laying it out."""
        job = self.job
        marker = "▶ " if self.selected else "  "
        symbol = SYMBOLS.get(job.state, "?")
        title = inert(self.title())
        pct = self.percent_text()
        word = STATE_WORDS.get(job.state, job.state)
        # the name gets at most a third of the line; the bar takes the rest
        name_width = min(len(title), max(10, width // 3))
        bar_width = width - len(marker) - 2 - name_width - 2 - len(pct) - 1 - (len(word) + 1 if word else 0)
        fraction = 1.0 if job.state == "success" else self.shown_fraction
        filled, empty = bar(fraction, bar_width)
        state_style = {"error": "bold $text-error", "success": "$text-success",
                       "cancelled": "$text-warning"}.get(job.state, "")
        lines = [Content.assemble(
            marker, (f"{symbol} ", state_style), (self._cut_title(title, name_width), "bold"), "  ",
            (filled, "$accent"), (empty, "$text-muted"), " ", pct,
            (f" {word}", state_style) if word else "",
        )]
        detail = inert(self.detail_text())
        room = max(8, width - 4)
        if job.state == "error":  # the server's message in full, up to three lines
            chunks = [detail[i:i + room] for i in range(0, len(detail), room)] or [""]
            if len(chunks) > 3:
                chunks = chunks[:2] + [_cut(detail[2 * room:], room)]
            lines += [Content.assemble("    ", (chunk, "$text-error")) for chunk in chunks]
        else:
            lines.append(Content.assemble("    ", (_cut(detail, room), "$text-muted")))
        if self.expanded:
            count = len(job.layers)
            if not count:
                lines.append(Content.styled("      (no layers reported yet)", "$text-muted"))
            for i, layer in enumerate(job.layers, 1):
                current = job.state == "running" and i == job.layer_index and not layer.done
                lines.append(Content(_cut("      " + layer_line(i, count, layer, current), width)))
        return lines

    def render(self) -> Content:
        return Content("\n").join(self.lines(max(20, self.size.width)))


class PullList(VerticalScroll, can_focus=True):
    """The pull rows; one is selected (↑/↓ when focused); `x` anywhere in the pane cancels it."""

    BINDINGS = [
        Binding("up", "move(-1)", "Previous pull", show=False, id="pulls_previous"),
        Binding("down", "move(1)", "Next pull", show=False, id="pulls_next"),
        Binding("enter,space", "toggle", "Show/hide layers", show=False, id="pulls_layers"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selected_id: int | None = None

    @property
    def rows(self) -> list[PullRow]:
        return list(self.query_children(PullRow))

    def row(self, job_id: int) -> PullRow | None:
        for row in self.rows:
            if row.job.id == job_id:
                return row
        return None

    @property
    def selected(self) -> PullRow | None:
        return self.row(self.selected_id) if self.selected_id is not None else None

    def upsert(self, job: PullJob, *, update_check: bool = False) -> PullRow:
        row = self.row(job.id)
        if row is None:
            row = PullRow(job, update_check=update_check)
            self.mount(row)
            if self.selected_id is None:
                self.select(job.id)
        else:
            row.set_job(job)
        return row

    def select(self, job_id: int | None) -> None:
        self.selected_id = job_id
        for row in self.rows:
            row.set_selected(row.job.id == job_id)
        row = self.selected
        if row is not None:
            self.call_after_refresh(self.scroll_to_widget, row, animate=False)

    def remove_rows(self, rows: list[PullRow]) -> None:
        if not rows:
            return
        gone = {r.job.id for r in rows}
        for r in rows:
            r.remove()
        if self.selected_id in gone:
            remaining = [r for r in self.rows if r.job.id not in gone]
            self.select(remaining[-1].job.id if remaining else None)

    def action_move(self, step: int) -> None:
        rows = self.rows
        if not rows:
            return
        ids = [r.job.id for r in rows]
        index = ids.index(self.selected_id) if self.selected_id in ids else 0
        self.select(ids[max(0, min(len(ids) - 1, index + step))])

    def action_toggle(self) -> None:
        row = self.selected
        if row is not None:
            row.toggle_expanded()
