"""GPU readings behind a small interface, with an NVML implementation and a fake.

``GpuBackend.sample()`` never raises: a backend that cannot read anything returns
``GpuReport(available=False, reason=...)`` and a single reading it cannot get is ``None``.

``pynvml`` (package ``nvidia-ml-py``) is imported lazily inside ``NvmlBackend.init`` so that
importing this module never needs the NVIDIA library.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, runtime_checkable

# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A process holding memory on a GPU. ``used_memory`` is bytes, ``None`` when NVML
    cannot tell (e.g. Windows WDDM, or no permission)."""

    pid: int
    name: str
    used_memory: int | None
    is_ollama: bool = False  # set by the monitor when the pid is an Ollama server/runner


@dataclass(frozen=True, slots=True)
class GpuSample:
    """One reading of one GPU. Every reading can be ``None`` (= N/A)."""

    index: int
    name: str
    uuid: str | None
    util_percent: float | None
    mem_used: int | None
    mem_total: int | None
    temperature_c: float | None
    power_w: float | None
    power_limit_w: float | None
    fan_percent: float | None
    processes: tuple[GpuProcess, ...] = ()
    error: str | None = None  # e.g. "GPU lost" when the whole device stopped answering

    @property
    def mem_free(self) -> int | None:
        if self.mem_used is None or self.mem_total is None:
            return None
        return max(0, self.mem_total - self.mem_used)

    @property
    def mem_percent(self) -> float | None:
        if self.mem_used is None or not self.mem_total:
            return None
        return 100.0 * self.mem_used / self.mem_total


@dataclass(frozen=True, slots=True)
class GpuReport:
    """What a backend saw. ``available=False`` comes with a plain-language ``reason``
    ("no NVIDIA driver", "no NVIDIA GPU found", "nvidia-ml-py not installed", "GPU lost"...)."""

    available: bool
    reason: str | None
    gpus: tuple[GpuSample, ...] = ()
    driver_version: str | None = None


@runtime_checkable
class GpuBackend(Protocol):
    def init(self) -> None:
        """Prepare the backend. Idempotent; never raises (failures show up in sample())."""

    def shutdown(self) -> None:
        """Release the backend. Idempotent; never raises."""

    def sample(self) -> GpuReport:
        """Read every GPU once. Never raises."""


# --------------------------------------------------------------------------- errors


class GpuLostError(RuntimeError):
    """Raised by fakes (and usable by other backends) to mean "the GPU fell off the bus"."""


# NVML error class name -> short text; the value codes are the fallback for old pynvml
# versions whose NVMLError has no per-code subclasses.
_NVML_CLASS_TEXT: dict[str, str] = {
    "NVMLError_NotSupported": "not supported",
    "NVMLError_FunctionNotFound": "not supported",
    "NVMLError_GpuIsLost": "GPU lost",
    "NVMLError_ResetRequired": "GPU lost",
    "NVMLError_NoPermission": "no permission",
    "NVMLError_DriverNotLoaded": "driver not loaded",
    "NVMLError_LibraryNotFound": "driver not loaded",
}
_NVML_CODE_TEXT: dict[str, str] = {
    "NVML_ERROR_NOT_SUPPORTED": "not supported",
    "NVML_ERROR_FUNCTION_NOT_FOUND": "not supported",
    "NVML_ERROR_GPU_IS_LOST": "GPU lost",
    "NVML_ERROR_RESET_REQUIRED": "GPU lost",
    "NVML_ERROR_NO_PERMISSION": "no permission",
    "NVML_ERROR_DRIVER_NOT_LOADED": "driver not loaded",
    "NVML_ERROR_LIBRARY_NOT_FOUND": "driver not loaded",
}


def _nvml_module() -> Any | None:
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def map_nvml_error(exc: BaseException, nvml: Any | None = None) -> str:
    """Short, user-facing text for an NVML failure.

    Returns one of "not supported", "GPU lost", "no permission", "driver not loaded" or
    "N/A" (anything else, including non-NVML exceptions). Matching is by exception class
    (``pynvml.NVMLError_NotSupported``...), falling back to the numeric ``value``.
    """
    if isinstance(exc, GpuLostError):
        return "GPU lost"
    if nvml is None:
        nvml = _nvml_module()
    if nvml is None:
        return "N/A"
    base = getattr(nvml, "NVMLError", None)
    if base is None or not isinstance(exc, base):
        return "N/A"
    for class_name, text in _NVML_CLASS_TEXT.items():
        cls = getattr(nvml, class_name, None)
        if isinstance(cls, type) and isinstance(exc, cls):
            return text
    value = getattr(exc, "value", None)
    for code_name, text in _NVML_CODE_TEXT.items():
        code = getattr(nvml, code_name, None)
        if code is not None and value == code:
            return text
    return "N/A"


def _is_lost(exc: BaseException, nvml: Any) -> bool:
    """Errors after which the device as a whole should be considered gone for this sample."""
    if map_nvml_error(exc, nvml) == "GPU lost":
        return True
    unknown = getattr(nvml, "NVMLError_Unknown", None)
    if isinstance(unknown, type) and isinstance(exc, unknown):
        return True
    code = getattr(nvml, "NVML_ERROR_UNKNOWN", None)
    return isinstance(exc, getattr(nvml, "NVMLError", ())) and getattr(exc, "value", None) == code


def _text(value: object) -> str:
    """pynvml returns ``bytes`` in old versions and ``str`` in new ones."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _blank(index: int, name: str, uuid: str | None, error: str | None) -> GpuSample:
    return GpuSample(index, name, uuid, None, None, None, None, None, None, None, (), error)


def _process_name(pid: int) -> str:
    try:
        import psutil

        return psutil.Process(pid).name() or "?"
    except Exception:  # NoSuchProcess, AccessDenied, ZombieProcess, pid in another namespace
        return "?"


# --------------------------------------------------------------------------- NVML


class _DeviceLost(Exception):
    pass


class NvmlBackend:
    """Reads NVIDIA GPUs through NVML (``pynvml``).

    * ``init()`` loads NVML once; failures become ``available=False`` with a reason.
    * each reading is queried on its own: "not supported" gives ``None`` for that reading
      only (and is not asked again); "GPU lost"/"unknown error" blanks that GPU for this
      sample while the others keep reporting.
    * ``shutdown()`` calls ``nvmlShutdown`` once.

    ``nvml`` and ``process_name`` are injection points for tests.
    """

    def __init__(
        self,
        nvml: Any | None = None,
        *,
        process_name: Callable[[int], str] = _process_name,
        include_graphics: bool = True,
    ) -> None:
        self._nvml = nvml
        self._process_name = process_name
        self._include_graphics = include_graphics
        self._lock = threading.RLock()
        self._initialized = False  # nvmlInit succeeded and shutdown not yet called
        self._reason: str | None = None  # why init failed
        self._tried = False
        self._handles: list[Any] = []
        self._static: dict[int, tuple[str, str | None]] = {}
        self._unsupported: set[tuple[int, str]] = set()
        self._names: dict[int, str] = {}
        self._driver: str | None = None

    # -- lifecycle
    def init(self) -> None:
        with self._lock:
            if self._initialized or self._tried:
                return
            self._tried = True
            nvml = self._nvml if self._nvml is not None else _nvml_module()
            if nvml is None:
                self._reason = "nvidia-ml-py not installed"
                return
            self._nvml = nvml
            try:
                nvml.nvmlInit()
            except Exception as exc:  # every failure becomes a reason
                self._reason = self._init_reason(exc)
                return
            self._initialized = True
            try:
                count = int(nvml.nvmlDeviceGetCount())
            except Exception as exc:
                self._reason = f"cannot count GPUs ({map_nvml_error(exc, nvml)})"
                return
            if count <= 0:
                self._reason = "no NVIDIA GPU found"
                return
            self._handles = []
            for i in range(count):
                try:
                    self._handles.append(nvml.nvmlDeviceGetHandleByIndex(i))
                except Exception:  # a device we cannot open reads as lost
                    self._handles.append(None)
            try:
                self._driver = _text(nvml.nvmlSystemGetDriverVersion())
            except Exception:
                self._driver = None

    def _init_reason(self, exc: BaseException) -> str:
        text = map_nvml_error(exc, self._nvml)
        if text == "driver not loaded" or isinstance(exc, OSError):
            return "no NVIDIA driver"
        if text == "no permission":
            return "no permission to use the NVIDIA driver"
        return f"NVML failed to start: {exc}" if text == "N/A" else f"NVML failed to start: {text}"

    def shutdown(self) -> None:
        with self._lock:
            if self._initialized:
                self._initialized = False
                try:
                    self._nvml.nvmlShutdown()
                except Exception:
                    pass
            # a later init() starts over
            self._tried = False
            self._reason = None
            self._handles = []
            self._static.clear()
            self._unsupported.clear()
            self._names.clear()

    @property
    def reason(self) -> str | None:
        return self._reason

    # -- sampling
    def sample(self) -> GpuReport:
        try:
            with self._lock:
                if not self._tried:
                    self.init()
                if self._reason is not None:
                    return GpuReport(False, self._reason, (), self._driver)
                if not self._initialized:
                    return GpuReport(False, "NVML not initialised", ())
                gpus = tuple(self._sample_device(i, h) for i, h in enumerate(self._handles))
                self._prune_names(gpus)
                return GpuReport(True, None, gpus, self._driver)
        except Exception as exc:  # last line of defence: never raise
            return GpuReport(False, f"GPU read failed: {exc}", ())

    def _sample_device(self, index: int, handle: Any) -> GpuSample:
        nvml = self._nvml
        name, uuid = self._static.get(index, (f"GPU {index}", None))
        if handle is None:
            return _blank(index, name, uuid, "GPU lost")
        try:
            if index not in self._static:
                name = self._query(index, "name", lambda: _text(nvml.nvmlDeviceGetName(handle)))
                name = name or f"GPU {index}"
                uuid = self._query(index, "uuid", lambda: _text(nvml.nvmlDeviceGetUUID(handle)))
                self._static[index] = (name, uuid)

            util = self._query(index, "util", lambda: float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            mem = self._query(index, "mem", lambda: nvml.nvmlDeviceGetMemoryInfo(handle))
            mem_used = int(mem.used) if mem is not None else None
            mem_total = int(mem.total) if mem is not None else None
            temp = self._query(
                index,
                "temp",
                lambda: float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
            )
            power = self._query(index, "power", lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0)
            limit = self._query(index, "power_limit", lambda: self._power_limit(handle))
            fan = self._query(index, "fan", lambda: float(nvml.nvmlDeviceGetFanSpeed(handle)))
            procs = self._processes(index, handle)
        except _DeviceLost as lost:
            return _blank(index, name, uuid, str(lost))
        return GpuSample(index, name, uuid, util, mem_used, mem_total, temp, power, limit, fan, procs)

    def _power_limit(self, handle: Any) -> float:
        nvml = self._nvml
        try:
            return nvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000.0
        except Exception as exc:
            if _is_lost(exc, nvml):
                raise
            return nvml.nvmlDeviceGetPowerManagementLimit(handle) / 1000.0

    def _query(self, index: int, field: str, fn: Callable[[], Any]) -> Any:
        """Run one NVML call. ``None`` on any error except a lost device (-> _DeviceLost)."""
        if (index, field) in self._unsupported:
            return None
        try:
            return fn()
        except Exception as exc:
            if _is_lost(exc, self._nvml):
                raise _DeviceLost("GPU lost") from exc
            if map_nvml_error(exc, self._nvml) == "not supported":
                self._unsupported.add((index, field))
            return None

    def _processes(self, index: int, handle: Any) -> tuple[GpuProcess, ...]:
        nvml = self._nvml
        found: dict[int, int | None] = {}
        getters = [("procs_compute", nvml.nvmlDeviceGetComputeRunningProcesses)]
        if self._include_graphics:
            getters.append(("procs_graphics", nvml.nvmlDeviceGetGraphicsRunningProcesses))
        for field, getter in getters:
            entries = self._query(index, field, lambda g=getter: g(handle))
            for entry in entries or ():
                pid = int(entry.pid)
                used = getattr(entry, "usedGpuMemory", None)
                used = int(used) if used is not None else None
                if pid in found and found[pid] is not None:
                    # same process in both lists: keep the larger figure
                    used = max(found[pid] or 0, used or 0)
                found[pid] = used
        result = []
        for pid, used in sorted(found.items()):
            if pid not in self._names:
                self._names[pid] = self._process_name(pid)
            result.append(GpuProcess(pid, self._names[pid], used))
        return tuple(result)

    def _prune_names(self, gpus: Sequence[GpuSample]) -> None:
        live = {p.pid for g in gpus for p in g.processes}
        for pid in list(self._names):
            if pid not in live:
                del self._names[pid]


# --------------------------------------------------------------------------- fake

GiB = 1024**3


class FakeGpuBackend:
    """Deterministic GPUs for tests and the simulator.

    * ``FakeGpuBackend(2)`` — two GPUs whose readings follow a counter-based wave (the
      n-th ``sample()`` always returns the same values); ``0`` reports "no NVIDIA GPU found".
    * ``FakeGpuBackend([GpuSample(...), ...])`` — returns exactly these samples (``gpus``
      can be reassigned between calls).
    * ``fail=exc`` — every call fails with ``exc``; with ``fail_after=N`` the first N samples
      succeed and every later one fails (the GPU "disappears"). ``fail_after`` without
      ``fail`` fails with :class:`GpuLostError`.
    * a failure becomes ``available=False`` with ``map_nvml_error``'s text (or the
      exception text) as reason, or, with ``fail_mode="fields"``, every GPU keeps its slot
      with all readings ``None`` and ``error`` set. ``leak=True`` lets the exception escape
      ``sample()`` instead, to test callers' own guards.
    """

    def __init__(
        self,
        gpus: list[GpuSample] | int,
        *,
        fail: BaseException | None = None,
        fail_after: int | None = None,
        fail_mode: Literal["report", "fields"] = "report",
        leak: bool = False,
        processes: Sequence[GpuProcess] | None = None,
    ) -> None:
        if isinstance(gpus, int):
            if gpus < 0:
                raise ValueError("gpu count must be >= 0")
            self.count = gpus
            self.gpus: list[GpuSample] | None = None
        else:
            self.count = len(gpus)
            self.gpus = list(gpus)
        if fail is None and fail_after is not None:
            fail = GpuLostError("GPU is lost")
        self.fail = fail
        self.fail_after = fail_after
        self.fail_mode = fail_mode
        self.leak = leak
        self.processes: tuple[GpuProcess, ...] = (
            tuple(processes) if processes is not None else (GpuProcess(4242, "ollama", 0),)
        )
        self.samples = 0  # successful + failed sample() calls
        self.init_calls = 0
        self.shutdown_calls = 0
        self._last: tuple[GpuSample, ...] = ()

    def init(self) -> None:
        self.init_calls += 1

    def shutdown(self) -> None:
        self.shutdown_calls += 1

    def _failing(self) -> bool:
        if self.fail is None:
            return False
        return self.fail_after is None or self.samples > self.fail_after

    def sample(self) -> GpuReport:
        self.samples += 1
        if self._failing():
            assert self.fail is not None
            if self.leak:
                raise self.fail
            text = map_nvml_error(self.fail)
            reason = text if text != "N/A" else (str(self.fail) or type(self.fail).__name__)
            if self.fail_mode == "fields" and self._last:
                return GpuReport(True, None, tuple(_blank(g.index, g.name, g.uuid, reason) for g in self._last))
            return GpuReport(False, reason, ())
        if self.gpus is not None:
            current = tuple(self.gpus)
        else:
            current = tuple(self._wave(i, self.samples) for i in range(self.count))
        self._last = current
        if not current:
            return GpuReport(False, "no NVIDIA GPU found", ())
        return GpuReport(True, None, current, "fake")

    def _wave(self, index: int, n: int) -> GpuSample:
        phase = n / 5.0 + index * 1.7
        util = round(50.0 + 45.0 * math.sin(phase), 1)
        total = (24 if index == 0 else 8) * GiB
        fill = 0.45 + 0.35 * math.sin(n / 20.0 + index)
        used = int(total * fill)
        limit = 350.0 if index == 0 else 200.0
        procs: tuple[GpuProcess, ...] = ()
        if index == 0 and self.processes:
            share = used // len(self.processes)
            procs = tuple(replace(p, used_memory=share) for p in self.processes)
        return GpuSample(
            index=index,
            name="Fake RTX 4090" if index == 0 else f"Fake RTX 3070 #{index}",
            uuid=f"GPU-fake-{index:04d}",
            util_percent=util,
            mem_used=used,
            mem_total=total,
            temperature_c=round(40.0 + 0.4 * util, 1),
            power_w=round(limit * (0.15 + 0.75 * util / 100.0), 1),
            power_limit_w=limit,
            fan_percent=None if index == 1 else round(30.0 + 0.5 * util, 1),  # a fanless card
            processes=procs,
        )
