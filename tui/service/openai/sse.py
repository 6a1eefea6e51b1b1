"""Server-Sent Events from an untrusted server, with bounded memory.

httpx-sse parses the stream, but buffers a line until its end arrives and an event's `data:`
lines until a blank line does: a server sending one endless `data:` line (or endless `data:`
lines and never a blank one) would grow memory without end. `bounded_events` feeds httpx-sse
through a guard that counts the characters of the line and of the event being gathered and
stops the stream past `limit` (the Ollama transport's MAX_LINE_BYTES by default), so what is
buffered stays below `limit` plus one network read. The guard looks at each piece of text once
with `rfind` (no per-character Python loop): the per-token cost stays that of httpx-sse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from tui.service.ollama.transport import MAX_LINE_BYTES

if TYPE_CHECKING:
    import httpx
    from httpx_sse import ServerSentEvent

__all__ = ["MAX_EVENT_CHARS", "SSETooLarge", "bounded_events"]

#: The longest line, and the largest event, read from a stream (characters).
MAX_EVENT_CHARS = MAX_LINE_BYTES

# What ends a blank line, whichever line breaks the server uses (\n, \r\n or \r).
_BLANK = ("\n\n", "\r\r", "\n\r")


class SSETooLarge(Exception):
    """The server sent a line or an event longer than the limit; the stream was left."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"the server sent {what} longer than {_chars(limit)}; stopped reading")
        self.limit = limit


def _chars(limit: int) -> str:
    for unit, scale in (("M", 1 << 20), ("K", 1 << 10)):
        if limit >= scale and limit % scale == 0:
            return f"{limit // scale}{unit} characters"
    return f"{limit} characters"


class _Guarded:
    """What httpx-sse's EventSource reads of a response (`headers`, `aiter_text`), each piece of
    text counted before it is handed on."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.headers = response.headers
        self._response = response
        self.limit = limit

    async def aiter_text(self) -> AsyncIterator[str]:
        limit = self.limit
        line = 0  # characters since the last line break
        event = 0  # characters since the last blank line: the event being gathered
        tail = ""  # the previous piece's end (a blank line may be split across pieces)
        async for text in self._response.aiter_text():
            size = len(text)
            brk = max(text.rfind("\n"), text.rfind("\r"))
            line = line + size if brk < 0 else size - brk - 1
            window = tail + text
            end = max(((i + 2) if (i := window.rfind(b)) >= 0 else -1) for b in _BLANK)
            event = event + size if end < 0 else len(window) - end
            if line > limit:
                raise SSETooLarge("a line", limit)
            if event > limit:
                raise SSETooLarge("an event", limit)
            tail = window[-2:]
            yield text


async def bounded_events(response: httpx.Response, limit: int = MAX_EVENT_CHARS) -> AsyncIterator[ServerSentEvent]:
    """The events of `response` (httpx-sse's parsing); SSETooLarge past `limit` characters in a
    line or an event. httpx-sse's SSEError when the response is not an event stream."""
    from httpx_sse import EventSource

    guarded: Any = _Guarded(response, limit)
    async for event in EventSource(guarded).aiter_sse():
        yield event
