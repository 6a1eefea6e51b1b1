"""Prometheus text exposition → samples, through prometheus_client's parser (imported on first use).

Everything an exporter says is untrusted like anything a server says: metric names, label names
and values are made inert and bounded here, the number of samples is bounded too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tui.service.untrusted import inert_short

#: More than any exporter of one box sends (dcgm-exporter: ~40 per GPU; node_exporter: ~1,000).
MAX_SAMPLES = 100_000


class MetricsError(Exception):
    """An exporter could not be read or did not speak the exposition format; `message` says why."""

    def __init__(self, message: str) -> None:
        message = inert_short(message, 300)
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float

    def label(self, key: str, default: str = "") -> str:
        return self.labels.get(key, default)


def sample_lines(text: str, names: Iterable[str]) -> list[str]:
    """Only the sample lines of `names` (no comments): what a box reader needs of a page, so the
    parser sees a few dozen lines of a node_exporter page's thousands. Sample names are as
    before (a counter's sample is `…_total` with or without its TYPE line)."""
    wanted = tuple(names)
    names_set = frozenset(wanted)
    kept = []
    for line in text.split("\n"):
        if line.startswith(wanted):
            end = len(line)
            for sep in ("{", " ", "\t"):
                at = line.find(sep)
                if 0 <= at < end:
                    end = at
            if line[:end] in names_set:
                kept.append(line)
    return kept


def parse(text: str) -> tuple[Sample, ...]:
    """Every sample of `text` (Prometheus text format 0.0.4, or OpenMetrics text)."""
    from prometheus_client.parser import text_string_to_metric_families

    out: list[Sample] = []
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                out.append(Sample(inert_short(s.name, 200),
                                  {inert_short(k, 100): inert_short(v) for k, v in s.labels.items()},
                                  float(s.value)))
                if len(out) > MAX_SAMPLES:
                    raise MetricsError(f"more than {MAX_SAMPLES:,} samples; not read")
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise MetricsError(f"not Prometheus text ({exc})") from None
    return tuple(out)


def parse_lines(lines: Sequence[str],
                memo: Mapping[str, Sample] | None = None) -> tuple[tuple[Sample, ...], dict[str, Sample]]:
    """The samples of these sample lines (no comments: one sample each, in order), and the memo
    for the next page: a line already in `memo` (the previous page of the same endpoint) is not
    parsed again; the new ones go through the parser together. Reading the same exporter every
    few seconds, most lines come back unchanged (a GPU's memory total and temperature, its labels
    of seven names), and the parser's cost is per line."""
    if len(lines) > MAX_SAMPLES:
        raise MetricsError(f"more than {MAX_SAMPLES:,} samples; not read")
    memo = memo or {}
    new = [line for line in lines if line not in memo]
    parsed = parse("\n".join(new) + "\n") if new else ()
    if len(parsed) != len(new):  # not one sample a line (never seen): no memo for this page
        return parsed, {}
    fresh = dict(zip(new, parsed, strict=True))
    kept = {line: memo[line] if line in memo else fresh[line] for line in lines}
    return tuple(kept[line] for line in lines), kept


def by_name(samples: Iterable[Sample], *names: str) -> dict[str, list[Sample]]:
    """The samples of each of `names` (absent names map to an empty list)."""
    wanted: dict[str, list[Sample]] = {n: [] for n in names}
    for s in samples:
        bucket = wanted.get(s.name)
        if bucket is not None:
            bucket.append(s)
    return wanted
