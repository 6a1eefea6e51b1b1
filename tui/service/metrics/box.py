"""What one box's exporters say, put together: its GPUs, its CPU/RAM, its serving engine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tui.service.metrics.exposition import MetricsError, Sample
from tui.service.metrics.gpus import DCGM_NAMES, RemoteGpu, gpus_from_dcgm
from tui.service.metrics.node import (
    CPU_SECONDS,
    LOAD1,
    MEM_AVAILABLE,
    MEM_TOTAL,
    NodeStats,
    node_from_exporter,
)
from tui.service.metrics.reader import MetricsReader
from tui.service.metrics.serving import ENGINES, ServingStats, serving_from_metrics

#: What is asked of a Prometheus server for one box.
PROMETHEUS_NAMES = (*DCGM_NAMES, MEM_TOTAL, MEM_AVAILABLE, LOAD1)
#: Every metric a box's exporters are read for (the rest of their pages is skipped unparsed).
BOX_NAMES = frozenset({*DCGM_NAMES, CPU_SECONDS, MEM_TOTAL, MEM_AVAILABLE, LOAD1,
                       *(name for groups in ENGINES.values() for group in groups for name in group)})


@dataclass(frozen=True, slots=True)
class BoxMetrics:
    gpus: tuple[RemoteGpu, ...] = ()
    node: NodeStats | None = None
    serving: ServingStats | None = None
    errors: tuple[str, ...] = ()  # one line per endpoint that could not be read


async def read_box(reader: MetricsReader, urls: Sequence[str], *, headers: Mapping[str, str] | None = None,
                   previous: BoxMetrics | None = None, prometheus: str | None = None,
                   matchers: Mapping[str, str] | None = None) -> BoxMetrics:
    """Read every endpoint of a box at once (and its series from a Prometheus server, when one is
    named with matchers); a failing one is an error line, the others still count."""
    calls = [reader.read(url, headers, names=BOX_NAMES) for url in urls]
    if prometheus and matchers:
        calls.append(reader.query(prometheus, PROMETHEUS_NAMES, matchers))
    results = await asyncio.gather(*calls, return_exceptions=True)
    samples: list[Sample] = []
    errors: list[str] = []
    for result in results:
        if isinstance(result, MetricsError):
            errors.append(result.message)
        elif isinstance(result, BaseException):
            raise result
        else:
            samples.extend(result)
    now = time.monotonic()
    return BoxMetrics(
        gpus=gpus_from_dcgm(samples),
        node=node_from_exporter(samples, previous.node if previous else None),
        serving=serving_from_metrics(samples, now, previous.serving if previous else None),
        errors=tuple(errors),
    )


__all__ = ["BoxMetrics", "read_box", "PROMETHEUS_NAMES"]
