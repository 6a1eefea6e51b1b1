"""The resource monitor: a sampler loop producing immutable snapshots with history.

``Sampler.run(on_snapshot)`` takes one sample at a time in a worker thread (host via
psutil, Ollama processes, GPU backend), then asks Ollama's ``/api/ps`` (optional, async),
builds a frozen :class:`Snapshot` and hands it to ``on_snapshot``. Samples never overlap;
the next one starts ``interval`` after the previous one started, or right away when a
sample took longer than the interval.

Nothing here imports textual/rich; the UI only receives snapshots (tuples and read-only
mappings), never the live buffers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from tui.service.monitor.gpu import GpuBackend, GpuProcess, GpuReport, GpuSample
from tui.service.monitor.history import History, PsModel, buffer_length
from tui.service.monitor.host import HostProbe, HostSample, resolve_models_dir
from tui.service.monitor.procs import (
    NO_OLLAMA,
    OllamaMatch,
    OllamaProcs,
    ProcessScanner,
    ProcInfo,
    ProcRecord,
    local_port_from_host,
    mark_ollama_gpu_processes,
    match_ollama_processes,
)
from tui.service.monitor.snapshot import (
    RawSample,
    Snapshot,
    history_values,
    threshold_values,
)
from tui.service.monitor.thresholds import Alert, ThresholdWatcher, fit_warning

__all__ = [
    "Alert",
    "GpuProcess",
    "GpuReport",
    "GpuSample",
    "History",
    "HostProbe",
    "HostSample",
    "OllamaMatch",
    "OllamaProcs",
    "ProcInfo",
    "ProcRecord",
    "ProcessScanner",
    "PsModel",
    "RawSample",
    "Sampler",
    "Snapshot",
    "ThresholdWatcher",
    "buffer_length",
    "fit_warning",
    "local_port_from_host",
    "match_ollama_processes",
    "resolve_models_dir",
    "threshold_values",
]

log = logging.getLogger(__name__)


def _ps_items(result: Any) -> Iterable[Any]:
    """``ps_fetch`` may return the model list, the raw ``{"models": [...]}`` body, or an
    object with a ``models`` attribute."""
    if result is None:
        return ()
    if isinstance(result, Mapping):
        return result.get("models") or ()
    models = getattr(result, "models", None)
    if models is not None and not isinstance(result, list | tuple):
        return models
    return result


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


# --------------------------------------------------------------------------- sampler

PsFetch = Callable[[], Awaitable[Iterable[Any]]]


class Sampler:
    """Samples host, Ollama processes, GPUs and ``/api/ps`` at a fixed interval.

    Control methods (``pause``, ``resume``, ``set_interval``, ``set_window``, ``stop``) may
    be called from the event loop or any thread; they take effect at once (a sleeping loop
    is woken up).

    ``sleep`` is a test hook: an ``async (seconds) -> None`` used instead of the default
    wake-able wait between samples.
    """

    def __init__(
        self,
        gpu: GpuBackend,
        *,
        interval: float = 1.0,
        window: float = 300.0,
        models_dir: str | os.PathLike[str] | None = None,
        ollama_port: int | None = None,
        ps_fetch: PsFetch | None = None,
        clock: Callable[[], float] = time.monotonic,
        ps_timeout: float | None = None,
        thresholds: ThresholdWatcher | None = None,
        find_ollama: bool = True,
        host_probe: HostProbe | None = None,
        process_scanner: ProcessScanner | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        _check_positive("interval", interval)
        _check_positive("window", window)
        self.gpu = gpu
        self._interval = float(interval)
        self._window = float(window)
        self._clock = clock
        self._wall_clock = wall_clock
        self._ps_fetch = ps_fetch
        self._ps_timeout = ps_timeout
        self.thresholds = thresholds
        self._host = host_probe if host_probe is not None else HostProbe(models_dir, clock=clock)
        self._procs = process_scanner
        if self._procs is None and find_ollama:
            self._procs = ProcessScanner(ollama_port, clock=clock)
        self._sleep = sleep
        self._history = History(buffer_length(self._window, self._interval))
        self._history_lock = threading.Lock()
        self._sample_lock = threading.RLock()
        self._seq = 0
        self._started = False
        self._paused = False
        self._stop_requested = False
        self._running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._last: Snapshot | None = None

    # -- properties / control
    @property
    def interval(self) -> float:
        return self._interval

    @property
    def window(self) -> float:
        return self._window

    @property
    def ps_timeout(self) -> float:
        """How long one ``ps_fetch`` may take: the configured value, else ``max(1s, interval)``
        (a hung server must not stall the host/GPU readings for long)."""
        return self._ps_timeout if self._ps_timeout is not None else max(1.0, self._interval)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def running(self) -> bool:
        return self._running

    @property
    def last(self) -> Snapshot | None:
        """The most recent snapshot (``None`` before the first)."""
        return self._last

    @property
    def buffer_length(self) -> int:
        return self._history.maxlen

    def pause(self) -> None:
        self._paused = True
        self._poke()

    def resume(self) -> None:
        self._paused = False
        self._poke()

    def set_interval(self, seconds: float) -> None:
        _check_positive("interval", seconds)
        self._interval = float(seconds)
        self._resize()
        self._poke()

    def set_window(self, seconds: float) -> None:
        _check_positive("window", seconds)
        self._window = float(seconds)
        self._resize()
        self._poke()

    def stop(self) -> None:
        """Ask ``run`` to return; an in-flight sample finishes first (and is not delivered).
        A stop requested before ``run`` starts makes that run return at once; once a run has
        returned, a new ``run`` samples again."""
        self._stop_requested = True
        self._poke()

    def close(self) -> None:
        """Stop and release the GPU backend (``shutdown``); a later run/sample re-inits it."""
        self.stop()
        with self._sample_lock:
            self._started = False
            try:
                self.gpu.shutdown()
            except Exception:
                log.exception("GPU backend shutdown failed")

    def _resize(self) -> None:
        with self._history_lock:
            self._history.resize(buffer_length(self._window, self._interval))

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
            return
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # loop closed meanwhile
            pass

    # -- sampling (worker thread)
    def start(self) -> None:
        """Prime sources (GPU init, first cpu_percent). Called by run(); idempotent."""
        with self._sample_lock:
            if self._started:
                return
            self._started = True
            try:
                self.gpu.init()
            except Exception:  # reported through sample()
                log.exception("GPU backend init failed")
            try:
                self._host.prime()
            except Exception:
                log.exception("host probe prime failed")

    def collect(self) -> RawSample:
        """One pass over host, processes and GPU. Blocking; never raises."""
        with self._sample_lock:
            if not self._started:
                self.start()
            t0, wall = self._clock(), self._wall_clock()
            errors: dict[str, str] = {}
            costs: dict[str, float] = {}

            host: HostSample | None = None
            start = self._clock()
            try:
                host = self._host.sample()
            except Exception as exc:
                errors["host"] = _error_text(exc)
            costs["host"] = self._clock() - start

            ollama = NO_OLLAMA
            if self._procs is not None:
                start = self._clock()
                try:
                    ollama = self._procs.scan()
                except Exception as exc:
                    errors["procs"] = _error_text(exc)
                costs["procs"] = self._clock() - start

            start = self._clock()
            try:
                report = self.gpu.sample()
            except Exception as exc:  # a backend that breaks its contract
                report = GpuReport(False, f"GPU read failed: {_error_text(exc)}", ())
                errors["gpu"] = _error_text(exc)
            costs["gpu"] = self._clock() - start
            if ollama.found and report.gpus:
                report = replace(report, gpus=mark_ollama_gpu_processes(ollama.pids, report.gpus))
            return RawSample(t0, wall, host, ollama, report, errors, costs)

    def sample_once(self) -> Snapshot:
        """Synchronous sample -> Snapshot (no ps fetch: the last known models are kept)."""
        raw = self.collect()
        last = self._last
        models = last.models if last else ()
        ps_error = last.ps_error if last else None
        return self._build(raw, models, ps_error, None)

    async def _fetch_ps(self) -> tuple[tuple[PsModel, ...], str | None, float | None]:
        if self._ps_fetch is None:
            return (), None, None
        start = self._clock()
        try:
            timeout = self.ps_timeout
            async with asyncio.timeout(timeout):
                items = await self._ps_fetch()
            models = tuple(PsModel.from_any(m) for m in _ps_items(items))
            error = None
        except TimeoutError:
            models, error = (), f"no answer from Ollama within {timeout:g}s"
        except Exception as exc:  # shown in the UI, never raised
            models, error = (), _error_text(exc)
        return models, error, self._clock() - start

    def _build(
        self,
        raw: RawSample,
        models: tuple[PsModel, ...],
        ps_error: str | None,
        ps_cost: float | None,
    ) -> Snapshot:
        costs = dict(raw.costs)
        if ps_cost is not None:
            costs["ps"] = ps_cost
        alerts: tuple[Alert, ...] = ()
        if self.thresholds is not None:
            alerts = tuple(self.thresholds.update(threshold_values(raw.host, raw.gpu)))
        with self._history_lock:
            self._history.append(raw.time, history_values(raw.host, raw.ollama, raw.gpu))
            times, history = self._history.snapshot()
            self._seq += 1
            seq = self._seq
        snap = Snapshot(
            seq=seq,
            time=raw.time,
            wall_time=raw.wall_time,
            interval=self._interval,
            window=self._window,
            host=raw.host,
            ollama=raw.ollama,
            gpu=raw.gpu,
            models=models,
            ps_error=ps_error,
            ps_enabled=self._ps_fetch is not None,
            errors=MappingProxyType(dict(raw.errors)),
            costs=MappingProxyType(costs),
            times=times,
            history=history,
            alerts=alerts,
        )
        self._last = snap
        return snap

    # -- loop
    async def run(self, on_snapshot: Callable[[Snapshot], None]) -> None:
        """Sample until ``stop()`` (or cancellation). Exceptions from ``on_snapshot`` are
        logged, not raised. Only one ``run`` at a time."""
        if self._running:
            raise RuntimeError("Sampler.run is already running")
        self._running = True
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            await asyncio.to_thread(self.start)
            while not self._stop_requested:
                if self._paused:
                    await self._wait_wake(None)
                    continue
                raw = await asyncio.to_thread(self.collect)
                if self._stop_requested:
                    break
                models, ps_error, ps_cost = await self._fetch_ps()
                if self._stop_requested:
                    break
                snap = self._build(raw, models, ps_error, ps_cost)
                try:
                    on_snapshot(snap)
                except Exception:
                    log.exception("on_snapshot callback failed")
                # measured from when collection really began (not when the thread was asked
                # for), so consecutive snapshot times are never closer than the interval
                await self._between(raw.time)
        finally:
            self._running = False
            self._stop_requested = False
            self._wake = None
            self._loop = None

    async def _wait_wake(self, timeout: float | None) -> bool:
        """Wait for a poke (True) or the timeout (False).

        This is also where ``stop()`` lands, so a sampler sleeping a long interval ends at once."""
        wake = self._wake
        assert wake is not None
        wake.clear()
        if self._stop_requested:
            return True
        try:
            if timeout is None:
                await wake.wait()
            else:
                async with asyncio.timeout(timeout):
                    await wake.wait()
        except TimeoutError:
            return False
        return True

    async def _between(self, t0: float) -> None:
        """Sleep until ``t0 + interval`` (recomputed when the interval changes)."""
        if self._sleep is not None:
            delay = max(0.0, self._interval - (self._clock() - t0))
            await self._sleep(delay)
            return
        while not self._stop_requested and not self._paused:
            delay = t0 + self._interval - self._clock()
            if delay <= 0:
                await asyncio.sleep(0)  # a slow sample: go again at once, but let others run
                return
            await self._wait_wake(delay)  # woken early by a poke: recompute


def _check_positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
