"""HostProbe: psutil readings, network rates, models directory resolution."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tui.service.monitor.host import HostProbe, HostSample, resolve_models_dir


class FakePsutil:
    def __init__(self) -> None:
        self.cpu_calls: list[bool] = []
        self.rx = {"eth0": 1000, "lo": 10**9}
        self.tx = {"eth0": 500, "lo": 10**9}
        self.broken: set[str] = set()

    def _maybe_fail(self, name: str) -> None:
        if name in self.broken:
            raise OSError(f"{name} failed")

    def cpu_percent(self, interval: float | None = None, percpu: bool = False) -> Any:
        assert interval is None  # never block the sampler thread
        self._maybe_fail("cpu")
        self.cpu_calls.append(percpu)
        return [10.0, 30.0] if percpu else 20.0

    def getloadavg(self) -> tuple[float, float, float]:
        self._maybe_fail("load")
        return (0.5, 0.25, 0.125)

    def virtual_memory(self) -> Any:
        self._maybe_fail("ram")
        return SimpleNamespace(total=16 * 2**30, available=12 * 2**30, percent=25.0, used=3 * 2**30)

    def swap_memory(self) -> Any:
        self._maybe_fail("swap")
        return SimpleNamespace(total=2 * 2**30, used=2**29, percent=25.0)

    def disk_usage(self, path: str) -> Any:
        self._maybe_fail("disk")
        return SimpleNamespace(total=1000, used=400, free=600, percent=40.0)

    def net_io_counters(self, pernic: bool = False) -> Any:
        assert pernic
        self._maybe_fail("net")
        return {n: SimpleNamespace(bytes_recv=self.rx[n], bytes_sent=self.tx[n]) for n in self.rx}


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def probe(ps: FakePsutil, tmp_path: Path) -> tuple[HostProbe, Clock]:
    clock = Clock()
    return HostProbe(tmp_path, clock=clock, ps=ps), clock


def test_prime_happens_once_before_the_first_reading(tmp_path: Path) -> None:
    ps = FakePsutil()
    p, _ = probe(ps, tmp_path)
    p.sample()
    p.sample()
    # prime: total + per-core once; then each sample: total + per-core
    assert ps.cpu_calls == [False, True, False, True, False, True]


def test_host_readings(tmp_path: Path) -> None:
    ps = FakePsutil()
    p, clock = probe(ps, tmp_path)
    p.prime()
    clock.t = 2.0
    ps.rx["eth0"] += 4000
    ps.tx["eth0"] += 1000
    ps.rx["lo"] += 10**9  # loopback traffic is not network traffic
    s = p.sample()
    assert s == HostSample(
        time=2.0, cpu_percent=20.0, per_cpu=(10.0, 30.0), load_avg=(0.5, 0.25, 0.125),
        ram_used=4 * 2**30, ram_total=16 * 2**30, ram_available=12 * 2**30, ram_percent=25.0,
        swap_used=2**29, swap_total=2 * 2**30, swap_percent=25.0,
        disk_path=str(tmp_path), disk_used=400, disk_total=1000, disk_free=600, disk_percent=40.0,
        net_rx_rate=2000.0, net_tx_rate=500.0,
    )  # fmt: skip


def test_first_network_rate_is_none_without_prime(tmp_path: Path) -> None:
    ps = FakePsutil()
    p = HostProbe(tmp_path, clock=Clock(), ps=ps)
    p._primed = True  # simulate a caller that skipped prime()
    s = p.sample()
    assert s.net_rx_rate is None and s.net_tx_rate is None


def test_counter_reset_skips_one_rate(tmp_path: Path) -> None:
    ps = FakePsutil()
    p, clock = probe(ps, tmp_path)
    p.prime()
    clock.t = 1.0
    ps.rx["eth0"] = 10  # went backwards (interface removed)
    s = p.sample()
    assert s.net_rx_rate is None
    clock.t = 2.0
    ps.rx["eth0"] = 110
    assert p.sample().net_rx_rate == 100.0


def test_failing_readings_are_none_not_raised(tmp_path: Path) -> None:
    ps = FakePsutil()
    ps.broken = {"cpu", "load", "ram", "swap", "disk", "net"}
    p, _ = probe(ps, tmp_path)
    s = p.sample()
    assert s.cpu_percent is None and s.per_cpu == () and s.load_avg is None
    assert s.ram_total is None and s.swap_total is None and s.disk_total is None
    assert s.net_rx_rate is None


def test_real_psutil(tmp_path: Path) -> None:
    p = HostProbe(tmp_path)
    p.prime()
    s = p.sample()
    assert s.cpu_percent is not None and 0 <= s.cpu_percent <= 100
    assert len(s.per_cpu) >= 1
    assert s.ram_total and s.ram_used is not None and 0 < s.ram_used <= s.ram_total
    assert s.disk_total and s.disk_path == str(tmp_path)
    assert s.net_rx_rate is not None and s.net_rx_rate >= 0


def test_models_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    assert resolve_models_dir() == home  # ~/.ollama/models absent -> ~
    (home / ".ollama").mkdir()
    assert resolve_models_dir() == home / ".ollama"  # nearest existing parent
    (home / ".ollama" / "models").mkdir()
    assert resolve_models_dir() == home / ".ollama" / "models"
    custom = tmp_path / "models"
    custom.mkdir()
    monkeypatch.setenv("OLLAMA_MODELS", str(custom))
    assert resolve_models_dir() == custom
    explicit = tmp_path / "explicit"
    explicit.mkdir()
    assert resolve_models_dir(explicit) == explicit
    assert resolve_models_dir(tmp_path / "nope" / "deeper") == tmp_path
