"""PullManager with two real Simulators: a job aimed at another host runs there (stream and
digests), holds that host's provider for its run and closes it; a host switch mid-pull does not
mix the two servers' digests."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
import pytest_asyncio

from tests.service.pulls.test_pulls import MB, installed, pulls_sent
from tests.service.pulls.test_pulls_manager import ScriptedClient, gated
from tui.service.ollama import OllamaClient
from tui.service.providers.registry import Host, HostRegistry, ollama_factory
from tui.service.pulls import PullManager
from tui.simulator import Simulator


def simulator(**kw) -> Simulator:
    return Simulator(port=0, token_rate=0, **kw).start()


@pytest.fixture
def two():
    """Host A (fast) and host B (100 MB/s in 1 MB steps, so a 60 MB pull takes a visible while)."""
    a = simulator(pull_rate=1e12, pull_tick=0.001)
    b = simulator(pull_rate=100 * MB, pull_tick=0.01)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


@pytest_asyncio.fixture
async def hosts(two):
    """A registry whose current host is A, with B configured; `made` records every provider its
    factory makes (borrowing B makes one per borrow)."""
    a, b = two
    made: list[OllamaClient] = []
    make = ollama_factory(connect_timeout=2.0, request_timeout=10.0, retries=0)

    def factory(host: Host):
        provider = make(host)
        made.append(provider)
        return provider

    registry = HostRegistry(Host("A", a.url), factory, known=[Host("A", a.url), Host("B", b.url)])
    registry.made = made  # type: ignore[attr-defined]  # for the tests' eyes only
    try:
        yield registry
    finally:
        await registry.aclose()


def on_b(hosts: HostRegistry):
    target = hosts.named("B")
    assert target is not None
    return lambda: hosts.borrow(target)


async def test_a_job_on_another_host_pulls_there_and_closes_its_provider(two, hosts):
    a, b = two
    b.add_remote_model("demo/x", layers=[3 * MB, 1_000])
    a.add_remote_model("demo/x", layers=[3 * MB, 1_000])
    m = PullManager(hosts.provider)
    job = m.start("demo/x", host="B", opener=on_b(hosts))
    assert job.host == "B"
    final = await m.wait(job.id)
    assert final.state == "success", final.error
    assert final.host == "B" and final.update_result == "new"
    assert pulls_sent(b) == ["demo/x"] and pulls_sent(a) == []
    tags_b = [path for _m, path, _b in b.requests if path == "/api/tags"]
    assert len(tags_b) == 2  # the digests before and after came from B
    assert [p for _m, p, _b in a.requests if p in ("/api/tags", "/api/pull")] == []
    borrowed = [p for p in hosts.made if p.base_url.startswith(b.url)]
    assert len(borrowed) == 1 and borrowed[0].closed  # held for the run, closed at its end
    assert not hosts.provider.closed
    async with hosts.borrow(hosts.named("B")) as on_b_now:  # what each server's /api/tags says
        assert "demo/x:latest" in await installed(on_b_now)
    assert "demo/x:latest" not in await installed(hosts.provider)
    # what this attempt downloaded is remembered for B only
    assert m.known_size("demo/x", "B") == 3 * MB + 1_000 and m.known_size("demo/x") is None
    await m.aclose()


async def test_update_result_is_judged_on_the_host_the_job_ran_on(two, hosts):
    a, b = two
    b.install("tinyllama")  # installed on B only: a re-pull there is an update check
    m = PullManager(hosts.provider)
    first = await m.wait(m.start("tinyllama", host="B", opener=on_b(hosts)).id)
    assert first.state == "success" and first.update_result == "up to date"
    b.publish_update("tinyllama")
    again = await m.wait(m.start("tinyllama", host="B", opener=on_b(hosts)).id)
    assert again.state == "success" and again.update_result == "updated"
    assert "tinyllama:latest" not in a.installed()
    await m.aclose()


async def test_cancelling_a_job_on_another_host_closes_the_provider_it_opened(two, hosts, until):
    _a, b = two
    b.add_remote_model("demo/slow", layers=[60 * MB])
    m = PullManager(hosts.provider)
    job = m.start("demo/slow", host="B", opener=on_b(hosts))
    await until(lambda: m.job(job.id).bytes_done > 0)
    borrowed = [p for p in hosts.made if p.base_url.startswith(b.url)]
    assert len(borrowed) == 1 and not borrowed[0].closed
    m.cancel(job.id)
    final = await m.wait(job.id)
    assert final.state == "cancelled" and final.host == "B"
    assert 0 < final.bytes_done < 60 * MB
    assert borrowed[0].closed
    assert "demo/slow:latest" not in b.installed()
    await m.aclose()


async def test_the_same_model_on_two_hosts_is_two_jobs(two, hosts, until):
    a, b = two
    for sim in (a, b):
        sim.add_remote_model("demo/both", layers=[20 * MB])
    m = PullManager(hosts.provider)
    on_b_job = m.start("demo/both", host="B", opener=on_b(hosts))
    here = m.start("demo/both")
    assert here.id != on_b_job.id and (here.host, on_b_job.host) == ("", "B")
    # the same model on the same host again is the job already running there
    assert m.start("demo/both:latest", host="B", opener=on_b(hosts)).id == on_b_job.id
    assert m.active_job("demo/both", "B").id == on_b_job.id
    results = [await m.wait(j.id) for j in (here, on_b_job)]
    assert [(j.state, j.update_result) for j in results] == [("success", "new")] * 2
    assert "demo/both:latest" in a.installed() and "demo/both:latest" in b.installed()
    assert pulls_sent(a) == ["demo/both"] and pulls_sent(b) == ["demo/both"]
    await m.aclose()


async def test_a_host_switch_mid_pull_leaves_the_running_job_on_its_own_server(two, until):
    """Both digests come from the server the pull ran on: after a switch to B (which lacks the
    model) the update on A is still reported as one, not as nothing known."""
    a, b = two
    a.state.pull_rate, a.state.pull_tick = 100 * MB, 0.01  # A slow this time
    a.install("tinyllama")
    a.add_remote_model("demo/up", layers=[40 * MB])
    a.install("demo/up")
    a.publish_update("demo/up")  # the re-pull downloads a new 40 MB layer
    client_a = OllamaClient(a.url, connect_timeout=2.0, request_timeout=10.0, retries=0)
    client_b = OllamaClient(b.url, connect_timeout=2.0, request_timeout=10.0, retries=0)
    try:
        m = PullManager(client_a)
        job = m.start("demo/up")
        await until(lambda: m.job(job.id).bytes_done > 0)
        m.set_client(client_b)  # the app switched hosts; client_a stays open (a test's choice)
        final = await m.wait(job.id)
        assert final.state == "success", final.error
        assert final.update_result == "updated"
        assert [p for _m, p, _b in b.requests if p in ("/api/tags", "/api/pull")] == []
        later = await m.wait(m.start("tinyllama").id)  # the next job goes to B
        assert later.state == "success" and "tinyllama:latest" in b.installed()
        await m.aclose()
    finally:
        await client_a.aclose()
        await client_b.aclose()


async def test_our_free_space_does_not_stop_a_pull_on_another_host(tmp_path, until):
    here, there = ScriptedClient(), ScriptedClient()
    here.scripts["huge"] = gated(total=10**18)  # an exabyte: no disk here has that free
    there.scripts["huge"] = gated(total=10**18)
    closed: list[str] = []

    @asynccontextmanager
    async def open_there():
        try:
            yield there
        finally:
            closed.append("there")

    m = PullManager(here)
    m.models_dir = tmp_path
    remote = m.start("huge", host="B", opener=open_there)
    local = m.start("huge")
    done = await m.wait(local.id)
    assert done.state == "error" and done.error.startswith("not enough disk space")
    await until(lambda: m.job(remote.id).bytes_done > 0)
    assert m.job(remote.id).state == "running"
    there.gates["huge"].set()
    final = await m.wait(remote.id)
    assert final.state == "success" and closed == ["there"]
    await m.aclose()


async def test_a_host_without_an_opener_is_refused():
    m = PullManager(ScriptedClient())
    with pytest.raises(ValueError):
        m.start("m", host="B")
    assert m.jobs() == ()


async def test_switching_host_through_the_registry_lets_a_running_pull_finish(two, hosts, until):
    """The app's wiring (Services.make_pulls): the registry closes a switched-away provider only
    once no pull holds it. Before, the switch closed it under the pull ("the stream from Ollama
    broke off")."""
    a, b = two
    hosts.switch(hosts.named("B"))
    b.add_remote_model("demo/slow", layers=[60 * MB])
    m = PullManager(hosts.provider, hold=hosts.hold)
    job = m.start("demo/slow")  # on B, the current host
    await until(lambda: m.job(job.id).bytes_done > 0)
    on_b = hosts.provider
    hosts.switch(hosts.named("A"))  # the user points the chat at A mid-pull
    m.set_client(hosts.provider)
    final = await m.wait(job.id)
    assert final.state == "success", final.error
    assert final.update_result == "new" and "demo/slow:latest" in b.installed()
    await hosts.aclose_retired()  # B's provider closes once the pull let go of it
    assert on_b.closed and not hosts.provider.closed
    assert "demo/slow:latest" not in a.installed()
    await m.aclose()


async def test_the_app_ending_closes_a_held_provider_at_once(two, hosts, until):
    _a, b = two
    hosts.switch(hosts.named("B"))
    b.add_remote_model("demo/slow", layers=[600 * MB])  # ~6 s at B's rate: longer than this test
    m = PullManager(hosts.provider, hold=hosts.hold)
    job = m.start("demo/slow")
    await until(lambda: m.job(job.id).bytes_done > 0)
    on_b = hosts.provider
    hosts.switch(hosts.named("A"))
    await asyncio.sleep(0.3)
    assert not on_b.closed  # held by the running pull
    await asyncio.wait_for(hosts.aclose(), 3)  # the app's end does not wait for the pull
    assert on_b.closed
    final = await m.wait(job.id)
    assert final.state == "error"  # the pull was cut off with the app (Ollama keeps what came)
    await m.aclose()
