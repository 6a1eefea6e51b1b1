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
    assert new.base_url == "http://127.0.0.1:2" and new._headers["Authorization"] == SECRET
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
