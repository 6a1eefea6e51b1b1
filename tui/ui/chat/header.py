"""The chat's header line: model, preset and its values, overrides, thinking, the session's
system prompt, attachments, title."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widgets import Static

from tui.service.chat.options import format_overrides
from tui.service.untrusted import inert, inert_short

if TYPE_CHECKING:
    from tui.service.config import Config


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
    thinking and system prompt (its start), then the title (also in the session list)."""

    def show(self, config: Config, session: Any, model: str | None, *, editing: bool = False,
             attachments: Sequence[str] = (), host: str | None = None) -> None:
        """`session`: the open one (None: a new chat on `model`); `attachments`: file names;
        `host`: the host's name when there are several to tell apart."""
        s = session
        model = s.model if s else model
        settings = config.chat_settings(model or "", s.preset if s else None)
        preset = settings.preset
        parts: list[Any] = []
        if editing:
            parts += [("✎ editing", "bold $text-warning"), "  "]
        if host:
            parts += [("@ ", "$text-muted"), (inert(host), "bold $text-accent"), "  "]
        parts += [("model ", "$text-muted"), (inert(model or "?"), "$text-secondary"), "  ",
                  ("preset ", "$text-muted"), (preset or "-", "")]
        values = settings.options  # the preset with the model's [models."…".options] on top
        for key, label in (("temperature", "temp"), ("num_ctx", "ctx")):
            if values.get(key) is not None:
                parts += [(f" · {label} ", "$text-muted"), str(values[key])]
        if s is not None and s.options:
            parts += ["  ", (format_overrides(s.options), "$text-accent")]
        if s is not None and s.think is not None:
            parts += ["  ", ("think ", "$text-muted"), think_label(s.think)]
        if s is not None and s.system_prompt:
            parts += ["  ", ("system ", "$text-muted"), (f"“{one_line(s.system_prompt, SYSTEM_SHOWN)}”", "$text-accent")]
        if attachments:
            parts += ["  ", (f"📎 {', '.join(inert(n) for n in attachments)}", "$text-accent")]
        parts += ["  ", (inert(s.title if s else "New chat"), "bold")]
        self.update(Content.assemble(*parts))
