"""Ring-buffer history and the ``/api/ps`` model record used by the monitor snapshots."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

# --------------------------------------------------------------------------- history


class History:
    """Fixed-length ring buffers, one per metric, all aligned with ``times``.

    Every ``append`` adds one entry to every known series (``None`` where the metric had
    no value), and a series first seen later is padded with ``None`` so all series stay
    the same length. Only snapshots (tuples) leave this class.
    """

    def __init__(self, maxlen: int) -> None:
        self._maxlen = max(1, int(maxlen))
        self._times: deque[float] = deque(maxlen=self._maxlen)
        self._series: dict[str, deque[float | None]] = {}

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def __len__(self) -> int:
        return len(self._times)

    def resize(self, maxlen: int) -> None:
        """Change capacity, keeping the newest entries."""
        maxlen = max(1, int(maxlen))
        if maxlen == self._maxlen:
            return
        self._maxlen = maxlen
        self._times = deque(self._times, maxlen=maxlen)
        self._series = {k: deque(v, maxlen=maxlen) for k, v in self._series.items()}

    def append(self, t: float, values: Mapping[str, float | None]) -> None:
        self._times.append(t)
        for key in values.keys() - self._series.keys():
            pad = deque([None] * (len(self._times) - 1), maxlen=self._maxlen)
            self._series[key] = pad
        for key, series in self._series.items():
            series.append(values.get(key))

    def clear(self) -> None:
        self._times.clear()
        self._series.clear()

    def snapshot(self) -> tuple[tuple[float, ...], Mapping[str, tuple[float | None, ...]]]:
        return tuple(self._times), MappingProxyType({k: tuple(v) for k, v in self._series.items()})


def buffer_length(window: float, interval: float) -> int:
    """How many samples cover ``window`` seconds at ``interval``: ``ceil(window/interval)``."""
    return max(1, math.ceil(window / interval - 1e-9))


# --------------------------------------------------------------------------- ps


def _parse_time(value: Any) -> datetime | None:
    """RFC 3339 as Ollama writes it (nanoseconds, ``Z``) -> aware datetime; else ``None``."""
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # trim fractional seconds to the 6 digits datetime understands
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class PsModel:
    """One model loaded in Ollama (``/api/ps``). ``source`` is the object it came from
    (e.g. the client's ``RunningModel``) for anything not copied here."""

    name: str
    size: int | None
    size_vram: int | None
    expires_at: datetime | None = None
    context_length: int | None = None
    source: Any = field(default=None, compare=False, repr=False)

    @property
    def size_ram(self) -> int | None:
        """Bytes held in system RAM (the part not offloaded to the GPU)."""
        if self.size is None or self.size_vram is None:
            return None
        return max(0, self.size - self.size_vram)

    @property
    def gpu_fraction(self) -> float | None:
        """Share held in VRAM, 0.0-1.0; ``None`` when the size is unknown."""
        if not self.size or self.size_vram is None:
            return None
        return max(0.0, min(1.0, self.size_vram / self.size))

    @classmethod
    def from_any(cls, obj: Any) -> PsModel:
        """Accept an ``/api/ps`` JSON entry or any object with those attributes."""

        def get(*names: str) -> Any:
            for n in names:
                v = obj.get(n) if isinstance(obj, Mapping) else getattr(obj, n, None)
                if v is not None and v != "":
                    return v
            return None

        def as_int(v: Any) -> int | None:
            try:
                return int(v) if v is not None else None
            except (TypeError, ValueError):
                return None

        return cls(
            name=str(get("name", "model") or "?"),
            size=as_int(get("size")),
            size_vram=as_int(get("size_vram")),
            expires_at=_parse_time(get("expires_at")),
            context_length=as_int(get("context_length")),
            source=obj,
        )
