"""Benchmark statistics: one measured run, and the median/spread summaries over many (pure functions)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: What a measurement was for. Warm-ups never enter the statistics; a COLD one is the warm-up
#: right after the model was unloaded, whose load time is reported as the cold load.
WARMUP, COLD, MEASURED = "warmup", "cold", "run"
_NOT_COUNTED = (WARMUP, COLD)

#: The metrics summarised per model, in table order: (attribute, column title, unit).
METRICS: tuple[tuple[str, str, str], ...] = (
    ("tokens_per_s", "tok/s", "tok/s"),
    ("ttft_s", "first token", "s"),
    ("prompt_per_s", "prompt tok/s", "tok/s"),
    ("load_s", "load", "s"),
    ("total_s", "total", "s"),
)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One request of a run: what the server reported plus what the client timed.

    Rates and durations are None when the server reported nothing for them (e.g. a stopped
    reply has no final stats).
    """

    model: str
    prompt_index: int = 0
    repeat: int = 0
    kind: str = MEASURED  # WARMUP | COLD | MEASURED
    status: str = "complete"  # complete | stopped | error
    tokens_per_s: float | None = None
    ttft_s: float | None = None
    prompt_per_s: float | None = None
    load_s: float | None = None
    total_s: float | None = None
    eval_count: int = 0
    prompt_eval_count: int = 0
    reply: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class Spread:
    """Median and spread of one metric over the counted runs."""

    n: int
    median: float | None
    low: float | None
    high: float | None
    stdev: float | None  # sample standard deviation; None below two values

    @property
    def relative(self) -> float | None:
        """Standard deviation as a share of the median (0.05 = ±5 %)."""
        if self.stdev is None or not self.median:
            return None
        return self.stdev / abs(self.median)


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """A model's row of the results table."""

    model: str
    runs: int  # counted (non-warm-up, complete) runs
    failed: int
    metrics: dict[str, Spread] = field(default_factory=dict)
    cold_load_s: float | None = None
    peak_vram: int | None = None  # bytes

    def median(self, metric: str) -> float | None:
        spread = self.metrics.get(metric)
        return spread.median if spread is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "runs": self.runs, "failed": self.failed,
            "cold_load_s": self.cold_load_s, "peak_vram": self.peak_vram,
            "metrics": {name: asdict(s) for name, s in self.metrics.items()},
        }


def median(values: Iterable[float]) -> float | None:
    """The median, ignoring None and NaN; None when nothing is left."""
    clean = _clean(values)
    return statistics.median(clean) if clean else None


def spread(values: Iterable[float | None]) -> Spread:
    clean = _clean(values)
    if not clean:
        return Spread(0, None, None, None, None)
    stdev = statistics.stdev(clean) if len(clean) > 1 else None
    return Spread(len(clean), statistics.median(clean), min(clean), max(clean), stdev)


def _clean(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and not math.isnan(v)]


def counted(measurements: Iterable[Measurement]) -> list[Measurement]:
    """The runs that enter the statistics: measured (not warm-up) and complete."""
    return [m for m in measurements if m.kind not in _NOT_COUNTED and m.status == "complete"]


def summarize_model(model: str, measurements: Sequence[Measurement], *, peak_vram: int | None = None) -> ModelSummary:
    mine = [m for m in measurements if m.model == model]
    runs = counted(mine)
    cold = [m for m in mine if m.kind == COLD and m.status == "complete" and m.load_s is not None]
    return ModelSummary(
        model=model,
        runs=len(runs),
        failed=sum(1 for m in mine if m.kind not in _NOT_COUNTED and m.status != "complete"),
        metrics={name: spread(getattr(m, name) for m in runs) for name, _title, _unit in METRICS},
        cold_load_s=cold[0].load_s if cold else None,
        peak_vram=peak_vram,
    )


def summarize(models: Sequence[str], measurements: Sequence[Measurement],
              peak_vram: dict[str, int | None] | None = None) -> list[ModelSummary]:
    """One summary per model, fastest (median tokens/s) first; models with no rate go last."""
    summaries = [summarize_model(m, measurements, peak_vram=(peak_vram or {}).get(m)) for m in models]
    return rank(summaries)


def rank(summaries: Iterable[ModelSummary]) -> list[ModelSummary]:
    def key(s: ModelSummary) -> tuple[int, float]:
        rate = s.median("tokens_per_s")
        return (1, 0.0) if rate is None else (0, -rate)

    return sorted(summaries, key=key)


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar of `width` cells at most, in eighths ('█████▌')."""
    if maximum <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = round(min(value / maximum, 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])
