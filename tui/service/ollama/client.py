"""OllamaClient: every native `/api/*` endpoint over one pooled httpx client, typed results.

Error contract (all exceptions come from `errors.py`):

* No connection, DNS failure, connect timeout, or a non-streaming call that got no (complete)
  answer in time → `Unreachable("Ollama not reachable at URL: reason")`.
* An HTTP error status before any output → `BadRequest` (400), `Forbidden` (403),
  `ModelNotFound` (404), `ServerBusy` (503), `ServerError` (anything else ≥ 400). The message is
  the server's `{"error": …}` text, or its plain-text body. A 404 whose body is Go's plain
  `404 page not found` means the *route* is missing (an older server), which is a ServerError.
* A 200 with an empty or non-JSON body on a non-streaming call → `ServerError`.
* **Anything that goes wrong after a stream started raises `StreamError` with `partial`**: an
  `{"error": …}` line, a malformed or truncated line, the connection dropping, or the stream
  ending without its last line (`done: true` for chat/generate, `success` for pull/create).
  `partial` is the text so far for chat/generate (`content`; the thinking so far is on
  `exc.partial_thinking`), the list of events for pull/create. A dropped connection is therefore
  a StreamError, not Unreachable: the caller always gets what had arrived.

Idempotent reads (ping, version, tags, show, ps) are retried with exponential backoff on
Unreachable and ServerBusy; nothing else is ever retried.

Streams are async generators holding `async with http.stream(...)`: cancelling the consuming
task, or `aclose()` on the generator (use `contextlib.aclosing` when breaking out early), closes
the HTTP response at once, which is how Ollama learns to stop (cancel = disconnect).

Header values (e.g. an Authorization token) never appear in reprs or exception messages.

The client is put together from mixins: ``ollama_transport`` (the httpx client, its lifecycle,
error mapping, retries, stream plumbing), ``ollama_models`` (liveness and model management),
``ollama_pull`` (pull and create) and ``ollama_chat`` (chat, generate, embed, load, unload).
Importing this module does not import httpx.
"""

from __future__ import annotations

from tui.service.ollama.chat import ChatMixin
from tui.service.ollama.models import ModelsMixin
from tui.service.ollama.pull import PullMixin
from tui.service.providers.protocol import ALL_FEATURES

__all__ = ["OllamaClient"]


class OllamaClient(ModelsMixin, PullMixin, ChatMixin):
    """Async client for one Ollama server. Use as `async with OllamaClient(url) as c: ...`.

    It is a `tui.service.providers.Provider` offering every optional feature."""

    features: frozenset[str] = ALL_FEATURES

    def supports(self, feature: str) -> bool:
        return feature in self.features
