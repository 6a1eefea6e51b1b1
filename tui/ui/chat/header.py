"""The chat's header line: model, preset and its values, overrides, thinking, the session's
system prompt, attachments, title."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widgets import Static

from tui.service.chat.options import format_overrides
from tui.service.ollama.names import shorten_model_name
from tui.service.untrusted import inert, inert_short

if TYPE_CHECKING:
    from tui.service.config import Config
    from tui.service.history import Session


SYSTEM_SHOWN = 32  # characters of the session's own system prompt shown in the header


def one_line(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace, newlines too, made one space), cut to `limit`
    characters and made inert: for a header or a hint, never for what is sent."""
    return inert_short(" ".join(text.split()), limit)


def think_label(value: Any) -> str:
    return {None: "default", True: "on", False: "off"}.get(value, str(value))


class ChatHeader(Static):
    """One line, most important first (it ends in "…" when the pane is narrow): the model,
    the preset with the temperature and num_ctx it sets, this session's own overrides,
    thinking and system prompt (its start), then the title (also in the session list). The
    model's name is shown whole whenever it fits on the line; when it alone does not, it is
    shortened with its `:tag` kept."""

    _shown: tuple[list[Any], str, list[Any]] | None = None

    def show(self, config: Config, session: Session | None, model: str | None, *, editing: bool = False,
             attachments: Sequence[str] = (), host: str | None = None) -> None:
        """`session`: the open one (None: a new chat on `model`); `attachments`: file names;
        `host`: the host's name when there are several to tell apart."""
        s = session
        model = s.model if s else model
        settings = config.chat_settings(model or "", s.preset if s else None)
        preset = settings.preset
        before: list[Any] = []
        if editing:
            before += [("✎ editing", "bold $text-warning"), "  "]
        if host:
            before += [("@ ", "$text-muted"), (inert(host), "bold $text-accent"), "  "]
        before.append(("model ", "$text-muted"))
        after: list[Any] = ["  ", ("preset ", "$text-muted"), (preset or "-", "")]
        values = settings.options  # the preset with the model's [models."…".options] on top
        for key, label in (("temperature", "temp"), ("num_ctx", "ctx")):
            if values.get(key) is not None:
                after += [(f" · {label} ", "$text-muted"), str(values[key])]
        if s is not None and s.options:
            after += ["  ", (format_overrides(s.options), "$text-accent")]
        if s is not None and s.think is not None:
            after += ["  ", ("think ", "$text-muted"), think_label(s.think)]
        if s is not None and s.system_prompt:
            after += ["  ", ("system ", "$text-muted"), (f"“{one_line(s.system_prompt, SYSTEM_SHOWN)}”", "$text-accent")]
        if attachments:
            after += ["  ", (f"📎 {', '.join(inert(n) for n in attachments)}", "$text-accent")]
        after += ["  ", (inert(s.title if s else "New chat"), "bold")]
        self._shown = (before, inert(model or "?"), after)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if self._shown is None:
            return
        before, model, after = self._shown
        start = Content.assemble(*before)
        width = self.content_size.width
        if width > 0:  # laid out: the name takes what is left of the line after what precedes it
            model = shorten_model_name(model, max(width - start.cell_length, 1))
        self.update(Content.assemble(start, (model, "$text-secondary"), *after))
