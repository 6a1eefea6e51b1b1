"""The streams of the Ollama client, read off an :class:`~tui.service.ollama.transport.OllamaTransport`:
a chat or generate reply (chunks until `done`) and a pull or create (progress events until
`success`). Whatever breaks once a stream started raises StreamError with what had arrived:
the text and thinking so far, or the events so far.

This module does not import httpx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

from tui.service.ollama import errors as errors
from tui.service.ollama.transport import OllamaTransport, _StreamIncomplete
from tui.service.ollama.types import PullEvent


async def text_stream(
    transport: OllamaTransport,
    path: str,
    body: dict[str, Any],
    parse: Callable[[dict[str, Any]], Any],
    text_of: Callable[[Any], str],
) -> AsyncIterator[Any]:
    """The chunks of a chat or generate stream (`parse` makes one from a line, `text_of` gives
    its text), ending with the one that is `done`. A break raises StreamError with `partial`
    (the text so far) and `partial_thinking`."""
    text: list[str] = []
    thinking: list[str] = []

    def fail(message: str) -> errors.StreamError:
        exc = errors.StreamError(message, partial="".join(text))
        exc.partial_thinking = "".join(thinking)  # type: ignore[attr-defined]
        return exc

    done = False
    try:
        async with transport.open_stream(path, body) as response:
            async with aclosing(transport.lines(response)) as lines:
                async for obj in lines:
                    chunk = parse(obj)
                    text.append(text_of(chunk))
                    thinking.append(chunk.thinking)
                    done = chunk.done
                    yield chunk
                    if done:
                        break
        if not done:
            raise fail("the stream from Ollama ended before the reply was done")
    except errors.StreamError as exc:
        if exc.partial is None:
            raise fail(exc.message) from None
        raise
    except _StreamIncomplete as exc:
        raise fail(exc.message) from None


async def progress_stream(
    transport: OllamaTransport, path: str, body: dict[str, Any], *, watch: bool = False
) -> AsyncIterator[PullEvent]:
    """The events of a pull/create stream, ending with `success`. With `watch`, the stream is
    given up when no byte arrives for `transport.pull_stall_timeout` s (a dead or half-open
    connection), except once Ollama says it is verifying the download: hashing a large blob
    sends nothing for minutes. A break raises StreamError with `partial` (the events so far)."""
    events: list[PullEvent] = []
    quiet_ok = False

    def stall() -> float | None:
        return None if quiet_ok else transport.pull_stall_timeout

    try:
        async with transport.open_stream(path, body, stall=stall() if watch else None) as response:
            async with aclosing(transport.lines(response, stall=stall if watch else None)) as lines:
                async for obj in lines:
                    event = PullEvent.from_json(obj)
                    events.append(event)
                    quiet_ok = quiet_ok or event.status.startswith("verifying")
                    yield event
        if not events or events[-1].status != "success":
            raise errors.StreamError("the stream from Ollama ended before 'success'", partial=list(events))
    except errors.StreamError as exc:
        if exc.partial is None:
            exc.partial = list(events)
        raise
    except _StreamIncomplete as exc:
        message = exc.message
        if exc.stalled is not None:
            message = (f"no data from Ollama for {exc.stalled:g} s (the connection seems dead); "
                       "pull again to resume the download")
        raise errors.StreamError(message, partial=list(events)) from None
