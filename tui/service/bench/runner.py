"""Compare, benchmark and batch runs: measured, cancellable, saved whole.

A run talks to `client` (the current host's provider) unless it is given `provider_for`, which
maps each model reference to the provider it runs on and the model name sent there (see
tui/service/bench/hosts.py: an Ollama model and a vLLM one side by side). How a reply is
measured depends on its provider: Ollama reports its own durations (tokens/s, prompt tok/s and
load from the server); an OpenAI-compatible server (`timings = "client"`) reports token counts
only, so tokens/s and the first token are timed on this side and prompt tok/s and load are
unknown (None, shown as "–"), never made up.

Every run keeps its `BenchResult` up to date as it goes, so a cancelled run still has the
measurements taken so far. `cancel()` stops every request in flight at once (cancel =
disconnect, which is how Ollama learns to stop) and the run returns with status 'cancelled'.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

from tui.service.bench.stats import (
    COLD,
    MEASURED,
    WARMUP,
    Measurement,
    ModelSummary,
    summarize,
)
from tui.service.chat.turns import ChatService, TurnRequest, build_request
from tui.service.ollama.errors import OllamaError
from tui.service.ollama.names import normalize_model_name
from tui.service.ollama.types import GenerationStats
from tui.service.providers.protocol import LOAD
from tui.service.providers.registry import HostRegistry

if TYPE_CHECKING:
    from tui.service.config import Config
    from tui.service.history import HistoryStore
    from tui.service.monitor.gpu import GpuReport
    from tui.service.providers.protocol import Provider

DeltaCallback = Callable[[int, str], None]  # (column / model index, text piece)
MeasurementCallback = Callable[[int, Measurement], None]
ProgressCallback = Callable[[int, int, str], None]  # (done, total, what runs now)
VramProbe = Callable[[], Awaitable[int | None]]  # bytes of GPU memory in use now, None = unknown
ProviderFor = Callable[[str], tuple["Provider", str]]  # model reference -> (provider, model name sent)

DEFAULT_SEED = 42


@dataclass
class BenchResult:
    """A run as saved: what was asked, every measurement, and how it ended."""

    kind: str  # compare | benchmark | batch
    models: list[str]
    prompts: list[str]
    settings: dict[str, Any] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    peak_vram: dict[str, int | None] = field(default_factory=dict)
    status: str = "running"  # running | complete | cancelled | error
    created_at: float = field(default_factory=time.time)
    title: str = ""
    id: int | None = None
    #: model reference -> {"host", "kind", "model"}: where each model ran (empty: the one host)
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)

    def summaries(self) -> list[ModelSummary]:
        """One row per model, fastest first."""
        return summarize(self.models, self.measurements, self.peak_vram)


def measurement_from_stats(
    model: str, stats: GenerationStats | None, *, ttft: float | None, wall: float | None,
    status: str, error: str | None = None, reply: str = "", kind: str = MEASURED,
    prompt_index: int = 0, repeat: int = 0,
) -> Measurement:
    """A Measurement from the final chunk's stats (server timings) and the client's clock."""
    total = stats.total_seconds if stats is not None and stats.total_duration else wall
    return Measurement(
        model=model, prompt_index=prompt_index, repeat=repeat, kind=kind, status=status,
        tokens_per_s=stats.tokens_per_second if stats is not None else None,
        ttft_s=ttft,
        prompt_per_s=stats.prompt_tokens_per_second if stats is not None else None,
        load_s=stats.load_seconds if stats is not None else None,
        total_s=total,
        eval_count=stats.eval_count if stats is not None else 0,
        prompt_eval_count=stats.prompt_eval_count if stats is not None else 0,
        reply=reply, error=error,
    )


def client_timed(provider: Provider) -> bool:
    """The provider's server reports no durations: its replies are timed on this side."""
    return provider.timings == "client"


def measurement_from_clock(
    model: str, stats: GenerationStats | None, *, ttft: float | None, first: float | None,
    last: float | None, wall: float | None, status: str, error: str | None = None, reply: str = "",
    kind: str = MEASURED, prompt_index: int = 0, repeat: int = 0,
) -> Measurement:
    """A Measurement timed by the client (an OpenAI-compatible server): tokens/s is the tokens
    after the first over the time from the first to the last (token counts from `usage`); the
    prompt rate and the load time are not known."""
    count = stats.eval_count if stats is not None else 0
    rate = None
    if status == "complete" and count > 1 and first is not None and last is not None and last > first:
        rate = (count - 1) / (last - first)
    return Measurement(
        model=model, prompt_index=prompt_index, repeat=repeat, kind=kind, status=status,
        tokens_per_s=rate, ttft_s=ttft, prompt_per_s=None, load_s=None, total_s=wall,
        eval_count=count, prompt_eval_count=stats.prompt_eval_count if stats is not None else 0,
        reply=reply, error=error,
    )


def stats_from_dict(data: dict[str, Any] | None) -> GenerationStats | None:
    """The GenerationStats a ChatService ReplyResult stored as a dict (None when there were none)."""
    if not data or not any(k in data for k in GenerationStats.__dataclass_fields__):
        return None
    return GenerationStats.from_json(data)


class ReplyStream:
    """One measured chat request. Its partial state stays readable after a cancel or an error."""

    def __init__(self, model: str, prompt: str, *, kind: str = MEASURED, prompt_index: int = 0,
                 repeat: int = 0, name: str | None = None) -> None:
        self.model, self.prompt, self.kind = model, prompt, kind
        self.name = name or model  # the model name sent (`model` is the run's reference to it)
        self.prompt_index, self.repeat = prompt_index, repeat
        self.parts: list[str] = []
        self.ttft: float | None = None
        self.stats: GenerationStats | None = None
        self.client_timed = False
        self._started: float | None = None
        self._ended: float | None = None
        self._first: float | None = None
        self._last: float | None = None

    async def run(self, client: Provider, options: dict[str, Any] | None,
                  on_delta: Callable[[str], None] | None = None) -> None:
        self.client_timed = client_timed(client)
        self._started = time.perf_counter()
        messages = [{"role": "user", "content": self.prompt}]
        try:
            async for chunk in client.chat(self.name, messages, options=options or None):
                if chunk.content or chunk.thinking:
                    self._last = time.perf_counter()
                    if self.ttft is None:
                        self._first = self._last
                        self.ttft = self._last - self._started
                if chunk.content:
                    self.parts.append(chunk.content)
                    if on_delta is not None:
                        on_delta(chunk.content)
                if chunk.done:
                    self.stats = chunk.stats
        finally:
            self._ended = time.perf_counter()

    def measurement(self, status: str, error: str | None = None) -> Measurement:
        wall = None if self._started is None else (self._ended or time.perf_counter()) - self._started
        if self.client_timed:
            return measurement_from_clock(
                self.model, self.stats, ttft=self.ttft, first=self._first, last=self._last, wall=wall,
                status=status, error=error, reply="".join(self.parts), kind=self.kind,
                prompt_index=self.prompt_index, repeat=self.repeat)
        return measurement_from_stats(
            self.model, self.stats, ttft=self.ttft, wall=wall, status=status, error=error,
            reply="".join(self.parts), kind=self.kind, prompt_index=self.prompt_index, repeat=self.repeat,
        )


class VramWatch:
    """Polls a VRAM probe while a block runs and keeps the highest reading (None: no GPU)."""

    def __init__(self, probe: VramProbe | None, interval: float = 0.25) -> None:
        self.probe = probe
        self.interval = interval
        self.peak: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        if self.probe is None:
            return
        try:
            value = await self.probe()
        except Exception:  # a GPU that stops answering must not break the benchmark
            return
        if value is not None and (self.peak is None or value > self.peak):
            self.peak = value

    async def _loop(self) -> None:
        while True:
            await self._read()
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> VramWatch:
        if self.probe is not None:
            self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._read()


class Run:
    """What every kind of run shares: the result, progress, and a cancel that stops all at once."""

    def __init__(self, client: Provider, result: BenchResult, *, on_delta: DeltaCallback | None = None,
                 on_measurement: MeasurementCallback | None = None,
                 on_progress: ProgressCallback | None = None, vram_probe: VramProbe | None = None,
                 provider_for: ProviderFor | None = None) -> None:
        self.client = client
        self.result = result
        self.provider_for = provider_for
        where = getattr(provider_for, "where", None)  # ModelHosts: recorded with the run
        if callable(where):
            result.hosts = where()
        self.on_delta = on_delta
        self.on_measurement = on_measurement
        self.on_progress = on_progress
        self.vram_probe = vram_probe
        self.done = 0
        self.total = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def resolve(self, model: str) -> tuple[Provider, str]:
        """The provider `model` (a reference) runs on and the name sent there."""
        return self.provider_for(model) if self.provider_for is not None else (self.client, model)

    def local(self, model: str) -> bool:
        """`model` runs on the run's own client: the VRAM probe (this machine's GPUs) says
        something about it. Another host's model gets no peak VRAM rather than a wrong one."""
        return self.resolve(model)[0] is self.client

    def _peak(self, model: str, peak: int | None) -> None:
        self.result.peak_vram[model] = peak if self.local(model) else None

    def cancel(self) -> None:
        """Stop every request in flight and start no new one."""
        self._cancelled = True
        for task in list(self._tasks):
            task.cancel()

    async def _guarded(self, work: Awaitable[Any]) -> tuple[str, str | None]:
        """Run `work` as a child task: ('complete' | 'stopped' | 'error', message)."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        try:
            await asyncio.wait({task})
        finally:
            self._tasks.discard(task)
            if not task.done():  # our own caller was cancelled: take the request down too
                task.cancel()
        if task.cancelled():
            return "stopped", None
        exc = task.exception()
        if exc is None:
            return "complete", None
        if isinstance(exc, OllamaError):
            return "error", exc.message
        raise exc

    def _record(self, index: int, measurement: Measurement, label: str) -> None:
        self.result.measurements.append(measurement)
        self.done += 1
        if self.on_measurement is not None:
            self.on_measurement(index, measurement)
        self._progress(label)

    def _progress(self, label: str) -> None:
        if self.on_progress is not None:
            self.on_progress(self.done, self.total, label)

    async def _stream(self, index: int, stream: ReplyStream, options: dict[str, Any] | None) -> Measurement:
        if self._cancelled:
            measurement = stream.measurement("stopped")
        else:
            on_delta = self.on_delta
            provider, stream.name = self.resolve(stream.model)
            status, error = await self._guarded(
                stream.run(provider, options, (lambda piece: on_delta(index, piece)) if on_delta else None))
            measurement = stream.measurement(status, error)
        self._record(index, measurement, f"{stream.model} · {stream.kind} {stream.prompt_index + 1}")
        return measurement

    def _finish(self) -> BenchResult:
        self.result.status = "cancelled" if self._cancelled else "complete"
        return self.result


class CompareRun(Run):
    """One prompt, several models; replies stream side by side (one after another by default)."""

    def __init__(self, client: Provider, models: Sequence[str], prompt: str, *, options: dict[str, Any] | None = None,
                 concurrent: bool = False, preset: str | None = None, **callbacks: Any) -> None:
        result = BenchResult("compare", list(models), [prompt],
                             settings={"concurrent": concurrent, "preset": preset, "options": dict(options or {})},
                             title=_title(prompt))
        super().__init__(client, result, **callbacks)
        self.options = options
        self.concurrent = concurrent
        self.total = len(models)

    async def run(self) -> BenchResult:
        prompt = self.result.prompts[0]
        models = self.result.models
        if self.concurrent:
            async with VramWatch(self.vram_probe) as watch:
                await asyncio.gather(*(self._stream(i, ReplyStream(m, prompt), self.options)
                                       for i, m in enumerate(models)))
            for model in models:
                self._peak(model, watch.peak)
        else:
            for i, model in enumerate(models):
                async with VramWatch(self.vram_probe) as watch:
                    await self._stream(i, ReplyStream(model, prompt), self.options)
                self._peak(model, watch.peak)
        return self._finish()


@dataclass(frozen=True)
class BenchPlan:
    models: tuple[str, ...]
    prompts: tuple[str, ...]
    repeats: int = 3
    options: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    prompt_set: str = "short"
    cold: bool = True  # unload each model first and report the warm-up's load time as the cold load
    warmup: bool = True

    def settings(self) -> dict[str, Any]:
        return {"repeats": self.repeats, "preset": self.preset, "options": dict(self.options),
                "prompt_set": self.prompt_set, "cold": self.cold, "warmup": self.warmup}


class BenchmarkRun(Run):
    """Each model in turn: unload, a warm-up (the cold-load measurement, not counted), then N
    repeats of every prompt. Models run one after another: one GPU, comparable numbers."""

    def __init__(self, client: Provider, plan: BenchPlan, **callbacks: Any) -> None:
        if plan.repeats < 1:
            raise ValueError("repeats must be at least 1")
        if not plan.models or not plan.prompts:
            raise ValueError("a benchmark needs at least one model and one prompt")
        result = BenchResult("benchmark", list(plan.models), list(plan.prompts), settings=plan.settings(),
                             title=f"{len(plan.models)} models · {plan.prompt_set} × {plan.repeats}")
        super().__init__(client, result, **callbacks)
        self.plan = plan
        per_model = (1 if plan.warmup or plan.cold else 0) + len(plan.prompts) * plan.repeats
        self.total = per_model * len(plan.models)

    async def run(self) -> BenchResult:
        plan = self.plan
        for i, model in enumerate(plan.models):
            if self._cancelled:
                break
            async with VramWatch(self.vram_probe) as watch:
                provider, name = self.resolve(model)
                if plan.cold and _can(provider, LOAD):
                    self._progress(f"{model} · unloading")
                    await self._guarded(provider.unload(name))
                if plan.warmup or plan.cold:
                    warm = ReplyStream(model, plan.prompts[0], kind=COLD if plan.cold else WARMUP)
                    await self._stream(i, warm, plan.options)
                for repeat in range(plan.repeats):
                    for p, prompt in enumerate(plan.prompts):
                        if self._cancelled:
                            break
                        await self._stream(i, ReplyStream(model, prompt, prompt_index=p, repeat=repeat), plan.options)
            self._peak(model, watch.peak)
        return self._finish()


def _can(provider: Provider, feature: str) -> bool:
    """The provider offers `feature` (one that cannot say is taken to: Ollama's client)."""
    supports = getattr(provider, "supports", None)
    return supports(feature) if callable(supports) else True


def preset_options(config: Config, preset: str | None, seed: int | None = DEFAULT_SEED) -> dict[str, Any]:
    """The preset's options (the config's default preset when None) with a fixed seed."""
    name = preset or config.chat.default_preset
    chosen = config.presets.get(name)
    if chosen is None:
        raise ValueError(f"no preset {name!r} (presets: {', '.join(config.presets)})")
    options = dict(chosen.to_options())
    if seed is not None:
        options["seed"] = seed
    return options


async def missing_models(client: Provider, models: Sequence[str]) -> list[str]:
    """The names in `models` that the server does not have installed (raises Unreachable)."""
    installed = {normalize_model_name(m.name) for m in await client.tags()}
    return [m for m in models if normalize_model_name(m) not in installed]


async def turn_request(client: Provider, config: Config, model: str, preset: str | None) -> TurnRequest:
    """The request a new chat with `model` and `preset` would send (think only if the model can)."""
    try:
        capabilities: tuple[str, ...] | None = (await client.show(model)).capabilities or None
    except OllamaError:
        capabilities = None
    session = SimpleNamespace(model=model, preset=preset, options={}, think=None, system_prompt=None,
                              keep_alive=None)
    return build_request(config, session, capabilities)


class RunStore(Protocol):
    """Where a batch run is saved as it goes (tui/service/bench/store.py's BenchStore, which
    imports this module)."""

    async def save(self, result: BenchResult) -> int: ...
    async def link_session(self, run_id: int, session_id: int, prompt_index: int) -> None: ...


class BatchRun(Run):
    """A prompt file against one model, `concurrency` at a time; each reply is a chat session of
    its own in the history, tagged with the batch (bench_batch_sessions)."""

    def __init__(self, client: Provider, history: HistoryStore, store: RunStore, request: TurnRequest, prompts: Sequence[str], *,
                 concurrency: int = 2, source: str = "", **callbacks: Any) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        result = BenchResult("batch", [request.model], list(prompts),
                             settings={"concurrency": concurrency, "options": dict(request.options), "source": source},
                             title=f"{request.model} · {len(prompts)} prompts")
        super().__init__(client, result, **callbacks)
        self.history = history
        self.store = store
        self.request = request
        self.concurrency = concurrency
        self.chats = ChatService(HostRegistry.fixed(client), history)
        self.total = len(prompts)
        self.session_ids: dict[int, int] = {}  # prompt index -> session id

    async def run(self) -> BenchResult:
        await self.store.save(self.result)  # the id tags the sessions as they are created
        gate = asyncio.Semaphore(self.concurrency)

        async def one(index: int, prompt: str) -> None:
            async with gate:
                await self._one(index, prompt)

        async with VramWatch(self.vram_probe) as watch:
            await asyncio.gather(*(one(i, p) for i, p in enumerate(self.result.prompts)))
        self.result.peak_vram = {self.request.model: watch.peak}
        await self.store.save(self._finish())
        return self.result

    async def _one(self, index: int, prompt: str) -> None:
        model = self.request.model
        if self._cancelled:
            self._record(index, Measurement(model, index, status="stopped"), f"{model} · prompt {index + 1}")
            return
        session = await self.history.create_session(title=f"Batch #{self.result.id} · {_title(prompt, 40)}",
                                                    model=model)
        self.session_ids[index] = session.id
        await self.store.link_session(self.result.id, session.id, index)
        await self.chats.add_user_message(session.id, prompt, model)
        outcome: dict[str, Any] = {}
        started = time.perf_counter()

        async def reply() -> None:
            outcome["reply"] = await self.chats.stream_reply(session.id, self.request, lambda _c, _t: None)

        status, error = await self._guarded(reply())
        wall = time.perf_counter() - started
        done = outcome.get("reply")
        if done is not None:
            status, error = done.status, done.error
        stats = stats_from_dict(done.stats if done is not None else None)
        ttft = (done.stats or {}).get("ttft") if done is not None else None
        reply = done.content if done is not None else ""
        if client_timed(self.client):  # the stats' durations are the client's: first to last token
            measurement = measurement_from_clock(
                model, stats, ttft=ttft, first=0.0, last=stats.eval_seconds if stats is not None else None,
                wall=wall, status=status, error=error, reply=reply, prompt_index=index)
        else:
            measurement = measurement_from_stats(model, stats, ttft=ttft, wall=wall, status=status, error=error,
                                                 reply=reply, prompt_index=index)
        self._record(index, measurement, f"{model} · prompt {index + 1}")


def _title(prompt: str, limit: int = 60) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def vram_in_use(report: GpuReport | None) -> int | None:
    """GPU memory in use summed over the GPUs of a GpuReport that report it (None: no GPU)."""
    if report is None or not report.available:
        return None
    used = [g.mem_used for g in report.gpus if g.mem_used is not None]
    return sum(used) if used else None
