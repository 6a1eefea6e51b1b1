"""The details of one model (from `/api/show`): facts, parameters, system, template, license."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.service.ollama.types import ModelInfo, ModelShow
from tui.service.units import format_size
from tui.service.untrusted import inert
from tui.ui.models.library import ago, badges


def _count(n: int | None) -> str:
    if not n:
        return "?"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.2f}{unit} ({n:,})"
    return f"{n:,}"


def facts(info: ModelInfo, show: ModelShow) -> list[tuple[str, str]]:
    """The key facts, in reading order, as (label, value) pairs."""
    d = show.details if show.details.family or show.details.parameter_size else info.details
    return [
        ("context length", f"{show.context_length:,}" if show.context_length else "?"),
        ("architecture", show.architecture or "?"),
        ("parameters", _count(show.parameter_count) if show.parameter_count else d.parameter_size or "?"),
        ("quantization", d.quantization_level or "?"),
        ("family", ", ".join(d.families) if d.families else d.family or "?"),
        ("format", d.format or "?"),
        ("size", format_size(info.size) if info.size else "?"),
        ("digest", (info.digest or "?")[:12]),
        ("modified", ago(info.modified_at)),
        ("parent", d.parent_model or "-"),
    ]


class ModelDetails(VerticalScroll, can_focus=True):
    """Scrollable; ↑/↓/PgUp/PgDn scroll it when it has focus, Esc goes back to the table."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model: str | None = None
        self._shown: object = None  # what is on display now, to skip needless re-layouts

    def compose(self) -> ComposeResult:
        yield Static(Content("Select a model to see its details."), id="details-head")
        yield Static(id="details-facts")
        yield Static(Content("Parameters"), classes="details-title")
        yield Static(id="details-parameters", classes="details-body")
        yield Static(Content("System prompt"), classes="details-title")
        yield Static(id="details-system", classes="details-body")
        with Collapsible(title="Template", id="details-template-box"):
            yield Static(id="details-template", classes="details-body")
        with Collapsible(title="License", id="details-license-box"):
            yield Static(id="details-license", classes="details-body")
        with Collapsible(title="Modelfile", id="details-modelfile-box"):
            yield Static(id="details-modelfile", classes="details-body")

    def _set(self, widget_id: str, text: str, *, empty: str = "(none)") -> None:
        body = inert(text.strip("\n")) if text.strip() else empty
        self.query_one(f"#{widget_id}", Static).update(Content(body))

    def _bodies(self, visible: bool) -> None:
        for widget in self.query(".details-title, .details-body, Collapsible, #details-facts"):
            widget.display = visible

    def show_message(self, info: ModelInfo | None, message: str, *, error: bool = False) -> None:
        if self._shown == (info, message, error):
            return
        self._shown = (info, message, error)
        self.model = info.name if info else None
        head: list[Any] = []
        if info is not None:
            head += [(inert(info.name), "bold"), "\n"]
        head.append((message, "$text-error" if error else "$text-muted"))
        self.query_one("#details-head", Static).update(Content.assemble(*head))
        self._bodies(False)

    def show_details(self, info: ModelInfo, show: ModelShow) -> None:
        if self._shown == (info, show):
            return
        self._shown = (info, show)
        same = self.model == info.name
        self.model = info.name
        self.query_one("#details-head", Static).update(Content.assemble(
            (inert(info.name), "bold"), "\n",
            (badges(show.capabilities) or "[no capabilities reported]", "$text-accent")))
        rows = facts(info, show)
        width = max(len(label) for label, _ in rows)
        lines = [Content.assemble((f"{label:<{width}}  ", "$text-muted"), inert(value)) for label, value in rows]
        self.query_one("#details-facts", Static).update(Content("\n").join(lines))
        params = show.parameters_dict
        if params:
            text = "\n".join(f"{k} = {v!r}" if isinstance(v, list) else f"{k} = {v}" for k, v in params.items())
        else:
            text = ""
        self._set("details-parameters", text)
        self._set("details-system", show.system)
        self._set("details-template", show.template)
        self._set("details-license", show.license)
        self._set("details-modelfile", show.modelfile)
        self._bodies(True)
        if not same:
            self.scroll_home(animate=False)
