"""The widgets of the Compare & bench screen: a streamed reply column, the tokens/s bar chart."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Markdown, Static

from tui.service.bench.stats import Measurement, ModelSummary, bar
from tui.service.untrusted import inert


def measurement_line(m: Measurement | None, rank: int | None = None) -> Content:
    """'#1 · 412.0 tok/s · first token 0.21 s · load 1.20 s · total 2.4 s · 96 tokens'."""
    if m is None:
        return Content.styled("waiting…", "$text-muted")
    parts: list[str] = []
    if rank is not None:
        parts.append(f"#{rank}")
    if m.status == "stopped":
        parts.append("■ stopped")
    elif m.status == "error":
        parts.append(f"✕ {inert(m.error or 'error')}")
    # A complete reply names every figure, "–" where its server does not report it (an
    # OpenAI-compatible server says nothing of load times); a stopped or failed one only has some.
    done = m.status == "complete"
    if m.tokens_per_s is not None or done:
        parts.append("– tok/s" if m.tokens_per_s is None else f"{m.tokens_per_s:.1f} tok/s")
    if m.ttft_s is not None or done:
        parts.append("first token " + ("–" if m.ttft_s is None else f"{m.ttft_s:.2f} s"))
    if m.load_s is not None or done:
        parts.append("load " + ("–" if m.load_s is None else f"{m.load_s:.2f} s"))
    if m.total_s is not None:
        parts.append(f"total {m.total_s:.2f} s")
    if m.eval_count:
        parts.append(f"{m.eval_count} tokens")
    return Content.styled(" · ".join(parts), "$text-error" if m.status == "error" else "$text-muted")


class CompareColumn(Vertical):
    """One model's reply in a comparison. Pieces arrive through `feed()` and are appended to the
    Markdown once per frame (never the whole reply per token); the text is made inert first."""

    FRAME_INTERVAL = 1 / 12

    def __init__(self, model: str, index: int) -> None:
        super().__init__(classes="compare-column")
        self.model = model
        self.index = index
        self.text = ""
        self.measurement: Measurement | None = None
        self._pending: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(Content.styled(inert(self.model), "bold $text-secondary"), classes="column-title")
        with VerticalScroll(classes="column-body"):
            yield Markdown("", classes="reply")
        yield Static(measurement_line(None), classes="column-stats")

    def on_mount(self) -> None:
        self.set_interval(self.FRAME_INTERVAL, self.flush, name="compare-frame")

    def feed(self, piece: str) -> None:
        self._pending.append(inert(piece))

    async def flush(self) -> None:
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self.text += text
        await self.query_one(".reply", Markdown).append(text)
        body = self.query_one(".column-body", VerticalScroll)
        if body.is_vertical_scroll_end or body.max_scroll_y - body.scroll_y < 3:
            body.scroll_end(animate=False)

    async def finish(self, measurement: Measurement, rank: int | None = None) -> None:
        await self.flush()
        self.measurement = measurement
        self.show_stats(rank)

    def show_stats(self, rank: int | None, measurement: Measurement | None = None) -> None:
        if measurement is not None:
            self.measurement = measurement
        self.query_one(".column-stats", Static).update(measurement_line(self.measurement, rank))

    async def show_saved(self, measurement: Measurement, rank: int | None) -> None:
        """A reopened run: the whole reply at once."""
        self.text = inert(measurement.reply)
        await self.query_one(".reply", Markdown).update(self.text)
        await self.finish(measurement, rank)


def rate_chart(summaries: Sequence[ModelSummary], width: int = 40) -> Text:
    """Median tokens/s per model as horizontal bars, fastest first (plain Text: names are inert)."""
    rows = [(s.model, s.median("tokens_per_s")) for s in summaries]
    if not rows:
        return Text("no results yet", style="dim")
    name_width = min(max(len(name) for name, _ in rows), 28)
    top = max((rate for _, rate in rows if rate is not None), default=0.0)
    chart = Text()
    for i, (name, rate) in enumerate(rows):
        if i:
            chart.append("\n")
        chart.append(inert(name)[:name_width].ljust(name_width) + " ", style="bold")
        if rate is None:
            chart.append("no result", style="dim")
            continue
        chart.append(bar(rate, top, width).ljust(width), style="green" if i == 0 else "cyan")
        chart.append(f" {rate:.1f} tok/s")
    return chart


class RateChart(Static):
    """The tokens/s bars of the latest (or reopened) result."""

    def show(self, summaries: Sequence[ModelSummary]) -> None:
        self.summaries = list(summaries)
        width = max(10, (self.size.width or 80) - 45)
        self.update(rate_chart(self.summaries, width))
