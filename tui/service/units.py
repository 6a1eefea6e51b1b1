"""Human-readable formatting: sizes, rates, percentages, temperatures, durations, ages.

Every helper accepts ``None`` (a value the source could not provide) and returns the
``na`` text for it, so callers never have to special-case missing readings.

Sizes have one formatter, ``format_bytes``, and two conventions a caller picks on purpose:
memory (RAM, VRAM, RSS, a file on disk) in binary units as the system tools show it
(``"3.2 GiB"``), and model and download sizes in decimal units as Ollama itself prints them
(``format_bytes(n, si=True, whole_from=100)``: ``"4.9 GB"``, ``"640 MB"``; see ``format_size``).
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

NA = "N/A"

_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _scaled(value: float, base: float, units: tuple[str, ...], precision: int,
            whole_from: float | None, unit: str | None, drop_zeros: bool = False) -> str:
    sign = "-" if value < 0 else ""
    value = abs(float(value))
    index = 0
    if unit is not None:
        index = units.index(unit)
        value /= base**index
    else:
        while value >= base and index < len(units) - 1:
            value /= base
            index += 1
    if index == 0:
        return f"{sign}{round(value)} {units[0]}"
    digits = 0 if whole_from is not None and value >= whole_from else precision
    # 1023.96 KiB would print as "1024.0 KiB": promote to the next unit instead.
    if unit is None and round(value, digits) >= base and index < len(units) - 1:
        value /= base
        index += 1
        digits = 0 if whole_from is not None and value >= whole_from else precision
    number = f"{value:.{digits}f}"
    if drop_zeros and "." in number and not number.rstrip("0").endswith(tuple("123456789")):
        number = number.partition(".")[0]  # "24.0" -> "24"
    return f"{sign}{number} {units[index]}"


def format_bytes(value: float | None, *, precision: int = 1, si: bool = False, unit: str | None = None,
                 whole_from: float | None = None, drop_zeros: bool = False, na: str = NA) -> str:
    """A size: ``3435973837 -> "3.2 GiB"`` (powers of 1024, for memory).

    ``si=True``: powers of 1000 (``"3.4 GB"``), as Ollama prints model sizes. ``unit``: always
    that unit (``unit="GB"`` -> ``"40.0 GB"``; a decimal unit implies ``si``). ``whole_from``:
    no decimals once the number reaches it (``whole_from=100`` -> ``"640 MB"``, ``"4.9 GB"``).
    ``drop_zeros``: a number that rounds to a whole one is shown without its decimals
    (``"24 GiB"``, ``"16 MiB"``, not ``"24.0 GiB"``: a chart's axis, a limit in a message).
    """
    if _missing(value):
        return na
    assert value is not None
    if unit is not None and unit in _SI_UNITS:
        si = True
    if si:
        return _scaled(value, 1000.0, _SI_UNITS, precision, whole_from, unit, drop_zeros)
    return _scaled(value, 1024.0, _BINARY_UNITS, precision, whole_from, unit, drop_zeros)


def format_size(value: float | None, *, na: str = NA) -> str:
    """A model or download size as Ollama prints it: ``"4.9 GB"``, ``"640 MB"``, ``"512 B"``."""
    return format_bytes(value, si=True, whole_from=100, na=na)


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


def format_used_total(used: float | None, total: float | None, *, sep: str = " / ",
                      unit: str | None = None, na: str = NA) -> str:
    """``"3.2 / 24.0 GiB"``: both numbers in the total's unit, or in ``unit`` when given
    (``sep="/", unit="GiB"`` -> ``"3.2/24.0 GiB"``, the resource strip's compact form)."""
    if _missing(total):
        return format_bytes(used, unit=unit, na=na) if not _missing(used) else na
    assert total is not None
    if unit is not None:
        unit_index = _BINARY_UNITS.index(unit)
        scaled_total = float(total) / 1024.0**unit_index
    else:
        unit_index = 0
        scaled_total = float(total)
        while scaled_total >= 1024.0 and unit_index < len(_BINARY_UNITS) - 1:
            scaled_total /= 1024.0
            unit_index += 1
    divisor = 1024.0**unit_index
    used_text = na if _missing(used) else f"{used / divisor:.1f}"  # type: ignore[operator]
    return f"{used_text}{sep}{scaled_total:.1f} {_BINARY_UNITS[unit_index]}"


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


def ago(when: Any, now: datetime | None = None, *, date_after_days: int = 30, missing: str = "") -> str:
    """``"45s ago"``, ``"5m ago"``, ``"3h ago"``, ``"12d ago"``; from ``date_after_days`` days on,
    the date (``"2024-04-27"``). ``when``: a datetime (naive means UTC), epoch seconds, or an
    ISO string (one that does not parse is shown as it is); ``None`` gives ``missing``.

    The session list turns to dates after a month; the models table, whose Modified column
    is narrower than a date, only after a year.
    """
    if when is None:
        return missing
    if isinstance(when, (int, float)):
        when = datetime.fromtimestamp(when, timezone.utc)
    elif isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            return when
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    seconds = ((now or datetime.now(timezone.utc)) - when).total_seconds()
    for limit, div, unit in ((60, 1, "s"), (3600, 60, "m"), (86400, 3600, "h"), (86400 * date_after_days, 86400, "d")):
        if seconds < limit:
            return f"{max(0, int(seconds // div))}{unit} ago"
    return when.strftime("%Y-%m-%d")
