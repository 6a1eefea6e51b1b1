"""ChatService.prepare: what a turn sends, or why not; capabilities cached per (host, model)."""

from __future__ import annotations

from types import SimpleNamespace

from tui.service.chat.turns import ChatService, NotSent, TurnPlan
from tui.service.config import Config
from tui.service.ollama.errors import ModelNotFound, Unreachable
from tui.service.ollama.types import ModelInfo, ModelShow
from tui.service.providers import Host, HostRegistry


class FakeServer:
    """A provider with these models (name → capabilities); counts /api/show."""

    features: frozenset[str] = frozenset()
    kind = "ollama"
    timings = "server"

    def __init__(self, host: Host, models: dict[str, tuple[str, ...]]) -> None:
        self.base_url = host.url
        self.models = models
        self.shows: list[str] = []
        self.down = False

    async def tags(self) -> list[ModelInfo]:
        if self.down:
            raise Unreachable("not reachable")
        return [ModelInfo(name, size=4_000_000_000) for name in self.models]

    async def show(self, model: str, **_kw) -> ModelShow:
        self.shows.append(model)
        if model not in self.models:
            raise ModelNotFound(f"model {model!r} not found")
        return ModelShow(capabilities=self.models[model])

    async def aclose(self) -> None:
        pass


SERVERS = {"http://a:1": {"llava:7b": ("completion", "vision"), "qwen3:8b": ("completion", "thinking")},
           "http://b:2": {"llava:7b": ("completion",)}}


def service() -> tuple[ChatService, HostRegistry]:
    hosts = HostRegistry(Host.at("http://a:1"), lambda host: FakeServer(host, SERVERS[host.url]))  # type: ignore[arg-type,return-value]
    return ChatService(hosts, store=None), hosts


def session(model: str | None, **kw) -> SimpleNamespace:
    values = dict(model=model, preset=None, options={}, think=True, system_prompt=None, keep_alive=None)
    return SimpleNamespace(**(values | kw))


async def test_a_plan_for_an_installed_model():
    chat, _hosts = service()
    plan = await chat.prepare(session("qwen3:8b"), Config())
    assert isinstance(plan, TurnPlan)
    assert plan.request.model == "qwen3:8b" and plan.request.think is True  # it can think
    assert plan.model is not None and plan.model.name == "qwen3:8b" and plan.fit_warning is None


async def test_think_is_not_sent_to_a_model_that_cannot():
    chat, _hosts = service()
    plan = await chat.prepare(session("llava:7b"), Config())
    assert isinstance(plan, TurnPlan) and plan.request.think is None


async def test_no_model():
    chat, _hosts = service()
    assert await chat.prepare(session(None), Config()) == NotSent("no_model")
    assert await chat.prepare(session("  "), Config()) == NotSent("no_model")


async def test_not_installed_offers_a_pull():
    chat, _hosts = service()
    assert await chat.prepare(session("mistral"), Config()) == NotSent("not_installed", "mistral")


async def test_a_missing_capability():
    chat, _hosts = service()
    refused = await chat.prepare(session("qwen3:8b"), Config(), needs=("vision",))
    assert refused == NotSent("capability", "qwen3:8b", "vision")
    assert isinstance(await chat.prepare(session("llava:7b"), Config(), needs=("vision",)), TurnPlan)


async def test_a_model_that_may_not_fit_is_planned_with_the_warning():
    chat, _hosts = service()
    asked: list[tuple[str, int | None]] = []

    async def fit(name: str, size: int | None) -> str | None:
        asked.append((name, size))
        return "needs 4 GB, 2 GB free"

    plan = await chat.prepare(session("qwen3:8b"), Config(), fit_check=fit)
    assert isinstance(plan, TurnPlan) and plan.fit_warning == "needs 4 GB, 2 GB free"
    assert asked == [("qwen3:8b", 4_000_000_000)]


async def test_an_unanswered_model_list_lets_the_request_say_what_is_wrong():
    chat, hosts = service()
    hosts.provider.down = True  # type: ignore[attr-defined]
    plan = await chat.prepare(session("mistral"), Config(), fit_check=None)
    assert isinstance(plan, TurnPlan) and plan.model is None and plan.request.model == "mistral"


async def test_capabilities_are_cached_per_host_and_model():
    chat, hosts = service()
    first = hosts.provider
    assert await chat.capabilities("llava:7b") == ("completion", "vision")
    assert await chat.capabilities("llava:7b") == ("completion", "vision")
    assert first.shows == ["llava:7b"]  # type: ignore[attr-defined]
    hosts.switch(Host.at("http://b:2"))
    # Another server's llava:7b: asked anew, not the old host's answer.
    assert await chat.capabilities("llava:7b") == ("completion",)
    assert hosts.provider.shows == ["llava:7b"]  # type: ignore[attr-defined]
    refused = await chat.prepare(session("llava:7b"), Config(), needs=("vision",))
    assert refused == NotSent("capability", "llava:7b", "vision")
    await hosts.aclose_retired()


async def test_an_unknown_model_is_not_cached():
    chat, hosts = service()
    assert await chat.capabilities("mistral") is None
    assert await chat.capabilities("mistral") is None
    assert hosts.provider.shows == ["mistral", "mistral"]  # type: ignore[attr-defined]
