"""Hosts are values; the registry holds one live provider per current host (issue 15)."""

from __future__ import annotations

import pytest

from tui.service.ollama import OllamaClient
from tui.service.providers import (
    ALL_FEATURES,
    Host,
    HostRegistry,
    Provider,
    ollama_factory,
)

SECRET = "Bearer s3cr3t-T0KEN"


def test_a_host_is_a_frozen_value_whose_headers_never_show():
    host = Host.at("http://gpubox:11434", headers={"Authorization": SECRET})
    assert host == Host("http://gpubox:11434", "http://gpubox:11434", "ollama", {})
    assert SECRET not in repr(host) and SECRET not in str(host)
    assert host.headers["Authorization"] == SECRET
    with pytest.raises(AttributeError):
        host.url = "http://elsewhere:11434"  # type: ignore[misc]
    with pytest.raises(TypeError):
        host.headers["Authorization"] = "changed"  # type: ignore[index]
    moved = host.moved_to("http://other:11434")
    assert (moved.url, moved.name, moved.kind) == ("http://other:11434", "http://other:11434", "ollama")
    assert moved.headers == {"Authorization": SECRET}
    assert hash(host) == hash(Host.at("http://gpubox:11434"))


def test_the_ollama_client_is_a_provider_with_every_feature():
    client = OllamaClient("http://127.0.0.1:1")
    assert isinstance(client, Provider)
    assert client.features == ALL_FEATURES and client.supports("pull")


class FakeProvider:
    features: frozenset[str] = frozenset()
    kind = "ollama"
    timings = "server"

    def __init__(self, host: Host) -> None:
        self.base_url = host.url
        self.closed = False

    def supports(self, feature: str) -> bool:
        return feature in self.features

    async def aclose(self) -> None:
        self.closed = True


def test_the_provider_is_made_once_for_the_current_host():
    made: list[Host] = []

    def factory(host: Host) -> FakeProvider:
        made.append(host)
        return FakeProvider(host)

    hosts = HostRegistry(Host.at("http://a:1"), factory)  # type: ignore[arg-type]
    assert made == []  # not before it is needed
    assert hosts.provider is hosts.provider and made == [Host.at("http://a:1")]
    assert hosts.key == "http://a:1"


async def test_switching_host_gives_another_client_and_closes_the_old_one():
    hosts = HostRegistry(Host.at("http://a:1"), FakeProvider)  # type: ignore[arg-type]
    old = hosts.provider
    seen: list[object] = []
    hosts.on_switch(seen.append)
    new = hosts.switch(Host.at("http://b:2"))
    assert new is hosts.provider and new is not old and seen == [new]
    assert hosts.host.url == "http://b:2" and hosts.key == "http://b:2"
    await hosts.aclose_retired()
    assert old.closed and not new.closed
    await hosts.aclose()
    assert new.closed


async def test_switching_real_clients_keeps_the_headers_and_closes_the_old_pool():
    hosts = HostRegistry(Host.at("http://127.0.0.1:1", headers={"Authorization": SECRET}),
                         ollama_factory(connect_timeout=0.1, retries=0))
    old = hosts.provider
    assert isinstance(old, OllamaClient)
    old.warm_up()
    new = hosts.switch(hosts.host.moved_to("http://127.0.0.1:2"))
    await hosts.aclose_retired()
    assert old.closed and isinstance(new, OllamaClient) and not new.closed
    assert new.base_url == "http://127.0.0.1:2" and new.transport._headers["Authorization"] == SECRET
    await hosts.aclose()


def test_a_bad_url_changes_nothing():
    hosts = HostRegistry(Host.at("http://127.0.0.1:1"), ollama_factory())
    first = hosts.provider
    with pytest.raises(ValueError):
        hosts.switch(Host.at("http://127.0.0.1:99999"))
    assert hosts.provider is first and hosts.host.url == "http://127.0.0.1:1"


def test_a_host_of_an_unknown_kind_has_no_ollama_client():
    with pytest.raises(ValueError, match="kind"):
        ollama_factory()(Host("x", "http://x:1", kind="openai"))


# -- the host table (issues 16, 17) ------------------------------------------------------------

def _config(tmp_path, text):
    from tui.service.config import ConfigStore

    path = tmp_path / "config.toml"
    path.write_text(text)
    store = ConfigStore(path)
    store.load()
    return store


FLEET = """
[server]
host = "http://127.0.0.1:11434"

[hosts.big]
url = "http://10.0.0.2:11434"

[hosts.rack]
url = "http://10.0.0.3:8000/v1"
kind = "openai"
api_key = "sk-rack-KEY"
"""


def test_services_know_every_configured_host_and_the_server_one(tmp_path):
    from tui.service.openai.client import OpenAIClient
    from tui.service.services import Services

    services = Services.build(_config(tmp_path, FLEET), db_path=tmp_path / "h.db")
    hosts = services.hosts
    assert set(hosts.known) == {"default", "big", "rack"}
    assert hosts.host.name == "default" and hosts.host.url == "http://127.0.0.1:11434"
    assert hosts.fleet
    rack = hosts.named("rack")
    assert (rack.url, rack.kind) == ("http://10.0.0.3:8000/v1", "openai")
    assert "sk-rack-KEY" not in repr(rack) and "sk-rack-KEY" not in repr(hosts)
    provider = hosts.switch(rack)
    assert isinstance(provider, OpenAIClient) and provider.base_url == "http://10.0.0.3:8000"
    assert "sk-rack-KEY" not in repr(provider)
    assert provider._headers["Authorization"] == "Bearer sk-rack-KEY"
    assert isinstance(hosts.switch(hosts.named("big")), OllamaClient)


def test_a_configured_name_picks_that_host_and_a_url_is_matched_to_its_name(tmp_path):
    from tui.service.services import Services

    store = _config(tmp_path, FLEET)
    assert Services.build(store, "big", db_path=tmp_path / "h.db").hosts.host.name == "big"
    by_url = Services.build(store, "10.0.0.2", db_path=tmp_path / "h.db").hosts.host
    assert (by_url.name, by_url.url) == ("big", "http://10.0.0.2:11434")


def test_without_hosts_the_one_server_is_named_by_its_url(tmp_path):
    from tui.service.services import Services

    services = Services.build(_config(tmp_path, ""), db_path=tmp_path / "h.db")
    assert list(services.hosts.known) == ["http://127.0.0.1:11434"] and not services.hosts.fleet


def test_saving_hosts_rebuilds_the_table_and_keeps_the_current_host(tmp_path):
    from tui.service.services import Services

    store = _config(tmp_path, FLEET)
    services = Services.build(store, "big", db_path=tmp_path / "h.db")
    old = services.hosts.provider
    store.save_text(FLEET + '\n[hosts.new]\nurl = "http://10.0.0.9:11434"\n')
    assert services.apply_hosts() is False
    assert services.hosts.host.name == "big" and services.hosts.provider is old
    assert "new" in services.hosts.known
    store.save_text(FLEET.replace("10.0.0.2", "10.0.0.5"))
    assert services.apply_hosts() is True
    assert services.hosts.provider.base_url == "http://10.0.0.5:11434"
    assert "new" not in services.hosts.known


async def test_borrowing_another_host_makes_a_client_and_closes_it(tmp_path):
    from tui.service.services import Services

    services = Services.build(_config(tmp_path, FLEET), db_path=tmp_path / "h.db")
    current = services.hosts.provider
    async with services.hosts.borrow(services.hosts.host) as provider:
        assert provider is current
    async with services.hosts.borrow(services.hosts.named("big")) as provider:
        assert provider is not current and provider.base_url == "http://10.0.0.2:11434"
        assert provider.transport._client is None or not provider.transport._client.is_closed


def test_the_host_flag_takes_a_configured_name_before_a_host_name(tmp_path):
    from tui.cli import configured_name
    from tui.service.services import Services

    store = _config(tmp_path, FLEET + '\n[hosts.localhost]\nurl = "http://10.0.0.7:11434"\n')
    config = store.saved
    assert configured_name(" big ", config) == "big"
    assert configured_name("localhost", config) == "localhost"  # the name wins over the host name
    assert configured_name("gpubox:11434", config) is None and configured_name(None, config) is None
    services = Services.build(store, configured_name("localhost", config), db_path=tmp_path / "h.db")
    assert services.hosts.host.url == "http://10.0.0.7:11434"
    assert "sk-rack-KEY" in config.secret_values()
