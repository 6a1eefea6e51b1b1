"""PullManager against a real Simulator over HTTP: progress, concurrency, cancel/resume, updates."""

from __future__ import annotations

import time

import pytest
import pytest_asyncio

from tui.service.ollama import OllamaClient
from tui.service.ollama.errors import InvalidModelName
from tui.service.pulls import PullJob, PullManager
from tui.simulator import Simulator

MB = 1_000_000


@pytest.fixture
def slow_sim():
    """100 MB/s in 1 MB steps (a line every 10 ms): pulls of tens of MB take a visible while."""
    simulator = Simulator(port=0, token_rate=0, pull_rate=100 * MB, pull_tick=0.01).start()
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest_asyncio.fixture
async def slow_client(slow_sim):
    c = OllamaClient(slow_sim.url, connect_timeout=2.0, request_timeout=10.0, retries=0, backoff=0.01)
    try:
        yield c
    finally:
        await c.aclose()


def pulls_sent(sim: Simulator, model: str | None = None) -> list[str]:
    return [body.get("model", "") for method, path, body in list(sim.requests)
            if path == "/api/pull" and body is not None
            and (model is None or body.get("model") == model)]


async def installed(client: OllamaClient) -> dict[str, str]:
    return {m.name: m.digest for m in await client.tags()}


async def test_multi_layer_pull_succeeds_with_monotonic_progress(slow_sim, slow_client):
    slow_sim.add_remote_model("demo/multi:latest", layers=[20 * MB, 5 * MB, 2_000])
    seen: list[PullJob] = []
    m = PullManager(slow_client, on_change=seen.append)
    job = m.start("demo/multi")
    final = await m.wait(job.id)
    assert final.state == "success", final.error
    assert final.percent == 100.0 and final.total_known
    assert final.layer_count == 3
    assert final.bytes_done == final.bytes_total == 25 * MB + 2_000
    assert [layer.total for layer in final.layers] == [20 * MB, 5 * MB, 2_000]
    assert all(layer.done for layer in final.layers)
    assert final.update_result == "new"
    mine = [j for j in seen if j.id == job.id]
    assert len(mine) >= 4  # running, some progress, the end
    done = [j.bytes_done for j in mine]
    assert done == sorted(done)
    assert any(j.state == "running" and 0 < j.bytes_done < final.bytes_total for j in mine)
    assert "demo/multi:latest" in await installed(slow_client)


async def test_builtin_model_with_the_fast_fixture(sim, client):
    m = PullManager(client)
    final = await m.wait(m.start("tinyllama").id)
    assert final.state == "success" and final.update_result == "new"
    assert "tinyllama:latest" in await installed(client)


async def test_two_pulls_run_concurrently(slow_sim, slow_client, until):
    slow_sim.add_remote_model("demo/a", layers=[30 * MB, 1_000])
    slow_sim.add_remote_model("demo/b", layers=[30 * MB, 1_000])
    m = PullManager(slow_client, concurrent=2)
    a, b = m.start("demo/a"), m.start("demo/b")
    assert (a.state, b.state) == ("running", "running")
    # both streams make progress at the same time
    await until(lambda: all(0 < m.job(j.id).bytes_done < 30 * MB for j in (a, b)))
    fa, fb = await m.wait(a.id), await m.wait(b.id)
    assert (fa.state, fb.state) == ("success", "success")
    names = await installed(slow_client)
    assert "demo/a:latest" in names and "demo/b:latest" in names


async def test_third_pull_waits_for_a_free_slot(slow_sim, slow_client, until):
    for n in "abc":
        slow_sim.add_remote_model(f"demo/{n}", layers=[20 * MB, 1_000])
    m = PullManager(slow_client, concurrent=2)
    a, b, c = (m.start(f"demo/{n}") for n in "abc")
    assert c.state == "queued"
    await until(lambda: m.job(a.id).bytes_done > 0 and m.job(b.id).bytes_done > 0)
    assert m.job(c.id).state == "queued"
    assert pulls_sent(slow_sim, "demo/c") == []  # not even a request yet
    finals = [await m.wait(j.id) for j in (a, b, c)]
    assert [f.state for f in finals] == ["success"] * 3
    # c only started once a or b had ended
    assert finals[2].started_at >= min(finals[0].ended_at, finals[1].ended_at)
    sent = pulls_sent(slow_sim)  # a and b go at once (either may reach the server first); c last
    assert sorted(sent[:2]) == ["demo/a", "demo/b"] and sent[2:] == ["demo/c"]


async def test_cancel_then_repull_resumes(slow_sim, slow_client, until):
    slow_sim.add_remote_model("demo/big", layers=[80 * MB, 1_000])
    seen: list[PullJob] = []
    m = PullManager(slow_client, on_change=seen.append)
    job = m.start("demo/big")
    await until(lambda: m.job(job.id).bytes_done >= 10 * MB)
    m.cancel(job.id)
    assert m.job(job.id).state == "cancelled"
    cancelled = await m.wait(job.id)
    assert cancelled.state == "cancelled" and cancelled.error is None
    assert 0 < cancelled.bytes_done < 80 * MB
    assert "demo/big:latest" not in await installed(slow_client)

    again = m.start("demo/big")
    assert again.id != job.id
    await until(lambda: m.job(again.id).layer_count > 0)
    first = m.job(again.id)
    assert first.resumed
    assert first.bytes_done >= cancelled.bytes_done  # the first line already shows the bytes
    assert "resuming from" in first.stage_text
    final = await m.wait(again.id)
    assert final.state == "success"
    assert final.resumed and final.resumed_bytes >= cancelled.bytes_done
    firsts = [j for j in seen if j.id == again.id and j.layer_count > 0]
    assert firsts[0].bytes_done > 0
    # the first attempt taught the manager the size it saw
    assert m.known_size("demo/big") == 80 * MB + 1_000


async def test_invalid_name_is_refused_without_a_request(slow_sim, slow_client):
    m = PullManager(slow_client)
    before = len(slow_sim.requests)
    for bad in ("bad name", "model:", "/model", "ns//m", ""):
        with pytest.raises(InvalidModelName):
            m.start(bad)
    assert len(slow_sim.requests) == before
    assert m.jobs() == ()


async def test_unknown_model_fails_while_another_succeeds(slow_sim, slow_client):
    slow_sim.add_remote_model("demo/ok", layers=[10 * MB, 1_000])
    m = PullManager(slow_client)
    bad, ok = m.start("nosuch/model:v1"), m.start("demo/ok")
    fbad, fok = await m.wait(bad.id), await m.wait(ok.id)
    assert fbad.state == "error"
    assert fbad.error == "pull model manifest: file does not exist"
    assert fbad.stage_text == "error: pull model manifest: file does not exist"
    assert fbad.update_result is None
    assert fok.state == "success"


async def test_mid_stream_error_keeps_partial_progress(slow_sim, slow_client):
    slow_sim.add_remote_model("demo/flaky", layers=[50 * MB, 1_000])
    slow_sim.inject("/api/pull", "error_mid_stream", message="max retries exceeded: EOF", after=5)
    m = PullManager(slow_client)
    final = await m.wait(m.start("demo/flaky").id)
    assert final.state == "error" and "max retries exceeded" in final.error
    assert final.bytes_done > 0 and final.rate is None and final.eta is None


async def test_update_check_up_to_date_then_updated(slow_sim, slow_client):
    slow_sim.add_remote_model("demo/upd", layers=[5 * MB, 1_000])
    slow_sim.add_remote_model("demo/same", layers=[5 * MB, 1_000])
    m = PullManager(slow_client)
    for name in ("demo/upd", "demo/same"):
        assert (await m.wait(m.start(name).id)).update_result == "new"
    old = (await installed(slow_client))["demo/upd:latest"]

    again = await m.wait(m.start("demo/upd").id)
    assert again.state == "success" and again.update_result == "up to date"
    assert not again.resumed  # cached blobs are not a resume
    assert again.bytes_done == again.bytes_total

    slow_sim.publish_update("demo/upd")
    results = await m.update_all(["demo/upd", "demo/same"])
    assert [(r.name, r.state, r.update_result) for r in results] == [
        ("demo/upd", "success", "updated"), ("demo/same", "success", "up to date")]
    assert (await installed(slow_client))["demo/upd:latest"] != old


async def test_create_streams_status_like_a_pull(sim, client):
    m = PullManager(client)
    final = await m.wait(m.create("mine:v1", from_="llama3.2", system="Answer in French.").id)
    assert final.state == "success", final.error
    assert final.kind == "create" and final.update_result == "new"
    assert "mine:v1" in await installed(client)


async def test_on_change_is_coalesced_for_a_chatty_pull():
    # a line every 2 ms: about 500 events per second
    with Simulator(port=0, token_rate=0, pull_rate=100 * MB, pull_tick=0.002) as sim:
        sim.add_remote_model("demo/chatty", layers=[100 * MB, 1_000])
        async with OllamaClient(sim.url, retries=0) as client:
            events = 0
            real_pull = client.pull

            async def counting_pull(model):
                nonlocal events
                async for event in real_pull(model):
                    events += 1
                    yield event

            client.pull = counting_pull  # type: ignore[method-assign]
            calls: list[PullJob] = []
            m = PullManager(client, on_change=calls.append)
            t0 = time.monotonic()
            final = await m.wait(m.start("demo/chatty").id)
            elapsed = time.monotonic() - t0
    assert final.state == "success"
    assert events >= 200
    assert len(calls) <= elapsed * 10 + 4, (len(calls), events, elapsed)
    assert len(calls) >= 3
    assert calls[-1].state == "success" and calls[-1].percent == 100.0


async def test_aclose_cancels_running_pulls(slow_sim, slow_client, until):
    slow_sim.add_remote_model("demo/long", layers=[500 * MB, 1_000])
    m = PullManager(slow_client)
    job = m.start("demo/long")
    await until(lambda: m.job(job.id).bytes_done > 0)
    await m.aclose()
    assert m.job(job.id).state == "cancelled"
    assert "demo/long:latest" not in await installed(slow_client)
