"""GPU backends: NVML error mapping, NvmlBackend on a scripted fake NVML, FakeGpuBackend."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import FrozenInstanceError
from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

from tui.service.monitor.gpu import (
    FakeGpuBackend,
    GpuBackend,
    GpuLostError,
    GpuProcess,
    GpuReport,
    GpuSample,
    NvmlBackend,
    map_nvml_error,
)

# --------------------------------------------------------------------------- map_nvml_error


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (pynvml.NVML_ERROR_NOT_SUPPORTED, "not supported"),
        (pynvml.NVML_ERROR_FUNCTION_NOT_FOUND, "not supported"),
        (pynvml.NVML_ERROR_GPU_IS_LOST, "GPU lost"),
        (pynvml.NVML_ERROR_RESET_REQUIRED, "GPU lost"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "driver not loaded"),
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "driver not loaded"),
        (pynvml.NVML_ERROR_UNKNOWN, "N/A"),
        (pynvml.NVML_ERROR_TIMEOUT, "N/A"),
        (pynvml.NVML_ERROR_INVALID_ARGUMENT, "N/A"),
        (pynvml.NVML_ERROR_UNINITIALIZED, "N/A"),
    ],
)
def test_map_nvml_error_real_instances(code: int, text: str) -> None:
    exc = pynvml.NVMLError(code)
    assert type(exc) is not pynvml.NVMLError  # NVMLError.__new__ picked the subclass
    assert map_nvml_error(exc) == text


def test_map_nvml_error_every_known_code_gives_a_short_text() -> None:
    codes = [getattr(pynvml, n) for n in dir(pynvml) if n.startswith("NVML_ERROR_")]
    assert len(codes) > 20
    for code in codes:
        assert map_nvml_error(pynvml.NVMLError(code)) in {
            "not supported",
            "GPU lost",
            "no permission",
            "driver not loaded",
            "N/A",
        }


def test_map_nvml_error_falls_back_to_value_without_subclasses() -> None:
    """Old pynvml without per-code subclasses: the plain NVMLError with a value still maps."""

    class OldNVMLError(Exception):
        def __init__(self, value: int) -> None:
            self.value = value

    old = SimpleNamespace(
        NVMLError=OldNVMLError,
        NVML_ERROR_NOT_SUPPORTED=3,
        NVML_ERROR_GPU_IS_LOST=15,
        NVML_ERROR_NO_PERMISSION=4,
    )
    assert map_nvml_error(OldNVMLError(3), old) == "not supported"
    assert map_nvml_error(OldNVMLError(15), old) == "GPU lost"
    assert map_nvml_error(OldNVMLError(4), old) == "no permission"
    assert map_nvml_error(OldNVMLError(999), old) == "N/A"


def test_map_nvml_error_non_nvml_exceptions() -> None:
    assert map_nvml_error(ValueError("x")) == "N/A"
    assert map_nvml_error(GpuLostError("gone")) == "GPU lost"


# --------------------------------------------------------------------------- a scripted NVML


class Err:
    """Put in a device dict to make that NVML call raise NVMLError(code)."""

    def __init__(self, code: int) -> None:
        self.code = code


class FakeNvml:
    """Enough of the pynvml module for NvmlBackend, raising real pynvml.NVMLError instances."""

    def __init__(self, devices: list[dict[str, Any]], *, init_error: Any = None, count_error: int | None = None):
        self.devices = devices
        self.init_error = init_error
        self.count_error = count_error
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:  # constants and NVMLError classes
        if name.startswith(("NVML_", "NVMLError")):
            return getattr(pynvml, name)
        raise AttributeError(name)

    def _get(self, handle: int, key: str, fn: str) -> Any:
        self.calls[fn] += 1
        value = self.devices[handle][key]
        if isinstance(value, Err):
            raise pynvml.NVMLError(value.code)
        return value

    def nvmlInit(self) -> None:
        self.calls["nvmlInit"] += 1
        if isinstance(self.init_error, int):
            raise pynvml.NVMLError(self.init_error)
        if self.init_error is not None:
            raise self.init_error

    def nvmlShutdown(self) -> None:
        self.calls["nvmlShutdown"] += 1

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"550.54"

    def nvmlDeviceGetCount(self) -> int:
        if self.count_error is not None:
            raise pynvml.NVMLError(self.count_error)
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        if self.devices[i].get("handle") == "lost":
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        return i

    def nvmlDeviceGetName(self, h: int) -> Any:
        return self._get(h, "name", "name")

    def nvmlDeviceGetUUID(self, h: int) -> Any:
        return self._get(h, "uuid", "uuid")

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return SimpleNamespace(gpu=self._get(h, "util", "util"), memory=0)

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:
        used, total = self._get(h, "mem", "mem")
        return SimpleNamespace(used=used, total=total, free=total - used)

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> Any:
        assert sensor == pynvml.NVML_TEMPERATURE_GPU
        return self._get(h, "temp", "temp")

    def nvmlDeviceGetPowerUsage(self, h: int) -> Any:
        return self._get(h, "power_mw", "power")

    def nvmlDeviceGetEnforcedPowerLimit(self, h: int) -> Any:
        return self._get(h, "limit_mw", "limit")

    def nvmlDeviceGetPowerManagementLimit(self, h: int) -> Any:
        return self._get(h, "pm_limit_mw", "pm_limit")

    def nvmlDeviceGetFanSpeed(self, h: int) -> Any:
        return self._get(h, "fan", "fan")

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> Any:
        return [SimpleNamespace(pid=p, usedGpuMemory=m) for p, m in self._get(h, "compute", "compute")]

    def nvmlDeviceGetGraphicsRunningProcesses(self, h: int) -> Any:
        return [SimpleNamespace(pid=p, usedGpuMemory=m) for p, m in self._get(h, "graphics", "graphics")]


def device(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "NVIDIA GeForce RTX 4090",
        "uuid": "GPU-1234",
        "util": 37,
        "mem": (4 * 2**30, 24 * 2**30),
        "temp": 61,
        "power_mw": 123_456,
        "limit_mw": 450_000,
        "pm_limit_mw": 450_000,
        "fan": 40,
        "compute": [(100, 3 * 2**30)],
        "graphics": [],
    }
    base.update(overrides)
    return base


def names(pid: int) -> str:
    return {100: "ollama", 200: "Xorg"}.get(pid, "?")


def backend(nvml: FakeNvml) -> NvmlBackend:
    return NvmlBackend(nvml, process_name=names)


def test_nvml_backend_reads_every_field() -> None:
    nvml = FakeNvml([device()])
    b = backend(nvml)
    b.init()
    report = b.sample()
    assert report.available and report.reason is None
    assert report.driver_version == "550.54"
    (g,) = report.gpus
    assert g == GpuSample(
        0, "NVIDIA GeForce RTX 4090", "GPU-1234", 37.0, 4 * 2**30, 24 * 2**30, 61.0, 123.456, 450.0, 40.0,
        (GpuProcess(100, "ollama", 3 * 2**30),),
    )  # fmt: skip
    assert g.mem_free == 20 * 2**30
    assert g.mem_percent == pytest.approx(100 * 4 / 24)
    assert g.error is None


def test_nvml_bytes_names_are_decoded() -> None:
    nvml = FakeNvml([device(name=b"Tesla T4", uuid=b"GPU-abc")])
    (g,) = backend(nvml).sample().gpus
    assert g.name == "Tesla T4" and g.uuid == "GPU-abc"


def test_nvml_not_supported_field_is_none_only_for_that_field_and_not_asked_again() -> None:
    ns = Err(pynvml.NVML_ERROR_NOT_SUPPORTED)
    nvml = FakeNvml([device(fan=ns, power_mw=ns), device(uuid="GPU-2")])
    b = backend(nvml)
    first = b.sample()
    g0, g1 = first.gpus
    assert g0.fan_percent is None and g0.power_w is None
    assert g0.util_percent == 37.0 and g0.temperature_c == 61.0 and g0.power_limit_w == 450.0
    assert g1.fan_percent == 40.0 and g1.power_w == pytest.approx(123.456)
    fan_calls = nvml.calls["fan"]
    b.sample()
    assert nvml.calls["fan"] == fan_calls + 1  # only GPU 1 is asked again
    assert nvml.calls["name"] == 2  # static fields are read once per device


def test_nvml_other_field_errors_are_none_and_retried() -> None:
    nvml = FakeNvml([device(temp=Err(pynvml.NVML_ERROR_NO_PERMISSION), util=Err(pynvml.NVML_ERROR_TIMEOUT))])
    b = backend(nvml)
    (g,) = b.sample().gpus
    assert g.temperature_c is None and g.util_percent is None and g.mem_used == 4 * 2**30
    b.sample()
    assert nvml.calls["temp"] == 2


def test_nvml_power_limit_falls_back_to_management_limit() -> None:
    nvml = FakeNvml([device(limit_mw=Err(pynvml.NVML_ERROR_NOT_SUPPORTED), pm_limit_mw=300_000)])
    (g,) = backend(nvml).sample().gpus
    assert g.power_limit_w == 300.0


@pytest.mark.parametrize("code", [pynvml.NVML_ERROR_GPU_IS_LOST, pynvml.NVML_ERROR_UNKNOWN])
def test_nvml_gpu_lost_mid_run_blanks_that_gpu_only(code: int) -> None:
    nvml = FakeNvml([device(), device(uuid="GPU-2", name="Second")])
    b = backend(nvml)
    assert all(g.util_percent is not None for g in b.sample().gpus)
    nvml.devices[1] = {k: Err(code) for k in device()}
    report = b.sample()  # must not raise
    assert report.available
    g0, g1 = report.gpus
    assert g0.util_percent == 37.0
    assert g1.error == "GPU lost"
    assert (g1.name, g1.uuid) == ("Second", "GPU-2")  # remembered from before
    assert all(
        v is None for v in (g1.util_percent, g1.mem_used, g1.mem_total, g1.temperature_c, g1.power_w, g1.fan_percent)
    )
    assert g1.processes == ()


def test_nvml_handle_lost_at_init() -> None:
    nvml = FakeNvml([device(), device(handle="lost")])
    report = backend(nvml).sample()
    assert report.available
    assert report.gpus[1].error == "GPU lost"
    assert report.gpus[0].error is None


def test_nvml_processes_merge_compute_and_graphics_and_unknown_memory() -> None:
    nvml = FakeNvml([device(compute=[(100, 2**30), (300, None)], graphics=[(200, 2**20), (100, None)])])
    (g,) = backend(nvml).sample().gpus
    assert g.processes == (
        GpuProcess(100, "ollama", 2**30),
        GpuProcess(200, "Xorg", 2**20),
        GpuProcess(300, "?", None),
    )


def test_nvml_process_names_use_psutil_and_unknown_pid_is_question_mark() -> None:
    nvml = FakeNvml([device(compute=[(2**22 + 12345, 1)])])  # pid that cannot exist
    (g,) = NvmlBackend(nvml).sample().gpus
    assert g.processes[0].name == "?"
    import os

    nvml.devices[0]["compute"] = [(os.getpid(), 1)]
    (g,) = NvmlBackend(nvml).sample().gpus
    assert g.processes[0].name not in ("", "?")


def test_nvml_process_list_errors_are_empty() -> None:
    nvml = FakeNvml(
        [device(compute=Err(pynvml.NVML_ERROR_NO_PERMISSION), graphics=Err(pynvml.NVML_ERROR_NOT_SUPPORTED))]
    )
    (g,) = backend(nvml).sample().gpus
    assert g.processes == () and g.util_percent == 37.0


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "no NVIDIA driver"),
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "no NVIDIA driver"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission to use the NVIDIA driver"),
        (OSError("libnvidia-ml.so.1: cannot open"), "no NVIDIA driver"),
    ],
)
def test_nvml_init_failures_become_reasons(error: Any, reason: str) -> None:
    nvml = FakeNvml([device()], init_error=error)
    b = backend(nvml)
    b.init()
    report = b.sample()
    assert report == GpuReport(False, reason, ())
    b.shutdown()
    assert nvml.calls["nvmlShutdown"] == 0  # never initialised, nothing to shut down


def test_nvml_init_unexpected_error_has_text() -> None:
    nvml = FakeNvml([device()], init_error=pynvml.NVML_ERROR_UNKNOWN)
    report = backend(nvml).sample()
    assert not report.available and report.reason and report.reason.startswith("NVML failed to start")


def test_nvml_zero_devices() -> None:
    nvml = FakeNvml([])
    b = backend(nvml)
    report = b.sample()
    assert not report.available and report.reason == "no NVIDIA GPU found" and report.gpus == ()
    b.shutdown()
    assert nvml.calls["nvmlShutdown"] == 1


def test_nvml_count_error() -> None:
    report = backend(FakeNvml([device()], count_error=pynvml.NVML_ERROR_NO_PERMISSION)).sample()
    assert not report.available and "no permission" in (report.reason or "")


def test_nvml_init_once_and_shutdown_once() -> None:
    nvml = FakeNvml([device()])
    b = backend(nvml)
    b.init()
    b.init()
    b.sample()
    b.sample()
    assert nvml.calls["nvmlInit"] == 1
    b.shutdown()
    b.shutdown()
    assert nvml.calls["nvmlShutdown"] == 1
    # usable again after shutdown: re-initialises lazily
    assert b.sample().available
    assert nvml.calls["nvmlInit"] == 2


def test_nvml_missing_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    b = NvmlBackend()
    b.init()
    assert b.sample() == GpuReport(False, "nvidia-ml-py not installed", ())
    b.shutdown()


def test_nvml_never_raises_even_on_garbage() -> None:
    nvml = FakeNvml([device(mem="not a tuple", util="x")])
    report = backend(nvml).sample()
    assert report.available
    assert report.gpus[0].mem_used is None and report.gpus[0].util_percent is None


def test_nvml_backend_on_this_machine_does_not_raise() -> None:
    """The real library: without a driver (CI) -> available False with a reason."""
    b = NvmlBackend()
    b.init()
    try:
        report = b.sample()
        assert isinstance(report, GpuReport)
        if report.available:  # running on a GPU machine
            assert report.gpus and all(g.name for g in report.gpus)
        else:
            assert report.reason
            assert report.gpus == ()
    finally:
        b.shutdown()
        b.shutdown()


def test_backends_satisfy_protocol() -> None:
    assert isinstance(NvmlBackend(), GpuBackend)
    assert isinstance(FakeGpuBackend(1), GpuBackend)


# --------------------------------------------------------------------------- FakeGpuBackend


def test_fake_zero_gpus() -> None:
    assert FakeGpuBackend(0).sample() == GpuReport(False, "no NVIDIA GPU found", ())


@pytest.mark.parametrize("count", [1, 2])
def test_fake_wave_is_deterministic_and_changes(count: int) -> None:
    a, b = FakeGpuBackend(count), FakeGpuBackend(count)
    runs_a = [a.sample() for _ in range(10)]
    runs_b = [b.sample() for _ in range(10)]
    assert runs_a == runs_b
    assert all(r.available and len(r.gpus) == count for r in runs_a)
    utils = {r.gpus[0].util_percent for r in runs_a}
    assert len(utils) > 5
    for r in runs_a:
        for g in r.gpus:
            assert 0 <= (g.util_percent or 0) <= 100
            assert g.mem_used is not None and g.mem_total is not None and 0 < g.mem_used < g.mem_total
            assert g.power_w is not None and g.power_limit_w is not None and g.power_w <= g.power_limit_w


def test_fake_two_gpus_have_distinct_identities_and_a_fanless_card() -> None:
    g0, g1 = FakeGpuBackend(2).sample().gpus
    assert g0.uuid != g1.uuid and g0.index == 0 and g1.index == 1
    assert g1.fan_percent is None and g0.fan_percent is not None
    assert g0.processes and g0.processes[0].name == "ollama"


def test_fake_explicit_samples_are_returned_verbatim() -> None:
    sample = GpuSample(0, "X", None, None, None, None, None, None, None, None)
    fake = FakeGpuBackend([sample])
    assert fake.sample().gpus == (sample,)
    fake.gpus = []
    assert not fake.sample().available


def test_fake_fail_every_call() -> None:
    fake = FakeGpuBackend(2, fail=pynvml.NVMLError(pynvml.NVML_ERROR_DRIVER_NOT_LOADED))
    fake.init()
    for _ in range(3):
        assert fake.sample() == GpuReport(False, "driver not loaded", ())


def test_fake_fail_after_n_samples_reports_gpu_lost() -> None:
    fake = FakeGpuBackend(1, fail_after=2)
    assert fake.sample().available and fake.sample().available
    assert fake.sample() == GpuReport(False, "GPU lost", ())
    assert fake.sample() == GpuReport(False, "GPU lost", ())


def test_fake_fail_after_in_fields_mode_keeps_slots() -> None:
    fake = FakeGpuBackend(2, fail=pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST), fail_after=1, fail_mode="fields")
    ok = fake.sample()
    lost = fake.sample()
    assert lost.available and len(lost.gpus) == 2
    assert [g.uuid for g in lost.gpus] == [g.uuid for g in ok.gpus]
    assert all(g.error == "GPU lost" and g.util_percent is None and g.mem_used is None for g in lost.gpus)


def test_fake_unmapped_error_uses_its_text() -> None:
    fake = FakeGpuBackend(1, fail=RuntimeError("bus error"))
    assert fake.sample().reason == "bus error"


def test_fake_leak_raises() -> None:
    fake = FakeGpuBackend(1, fail=RuntimeError("boom"), leak=True)
    with pytest.raises(RuntimeError):
        fake.sample()


def test_samples_are_frozen() -> None:
    report = FakeGpuBackend(1).sample()
    with pytest.raises(FrozenInstanceError):
        report.gpus[0].util_percent = 1.0  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        report.available = False  # type: ignore[misc]
