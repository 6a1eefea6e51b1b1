"""Prometheus text exposition → samples, through prometheus_client's parser (imported on first use).

Everything an exporter says is untrusted like anything a server says: metric names, label names
and values are made inert and bounded here, the number of samples is bounded too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import re
from dataclasses import dataclass
from types import MappingProxyType

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


def select(text: str, names: Iterable[str]) -> str:
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
    return "\n".join(kept) + "\n" if kept else ""


_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*")
_LABEL = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(?:,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r"\\.", lambda m: _UNESCAPE.get(m.group(0), m.group(0)), value) if "\\" in value else value


#: Label sets seen lately (an exporter repeats the same ones every scrape), bounded.
_LABEL_CACHE: dict[str, Mapping[str, str]] = {}
_LABEL_CACHE_MAX = 8192


def _labels(raw: str) -> Mapping[str, str] | None:
    cached = _LABEL_CACHE.get(raw)
    if cached is not None:
        return cached
    labels: dict[str, str] = {}
    at = 0
    for lm in _LABEL.finditer(raw):
        if lm.start() != at:
            return None
        labels[inert_short(lm.group(1), 100)] = inert_short(_unescape(lm.group(2)))
        at = lm.end()
    if at != len(raw):
        return None
    if len(raw) <= 2048:
        if len(_LABEL_CACHE) >= _LABEL_CACHE_MAX:
            _LABEL_CACHE.clear()
        _LABEL_CACHE[raw] = MappingProxyType(labels)
    return labels


def _parse_plain(text: str) -> list[Sample] | None:
    """The common case, fast: sample lines `name{a="b",…} value [timestamp]`; None at anything
    else (the full parser then reads the whole text, and says what is wrong)."""
    out: list[Sample] = []
    for line in text.split("\n"):
        if not line or line[0] == "#" or line.isspace():
            continue
        m = _LINE.fullmatch(line)
        if m is None:
            return None
        name, raw_labels, value = m.groups()
        labels = _labels(raw_labels) if raw_labels else {}
        if labels is None:
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        out.append(Sample(inert_short(name, 200), labels, number))
        if len(out) > MAX_SAMPLES:
            raise MetricsError(f"more than {MAX_SAMPLES:,} samples; not read")
    return out


def parse(text: str) -> tuple[Sample, ...]:
    """Every sample of `text` (Prometheus text format 0.0.4, or OpenMetrics text)."""
    plain = _parse_plain(text)
    if plain is not None:
        return tuple(plain)
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


def by_name(samples: Iterable[Sample], *names: str) -> dict[str, list[Sample]]:
    """The samples of each of `names` (absent names map to an empty list)."""
    wanted: dict[str, list[Sample]] = {n: [] for n in names}
    for s in samples:
        bucket = wanted.get(s.name)
        if bucket is not None:
            bucket.append(s)
    return wanted
