"""Models loaded right now (`/api/ps`): size, share on the GPU, context length, expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from textual.content import Content
from textual.widgets import DataTable

from tui.service.ollama.types import RunningModel
from tui.service.units import format_duration, format_size
from tui.ui.models.library import MIN_NAME_WIDTH, cell, name_cell

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "Loaded model", 0),
    ("size", "Size", 7),
    ("gpu", "On GPU", 8),
    ("context", "Context", 7),
    ("expires", "Expires in", 10),
)
# An expiry further away than this is Ollama's "keep forever" (keep_alive < 0).
FOREVER = 10 * 365 * 86400


def gpu_share(model: RunningModel) -> str:
    """'100%', '78%', or '0% (CPU)' — size_vram / size."""
    if model.size <= 0:
        return "?"
    pct = round(model.gpu_fraction * 100)
    return "0% (CPU)" if pct == 0 else f"{pct}%"


def expires_in(model: RunningModel, now: datetime | None = None) -> str:
    if model.expires_at is None:
        return "?"
    seconds = (model.expires_at - (now or datetime.now(timezone.utc))).total_seconds()
    if seconds > FOREVER:
        return "forever"
    if seconds <= 0:
        return "now"
    return format_duration(seconds)


class RunningTable(DataTable):
    """One row per loaded model; row keys are the model names."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
        self.models: list[RunningModel] = []
        self._name_width = MIN_NAME_WIDTH
        self._built_width: int | None = None

    def on_mount(self) -> None:
        self._build_columns()

    def _build_columns(self) -> None:
        if self.columns and self._built_width == self._name_width:
            self.clear()
            return
        self._built_width = self._name_width
        self.clear(columns=True)
        for key, label, width in COLUMNS:
            self.add_column(Content(label), key=key, width=width or self._name_width)

    def on_resize(self) -> None:
        fixed = sum(width + 2 for _k, _l, width in COLUMNS[1:])
        width = max(MIN_NAME_WIDTH, self.size.width - fixed - 2 - 2)
        if width != self._name_width:
            self._name_width = width
            self.show_models(self.models)

    @property
    def selected(self) -> RunningModel | None:
        if not self.models or not 0 <= self.cursor_row < len(self.models):
            return None
        return self.models[self.cursor_row]

    def show_models(self, models: Sequence[RunningModel]) -> None:
        current = self.selected
        self.models = list(models)
        self._build_columns()
        now = datetime.now(timezone.utc)
        for m in self.models:
            self.add_row(
                name_cell(m.name, self._name_width),
                cell(format_size(m.size) if m.size else "?", right=True),
                cell(gpu_share(m), right=True),
                cell(f"{m.context_length:,}" if m.context_length else "?", right=True),
                cell(expires_in(m, now), right=True),
                key=m.name,
            )
        names = [m.name for m in self.models]
        if current is not None and current.name in names:
            self.move_cursor(row=names.index(current.name), animate=False)
