"""Everything the app is wired to, in one typed object: `Services`.

Built by the command line (`tui.cli`) or by `Services.build` (tests, scripts) and handed to the
App; panes reach it through the App's `services` property. No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.service.providers.protocol import Provider
from tui.service.providers.registry import (
    SERVER_HOST,
    Host,
    HostRegistry,
    provider_factory,
)

if TYPE_CHECKING:
    from tui.service.chat.turns import ChatService
    from tui.service.config import Config, ConfigStore
    from tui.service.history import HistoryStore
    from tui.service.monitor.gpu import GpuBackend
    from tui.service.pulls import PullJob, PullManager
    from tui.service.tools import ToolHub

__all__ = ["Services", "HistoryNotOpen", "configured_hosts"]


def configured_hosts(config: Config, start: Host | None = None) -> list[Host]:
    """The hosts the app knows: every [hosts.<name>] table, and `start` (the host the app was
    started on: [server], $OLLAMA_HOST or --host) when it is none of them; named "default"
    among configured hosts, by its URL when it is alone."""
    hosts = []
    for entry in config.hosts.values():
        try:
            hosts.append(Host.from_config(entry))
        except ValueError:  # the config reported the URL already
            continue
    if start is not None and not any(h.url == start.url and h.kind == start.kind for h in hosts):
        name = SERVER_HOST if hosts and SERVER_HOST not in config.hosts else start.url
        hosts.insert(0, Host(name, start.url, start.kind, dict(start.headers), start.api_key))
    return hosts


class HistoryNotOpen(RuntimeError):
    """The history store was asked for before it was opened (it opens after the first frame)."""


@dataclass(eq=False)
class Services:
    """The app's services.

    config_store  the config file; `config` is what is in use (as loaded or last saved)
    hosts         the current host and its provider (`provider`); `h` and --host switch it
    db_path       where the history is; `history` is None until the App opened it
                  (`require_history()` says so loudly)
    gpu_backend   what the resource sampler reads GPUs with (None: NVML)
    chat          the chat turns' service (made with the history)
    tools         the MCP servers of [mcp.servers] and their tools (ToolHub; started when needed)
    """

    config_store: ConfigStore
    hosts: HostRegistry
    db_path: Path | str
    default_model: str | None = None
    gpu_backend: GpuBackend | None = None
    history: HistoryStore | None = None
    chat: ChatService | None = None
    tools: ToolHub | None = None
    _pulls: list[PullManager] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.hosts.on_switch(self._host_switched)
        if self.tools is None:
            from tui.service.tools.hub import (
                ToolHub,  # no mcp import: servers start when first needed
            )

            config = self.config_store.saved
            self.tools = ToolHub(config.mcp_servers, timeout=config.chat.tool_timeout)

    @classmethod
    def build(cls, config_store: ConfigStore, url: str | None = None, *, db_path: Path | str,
              provider: Provider | None = None, default_model: str | None = None,
              gpu_backend: GpuBackend | None = None) -> Services:
        """Services over `config_store` (loaded) for the server at `url` (default: the config's
        host) or the configured host named `url`; `provider` is that server's client when the
        caller made it (a test's). Every [hosts.<name>] table is known to the registry."""
        config = config_store.saved
        server = config.server
        factory = provider_factory(connect_timeout=server.connect_timeout, request_timeout=server.request_timeout,
                                   retries=server.retries, pull_stall_timeout=server.pull_stall_timeout)
        if url is not None and url in config.hosts:
            known = configured_hosts(config)
            start = next(h for h in known if h.name == url)
        else:
            if url is None:
                url = provider.base_url if provider is not None else server.host
            from tui.service.hosts import parse_host

            try:
                url = parse_host(url)
            except ValueError:
                pass  # the factory says so when the client is made
            known = configured_hosts(config, Host.at(url, headers=server.headers))
            start = next((h for h in known if h.url == url), known[0])
        hosts = HostRegistry(start, factory, provider=provider, known=known)
        return cls(config_store, hosts, db_path, default_model=default_model, gpu_backend=gpu_backend)

    def apply_hosts(self) -> bool:
        """The config was saved: know its hosts now (the current one kept if it is still
        there). True when the current host's client was remade."""
        current = self.hosts.host
        started = self.hosts.named(SERVER_HOST) or self.hosts.named(current.url) or (
            current if self.hosts.named(current.name) is None else None)
        return self.hosts.set_known(configured_hosts(self.config, started))

    # -- accessors ---------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The config in use: the file as loaded or last saved (unsaved edits are not)."""
        return self.config_store.saved

    @property
    def provider(self) -> Provider:
        """The current host's provider."""
        return self.hosts.provider

    def require_history(self) -> HistoryStore:
        """The history store; HistoryNotOpen before the App opened it."""
        if self.history is None:
            raise HistoryNotOpen("the chat history is not open yet")
        return self.history

    def attach_history(self, store: HistoryStore) -> ChatService:
        """The history is open: keep it, and make the chat service over it."""
        from tui.service.chat.turns import ChatService

        self.history = store
        self.chat = ChatService(self.hosts, store, tools=self.tools)
        return self.chat

    # -- pulls -------------------------------------------------------------------------------

    def make_pulls(self, *, concurrent: int = 2,
                   on_change: Callable[[PullJob], None] | None = None) -> PullManager:
        """A pull manager on the current host, following it when the host changes."""
        from tui.service.pulls import PullManager

        pulls = PullManager(self.hosts.provider, concurrent=concurrent, on_change=on_change,
                            hold=self.hosts.hold)
        pulls.models_dir = _local_models_dir(self.hosts.provider)
        self._pulls.append(pulls)
        return pulls

    def _host_switched(self, provider: Provider) -> None:
        for pulls in self._pulls:
            pulls.set_client(provider)
            pulls.models_dir = _local_models_dir(provider)

    async def aclose(self) -> None:
        """Close the provider(s) and the history (the app is ending)."""
        try:
            if self.tools is not None:
                await self.tools.aclose()  # the MCP servers we started, and only those
            await self.hosts.aclose()
        finally:
            if self.history is not None:
                await self.history.close()


def _local_models_dir(provider: Provider) -> Path | None:
    """Ollama's models folder when the server runs on this machine (its disk is ours to judge)."""
    from tui.service.hosts import is_loopback
    from tui.service.pulls.space import default_models_dir

    return default_models_dir() if is_loopback(provider.base_url) else None
