"""The installed-models table: sortable columns, the filter field and the one-line summary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from tui.service import units
from tui.service.ollama.names import shorten_model_name
from tui.service.ollama.types import ModelInfo, ModelShow
from tui.service.units import format_size
from tui.service.untrusted import inert

# (key, label, most width); a column is as wide as its widest cell (up to that), the name column
# takes whatever width is left.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("name", "Name", 0),
    ("size", "Size", 8),
    ("params", "Params", 8),
    ("quant", "Quant", 8),
    ("family", "Family", 12),
    ("modified", "Modified", 10),
)
SORT_KEYS = tuple(key for key, _label, _width in COLUMNS)
# Columns hidden, in this order, when the names would not fit in full otherwise (the name is the key).
DROP_ORDER = ("family", "modified")
MIN_NAME_WIDTH = 12
# DataTable pads every cell by one column on each side; the vertical scrollbar takes two.
_CELL_PADDING = 2
_SCROLLBAR = 2
_ARROW = 2  # " ▲" after the sorted column's label

CAPABILITY_ORDER = ("completion", "tools", "vision", "thinking", "embedding", "insert")

_PARAMS = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMBT]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def cell(text: str, *, right: bool = False) -> Text:
    """A table cell shown literally (never markup), cut with an ellipsis when too long."""
    return Text(inert(text), no_wrap=True, overflow="ellipsis", justify="right" if right else "left")


def name_cell(name: str, width: int) -> Text:
    """A model name in a column `width` wide: shortened with its `:tag` kept whole."""
    return cell(shorten_model_name(inert(name), width))


def row_texts(info: ModelInfo) -> dict[str, str]:
    """What each column shows for `info`, inert (the name whole: it is shortened to fit)."""
    d = info.details
    return {
        "name": inert(info.name),
        "size": format_size(info.size) if info.size else "?",
        "params": inert(d.parameter_size or "?"),
        "quant": inert(d.quantization_level or "?"),
        "family": inert(d.family or "?"),
        "modified": ago(info.modified_at),
    }


def column_needs(rows: Iterable[dict[str, str]], sort_column: str) -> dict[str, int]:
    """The width each column needs for its widest cell and its label (the others up to their cap)."""
    needs = {key: len(label) + (_ARROW if key == sort_column else 0) for key, label, _w in COLUMNS}
    needs["name"] = max(needs["name"], MIN_NAME_WIDTH)
    for row in rows:
        for key, text in row.items():
            needs[key] = max(needs[key], cell_len(text))
    for key, _label, cap in COLUMNS[1:]:
        needs[key] = min(needs[key], cap)
    return needs


def table_width(needs: dict[str, int], shown: Iterable[str] = SORT_KEYS) -> int:
    """The table's width with `shown` columns at what they need (the scrollbar's room included)."""
    return sum(needs[key] + _CELL_PADDING for key in shown) + _SCROLLBAR


def fit_columns(width: int, needs: dict[str, int]) -> dict[str, int]:
    """The columns shown in a table `width` wide, and their widths: every column when the names
    fit in full, else without the family, then the modified column; the name takes what is left
    (names longer than that are shortened, their tags kept)."""
    shown = list(SORT_KEYS)
    for drop in DROP_ORDER:
        if table_width(needs, shown) <= width:
            break
        shown.remove(drop)
    widths = {key: needs[key] for key in shown}
    widths["name"] = max(MIN_NAME_WIDTH, width - table_width(needs, shown) + needs["name"])
    return widths


def parameter_count(size: str) -> float:
    """'8.2B' → 8.2e9, '137M' → 1.37e8; 0 when unknown (sorts first)."""
    match = _PARAMS.match(size or "")
    if not match:
        return 0.0
    return float(match.group(1)) * _SCALE[match.group(2).upper()]


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """'5m ago', '3h ago', '12d ago', or the date for anything older than a year."""
    return units.ago(when, now, date_after_days=365, missing="?")


def sort_value(info: ModelInfo, column: str) -> Any:
    d = info.details
    if column == "size":
        return info.size
    if column == "params":
        return parameter_count(d.parameter_size)
    if column == "quant":
        return d.quantization_level.lower()
    if column == "family":
        return d.family.lower()
    if column == "modified":
        return info.modified_at.timestamp() if info.modified_at else 0.0
    return info.name.lower()


def matches(info: ModelInfo, needle: str) -> bool:
    """Case-insensitive substring match on the name, family and quantization."""
    needle = needle.strip().lower()
    if not needle:
        return True
    d = info.details
    return any(needle in text.lower() for text in (info.name, d.family, d.quantization_level))


def arrange(models: Iterable[ModelInfo], column: str, reverse: bool, needle: str) -> list[ModelInfo]:
    """The models to show: filtered by `needle`, sorted by `column` (ties by name)."""
    shown = [m for m in models if matches(m, needle)]
    shown.sort(key=lambda m: m.name.lower())
    shown.sort(key=lambda m: sort_value(m, column), reverse=reverse)
    return shown


def badges(capabilities: Sequence[str]) -> str:
    """`[tools] [vision]` — capabilities as words, never by colour alone."""
    known = [c for c in CAPABILITY_ORDER if c in capabilities]
    known += sorted(c for c in capabilities if c not in CAPABILITY_ORDER)
    return " ".join(f"[{inert(c)}]" for c in known)


class FilterInput(Input):
    """The filter field: Esc clears it (or goes back to the table), Enter/↓ go to the table."""

    BINDINGS = [
        Binding("escape", "leave(True)", "Clear filter", show=False, id="filter_clear"),
        Binding("down,enter", "leave(False)", "To the table", show=False, id="filter_leave"),
    ]

    class Leave(Message):
        """The user is done filtering."""

    def action_leave(self, clear: bool) -> None:
        if clear and self.value:
            self.value = ""
            return
        self.post_message(self.Leave())


class LibraryTable(DataTable):
    """Installed models, one row each; row keys are the model names."""

    class NeedChanged(Message):
        """The width the table needs to show every column and every name in full changed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.shown: list[ModelInfo] = []
        self.sort_column = "name"
        self.sort_reverse = False
        self.widths: dict[str, int] = {}  # the columns shown and their widths
        self.full_width = 0  # what every column and every name in full would take
        self._models: list[ModelInfo] = []
        self._rows: dict[str, dict[str, str]] = {}
        self._needle = ""
        self._columns_for: tuple[str, bool, tuple[tuple[str, int], ...]] | None = None

    def on_mount(self) -> None:
        self._fit()
        self._build_columns()

    def _fit(self) -> None:
        """Columns for the present width and models (measured over all of them, not just the
        filtered ones, so typing in the filter does not move the columns)."""
        needs = column_needs(self._rows.values(), self.sort_column)
        self.widths = fit_columns(self.size.width, needs)
        full = table_width(needs)
        if full != self.full_width:
            self.full_width = full
            self.post_message(self.NeedChanged())

    def _build_columns(self) -> None:
        """Columns (and their sort arrows) are rebuilt only when the sort or the widths changed:
        re-filtering while typing just swaps the rows."""
        wanted = (self.sort_column, self.sort_reverse, tuple(self.widths.items()))
        if wanted == self._columns_for:
            self.clear()
            return
        self._columns_for = wanted
        self.clear(columns=True)
        for key, label, _cap in COLUMNS:
            if key not in self.widths:
                continue
            arrow = ""
            if key == self.sort_column:
                arrow = " ▼" if self.sort_reverse else " ▲"
            self.add_column(Content(label + arrow), key=key, width=self.widths[key])

    def on_resize(self) -> None:
        before = self.widths
        self._fit()
        if self.widths != before:
            self.show_models(self._models, self._needle)

    @property
    def selected(self) -> ModelInfo | None:
        if not self.shown or self.cursor_row < 0 or self.cursor_row >= len(self.shown):
            return None
        return self.shown[self.cursor_row]

    def show_models(self, models: Sequence[ModelInfo], needle: str, *, select: str | None = None) -> None:
        """Fill the table; keep the cursor on `select` (default: the model selected now)."""
        current = self.selected
        keep = select or (current.name if current else None)
        self._models = list(models)
        self._rows = {m.name: row_texts(m) for m in self._models}
        self._needle = needle
        self.shown = arrange(models, self.sort_column, self.sort_reverse, needle)
        self._fit()
        self._build_columns()
        for info in self.shown:
            texts = self._rows[info.name]
            cells = [name_cell(info.name, self.widths["name"]) if key == "name"
                     else cell(texts[key], right=key in ("size", "params"))
                     for key in self.widths]
            self.add_row(*cells, key=info.name)
        names = [m.name for m in self.shown]
        if keep in names:
            self.move_cursor(row=names.index(keep), animate=False, scroll=True)
        elif names:
            self.move_cursor(row=0, animate=False)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse
        self.show_models(self._models, self._needle)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))


class ModelSummary(Static):
    """One line under the table: the selected model's capabilities and context length."""

    _shown: object = None

    def show(self, info: ModelInfo | None, details: ModelShow | None, *, error: str | None = None,
             list_error: str | None = None) -> None:
        key = (info, details, error, list_error)
        if key == self._shown:
            return
        self._shown = key
        if list_error:
            self.update(Content.assemble(("✕ could not list models: ", "bold $text-error"),
                                         (inert(list_error), "$text-error"), (" · retrying (R now)", "$text-muted")),
                        layout=False)
            return
        if info is None:
            self.update(Content("No model selected"), layout=False)
            return
        parts: list[Content | tuple[str, str] | str] = [("▸ ", "$text-muted"), (inert(info.name), "bold")]
        if details is not None:
            parts += ["  ", (badges(details.capabilities) or "[no capabilities reported]", "$text-accent")]
            if details.context_length:
                parts += ["  ", ("ctx ", "$text-muted"), f"{details.context_length:,}"]
        elif error:
            parts += ["  ", (f"details unavailable: {inert(error)}", "$text-error")]
        else:
            parts += ["  ", ("…", "$text-muted")]
        self.update(Content.assemble(*parts), layout=False)  # always one line
