"""ThresholdWatcher hysteresis, fit_warning, and the units helpers."""

from __future__ import annotations

import pytest

from tui.service.monitor.thresholds import (
    Alert,
    ThresholdWatcher,
    fit_warning,
    metric_key,
    split_key,
)
from tui.service.units import (
    format_bytes,
    format_duration,
    format_percent,
    format_power,
    format_rate,
    format_size,
    format_temperature,
    format_used_total,
)

# --------------------------------------------------------------------------- thresholds


def keys(alerts: list[Alert]) -> list[str]:
    return [a.key for a in alerts]


def run(watcher: ThresholdWatcher, metric: str, values: list[float | None]) -> list[bool]:
    """For each value, whether an alert fired."""
    return [bool(watcher.update({metric: v})) for v in values]


def test_alert_once_then_rearm_below_level_minus_hysteresis() -> None:
    w = ThresholdWatcher({"cpu": 90.0}, hysteresis=5.0)
    fired = run(w, "cpu", [50, 89.9, 90, 95, 99, 88, 86, 91, 85.1, 92, 84.9, 89, 90, 100])
    assert fired == [
        False, False, True,   # crosses 90
        False, False,         # stays high: no repeat
        False, False, False,  # 88, 86 are not below 85: still disarmed, 91 no alert
        False, False,         # 85.1 not < 85
        False,                # 84.9 re-arms
        False, True,          # 89 no, 90 alerts again
        False,
    ]  # fmt: skip


def test_zero_hysteresis_rearms_just_below_level() -> None:
    w = ThresholdWatcher({"ram": 80.0}, hysteresis=0.0)
    assert run(w, "ram", [81, 79.99, 80, 80]) == [True, False, True, False]


def test_none_values_do_not_change_state() -> None:
    w = ThresholdWatcher({"cpu": 90.0})
    assert run(w, "cpu", [95, None, 50, None, 95]) == [True, False, False, False, True]


def test_start_above_level_alerts_once() -> None:
    w = ThresholdWatcher({"cpu": 90.0})
    assert run(w, "cpu", [99, 99, 99]) == [True, False, False]


def test_per_gpu_metrics_are_independent_and_levels_can_be_overridden() -> None:
    w = ThresholdWatcher({"vram": 90.0, "gpu_temp": 85.0, "vram:1": 50.0})
    alerts = w.update({"vram:0": 95.0, "vram:1": 60.0, "gpu_temp:0": 70.0, "gpu_temp:1": 86.0})
    assert sorted(keys(alerts)) == ["gpu_temp:1", "vram:0", "vram:1"]
    by_key = {a.key: a for a in alerts}
    assert by_key["vram:1"].level == 50.0 and by_key["vram:1"].gpu_index == 1 and by_key["vram:1"].metric == "vram"
    assert by_key["vram:0"].message == "GPU 0 VRAM at 95% (warning level 90%)"
    assert by_key["gpu_temp:1"].message == "GPU 1 temperature at 86°C (warning level 85°C)"
    assert w.active == {"vram:0", "vram:1", "gpu_temp:1"}
    # GPU 0 cooling down does not affect GPU 1
    assert keys(w.update({"vram:0": 10.0, "vram:1": 60.0})) == []
    assert keys(w.update({"vram:0": 95.0, "vram:1": 60.0})) == ["vram:0"]


def test_unknown_or_disabled_metrics_are_ignored() -> None:
    w = ThresholdWatcher({"cpu": None, "ram": 80.0})
    assert w.update({"cpu": 100.0, "disk": 100.0}) == []
    assert keys(w.update({"ram": 99.0})) == ["ram"]
    assert w.update({"ram": 99.0}) == []


def test_messages_for_host_metrics() -> None:
    w = ThresholdWatcher({"cpu": 90.0, "ram": 85.0})
    msgs = sorted(a.message for a in w.update({"cpu": 97.4, "ram": 90.2}))
    assert msgs == ["CPU at 97% (warning level 90%)", "RAM at 90% (warning level 85%)"]


def test_set_levels_live_rearms_changed_metrics_only() -> None:
    w = ThresholdWatcher({"cpu": 90.0, "ram": 80.0})
    w.update({"cpu": 95.0, "ram": 85.0})
    w.set_levels({"cpu": 93.0, "ram": 80.0})
    assert keys(w.update({"cpu": 95.0, "ram": 85.0})) == ["cpu"]
    w.set_levels({"cpu": 93.0, "ram": 80.0}, hysteresis=1.0)
    assert w.hysteresis == 1.0
    w.reset()
    assert w.active == frozenset()


def test_bad_hysteresis() -> None:
    with pytest.raises(ValueError):
        ThresholdWatcher({}, hysteresis=-1)


def test_metric_keys() -> None:
    assert metric_key("vram", 2) == "vram:2" and metric_key("cpu") == "cpu"
    assert split_key("vram:2") == ("vram", 2) and split_key("cpu") == ("cpu", None)


# --------------------------------------------------------------------------- fit_warning

GB = 10**9


def test_fit_warning_message() -> None:
    msg = fit_warning(40 * GB, int(12.1 * GB), 10 * GB, 0.1, name="llama3:70b")
    assert msg == "llama3:70b needs 40.0 GB; only 22.1 GB of VRAM+RAM is free"


def test_fits_returns_none() -> None:
    assert fit_warning(5 * GB, 8 * GB, 16 * GB, 0.1) is None
    assert fit_warning(9 * GB, 0, 10 * GB, 0.1) is None  # exactly at the margin


def test_margin_only_warning_is_explained() -> None:
    msg = fit_warning(int(9.5 * GB), 4 * GB, 6 * GB, 0.1, name="qwen2.5:14b")
    assert msg == (
        "qwen2.5:14b needs 9.5 GB; only 10.0 GB of VRAM+RAM is free (less than the 10% safety margin would leave)"
    )


def test_no_gpu_counts_ram_only() -> None:
    msg = fit_warning(8 * GB, None, 4 * GB, 0.0)
    assert msg == "This model needs 8.0 GB; only 4.0 GB of RAM is free"


def test_fit_warning_bad_margin() -> None:
    with pytest.raises(ValueError):
        fit_warning(1, 1, 1, 1.0)


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "N/A"),
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (int(3.2 * 2**30), "3.2 GiB"),
        (2**20 - 1, "1.0 MiB"),  # 1023.999 KiB rounds up into the next unit
        (5 * 2**40, "5.0 TiB"),
        (-2048, "-2.0 KiB"),
        (float("nan"), "N/A"),
    ],
)
def test_format_bytes(value: float | None, text: str) -> None:
    assert format_bytes(value) == text


def test_format_bytes_si_and_gb() -> None:
    assert format_bytes(3_400_000_000, si=True) == "3.4 GB"
    assert format_bytes(999, si=True) == "999 B"
    assert format_bytes(40 * 10**9, unit="GB") == "40.0 GB"
    assert format_bytes(None, unit="GB") == "N/A"
    assert format_bytes(None, na="—") == "—"
    assert format_bytes(512 * 10**6, unit="GB") == "0.5 GB"  # a fixed unit never moves


def test_format_bytes_whole_from_and_format_size() -> None:
    """Model and download sizes as Ollama prints them: decimal, no decimals from 100 up."""
    assert format_bytes(640_000_000, si=True, whole_from=100) == "640 MB"
    assert format_size(640_000_000) == "640 MB"
    assert format_size(99_940_000) == "99.9 MB"
    assert format_size(999_600_000) == "1.0 GB"  # not "1000 MB"
    assert format_size(12_000) == "12.0 kB"
    assert format_size(None) == "N/A"


def test_format_bytes_drop_zeros() -> None:
    """A chart's axis and a limit in a message: a whole number shows no decimals."""
    assert format_bytes(24 * 2**30, drop_zeros=True) == "24 GiB"
    assert format_bytes(16 * 2**20, drop_zeros=True) == "16 MiB"
    assert format_bytes(int(7.6 * 2**30), drop_zeros=True) == "7.6 GiB"
    assert format_bytes(int(7.97 * 2**30), drop_zeros=True) == "8 GiB"  # rounds to a whole one
    assert format_bytes(1000, drop_zeros=True) == "1000 B"
    assert format_bytes(-2 * 2**30, drop_zeros=True) == "-2 GiB"
    assert format_bytes(3 * 2**20, precision=2, drop_zeros=True) == "3 MiB"
    assert format_bytes(int(2.5 * 2**30), precision=2, drop_zeros=True) == "2.50 GiB"  # not a whole one: kept


def test_format_rate_percent_temp_power() -> None:
    assert format_rate(1.2 * 2**20) == "1.2 MiB/s"
    assert format_rate(0) == "0 B/s"
    assert format_rate(None) == "N/A"
    assert format_percent(42.4) == "42%"
    assert format_percent(42.44, precision=1) == "42.4%"
    assert format_percent(None) == "N/A"
    assert format_temperature(71.2) == "71°C"
    assert format_temperature(None) == "N/A"
    assert format_power(123.4, 350) == "123 W / 350 W"
    assert format_power(123.4) == "123 W"
    assert format_power(None, 350) == "N/A"


def test_format_used_total() -> None:
    assert format_used_total(int(3.2 * 2**30), 24 * 2**30) == "3.2 / 24.0 GiB"
    assert format_used_total(None, 8 * 2**30) == "N/A / 8.0 GiB"
    assert format_used_total(2**20, None) == "1.0 MiB"
    assert format_used_total(None, None) == "N/A"
    # the resource strip's compact form: always GiB, no spaces around the slash
    assert format_used_total(int(1.2 * 2**30), int(23.5 * 2**30), sep="/", unit="GiB") == "1.2/23.5 GiB"
    assert format_used_total(None, 2**29, sep="/", unit="GiB") == "N/A/0.5 GiB"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (245, "4m 05s"),
        (7380, "2h 03m"),
        (3 * 86400 + 4 * 3600, "3d 04h"),
        (-5, "-5s"),
        (None, "N/A"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text
