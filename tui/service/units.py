"""Human-readable formatting for the monitor: sizes, rates, percentages, temperatures.

Every helper accepts ``None`` (a value the source could not provide) and returns the
``na`` text for it, so callers never have to special-case missing readings.
"""

from __future__ import annotations

import math

NA = "N/A"

_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _scaled(value: float, base: float, units: tuple[str, ...], precision: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(float(value))
    index = 0
    while value >= base and index < len(units) - 1:
        value /= base
        index += 1
    if index == 0:
        return f"{sign}{round(value)} {units[0]}"
    # 1023.96 KiB would print as "1024.0 KiB": promote to the next unit instead.
    if round(value, precision) >= base and index < len(units) - 1:
        value /= base
        index += 1
    return f"{sign}{value:.{precision}f} {units[index]}"


def format_bytes(value: float | None, *, precision: int = 1, si: bool = False, na: str = NA) -> str:
    """``3435973837 -> "3.2 GiB"``; ``si=True`` uses powers of 1000 (``"3.4 GB"``)."""
    if _missing(value):
        return na
    assert value is not None
    if si:
        return _scaled(value, 1000.0, _SI_UNITS, precision)
    return _scaled(value, 1024.0, _BINARY_UNITS, precision)


def format_gb(value: float | None, *, precision: int = 1, na: str = NA) -> str:
    """Always in decimal gigabytes (``"40.0 GB"``) — how Ollama itself prints model sizes."""
    if _missing(value):
        return na
    assert value is not None
    return f"{value / 1e9:.{precision}f} GB"


def format_rate(bytes_per_second: float | None, *, precision: int = 1, na: str = NA) -> str:
    """``1258291.2 -> "1.2 MiB/s"``."""
    if _missing(bytes_per_second):
        return na
    return format_bytes(bytes_per_second, precision=precision) + "/s"


def format_percent(value: float | None, *, precision: int = 0, na: str = NA) -> str:
    """``42.4 -> "42%"``; ``precision=1 -> "42.4%"``."""
    if _missing(value):
        return na
    return f"{value:.{precision}f}%"


def format_temperature(celsius: float | None, *, na: str = NA) -> str:
    """``71.0 -> "71°C"``."""
    if _missing(celsius):
        return na
    return f"{celsius:.0f}°C"


def format_power(watts: float | None, limit_watts: float | None = None, *, na: str = NA) -> str:
    """``(123.4, 350) -> "123 W / 350 W"``; without a limit just ``"123 W"``."""
    if _missing(watts):
        return na
    text = f"{watts:.0f} W"
    if not _missing(limit_watts):
        text += f" / {limit_watts:.0f} W"
    return text


def format_used_total(used: float | None, total: float | None, *, na: str = NA) -> str:
    """``"3.2 / 24.0 GiB"`` (the unit of the total is used for both numbers)."""
    if _missing(total):
        return format_bytes(used, na=na) if not _missing(used) else na
    assert total is not None
    unit_index = 0
    scaled_total = float(total)
    while scaled_total >= 1024.0 and unit_index < len(_BINARY_UNITS) - 1:
        scaled_total /= 1024.0
        unit_index += 1
    divisor = 1024.0**unit_index
    used_text = na if _missing(used) else f"{used / divisor:.1f}"  # type: ignore[operator]
    return f"{used_text} / {scaled_total:.1f} {_BINARY_UNITS[unit_index]}"


def format_duration(seconds: float | None, *, na: str = NA) -> str:
    """Compact durations: ``"45s"``, ``"4m 05s"``, ``"2h 03m"``, ``"3d 04h"``."""
    if _missing(seconds):
        return na
    assert seconds is not None
    sign = "-" if seconds < 0 else ""
    total = round(abs(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"
