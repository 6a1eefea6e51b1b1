"""How loaded a serving engine is, from its own /metrics: vLLM (`vllm:*`) or llama.cpp's
llama-server started with --metrics (`llamacpp:*`). Token rates are derived from the counters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.service.metrics.exposition import Sample

# engine -> (running, waiting, KV-cache use 0..1, prompt tokens counter, generated tokens counter)
ENGINES: dict[str, tuple[tuple[str, ...], ...]] = {
    "vllm": (("vllm:num_requests_running",), ("vllm:num_requests_waiting",),
             ("vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"),
             ("vllm:prompt_tokens_total",), ("vllm:generation_tokens_total",)),
    "llama.cpp": (("llamacpp:requests_processing",), ("llamacpp:requests_deferred",),
                  ("llamacpp:kv_cache_usage_ratio",),
                  ("llamacpp:prompt_tokens_total",), ("llamacpp:tokens_predicted_total",)),
}


@dataclass(frozen=True, slots=True)
class ServingStats:
    engine: str
    running: float | None = None
    waiting: float | None = None
    kv_cache: float | None = None  # 0..1
    prompt_tokens: float | None = None  # counters
    generated_tokens: float | None = None
    at: float = 0.0  # monotonic seconds of the scrape
    prompt_rate: float | None = None  # tokens/s since the previous scrape
    generation_rate: float | None = None


def _rate(now: float | None, before: float | None, seconds: float) -> float | None:
    if now is None or before is None or seconds <= 0 or now < before:  # a restart resets counters
        return None
    return (now - before) / seconds


def serving_from_metrics(samples: Iterable[Sample], at: float,
                         previous: ServingStats | None = None) -> ServingStats | None:
    """ServingStats of the first engine whose metrics are there (summed over its model labels)."""
    sums: dict[str, float] = {}
    for s in samples:
        if s.name.startswith(("vllm:", "llamacpp:")):
            sums[s.name] = sums.get(s.name, 0.0) + s.value
    for engine, names in ENGINES.items():
        values = [next((sums[n] for n in group if n in sums), None) for group in names]
        if all(v is None for v in values):
            continue
        running, waiting, kv, prompt, generated = values
        stats = ServingStats(engine, running, waiting, kv, prompt, generated, at)
        if previous is not None and previous.engine == engine:
            seconds = at - previous.at
            stats = ServingStats(engine, running, waiting, kv, prompt, generated, at,
                                 _rate(prompt, previous.prompt_tokens, seconds),
                                 _rate(generated, previous.generated_tokens, seconds))
        return stats
    return None
