"""What the app needs of a model server, whatever speaks behind it: the `Provider` Protocol.

Every provider answers the core: who it is (`base_url`, `ping`, `version`), which models it has
(`tags`, `show`) and a streamed chat (`chat`). The rest is optional and declared in `features`:
a caller checks ``provider.supports(FEATURE)`` (or ``FEATURE in provider.features``) before
calling the method, and a provider without it raises `FeatureUnavailable` if called anyway.
`OllamaClient` implements all of it; an OpenAI-compatible provider would declare no PULL, say,
and the Models pane would say "pulls are not available on this host".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol, runtime_checkable

from tui.service.ollama import errors
from tui.service.ollama.types import (
    ChatChunk,
    ModelInfo,
    ModelShow,
    PullEvent,
    RunningModel,
)

__all__ = ["Provider", "FeatureUnavailable", "PS", "PULL", "DELETE", "COPY", "CREATE", "LOAD",
           "ALL_FEATURES", "feature_label"]

PS = "ps"  # the models loaded now (/api/ps)
PULL = "pull"
DELETE = "delete"
COPY = "copy"
CREATE = "create"
LOAD = "load"  # load and unload (keep_alive)
ALL_FEATURES: frozenset[str] = frozenset({PS, PULL, DELETE, COPY, CREATE, LOAD})

_LABELS = {PS: "loaded models", PULL: "pulls", DELETE: "deleting models", COPY: "copying models",
           CREATE: "creating models", LOAD: "loading and unloading models"}


def feature_label(feature: str) -> str:
    """How a message names `feature`: "pulls are not available on this host"."""
    return _LABELS.get(feature, feature)


class FeatureUnavailable(errors.Unsupported):
    """An optional feature the provider does not declare was called. An OllamaError, so every
    place that shows a server's refusal shows this one too, in words."""

    def __init__(self, feature: str, host: str = "this host", why: str = "") -> None:
        super().__init__(f"{feature_label(feature)} are not available on {host}" + (f" ({why})" if why else ""))
        self.feature = feature


@runtime_checkable
class Provider(Protocol):
    """One model server as the app uses it (see the module docstring)."""

    #: Which API speaks behind it: "ollama" or "openai" (OpenAI-compatible servers).
    kind: str
    #: Who measures a reply's durations: "server" (Ollama reports them in its final chunk) or
    #: "client" (the server reports only counts; the stats are this side's clock).
    timings: str
    #: The server's URL as requests go to it.
    base_url: str
    #: The optional features this provider offers (a subset of ALL_FEATURES).
    features: frozenset[str]
    #: (base URL, monotonic time, round-trip seconds) of the last light request answered.
    last_answer: tuple[str, float, float] | None

    # -- core -------------------------------------------------------------------------------
    async def ping(self) -> float: ...
    async def version(self) -> str: ...
    async def tags(self) -> list[ModelInfo]: ...
    async def show(self, model: str, *, verbose: bool = False, digest: str | None = None) -> ModelShow: ...

    def chat(self, model: str, messages: list[dict[str, Any]], *, options: Mapping[str, Any] | None = None,
             think: bool | str | None = None, format: str | dict[str, Any] | None = None,
             keep_alive: str | int | float | None = None,
             tools: list[Any] | None = None) -> AsyncIterator[ChatChunk]: ...

    def supports(self, feature: str) -> bool: ...
    def warm_up(self) -> None:
        """Make what the first request needs now (callable from a thread); may do nothing."""
    async def aclose(self) -> None: ...

    # -- optional (declared in `features`) -------------------------------------------------------
    async def ps(self) -> list[RunningModel]: ...
    def pull(self, model: str, *, insecure: bool = False) -> AsyncIterator[PullEvent]: ...
    async def delete(self, model: str) -> None: ...
    async def copy(self, source: str, destination: str) -> None: ...
    async def load(self, model: str, keep_alive: str | int | float | None = None) -> None: ...
    async def unload(self, model: str) -> None: ...
