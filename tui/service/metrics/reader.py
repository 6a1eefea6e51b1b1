"""Reads Prometheus text endpoints and Prometheus servers over HTTP (httpx, imported on first use).

One pooled client for the endpoints a reader is asked for (the fleet watch has one reader per
host); each read is bounded in time and size, and a large page is parsed in a thread (a
node_exporter page is ~100 KB of text). Each endpoint's last page is remembered, parsed, for
the next read (see exposition.parse_lines).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tui.service.hosts import redact_url
from tui.service.metrics.exposition import (
    MAX_SAMPLES,
    MetricsError,
    Sample,
    parse,
    parse_lines,
    sample_lines,
)
from tui.service.units import format_bytes
from tui.service.untrusted import inert_short

if TYPE_CHECKING:
    import httpx

#: A page larger than this is not an exporter of one box (node_exporter: ~150 KB).
MAX_BODY = 8 * 1024 * 1024
#: Pages up to this size are read on the event loop when only some names are wanted (well under
#: a millisecond once the few lines wanted are picked out); larger ones in a thread.
INLINE_BODY = 256 * 1024


#: Endpoints whose last page is remembered for the next read (see exposition.parse_lines).
MAX_MEMOS = 1024

Memo = dict[str, Sample]


def _parse_names(text: str, names: frozenset[str] | None, memo: Memo | None) -> tuple[tuple[Sample, ...], Memo]:
    if names is None:
        return parse(text), {}
    return parse_lines(sample_lines(text, names), memo)


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def promql_selector(names: Iterable[str], matchers: Mapping[str, str]) -> str:
    """`{__name__=~"A|B",Hostname="gpu1"}`: the series of `names` that carry `matchers`."""
    import re

    parts = ['__name__=~"' + "|".join(re.escape(n) for n in names) + '"']
    parts += [f'{k}="{_label_value(v)}"' for k, v in matchers.items()]
    return "{" + ",".join(parts) + "}"


#: Idle connections kept for the next read (one per endpoint read; more are closed after use).
MAX_IDLE = 256


class MetricsReader:
    """`keepalive`: seconds an idle connection to an endpoint is kept (httpx's 5 s when None);
    a reader that comes back less often than that sets it above its pace, or every read
    connects again."""

    def __init__(self, *, timeout: float = 3.0, max_body: int = MAX_BODY, keepalive: float | None = None) -> None:
        self.timeout = timeout
        self.max_body = max_body
        self.keepalive = keepalive
        self._client: httpx.AsyncClient | None = None
        self._memos: dict[str, Memo] = {}  # URL -> its last page's sample lines, parsed

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            from tui.service.ollama.transport import _skip_absent_sniffio

            _skip_absent_sniffio()
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=MAX_IDLE,
                                  keepalive_expiry=self.keepalive if self.keepalive is not None else 5.0)
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=False,
                                             trust_env=False, limits=limits)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _get(self, url: str, headers: Mapping[str, str] | None, params: Mapping[str, str] | None = None) -> str:
        import httpx

        shown = redact_url(url)
        try:
            async with self._http.stream("GET", url, headers=dict(headers or {}), params=params) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_body:
                        raise MetricsError(f"{shown}: more than {format_bytes(self.max_body, drop_zeros=True)}; not read")
                if response.status_code >= 400:
                    text = bytes(body[:300]).decode("utf-8", "replace").strip()
                    raise MetricsError(f"{shown}: HTTP {response.status_code}" + (f" {text}" if text else ""))
        except httpx.TimeoutException:
            raise MetricsError(f"{shown}: no answer within {self.timeout:g} s") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise MetricsError(f"{shown}: {inert_short(str(exc) or type(exc).__name__, 200)}") from None
        return body.decode("utf-8", "replace")

    async def read(self, url: str, headers: Mapping[str, str] | None = None, *,
                   names: Iterable[str] | None = None) -> tuple[Sample, ...]:
        """The samples of one exporter endpoint (only those of `names`, when given); MetricsError
        (with the URL) on any failure."""
        text = await self._get(url, headers)
        wanted = frozenset(names) if names is not None else None
        memo = self._memos.pop(url, None)
        try:
            if wanted is not None and len(text) <= INLINE_BODY:
                samples, memo = _parse_names(text, wanted, memo)
            else:
                samples, memo = await asyncio.to_thread(_parse_names, text, wanted, memo)
        except MetricsError as exc:
            raise MetricsError(f"{redact_url(url)}: {exc.message}") from None
        if memo:
            if len(self._memos) >= MAX_MEMOS:
                self._memos.clear()
            self._memos[url] = memo
        return samples

    async def query(self, base_url: str, names: Iterable[str], matchers: Mapping[str, str],
                    headers: Mapping[str, str] | None = None) -> tuple[Sample, ...]:
        """The latest value of `names` with `matchers` from a Prometheus server (`/api/v1/query`)."""
        url = base_url.rstrip("/") + "/api/v1/query"
        text = await self._get(url, headers, {"query": promql_selector(names, matchers)})
        try:
            data: Any = json.loads(text)
            result = data["data"]["result"] if data.get("status") == "success" else None
        except (ValueError, KeyError, TypeError, AttributeError):
            result = None
        if not isinstance(result, list):
            error = data.get("error") if isinstance(data, dict) else None
            raise MetricsError(f"{redact_url(base_url)}: not a Prometheus query answer"
                               + (f" ({error})" if isinstance(error, str) else ""))
        out = []
        for item in result[:MAX_SAMPLES]:
            try:
                metric, (_ts, value) = item["metric"], item["value"]
                labels = {inert_short(str(k), 100): inert_short(str(v)) for k, v in metric.items()
                          if k != "__name__"}
                out.append(Sample(inert_short(str(metric["__name__"]), 200), labels, float(value)))
            except (KeyError, TypeError, ValueError):
                continue
        return tuple(out)
