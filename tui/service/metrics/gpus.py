"""Remote GPUs from NVIDIA's dcgm-exporter (`DCGM_FI_DEV_*`, labelled gpu, UUID, modelName…)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.service.metrics.exposition import Sample

MIB = 1024 * 1024

UTIL = "DCGM_FI_DEV_GPU_UTIL"  # %
FB_USED = "DCGM_FI_DEV_FB_USED"  # MiB
FB_FREE = "DCGM_FI_DEV_FB_FREE"  # MiB
FB_RESERVED = "DCGM_FI_DEV_FB_RESERVED"  # MiB (newer exporters; part of the total)
TEMP = "DCGM_FI_DEV_GPU_TEMP"  # °C
POWER = "DCGM_FI_DEV_POWER_USAGE"  # W
DCGM_NAMES = (UTIL, FB_USED, FB_FREE, FB_RESERVED, TEMP, POWER)


@dataclass(frozen=True, slots=True)
class RemoteGpu:
    """One GPU of a remote box, as its exporter reported it; None where it reported nothing."""

    index: int
    uuid: str = ""
    name: str = ""
    hostname: str = ""
    util: float | None = None  # %
    vram_used: int | None = None  # bytes
    vram_total: int | None = None  # bytes
    temperature: float | None = None  # °C
    power: float | None = None  # W

    @property
    def vram_percent(self) -> float | None:
        if self.vram_used is None or not self.vram_total:
            return None
        return 100.0 * self.vram_used / self.vram_total


def gpus_from_dcgm(samples: Iterable[Sample]) -> tuple[RemoteGpu, ...]:
    """One RemoteGpu per GPU (by UUID, else by the `gpu` index label), ordered by index."""
    fields: dict[str, dict[str, float]] = {}
    labels: dict[str, Sample] = {}
    for s in samples:
        if s.name not in DCGM_NAMES:
            continue
        # MIG instances carry GPU_I_ID; their figures are the instance's, not the card's.
        if s.label("GPU_I_ID"):
            continue
        key = s.label("UUID") or s.label("gpu")
        fields.setdefault(key, {})[s.name] = s.value
        labels.setdefault(key, s)
    out = []
    for key, values in fields.items():
        first = labels[key]
        used, free = values.get(FB_USED), values.get(FB_FREE)
        total = None
        if used is not None and free is not None:
            total = int((used + free + values.get(FB_RESERVED, 0.0)) * MIB)
        try:
            index = int(first.label("gpu", "0"))
        except ValueError:
            index = 0
        out.append(RemoteGpu(
            index=index, uuid=first.label("UUID"), name=first.label("modelName"),
            hostname=first.label("Hostname"), util=values.get(UTIL),
            vram_used=int(used * MIB) if used is not None else None, vram_total=total,
            temperature=values.get(TEMP), power=values.get(POWER),
        ))
    return tuple(sorted(out, key=lambda g: (g.index, g.uuid)))
