"""Warning levels with hysteresis, and the "this model won't fit" check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tui.service.units import format_bytes

METRIC_LABELS = {
    "cpu": "CPU",
    "ram": "RAM",
    "vram": "VRAM",
    "gpu_temp": "GPU temperature",
}


def metric_key(metric: str, index: int | None = None) -> str:
    """``("vram", 1) -> "vram:1"``; per-GPU metrics carry the GPU index after a colon."""
    return metric if index is None else f"{metric}:{index}"


def split_key(key: str) -> tuple[str, int | None]:
    metric, sep, index = key.partition(":")
    if sep and index.isdigit():
        return metric, int(index)
    return key, None


@dataclass(frozen=True, slots=True)
class Alert:
    key: str  # "cpu", "ram", "vram:0", "gpu_temp:1"
    metric: str  # "cpu", "ram", "vram", "gpu_temp"
    gpu_index: int | None
    value: float
    level: float
    message: str  # "GPU 0 VRAM at 95% (warning level 90%)"


def _describe(metric: str, index: int | None, value: float, level: float) -> str:
    label = METRIC_LABELS.get(metric, metric)
    where = f"GPU {index} " if index is not None else ""
    if metric == "gpu_temp":
        return f"{where or 'GPU '}temperature at {value:.0f}°C (warning level {level:.0f}°C)"
    return f"{where}{label} at {value:.0f}% (warning level {level:.0f}%)"


class ThresholdWatcher:
    """Raises an :class:`Alert` once when a metric goes to/above its warning level, and only
    re-arms after the metric drops below ``level - hysteresis``.

    ``warn_levels`` maps a metric ("cpu", "ram", "vram", "gpu_temp") to its level; a per-GPU
    key such as ``"vram:1"`` overrides the metric-wide level for that GPU. A level of
    ``None`` (or a missing metric) disables it. ``None`` values leave the state unchanged.
    """

    def __init__(self, warn_levels: Mapping[str, float | None], hysteresis: float = 5.0) -> None:
        if hysteresis < 0:
            raise ValueError("hysteresis must be >= 0")
        self._levels: dict[str, float | None] = dict(warn_levels)
        self.hysteresis = float(hysteresis)
        self._tripped: set[str] = set()

    @property
    def levels(self) -> dict[str, float | None]:
        return dict(self._levels)

    def set_levels(self, warn_levels: Mapping[str, float | None], hysteresis: float | None = None) -> None:
        """Change levels live. Metrics whose level changed are re-armed."""
        new = dict(warn_levels)
        for key in list(self._tripped):
            metric, _ = split_key(key)
            if self._level_in(new, metric, key) != self.level_for(key):
                self._tripped.discard(key)
        self._levels = new
        if hysteresis is not None:
            if hysteresis < 0:
                raise ValueError("hysteresis must be >= 0")
            self.hysteresis = float(hysteresis)

    @staticmethod
    def _level_in(levels: Mapping[str, float | None], metric: str, key: str) -> float | None:
        if key in levels:
            return levels[key]
        return levels.get(metric)

    def level_for(self, key: str) -> float | None:
        metric, _ = split_key(key)
        return self._level_in(self._levels, metric, key)

    @property
    def active(self) -> frozenset[str]:
        """Keys currently at/above their level (alerted, not yet re-armed)."""
        return frozenset(self._tripped)

    def reset(self) -> None:
        self._tripped.clear()

    def update(self, values: Mapping[str, float | None]) -> list[Alert]:
        alerts: list[Alert] = []
        for key, value in values.items():
            if value is None:
                continue
            level = self.level_for(key)
            if level is None:
                continue
            if key in self._tripped:
                if value < level - self.hysteresis:
                    self._tripped.discard(key)
                continue
            if value >= level:
                self._tripped.add(key)
                metric, index = split_key(key)
                message = _describe(metric, index, value, level)
                alerts.append(Alert(key, metric, index, float(value), float(level), message))
        return alerts


def fit_warning(
    model_size: int,
    free_vram: int | None,
    free_ram: int,
    margin: float = 0.1,
    *,
    name: str | None = None,
) -> str | None:
    """Plain-language warning when a model probably won't fit in free VRAM + RAM.

    Warns when ``model_size > (free_vram + free_ram) * (1 - margin)``; ``free_vram=None``
    means no usable GPU (only RAM counts). Returns ``None`` when it fits.
    """
    if not 0 <= margin < 1:
        raise ValueError("margin must be in [0, 1)")
    vram = max(0, free_vram or 0)
    free = vram + max(0, free_ram)
    if model_size <= free * (1 - margin):
        return None
    who = name or "This model"
    pool = "VRAM+RAM" if free_vram is not None else "RAM"
    text = f"{who} needs {format_bytes(model_size, unit='GB')}; only {format_bytes(free, unit='GB')} of {pool} is free"
    if model_size <= free:
        text += f" (less than the {margin * 100:.0f}% safety margin would leave)"
    return text
