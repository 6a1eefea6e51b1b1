"""Pull and create endpoints of the Ollama client: streams of progress events ending with
``success`` (an incomplete stream raises StreamError with the events so far).

This module does not import httpx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from tui.service.ollama import errors as errors
from tui.service.ollama.names import validate_model_name
from tui.service.ollama.transport import OllamaTransport, _StreamIncomplete
from tui.service.ollama.types import PullEvent


class PullMixin(OllamaTransport):
    """`POST /api/pull` and `POST /api/create`, streamed as PullEvents."""

    async def _progress(self, path: str, body: dict[str, Any], *, watch: bool = False) -> AsyncIterator[PullEvent]:
        """The events of a pull/create stream. With `watch`, the stream is given up when no byte
        arrives for `pull_stall_timeout` s (a dead or half-open connection), except once Ollama
        says it is verifying the download: hashing a large blob sends nothing for minutes."""
        events: list[PullEvent] = []
        quiet_ok = False

        def stall() -> float | None:
            return None if quiet_ok else self.pull_stall_timeout

        try:
            async with self._open_stream(path, body, stall=stall() if watch else None) as response:
                async with aclosing(self._lines(response, stall=stall if watch else None)) as lines:
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

    def pull(self, model: str, *, insecure: bool = False) -> AsyncIterator[PullEvent]:
        """`POST /api/pull`: progress events, one layer at a time, ending with `success`.

        Close the iterator (or cancel the task) to stop the download; a later pull resumes.
        No data for `pull_stall_timeout` s ends it with StreamError (a later pull resumes too).
        """
        validate_model_name(model)
        body: dict[str, Any] = {"model": model, "stream": True}
        if insecure:
            body["insecure"] = True
        self._forget(model)
        return self._progress("/api/pull", body, watch=True)

    def create(
        self,
        model: str,
        *,
        from_: str,
        system: str | None = None,
        template: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        license: str | list[str] | None = None,
        messages: list[dict[str, Any]] | None = None,
        quantize: str | None = None,
    ) -> AsyncIterator[PullEvent]:
        """`POST /api/create` from an existing model: progress events ending with `success`."""
        validate_model_name(model)
        body: dict[str, Any] = {"model": model, "from": from_, "stream": True}
        for key, value in (
            ("system", system),
            ("template", template),
            ("license", license),
            ("messages", messages),
            ("quantize", quantize),
        ):
            if value is not None:
                body[key] = value
        if parameters is not None:
            body["parameters"] = dict(parameters)
        self._forget(model)
        return self._progress("/api/create", body)
