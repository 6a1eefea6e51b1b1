"""A remote box's CPU and memory from node_exporter (`node_cpu_seconds_total`, `node_memory_*`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.service.metrics.exposition import Sample

CPU_SECONDS = "node_cpu_seconds_total"
MEM_TOTAL = "node_memory_MemTotal_bytes"
MEM_AVAILABLE = "node_memory_MemAvailable_bytes"
LOAD1 = "node_load1"
_IDLE_MODES = frozenset({"idle", "iowait"})


@dataclass(frozen=True, slots=True)
class NodeStats:
    """`cpu_percent` needs two scrapes (it is derived from counters): None on the first."""

    cpu_percent: float | None = None
    mem_used: int | None = None
    mem_total: int | None = None
    load1: float | None = None
    cpu_busy: float = 0.0  # counter totals, kept for the next scrape's rate
    cpu_total: float = 0.0

    @property
    def mem_percent(self) -> float | None:
        if self.mem_used is None or not self.mem_total:
            return None
        return 100.0 * self.mem_used / self.mem_total


def node_from_exporter(samples: Iterable[Sample], previous: NodeStats | None = None) -> NodeStats | None:
    """NodeStats from node_exporter samples, None when there are none of its metrics."""
    busy = total = 0.0
    mem_total = mem_available = load1 = None
    seen = False
    for s in samples:
        if s.name == CPU_SECONDS:
            seen = True
            total += s.value
            if s.label("mode") not in _IDLE_MODES:
                busy += s.value
        elif s.name == MEM_TOTAL:
            seen, mem_total = True, s.value
        elif s.name == MEM_AVAILABLE:
            seen, mem_available = True, s.value
        elif s.name == LOAD1:
            seen, load1 = True, s.value
    if not seen:
        return None
    cpu = None
    if previous is not None and total > previous.cpu_total and busy >= previous.cpu_busy:
        cpu = max(0.0, min(100.0, 100.0 * (busy - previous.cpu_busy) / (total - previous.cpu_total)))
    used = int(mem_total - mem_available) if mem_total is not None and mem_available is not None else None
    return NodeStats(cpu_percent=cpu, mem_used=used, mem_total=int(mem_total) if mem_total else None,
                     load1=load1, cpu_busy=busy, cpu_total=total)
