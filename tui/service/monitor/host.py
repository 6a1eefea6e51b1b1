"""Host readings via psutil: CPU, load, RAM, swap, disk of the models directory, network.

Nothing raises out of ``HostProbe.sample()``: a reading that cannot be taken is ``None``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

# --------------------------------------------------------------------------- host


@dataclass(frozen=True, slots=True)
class HostSample:
    time: float
    cpu_percent: float | None
    per_cpu: tuple[float, ...]
    load_avg: tuple[float, float, float] | None
    ram_used: int | None
    ram_total: int | None
    ram_available: int | None
    ram_percent: float | None
    swap_used: int | None
    swap_total: int | None
    swap_percent: float | None
    disk_path: str
    disk_used: int | None
    disk_total: int | None
    disk_free: int | None
    disk_percent: float | None
    net_rx_rate: float | None  # bytes/s since the previous sample; None on the first one
    net_tx_rate: float | None


def resolve_models_dir(models_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where Ollama keeps models: the argument, else ``$OLLAMA_MODELS``, else
    ``~/.ollama/models``; when that does not exist, the nearest existing parent (so at worst
    ``~`` or the filesystem root) — disk usage is per filesystem anyway."""
    if models_dir is not None:
        path = Path(models_dir).expanduser()
    elif os.environ.get("OLLAMA_MODELS"):
        path = Path(os.environ["OLLAMA_MODELS"]).expanduser()
    else:
        path = Path("~/.ollama/models").expanduser()
    home = Path("~").expanduser()
    candidate = path
    while not candidate.exists():
        if candidate.parent == candidate:
            return home
        candidate = candidate.parent
    return candidate


def _is_loopback_nic(name: str) -> bool:
    lowered = name.lower()
    return lowered == "lo" or lowered.startswith("lo0") or lowered.startswith("loopback")


class HostProbe:
    """Stateful psutil reader (cpu_percent and network rates are deltas between calls)."""

    def __init__(
        self,
        models_dir: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        ps: Any = psutil,
    ) -> None:
        self.models_dir = str(resolve_models_dir(models_dir))
        self._clock = clock
        self._ps = ps
        self._primed = False
        self._last_net: tuple[float, int, int] | None = None

    def prime(self) -> None:
        """First cpu_percent(interval=None) call returns a meaningless 0.0: make it here."""
        if self._primed:
            return
        self._primed = True
        try:
            self._ps.cpu_percent(interval=None)
            self._ps.cpu_percent(interval=None, percpu=True)
        except Exception:
            pass
        self._last_net = self._net_totals()  # baseline for rates

    def _net_totals(self) -> tuple[float, int, int] | None:
        """(time, bytes received, bytes sent) summed over non-loopback interfaces."""
        try:
            per_nic = self._ps.net_io_counters(pernic=True) or {}
        except Exception:
            return None
        rx = tx = 0
        for name, counters in per_nic.items():
            if not _is_loopback_nic(name):
                rx += int(counters.bytes_recv)
                tx += int(counters.bytes_sent)
        return self._clock(), rx, tx

    def sample(self) -> HostSample:
        if not self._primed:
            self.prime()
        ps = self._ps
        now = self._clock()

        cpu: float | None
        per_cpu: tuple[float, ...]
        try:
            cpu = float(ps.cpu_percent(interval=None))
        except Exception:
            cpu = None
        try:
            per_cpu = tuple(float(x) for x in ps.cpu_percent(interval=None, percpu=True))
        except Exception:
            per_cpu = ()

        load: tuple[float, float, float] | None
        try:
            a, b, c = ps.getloadavg()
            load = (float(a), float(b), float(c))
        except Exception:
            load = None

        ram_used = ram_total = ram_available = None
        ram_percent = None
        try:
            vm = ps.virtual_memory()
            ram_total, ram_available = int(vm.total), int(vm.available)
            ram_used = ram_total - ram_available  # what "in use" means to a user (htop-like)
            ram_percent = float(vm.percent)
        except Exception:
            pass

        swap_used = swap_total = None
        swap_percent = None
        try:
            sw = ps.swap_memory()
            swap_used, swap_total, swap_percent = int(sw.used), int(sw.total), float(sw.percent)
        except Exception:
            pass

        disk_used = disk_total = disk_free = None
        disk_percent = None
        try:
            du = ps.disk_usage(self.models_dir)
            disk_used, disk_total, disk_free = int(du.used), int(du.total), int(du.free)
            disk_percent = float(du.percent)
        except Exception:
            pass

        rx_rate = tx_rate = None
        previous, current = self._last_net, self._net_totals()
        if current is not None:
            self._last_net = current
        if previous is not None and current is not None:
            dt = current[0] - previous[0]
            drx, dtx = current[1] - previous[1], current[2] - previous[2]
            if dt > 0 and drx >= 0 and dtx >= 0:  # counters went back (nic gone): skip once
                rx_rate, tx_rate = drx / dt, dtx / dt

        return HostSample(
            now, cpu, per_cpu, load,
            ram_used, ram_total, ram_available, ram_percent,
            swap_used, swap_total, swap_percent,
            self.models_dir, disk_used, disk_total, disk_free, disk_percent,
            rx_rate, tx_rate,
        )  # fmt: skip
