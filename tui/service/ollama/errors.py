"""One hierarchy for everything that can go wrong talking to Ollama."""

from __future__ import annotations

from tui.service.untrusted import inert_short

#: An error message is shown in a toast or on a reply's line: a few lines at most.
MESSAGE_LIMIT = 2000


class OllamaError(Exception):
    """Base class: `message` is what the server (or the transport) said, fit to show a user:
    made inert (no terminal escapes) and bounded here, wherever it came from."""

    def __init__(self, message: str, status: int | None = None) -> None:
        message = inert_short(str(message), MESSAGE_LIMIT)
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class Unreachable(OllamaError):
    """No connection: refused, DNS failure, connect/read timeout, connection dropped."""


class BadRequest(OllamaError):
    """HTTP 400 (invalid name, unsupported feature, missing body...)."""


class ModelNotFound(OllamaError):
    """HTTP 404 on a model lookup (every spelling of 'model not found')."""


class Forbidden(OllamaError):
    """HTTP 403 (e.g. a loopback server refusing a non-local Host header)."""


class Unauthorized(OllamaError):
    """HTTP 401: the server refused the API key (or wants one)."""


class Unsupported(OllamaError):
    """An action this kind of server cannot do (a pull on an OpenAI-compatible host, say)."""


class ServerBusy(OllamaError):
    """HTTP 503: the server's queue is full; retry later."""


class ServerError(OllamaError):
    """HTTP 5xx and anything else unexpected from the server."""


class StreamError(OllamaError):
    """An `{"error": ...}` line after a stream had started (status 200 already sent).

    `partial` holds what had arrived before the error (text for chat/generate, the list of
    events for pull/create), so callers can keep it.
    """

    def __init__(self, message: str, partial: object = None) -> None:
        super().__init__(message, status=200)
        self.partial = partial


class InvalidModelName(ValueError):
    """A model name that breaks Ollama's naming rules; raised locally, before any request."""
