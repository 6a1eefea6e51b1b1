"""`units.ago`: the one "how long ago" for the session list and the models table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tui.service.units import ago

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_ago_steps() -> None:
    assert ago(NOW - timedelta(seconds=30), NOW) == "30s ago"
    assert ago(NOW - timedelta(minutes=5, seconds=59), NOW) == "5m ago"
    assert ago(NOW - timedelta(hours=3), NOW) == "3h ago"
    assert ago(NOW - timedelta(days=12), NOW) == "12d ago"
    assert ago(NOW + timedelta(seconds=5), NOW) == "0s ago"  # a clock a little ahead


def test_ago_turns_to_a_date_after_the_cut_off() -> None:
    assert ago(NOW - timedelta(days=29), NOW) == "29d ago"
    assert ago(NOW - timedelta(days=30), NOW) == "2025-05-02"  # the session list: after a month
    assert ago(NOW - timedelta(days=200), NOW, date_after_days=365) == "200d ago"  # the models table
    assert ago(NOW - timedelta(days=400), NOW, date_after_days=365) == "2024-04-27"


def test_ago_accepts_epoch_iso_and_naive() -> None:
    assert ago((NOW - timedelta(minutes=2)).timestamp(), NOW) == "2m ago"
    assert ago((NOW - timedelta(hours=1)).isoformat(), NOW) == "1h ago"
    assert ago((NOW - timedelta(hours=2)).replace(tzinfo=None), NOW) == "2h ago"  # naive is UTC
    assert ago("yesterday-ish", NOW) == "yesterday-ish"  # not a date: shown as it is


def test_ago_missing() -> None:
    assert ago(None) == ""
    assert ago(None, missing="?") == "?"
