"""PullManager against a scripted in-process client: scheduling, cancel, coalescing, failures."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from tui.service.ollama.errors import InvalidModelName, StreamError, Unreachable
from tui.service.ollama.types import PullEvent
from tui.service.pulls import PullJob, PullManager, ensure_free_space

DIGEST = "sha256:" + "d" * 64


@dataclass
class Info:
    name: str
    digest: str
    size: int = 0
    model: str = ""


class ScriptedClient:
    """`pull(name)` replays `scripts[name]` (PullEvents, exceptions, or ("sleep", s) pauses)."""

    def __init__(self) -> None:
        self.scripts: dict[str, list] = {}
        self.installed: dict[str, str] = {}
        self.pulled: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.closed: list[str] = []

    async def tags(self):
        return [Info(name=n, digest=d, model=n) for n, d in self.installed.items()]

    def pull(self, name):
        self.pulled.append(name)
        return self._run(name)

    def create(self, name, *, from_, **kw):
        self.pulled.append(f"create {name} from {from_} {sorted(kw)}")
        return self._run(name)

    async def _run(self, name):
        try:
            for step in self.scripts[name]:
                if isinstance(step, BaseException):
                    raise step
                if isinstance(step, tuple) and step[0] == "sleep":
                    await asyncio.sleep(step[1])
                elif isinstance(step, tuple) and step[0] == "gate":
                    await self.gates.setdefault(name, asyncio.Event()).wait()
                elif isinstance(step, tuple) and step[0] == "install":
                    self.installed[name] = step[1]
                else:
                    yield step
        finally:
            self.closed.append(name)


def script(total: int = 1000, steps: int = 10, *, sleep: float = 0.0, digest: str = DIGEST) -> list:
    out: list = [PullEvent("pulling manifest")]
    for i in range(steps + 1):
        out.append(PullEvent(f"pulling {digest[7:19]}", digest, total, total * i // steps or None))
        if sleep:
            out.append(("sleep", sleep))
    out += [PullEvent("verifying sha256 digest"), PullEvent("writing manifest"),
            ("install", digest), PullEvent("success")]
    return out


def gated(total: int = 1000) -> list:
    """A pull that stops mid-layer until its gate opens."""
    return [PullEvent("pulling manifest"), PullEvent("pulling dddd", DIGEST, total, total // 2),
            ("gate",), *script(total)[1:]]


async def test_success_and_new_then_up_to_date():
    c = ScriptedClient()
    c.scripts["m"] = script()
    m = PullManager(c)
    job = m.start("m")
    first = await m.wait(job.id)
    assert first.state == "success" and first.update_result == "new"
    assert first.percent == 100.0 and first.bytes_done == 1000
    assert first.started_at is not None and first.ended_at is not None
    second = await m.wait(m.start("m").id)
    assert second.update_result == "up to date"
    c.scripts["m"] = script(digest="sha256:" + "e" * 64)
    third = await m.wait(m.start("m").id)
    assert third.update_result == "updated"


async def test_invalid_name_raises_and_calls_nothing():
    c = ScriptedClient()
    m = PullManager(c)
    with pytest.raises(InvalidModelName):
        m.start("bad name!")
    with pytest.raises(InvalidModelName):
        m.start("model:")
    assert c.pulled == [] and m.jobs() == ()


async def test_same_model_active_returns_the_same_job():
    c = ScriptedClient()
    c.scripts["m"] = gated()
    m = PullManager(c)
    a = m.start("m")
    b = m.start("M:latest")
    assert a.id == b.id
    assert len(m.jobs()) == 1
    c.gates.setdefault("m", asyncio.Event()).set()
    assert (await m.wait(a.id)).state == "success"
    # once finished, a new start makes a new job
    c.gates["m"] = asyncio.Event()
    c.gates["m"].set()
    assert m.start("m").id != a.id


async def test_queue_respects_concurrency_and_order(until):
    c = ScriptedClient()
    for n in "abcd":
        c.scripts[n] = gated()
    m = PullManager(c, concurrent=2)
    jobs = [m.start(n) for n in "abcd"]
    assert [j.state for j in jobs] == ["running", "running", "queued", "queued"]
    await until(lambda: c.pulled == ["a", "b"])
    c.gates["b"].set()
    await m.wait(jobs[1].id)
    await until(lambda: m.job(jobs[2].id).state == "running")
    assert m.job(jobs[3].id).state == "queued"
    m.set_concurrency(3)
    assert m.job(jobs[3].id).state == "running"
    for n in "acd":
        c.gates.setdefault(n, asyncio.Event()).set()
    finals = [await m.wait(j.id) for j in jobs]
    assert [f.state for f in finals] == ["success"] * 4
    assert c.pulled == ["a", "b", "c", "d"]
    assert [j.name for j in m.jobs()] == ["a", "b", "c", "d"]


async def test_cancel_queued_never_sends_a_request():
    c = ScriptedClient()
    c.scripts["a"] = gated()
    c.scripts["b"] = script()
    m = PullManager(c, concurrent=1)
    a, b = m.start("a"), m.start("b")
    m.cancel(b.id)
    assert m.job(b.id).state == "cancelled"
    c.gates.setdefault("a", asyncio.Event()).set()
    await m.wait(a.id)
    assert (await m.wait(b.id)).state == "cancelled"
    assert c.pulled == ["a"]


async def test_cancel_before_the_task_ran_and_while_running(until):
    c = ScriptedClient()
    c.scripts["a"] = gated()
    c.scripts["b"] = gated()
    m = PullManager(c, concurrent=2)
    a = m.start("a")
    m.cancel(a.id)  # the task has not had a single step yet
    assert (await m.wait(a.id)).state == "cancelled"
    b = m.start("b")
    await until(lambda: m.job(b.id).bytes_done > 0)
    m.cancel(b.id)
    final = await m.wait(b.id)
    assert final.state == "cancelled" and final.bytes_done == 500
    assert final.error is None and final.rate is None and final.stage_text == "cancelled"
    assert "b" in c.closed  # the stream was closed: the disconnect that cancels on Ollama
    m.cancel(b.id)  # finished: a no-op
    with pytest.raises(KeyError):
        m.cancel(999)


async def test_error_in_one_pull_does_not_touch_the_other():
    c = ScriptedClient()
    c.scripts["bad"] = [PullEvent("pulling manifest"),
                        StreamError("pull model manifest: file does not exist")]
    c.scripts["good"] = script(sleep=0.001)
    m = PullManager(c)
    bad, good = m.start("bad"), m.start("good")
    bad_final, good_final = await m.wait(bad.id), await m.wait(good.id)
    assert bad_final.state == "error"
    assert bad_final.error == "pull model manifest: file does not exist"
    assert bad_final.error_type == "StreamError"
    assert bad_final.stage_text == "error: pull model manifest: file does not exist"
    assert good_final.state == "success"


async def test_transport_error_and_unexpected_exception_become_error_states():
    c = ScriptedClient()
    c.scripts["a"] = [PullEvent("pulling manifest"), Unreachable("connection refused")]
    c.scripts["b"] = [PullEvent("pulling manifest"), RuntimeError("boom")]
    c.scripts["c"] = [PullEvent("pulling manifest")]  # ends without success
    m = PullManager(c, concurrent=3)
    ja, jb, jc = m.start("a"), m.start("b"), m.start("c")
    fa, fb, fc = await m.wait(ja.id), await m.wait(jb.id), await m.wait(jc.id)
    assert (fa.state, fa.error, fa.error_type) == ("error", "connection refused", "Unreachable")
    assert (fb.state, fb.error) == ("error", "boom")
    assert fc.state == "error" and "without reporting success" in fc.error


async def test_on_change_is_coalesced_to_about_ten_per_second():
    c = ScriptedClient()
    # 200 events over half a second or more (about 400 events/s)
    c.scripts["m"] = script(total=200_000, steps=200, sleep=0.0025)
    calls: list[PullJob] = []
    m = PullManager(c, on_change=calls.append)
    t0 = time.monotonic()
    job = m.start("m")
    final = await m.wait(job.id)
    elapsed = time.monotonic() - t0
    assert final.state == "success"
    mine = [j for j in calls if j.id == job.id]
    # state changes (running, final) are always sent; progress at most every 0.1 s
    assert len(mine) <= elapsed * 10 + 4, (len(mine), elapsed)
    assert len(mine) >= 3  # but it does report while it runs
    assert mine[-1].state == "success" and mine[-1].percent == 100.0
    done = [j.bytes_done for j in mine]
    assert done == sorted(done)


async def test_a_burst_without_yielding_gives_few_notifications():
    c = ScriptedClient()
    c.scripts["m"] = script(total=10_000, steps=1000)  # no awaits between events
    calls: list[PullJob] = []
    m = PullManager(c, on_change=calls.append)
    job = m.start("m")
    await m.wait(job.id)
    assert len(calls) <= 4
    assert calls[-1].state == "success"


async def test_a_failing_callback_does_not_break_the_pull():
    c = ScriptedClient()
    c.scripts["m"] = script()

    def explode(job):
        raise ValueError("ui bug")

    m = PullManager(c, on_change=explode)
    assert (await m.wait(m.start("m").id)).state == "success"


async def test_update_all_one_job_each_and_invalid_names_do_not_stop_the_rest():
    c = ScriptedClient()
    c.installed = {"a": DIGEST, "b": "sha256:" + "0" * 64}
    c.scripts["a"] = script()  # same digest: up to date
    c.scripts["b"] = script()  # different digest: updated
    m = PullManager(c, concurrent=1)
    results = await m.update_all(["a", "b", "a", "bad name"])
    assert [r.name for r in results] == ["a", "b", "bad name"]
    assert [r.update_result for r in results] == ["up to date", "updated", None]
    assert results[2].state == "error" and results[2].error_type == "InvalidModelName"


async def test_create_streams_like_a_pull():
    c = ScriptedClient()
    c.scripts["mine"] = [PullEvent("using existing layer sha256:" + "a" * 64),
                         PullEvent("creating new layer sha256:" + "b" * 64),
                         PullEvent("writing manifest"), ("install", DIGEST), PullEvent("success")]
    m = PullManager(c)
    job = m.create("mine", from_="llama3.2", system="be brief")
    assert job.kind == "create"
    final = await m.wait(job.id)
    assert final.state == "success" and final.update_result == "new"
    assert c.pulled == ["create mine from llama3.2 ['system']"]
    with pytest.raises(InvalidModelName):
        m.create("bad name", from_="x")


async def test_aclose_cancels_everything():
    c = ScriptedClient()
    for n in "abc":
        c.scripts[n] = gated()
    m = PullManager(c, concurrent=2)
    jobs = [m.start(n) for n in "abc"]
    await asyncio.sleep(0.01)
    await m.aclose()
    assert [m.job(j.id).state for j in jobs] == ["cancelled"] * 3
    assert sorted(c.closed) == ["a", "b"]
    with pytest.raises(RuntimeError):
        m.start("d")


async def test_remembered_size_feeds_hints_and_free_space_warning(tmp_path, until):
    c = ScriptedClient()
    c.scripts["m"] = gated(total=10**18)  # an exabyte: no disk has that free
    m = PullManager(c)
    assert m.known_size("m") is None and m.free_space_warning("m", tmp_path) is None
    job = m.start("m")
    await until(lambda: m.job(job.id).bytes_done > 0)
    m.cancel(job.id)
    await m.wait(job.id)
    assert m.known_size("m:latest") == 10**18
    warning = m.free_space_warning("m", tmp_path)
    assert warning is not None and "not enough disk space" in warning
    # the next attempt knows the size up front
    c.scripts["m"] = gated(total=10**18)
    again = m.start("m")
    assert again.percent is None or again.percent == 0
    await until(lambda: m.job(again.id).bytes_done > 0)
    assert m.job(again.id).percent == pytest.approx(50.0)
    await m.aclose()


def test_ensure_free_space(tmp_path):
    assert ensure_free_space(tmp_path, 1) is None
    assert ensure_free_space(tmp_path, None) is None
    assert ensure_free_space(tmp_path / "not" / "yet", 1) is None  # measured on the parent
    warning = ensure_free_space(tmp_path, 10**18)
    assert warning is not None and warning.startswith("not enough disk space: needs 1.0 EB")
    assert f"free on {tmp_path}" in warning


async def test_times_come_from_the_injected_clock():
    c = ScriptedClient()
    c.scripts["m"] = script()
    ticks = iter(range(1000, 100000))
    m = PullManager(c, clock=lambda: float(next(ticks)))
    final = await m.wait(m.start("m").id)
    assert 1000 <= final.queued_at <= final.started_at < final.ended_at < 2000
    assert final.elapsed == final.ended_at - final.started_at


def test_start_needs_a_running_loop():
    m = PullManager(ScriptedClient())
    with pytest.raises(RuntimeError):
        m.start("m")
    assert m.jobs() == ()


async def test_a_first_pull_that_will_not_fit_is_stopped_as_its_layer_sizes_arrive(tmp_path, until):
    """No earlier attempt told the size: the first progress lines carry each layer's total, and
    the pull stops there with the reason, before downloading what can't be stored."""
    c = ScriptedClient()
    c.scripts["huge"] = gated(total=10**18)
    m = PullManager(c)
    m.models_dir = tmp_path
    job = m.start("huge")
    await m.wait(job.id)
    done = m.job(job.id)
    assert done.state == "error" and done.error.startswith("not enough disk space: needs 500 PB")
    assert done.error.endswith("pull stopped (free some space, then pull again: it resumes)")
    assert done.bytes_done < 10**18
    c.scripts["small"] = gated(total=1000)
    ok = m.start("small")
    await until(lambda: m.job(ok.id).bytes_done > 0)  # a pull that fits is not stopped
    assert m.job(ok.id).state == "running"
    await m.aclose()
