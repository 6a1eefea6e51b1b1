"""Which host each model of a compare or benchmark runs on: `model @ host` references.

A run names its models by reference: a bare name is a model of the current host, `name @ host`
one of another configured host (the Compare list and `ollama-tui bench --models name@host`
write them). `ModelHosts` opens one provider per host a run needs (the current host's is the
registry's own; the others are borrowed and closed when the run ends) and answers the runner's
`provider_for(ref) -> (provider, model name)`. `where()` is what a saved run records per model.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Self

from tui.service.providers.registry import Host, HostRegistry

if TYPE_CHECKING:
    from tui.service.providers.protocol import Provider

__all__ = ["SEP", "ModelHosts", "model_ref", "split_ref"]

#: Between a model's name and its host's in a reference (the chat's picker writes it so too).
SEP = " @ "


def model_ref(model: str, host: str, current: str) -> str:
    """`model` as a run names it: bare on the current host, `model @ host` elsewhere."""
    return model if host == current else f"{model}{SEP}{host}"


def split_ref(ref: str, known: Iterable[str], current: str, sep: str = SEP) -> tuple[str, str]:
    """(host name, model name) of `ref`. Only a suffix naming a known host counts as one (a
    model name may hold an '@' of its own); anything else is a model of the current host.
    The longest matching host name wins."""
    for name in sorted(known, key=len, reverse=True):
        suffix = f"{sep}{name}"
        if ref.endswith(suffix) and len(ref) > len(suffix):
            return name, ref[: -len(suffix)].strip()
    return current, ref


class ModelHosts:
    """The providers of one run, by host (see the module docstring). Use as an async context
    manager over the run: `async with ModelHosts(registry, refs) as provider_for: ...`."""

    def __init__(self, registry: HostRegistry, refs: Iterable[str], *, sep: str = SEP) -> None:
        self.registry = registry
        self.current: Host = registry.host
        self.sep = sep
        known = registry.known
        known.setdefault(self.current.name, self.current)
        self._hosts = known
        self._targets: dict[str, tuple[Host, str]] = {}
        for ref in refs:
            host, model = split_ref(ref, known, self.current.name, sep)
            self._targets[ref] = (known[host], model)
        self._providers: dict[str, Provider] = {}
        self._stack = AsyncExitStack()

    @property
    def refs(self) -> list[str]:
        return list(self._targets)

    def host(self, ref: str) -> Host:
        return self._targets[ref][0]

    async def __aenter__(self) -> Self:
        if not self._providers:
            await self.open()
        return self

    async def open(self) -> None:
        """Make (or borrow) the provider of every host the run needs; on failure none stays open."""
        self._providers[self.current.name] = self.registry.provider
        try:
            for host, _model in self._targets.values():
                if host.name not in self._providers:
                    self._providers[host.name] = await self._stack.enter_async_context(self.registry.borrow(host))
        except BaseException:
            self._providers.clear()
            await self._stack.aclose()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the providers borrowed for the run (the current host's stays open)."""
        await self._stack.aclose()

    def __call__(self, ref: str) -> tuple[Provider, str]:
        """The provider `ref` runs on and the model name sent there."""
        host, model = self._targets[ref]
        return self._providers[host.name], model

    def where(self) -> dict[str, dict[str, str]]:
        """What a saved run records per model: its host's name (a host named by its URL: the URL
        without credentials), kind and the model name sent."""
        from tui.service.hosts import redact_url

        return {ref: {"host": redact_url(host.name) if host.name == host.url else host.name, "kind": host.kind,
                      "model": model}
                for ref, (host, model) in self._targets.items()}
