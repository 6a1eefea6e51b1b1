"""The models of every known host at once (the chat's model picker over a fleet), and which host
to chat on when a model is on several.

Each host is asked in parallel with a bounded wait (`timeout` seconds, 2 by default): a host that
does not answer in time, or answers with an error, is reported (`error`), never waited for. What
is loaded is asked too, where the provider can say (`PS`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from tui.service.ollama.errors import OllamaError
from tui.service.ollama.names import same_model
from tui.service.ollama.types import ModelInfo
from tui.service.providers.protocol import PS
from tui.service.providers.registry import Host, HostRegistry

__all__ = ["HostModels", "list_everywhere", "prefer_loaded"]


@dataclass
class HostModels:
    """What one host said: its models and loaded ones (None: it cannot say), or why not."""

    host: Host
    models: list[ModelInfo] = field(default_factory=list)
    loaded: list[str] | None = None
    error: str | None = None

    def has(self, model: str) -> bool:
        return any(same_model(m.name, model) for m in self.models)

    def has_loaded(self, model: str) -> bool:
        return any(same_model(name, model) for name in self.loaded or ())


async def _ask(registry: HostRegistry, host: Host) -> HostModels:
    async with AsyncExitStack() as stack:
        try:
            provider = await stack.enter_async_context(registry.borrow(host))
        except ValueError as exc:  # a host the factory cannot make a client for (a bad URL)
            return HostModels(host, error=str(exc))
        # Anything else unexpected (a bug, not a host's answer) is raised: the caller's worker
        # shows and logs it rather than this listing calling it a host that did not answer.
        models = await provider.tags()
        loaded = None
        if provider.supports(PS):
            try:
                loaded = [m.name for m in await provider.ps()]
            except OllamaError:
                loaded = None
        return HostModels(host, models, loaded)


async def _bounded(registry: HostRegistry, host: Host, timeout: float) -> HostModels:
    try:
        return await asyncio.wait_for(_ask(registry, host), timeout)
    except TimeoutError:
        return HostModels(host, error=f"no answer within {timeout:g} s")
    except OllamaError as exc:
        return HostModels(host, error=str(exc))


async def list_everywhere(registry: HostRegistry, *, timeout: float = 2.0) -> list[HostModels]:
    """Every known host's models, the current host first (the rest in table order)."""
    current = registry.host
    hosts = [current] + [h for name, h in registry.known.items() if name != current.name]
    return list(await asyncio.gather(*(_bounded(registry, h, timeout) for h in hosts)))


def prefer_loaded(model: str, listing: Sequence[HostModels], current: str) -> tuple[HostModels, str]:
    """The host to chat with `model` on, among those that have it, and a sentence saying why:
    one that has it loaded, else the current host, else the first that has it."""
    having = [entry for entry in listing if entry.error is None and entry.has(model)]
    if not having:
        raise LookupError(f"{model} is on none of the reachable hosts")
    names = ", ".join(entry.host.name for entry in having)
    loaded = [entry for entry in having if entry.has_loaded(model)]
    if loaded:
        chosen = next((e for e in loaded if e.host.name == current), loaded[0])
        return chosen, f"{model} is on {names}: chose {chosen.host.name}, where it is loaded"
    chosen = next((e for e in having if e.host.name == current), having[0])
    why = "the current host" if chosen.host.name == current else "none has it loaded"
    return chosen, f"{model} is on {names}: chose {chosen.host.name} ({why})"
