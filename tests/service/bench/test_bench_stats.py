"""Benchmark statistics on fixed inputs: median, spread, warm-up exclusion, ranking, bars."""

from __future__ import annotations

import math

import pytest

from tui.service.bench.stats import (
    COLD,
    MEASURED,
    WARMUP,
    Measurement,
    bar,
    counted,
    median,
    spread,
    summarize,
    summarize_model,
)


def run(model: str, rate: float | None, *, kind: str = MEASURED, status: str = "complete", ttft: float = 0.1,
        load: float = 0.0) -> Measurement:
    return Measurement(model, kind=kind, status=status, tokens_per_s=rate, ttft_s=ttft, prompt_per_s=500.0,
                       load_s=load, total_s=1.0)


def test_median_of_odd_and_even_counts():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert median([]) is None


def test_median_ignores_missing_and_nan():
    assert median([None, 10.0, math.nan, 20.0]) == 15.0  # type: ignore[list-item]
    assert median([None, math.nan]) is None  # type: ignore[list-item]


def test_spread_gives_range_and_sample_deviation():
    s = spread([10.0, 12.0, 14.0])
    assert (s.n, s.median, s.low, s.high) == (3, 12.0, 10.0, 14.0)
    assert s.stdev == pytest.approx(2.0)
    assert s.relative == pytest.approx(2.0 / 12.0)


def test_spread_of_one_value_has_no_deviation():
    s = spread([7.5])
    assert (s.n, s.median, s.low, s.high, s.stdev, s.relative) == (1, 7.5, 7.5, 7.5, None, None)
    assert spread([]).median is None


def test_warmups_cold_runs_and_failures_are_not_counted():
    measurements = [
        run("a", 5.0, kind=COLD, load=2.5),  # slow first run after the unload
        run("a", 6.0, kind=WARMUP),
        run("a", 100.0), run("a", 102.0), run("a", 98.0),
        run("a", None, status="stopped"), run("a", 1.0, status="error"),
    ]
    assert [m.tokens_per_s for m in counted(measurements)] == [100.0, 102.0, 98.0]
    summary = summarize_model("a", measurements)
    assert summary.runs == 3 and summary.failed == 2
    assert summary.median("tokens_per_s") == 100.0  # the 5 tok/s warm-up would have pulled it down
    assert summary.metrics["tokens_per_s"].low == 98.0
    assert summary.cold_load_s == 2.5  # reported separately
    assert summary.median("load_s") == 0.0


def test_cold_load_is_none_without_a_cold_run():
    assert summarize_model("a", [run("a", 10.0, kind=WARMUP, load=3.0), run("a", 10.0)]).cold_load_s is None


def test_summaries_rank_fastest_first_and_models_without_a_rate_last():
    measurements = [run("slow", 20.0), run("slow", 22.0), run("fast", 90.0), run("fast", 110.0),
                    run("broken", None, status="error")]
    ranked = summarize(["broken", "slow", "fast"], measurements, {"fast": 4_000_000_000})
    assert [s.model for s in ranked] == ["fast", "slow", "broken"]
    assert ranked[0].median("tokens_per_s") == 100.0 and ranked[0].peak_vram == 4_000_000_000
    assert ranked[2].runs == 0 and ranked[2].median("tokens_per_s") is None


def test_measurement_round_trips_through_a_dict():
    m = Measurement("a", 2, 1, COLD, "complete", 10.0, 0.5, 300.0, 1.5, 3.0, 40, 12, "hi", None)
    assert Measurement.from_dict({**m.to_dict(), "unknown": 1}) == m


@pytest.mark.parametrize(("value", "maximum", "width", "expected"), [
    (100, 100, 4, "████"),
    (50, 100, 4, "██"),
    (1, 8, 1, "▏"),
    (0, 100, 4, ""),
    (200, 100, 3, "███"),  # clipped to the width
    (5, 0, 4, ""),
])
def test_bar_is_drawn_in_eighths(value, maximum, width, expected):
    assert bar(value, maximum, width) == expected
