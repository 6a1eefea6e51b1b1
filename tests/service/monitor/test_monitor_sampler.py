"""Sampler: scheduling (no overlap, interval honoured), pause/resume, live settings, ring
buffers, immutable snapshots, GPU failure modes, ps, thresholds, per-source costs."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import FrozenInstanceError
from itertools import pairwise
from pathlib import Path
from typing import Any

import pynvml
import pytest

from tui.service.monitor import (
    History,
    HostSample,
    OllamaProcs,
    ProcInfo,
    PsModel,
    Sampler,
    Snapshot,
    ThresholdWatcher,
    buffer_length,
)
from tui.service.monitor.gpu import FakeGpuBackend, GpuProcess, GpuReport
from tui.service.monitor.procs import NO_OLLAMA

# --------------------------------------------------------------------------- fakes


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def host_sample(t: float, cpu: float = 10.0, ram: float = 50.0) -> HostSample:
    return HostSample(t, cpu, (cpu,), (0.1, 0.1, 0.1), 8, 16, 8, ram, 0, 0, 0.0, "/", 1, 2, 1, 50.0, 100.0, 50.0)


class FakeHost:
    """Host probe whose n-th sample 'takes' costs[n] seconds of the fake clock."""

    def __init__(self, clock: Any = time.monotonic, costs: list[float] | None = None, cpu: list[float] | None = None):
        self.clock = clock
        self.costs = costs or []
        self.cpu = cpu or []
        self.calls = 0
        self.primed = 0
        self.fail: Exception | None = None

    def prime(self) -> None:
        self.primed += 1

    def sample(self) -> HostSample:
        n = self.calls
        self.calls += 1
        if self.fail:
            raise self.fail
        if n < len(self.costs) and isinstance(self.clock, Clock):
            self.clock.t += self.costs[n]
        cpu = self.cpu[n] if n < len(self.cpu) else 10.0
        return host_sample(self.clock(), cpu=cpu)


class FakeScanner:
    def __init__(self, result: OllamaProcs = NO_OLLAMA) -> None:
        self.result = result
        self.calls = 0

    def scan(self) -> OllamaProcs:
        self.calls += 1
        return self.result


def make(gpu: Any = None, **kw: Any) -> Sampler:
    kw.setdefault("host_probe", FakeHost())
    kw.setdefault("process_scanner", FakeScanner())
    return Sampler(gpu if gpu is not None else FakeGpuBackend(1), **kw)


async def run_for(sampler: Sampler, n: int, timeout: float = 5.0, on: Any = None) -> list[Snapshot]:
    """Run until n snapshots were delivered, then stop; returns them."""
    snaps: list[Snapshot] = []

    def on_snapshot(s: Snapshot) -> None:
        snaps.append(s)
        if on is not None:
            on(s, snaps)
        if len(snaps) >= n:
            sampler.stop()

    await asyncio.wait_for(sampler.run(on_snapshot), timeout)
    return snaps


# --------------------------------------------------------------------------- scheduling (fake clock)


async def test_interval_minus_elapsed_with_fake_clock() -> None:
    clock = Clock()
    delays: list[float] = []

    async def fake_sleep(d: float) -> None:
        delays.append(d)
        clock.t += d

    host = FakeHost(clock, costs=[0.2, 1.5, 0.3, 1.0, 0.0])
    sampler = make(host_probe=host, clock=clock, sleep=fake_sleep, interval=1.0)
    snaps = await run_for(sampler, 5)
    # a slow sample (1.5s > 1s) is followed immediately by the next one, never skipped
    assert delays[:4] == pytest.approx([0.8, 0.0, 0.7, 0.0])
    starts = [s.time for s in snaps]
    assert [round(b - a, 6) for a, b in pairwise(starts)] == [1.0, 1.5, 1.0, 1.0]
    assert [s.seq for s in snaps] == [1, 2, 3, 4, 5]


async def test_costs_are_recorded_per_source() -> None:
    clock = Clock()

    async def fake_sleep(d: float) -> None:
        clock.t += d

    async def ps() -> list[dict[str, Any]]:
        clock.t += 0.25
        return []

    host = FakeHost(clock, costs=[0.5])
    sampler = make(host_probe=host, clock=clock, sleep=fake_sleep, ps_fetch=ps)
    (snap,) = await run_for(sampler, 1)
    assert set(snap.costs) == {"host", "procs", "gpu", "ps"}
    assert snap.costs["host"] == pytest.approx(0.5)
    assert snap.costs["ps"] == pytest.approx(0.25)
    assert snap.costs["gpu"] == 0.0
    assert snap.sample_cost == pytest.approx(0.75)


# --------------------------------------------------------------------------- scheduling (real threads)


class SlowGpu(FakeGpuBackend):
    """Each sample takes `duration` real seconds; records overlaps and start/end times."""

    def __init__(self, duration: float) -> None:
        super().__init__(1)
        self.duration = duration
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()
        self.spans: list[tuple[float, float]] = []

    def sample(self) -> GpuReport:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        start = time.monotonic()
        time.sleep(self.duration)
        report = super().sample()
        end = time.monotonic()
        with self.lock:
            self.active -= 1
            self.spans.append((start, end))
        return report


async def test_slow_samples_never_overlap_and_follow_each_other() -> None:
    gpu = SlowGpu(0.05)
    sampler = make(gpu, interval=0.01)
    await run_for(sampler, 6)
    assert gpu.max_active == 1
    assert len(gpu.spans) == 6
    for (_, end), (next_start, _) in zip(gpu.spans, gpu.spans[1:], strict=False):
        assert next_start >= end  # never concurrently
        assert next_start - end < 0.5  # right after, not an interval later


async def test_interval_is_honoured_with_real_clock() -> None:
    sampler = make(interval=0.05)
    snaps = await run_for(sampler, 5)
    gaps = [b.time - a.time for a, b in pairwise(snaps)]
    assert all(g >= 0.05 - 1e-6 for g in gaps), gaps  # measured from collection starts
    assert all(g < 1.0 for g in gaps), gaps


async def test_stop_wakes_a_long_sleep() -> None:
    sampler = make(interval=3600)
    start = time.monotonic()
    snaps = await run_for(sampler, 1, timeout=5)
    assert len(snaps) == 1 and time.monotonic() - start < 5
    assert not sampler.running


async def test_stop_from_outside_while_sleeping(until: Any) -> None:
    sampler = make(interval=3600)
    snaps: list[Snapshot] = []
    task = asyncio.create_task(sampler.run(snaps.append))
    await until(lambda: len(snaps) == 1)
    sampler.stop()
    await asyncio.wait_for(task, 5)
    assert len(snaps) == 1


async def test_stop_from_another_thread(until: Any) -> None:
    sampler = make(interval=3600)
    snaps: list[Snapshot] = []
    task = asyncio.create_task(sampler.run(snaps.append))
    await until(lambda: len(snaps) == 1)
    await asyncio.to_thread(sampler.stop)
    await asyncio.wait_for(task, 5)


async def test_set_interval_takes_effect_during_a_long_sleep() -> None:
    sampler = make(interval=3600)

    def on(s: Snapshot, snaps: list[Snapshot]) -> None:
        if len(snaps) == 1:
            sampler.set_interval(0.01)  # the loop is about to sleep an hour: must be woken

    snaps = await run_for(sampler, 3, timeout=5, on=on)
    assert len(snaps) == 3
    assert snaps[-1].interval == 0.01 and sampler.interval == 0.01


async def test_pause_and_resume(until: Any) -> None:
    gpu = FakeGpuBackend(1)
    sampler = make(gpu, interval=0.01)
    snaps: list[Snapshot] = []

    def on_snapshot(s: Snapshot) -> None:
        snaps.append(s)
        if len(snaps) == 3:
            sampler.pause()

    task = asyncio.create_task(sampler.run(on_snapshot))
    await until(lambda: len(snaps) == 3)
    assert sampler.paused
    await asyncio.sleep(0.15)  # ~15 intervals: nothing may be sampled while paused
    assert len(snaps) == 3 and gpu.samples == 3
    sampler.resume()
    assert not sampler.paused
    await until(lambda: len(snaps) >= 5)
    sampler.stop()
    await asyncio.wait_for(task, 5)
    assert [s.seq for s in snaps] == list(range(1, len(snaps) + 1))


async def test_pause_before_run_then_resume(until: Any) -> None:
    sampler = make(interval=0.01)
    sampler.pause()
    snaps: list[Snapshot] = []
    task = asyncio.create_task(sampler.run(snaps.append))
    await asyncio.sleep(0.05)
    assert snaps == []
    sampler.resume()
    await until(lambda: len(snaps) >= 2)
    sampler.stop()
    await asyncio.wait_for(task, 5)


async def test_run_twice_concurrently_is_refused(until: Any) -> None:
    sampler = make(interval=3600)
    snaps: list[Snapshot] = []
    task = asyncio.create_task(sampler.run(snaps.append))
    await until(lambda: sampler.running)
    with pytest.raises(RuntimeError):
        await sampler.run(snaps.append)
    sampler.stop()
    await asyncio.wait_for(task, 5)
    # and it can run again afterwards
    again = await run_for(sampler, 1)
    assert again[0].seq == len(snaps) + 1


async def test_stop_before_run_returns_at_once() -> None:
    sampler = make(interval=0.01)
    sampler.stop()
    snaps: list[Snapshot] = []
    await asyncio.wait_for(sampler.run(snaps.append), 5)
    assert snaps == []


async def test_callback_errors_do_not_stop_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    sampler = make(interval=0.001)
    seen: list[int] = []

    def bad(s: Snapshot) -> None:
        seen.append(s.seq)
        if len(seen) >= 3:
            sampler.stop()
        raise ValueError("ui bug")

    await asyncio.wait_for(sampler.run(bad), 5)
    assert seen == [1, 2, 3]
    assert "on_snapshot callback failed" in caplog.text


async def test_run_primes_sources_once() -> None:
    gpu = FakeGpuBackend(1)
    host = FakeHost()
    sampler = make(gpu, host_probe=host, interval=0.001)
    await run_for(sampler, 3)
    await run_for(sampler, 2)
    assert gpu.init_calls == 1 and host.primed == 1
    sampler.close()
    assert gpu.shutdown_calls == 1
    sampler.sample_once()  # re-inits after close
    assert gpu.init_calls == 2


# --------------------------------------------------------------------------- buffers and snapshots


def test_buffer_length() -> None:
    assert buffer_length(300, 1) == 300
    assert buffer_length(300, 0.5) == 600
    assert buffer_length(10, 3) == 4
    assert buffer_length(0.1, 1) == 1


def test_buffers_cap_at_window() -> None:
    sampler = make(interval=1.0, window=5.0)
    for _ in range(12):
        snap = sampler.sample_once()
    assert sampler.buffer_length == 5
    assert len(snap.times) == 5
    assert all(len(v) == 5 for v in snap.history.values())
    assert snap.seq == 12


def test_set_window_and_interval_resize_keeping_newest() -> None:
    host = FakeHost(cpu=[float(i) for i in range(20)])
    sampler = make(host_probe=host, interval=1.0, window=10.0)
    for _ in range(10):
        sampler.sample_once()
    sampler.set_window(3.0)
    snap = sampler.sample_once()
    assert snap.series("cpu") == (8.0, 9.0, 10.0)
    assert snap.window == 3.0
    sampler.set_interval(0.5)  # 3s / 0.5s = 6 slots
    assert sampler.buffer_length == 6
    snap = sampler.sample_once()
    assert snap.series("cpu") == (8.0, 9.0, 10.0, 11.0)
    with pytest.raises(ValueError):
        sampler.set_interval(0)
    with pytest.raises(ValueError):
        sampler.set_window(-1)
    with pytest.raises(ValueError):
        make(interval=float("nan"))


def test_snapshots_are_immutable_and_unaffected_by_later_samples() -> None:
    host = FakeHost(cpu=[1.0, 2.0, 3.0, 4.0])
    sampler = make(host_probe=host, interval=1.0, window=3.0)
    first = sampler.sample_once()
    second = sampler.sample_once()
    assert second.series("cpu") == (1.0, 2.0)
    sampler.sample_once()
    sampler.sample_once()
    assert first.series("cpu") == (1.0,)
    assert second.series("cpu") == (1.0, 2.0)
    assert isinstance(second.history["cpu"], tuple) and isinstance(second.times, tuple)
    with pytest.raises(FrozenInstanceError):
        second.seq = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        second.history["cpu"] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        second.costs["host"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        second.errors["x"] = "y"  # type: ignore[index]


def test_history_series_stay_aligned_when_gpus_appear() -> None:
    h = History(4)
    h.append(1.0, {"cpu": 1.0})
    h.append(2.0, {"cpu": 2.0, "vram:0": 50.0})
    h.append(3.0, {"cpu": None})
    times, series = h.snapshot()
    assert times == (1.0, 2.0, 3.0)
    assert series["cpu"] == (1.0, 2.0, None)
    assert series["vram:0"] == (None, 50.0, None)
    h.resize(2)
    times, series = h.snapshot()
    assert times == (2.0, 3.0) and series["vram:0"] == (50.0, None)
    assert len(h) == 2 and h.maxlen == 2
    h.clear()
    assert h.snapshot()[0] == ()


def test_history_keys() -> None:
    sampler = make(FakeGpuBackend(2))
    snap = sampler.sample_once()
    assert {"cpu", "ram", "swap", "net_rx", "net_tx", "ollama_cpu", "ollama_rss"} <= set(snap.history)
    for i in (0, 1):
        for key in ("gpu_util", "vram", "gpu_temp", "gpu_power"):
            assert f"{key}:{i}" in snap.history
    assert snap.series("gpu_util:0")[-1] == snap.gpu.gpus[0].util_percent
    assert snap.series("vram:1")[-1] == pytest.approx(snap.gpu.gpus[1].mem_percent)
    assert snap.series("missing") == ()


# --------------------------------------------------------------------------- GPU modes through the sampler


@pytest.mark.parametrize("count", [0, 1, 2])
def test_fake_gpu_counts(count: int) -> None:
    snap = make(FakeGpuBackend(count)).sample_once()
    assert len(snap.gpu.gpus) == count
    assert snap.gpu.available == (count > 0)
    if count == 0:
        assert snap.gpu.reason == "no NVIDIA GPU found"
        assert snap.free_vram is None
        assert not any(k.startswith("gpu_util") for k in snap.history)
    else:
        assert snap.free_vram == sum(g.mem_free or 0 for g in snap.gpu.gpus)


async def test_gpu_disappearing_mid_run_never_raises() -> None:
    gpu = FakeGpuBackend(2, fail_after=2)
    sampler = make(gpu, interval=0.001)
    snaps = await run_for(sampler, 4)
    assert [s.gpu.available for s in snaps] == [True, True, False, False]
    assert snaps[-1].gpu.reason == "GPU lost"
    # the GPU series keep their length and show gaps after the loss
    assert snaps[-1].series("gpu_util:0")[2:] == (None, None)
    assert len(snaps[-1].series("gpu_util:0")) == len(snaps[-1].times) == 4


def test_gpu_failing_every_call_in_fields_mode() -> None:
    err = pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
    sampler = make(FakeGpuBackend(1, fail=err, fail_after=1, fail_mode="fields"))
    sampler.sample_once()
    snap = sampler.sample_once()
    assert snap.gpu.available and snap.gpu.gpus[0].error == "GPU lost"
    assert snap.series("vram:0")[-1] is None


def test_backend_that_raises_is_contained() -> None:
    sampler = make(FakeGpuBackend(1, fail=RuntimeError("driver exploded"), leak=True))
    snap = sampler.sample_once()
    assert not snap.gpu.available
    assert snap.gpu.reason == "GPU read failed: driver exploded"
    assert snap.errors["gpu"] == "driver exploded"


def test_host_failure_is_contained() -> None:
    host = FakeHost()
    host.fail = OSError("no /proc")
    snap = make(host_probe=host).sample_once()
    assert snap.host is None and snap.errors["host"] == "no /proc"
    assert snap.free_ram is None
    assert snap.gpu.available


def test_ollama_gpu_processes_are_marked() -> None:
    runner = ProcInfo(4242, "ollama", "runner", 120.0, 5 * 2**30)
    server = ProcInfo(4000, "ollama", "server", 1.0, 2**28)
    scanner = FakeScanner(OllamaProcs(server, (runner,), "port"))
    gpu = FakeGpuBackend(1, processes=[GpuProcess(4242, "ollama", 0), GpuProcess(77, "python", 0)])
    snap = make(gpu, process_scanner=scanner).sample_once()
    procs = snap.gpu.gpus[0].processes
    assert [(p.pid, p.is_ollama) for p in procs] == [(4242, True), (77, False)]
    assert snap.ollama.server == server
    assert snap.series("ollama_cpu") == (121.0,)
    assert snap.series("ollama_rss") == (float(5 * 2**30 + 2**28),)


def test_find_ollama_false_skips_the_scan() -> None:
    sampler = Sampler(FakeGpuBackend(1), host_probe=FakeHost(), find_ollama=False)
    snap = sampler.sample_once()
    assert snap.ollama == NO_OLLAMA and "procs" not in snap.costs


# --------------------------------------------------------------------------- ps


async def test_ps_models_and_errors() -> None:
    answers: list[Any] = [
        [{"name": "llama3:8b", "size": 5_000_000_000, "size_vram": 4_000_000_000,
          "expires_at": "2024-06-04T14:38:31.837532467-07:00"}],
        RuntimeError("connection refused"),
        {"models": [{"model": "qwen:7b", "size": 10, "size_vram": 10}]},
    ]  # fmt: skip

    async def ps() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    sampler = make(interval=0.001, ps_fetch=ps)
    snaps = await run_for(sampler, 3)
    (m,) = snaps[0].models
    assert (m.name, m.size, m.size_vram, m.size_ram) == ("llama3:8b", 5_000_000_000, 4_000_000_000, 1_000_000_000)
    assert m.gpu_fraction == pytest.approx(0.8)
    assert m.expires_at is not None and m.expires_at.year == 2024 and m.expires_at.microsecond == 837532
    assert snaps[0].ps_error is None and snaps[0].ps_enabled
    assert snaps[1].models == () and snaps[1].ps_error == "connection refused"
    assert snaps[2].models[0].name == "qwen:7b" and snaps[2].ps_error is None


async def test_ps_timeout_is_an_error_not_a_hang() -> None:
    async def ps() -> list[Any]:
        await asyncio.sleep(3600)
        return []

    sampler = make(interval=0.001, ps_fetch=ps, ps_timeout=0.05)
    (snap,) = await run_for(sampler, 1)
    assert snap.ps_error == "no answer from Ollama within 0.05s"


def test_default_ps_timeout_follows_interval() -> None:
    sampler = make(interval=0.2)
    assert sampler.ps_timeout == 1.0
    sampler.set_interval(3.0)
    assert sampler.ps_timeout == 3.0
    assert make(ps_timeout=0.5).ps_timeout == 0.5


def test_ps_model_from_objects() -> None:
    class Running:
        name = "m"
        size = 100
        size_vram = 0
        expires_at = None
        context_length = 4096

    m = PsModel.from_any(Running())
    assert (m.name, m.size_ram, m.gpu_fraction, m.context_length) == ("m", 100, 0.0, 4096)
    assert PsModel.from_any({}).name == "?"
    assert PsModel.from_any({"name": "x", "size": "bad", "expires_at": "garbage"}).size is None


def test_sample_once_keeps_last_models_without_fetching() -> None:
    sampler = make()
    snap = sampler.sample_once()
    assert snap.models == () and not snap.ps_enabled and "ps" not in snap.costs


# --------------------------------------------------------------------------- thresholds


def test_threshold_alerts_in_snapshots() -> None:
    host = FakeHost(cpu=[50.0, 95.0, 96.0, 80.0, 97.0])
    watcher = ThresholdWatcher({"cpu": 90.0, "vram": 99.9, "gpu_temp": 200.0}, hysteresis=5.0)
    sampler = make(host_probe=host, thresholds=watcher)
    alerts = [sampler.sample_once().alerts for _ in range(5)]
    assert [[a.key for a in batch] for batch in alerts] == [[], ["cpu"], [], [], ["cpu"]]


# --------------------------------------------------------------------------- real psutil


def test_real_host_and_process_scan(tmp_path: Path) -> None:
    sampler = Sampler(FakeGpuBackend(1), models_dir=tmp_path, ollama_port=1)
    sampler.sample_once()
    snap = sampler.sample_once()
    assert snap.host is not None and snap.host.cpu_percent is not None and snap.host.ram_total
    assert snap.host.disk_path == str(tmp_path)
    assert set(snap.costs) == {"host", "procs", "gpu"}
    assert all(c >= 0 for c in snap.costs.values())
    assert snap.wall_time > 1_600_000_000
