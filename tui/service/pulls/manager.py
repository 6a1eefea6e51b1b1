"""PullManager: concurrent model pulls (and creates) as asyncio tasks, with coalesced progress.

No Textual here: the UI hands an `on_change` callback (which posts a message) and reads
immutable `PullJob` snapshots. A job runs on the manager's client as it is when the job starts
(bound for the job's whole run), or on another host through an `opener` the caller hands in.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tui.service.ollama.errors import InvalidModelName, OllamaError
from tui.service.ollama.names import normalize_model_name, validate_model_name
from tui.service.pulls.progress import LayerProgress, PullProgress, Stage
from tui.service.pulls.space import default_models_dir, ensure_free_space

if TYPE_CHECKING:
    from tui.service.providers.protocol import Provider

__all__ = [
    "JobState",
    "UpdateResult",
    "PullJob",
    "PullManager",
    "ProviderOpener",
    "ensure_free_space",
    "default_models_dir",
]

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "success", "error", "cancelled"]
UpdateResult = Literal["up to date", "updated", "new"]
JobKind = Literal["pull", "create"]
#: Opens a provider for another host for one job's run and closes it afterwards
#: (`lambda: hosts.borrow(host)`).
ProviderOpener = Callable[[], AbstractAsyncContextManager["Provider"]]

# At most this many on_change calls per job per second (plus state changes and the final one).
DEFAULT_NOTIFY_HZ = 10.0

_ACTIVE: frozenset[str] = frozenset({"queued", "running"})


@dataclass(frozen=True, slots=True)
class PullJob:
    """An immutable snapshot of one pull or create, safe to hand to the UI."""

    id: int
    name: str  # as the user typed it
    kind: JobKind
    state: JobState
    stage: Stage
    stage_text: str
    percent: float | None
    bytes_done: int
    bytes_total: int  # over the layers seen so far, see total_known
    total_known: bool
    rate: float | None  # bytes/s, smoothed
    eta: float | None  # seconds
    layers: tuple[LayerProgress, ...]
    layer_index: int
    layer_count: int
    resumed: bool
    resumed_bytes: int
    error: str | None = None  # the server's (or the transport's) text
    error_type: str | None = None  # the exception's class name: "StreamError", "Unreachable"…
    update_result: UpdateResult | None = None
    queued_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    host: str = ""  # the other host it runs on; "" = the manager's own client when it started

    @property
    def active(self) -> bool:
        return self.state in _ACTIVE

    @property
    def finished(self) -> bool:
        return not self.active

    @property
    def elapsed(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


@dataclass(slots=True)
class _KnownSize:
    """What earlier attempts at a model taught us about its size."""

    total: int
    layers: int
    complete: bool  # every layer was seen (the attempt got to verifying)
    downloaded: int  # bytes the last attempt left on disk


@dataclass(eq=False, slots=True)
class _Job:
    id: int
    name: str
    key: str
    kind: JobKind
    progress: PullProgress
    queued_at: float
    create_args: Mapping[str, Any] = field(default_factory=dict)
    host: str = ""
    opener: ProviderOpener | None = None  # None: the manager's own client, bound in `client`
    client: Provider | None = None  # bound when the job starts running
    models_dir: str | os.PathLike[str] | None = None  # the own client's, bound with it
    state: JobState = "queued"
    error: str | None = None
    error_type: str | None = None
    update_result: UpdateResult | None = None
    started_at: float | None = None
    ended_at: float | None = None
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    last_notify: float = float("-inf")
    pending: asyncio.TimerHandle | None = None

    def snapshot(self) -> PullJob:
        p = self.progress
        return PullJob(
            id=self.id,
            name=self.name,
            kind=self.kind,
            state=self.state,
            stage=p.stage,
            stage_text=_state_text(self.state, p),
            percent=p.percent,
            bytes_done=p.bytes_done,
            bytes_total=p.bytes_total,
            total_known=p.total_known,
            rate=p.rate if self.state == "running" else None,
            eta=p.eta if self.state == "running" else None,
            layers=p.layers,
            layer_index=p.layer_index,
            layer_count=p.layer_count,
            resumed=p.resumed,
            resumed_bytes=p.resumed_bytes,
            error=self.error,
            error_type=self.error_type,
            update_result=self.update_result,
            queued_at=self.queued_at,
            started_at=self.started_at,
            ended_at=self.ended_at,
            host=self.host,
        )


def _state_text(state: JobState, progress: PullProgress) -> str:
    if state == "queued":
        return "queued"
    if state == "cancelled":
        return "cancelled"
    if state == "running" and progress.stage == "queued":
        return "starting"
    return progress.stage_text


class PullManager:
    """Runs pulls and creates against an OllamaClient, `concurrent` at a time, the rest queued.

    `start`, `create` and `cancel` are plain methods but must be called with an event loop
    running (they schedule tasks on it). `on_change(job)` is called on the loop's thread.
    """

    def __init__(
        self,
        client: Provider,
        *,
        concurrent: int = 2,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[PullJob], None] | None = None,
        notify_hz: float = DEFAULT_NOTIFY_HZ,
        hold: Callable[[Provider], AbstractAsyncContextManager[Any]] | None = None,
    ) -> None:
        if concurrent < 1:
            raise ValueError("concurrent must be at least 1")
        self._client = client
        #: Keeps a job's own client open for the job's run although the app switches host
        #: meanwhile (`HostRegistry.hold`); None: whoever closes the client stops its pulls.
        self._hold = hold
        self._concurrent = concurrent
        self._clock = clock
        self._on_change = on_change
        self._min_interval = 1.0 / notify_hz if notify_hz > 0 else 0.0
        self._ids = itertools.count(1)
        self._jobs: dict[int, _Job] = {}
        self._queue: deque[int] = deque()
        self._running: set[int] = set()
        self._sizes: dict[tuple[str, str], _KnownSize] = {}  # by (job's host, model)
        self._closed = False
        #: Where the server keeps its models, when that is on this machine (a local server):
        #: a pull is stopped as soon as its layers' totals, as they arrive, won't fit there.
        self.models_dir: str | os.PathLike[str] | None = None

    # -- public API ----------------------------------------------------------------------------

    def set_client(self, client: Provider) -> None:
        """Jobs that start from now on go to `client` (the app switched hosts); running ones
        keep the client they started on, for their digests too. Queued ones are not started yet:
        they go to `client`."""
        self._client = client

    @property
    def concurrency(self) -> int:
        return self._concurrent

    def start(self, name: str, *, host: str = "", opener: ProviderOpener | None = None) -> PullJob:
        """Queue a pull of `name`; an invalid name raises InvalidModelName before any request.

        `host` and `opener` (both or neither): the pull runs on that other host, through the
        provider `opener()` yields, held open from the job's start to its end. Such a job is
        never stopped for our disk's free space (that disk is not where it downloads to).

        If the same model is already being pulled (or is queued) on the same host, that job is
        returned: Ollama shares one download between concurrent pulls of a model anyway.
        """
        self._check_open()
        if bool(host) != (opener is not None):
            raise ValueError("a pull on another host needs both the host's name and an opener")
        validate_model_name(name)
        key = normalize_model_name(name)
        existing = self._active_job(key, "pull", host)
        if existing is not None:
            return existing.snapshot()
        job = self._new_job(name, key, "pull", host)
        job.opener = opener
        return self._enqueue(job)

    def create(
        self,
        name: str,
        *,
        from_: str,
        system: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        template: str | None = None,
    ) -> PullJob:
        """Queue an `/api/create` of `name` from `from_` (it streams statuses like a pull)."""
        self._check_open()
        validate_model_name(name)
        if not from_ or not from_.strip():
            raise InvalidModelName("create needs a model to start from")
        key = normalize_model_name(name)
        existing = self._active_job(key, "create")
        if existing is not None:
            return existing.snapshot()
        job = self._new_job(name, key, "create")
        job.create_args = {"from_": from_, "system": system, "parameters": parameters,
                           "template": template}
        return self._enqueue(job)

    def cancel(self, job_id: int) -> None:
        """Stop a job: a queued one never starts; a running one disconnects (Ollama's cancel),
        leaving partial blobs on the server for the next pull to resume. Finished: no-op."""
        job = self._jobs[job_id]
        if job.state == "queued":
            try:
                self._queue.remove(job_id)
            except ValueError:
                pass
            job.state = "cancelled"
            job.ended_at = self._clock()
            job.done.set()
            self._notify(job, force=True)
        elif job.state == "running":
            if job.progress.stage == "success":
                return  # the server is done; only the digest check is left
            job.state = "cancelled"
            if job.task is not None:
                job.task.cancel()

    def jobs(self) -> tuple[PullJob, ...]:
        """Snapshots of every job, in start order."""
        return tuple(job.snapshot() for job in self._jobs.values())

    def job(self, job_id: int) -> PullJob:
        return self._jobs[job_id].snapshot()

    def active_job(self, name: str, host: str = "") -> PullJob | None:
        """The queued or running pull of `name` (on `host`; "": the own client), if any."""
        job = self._active_job(normalize_model_name(name), "pull", host)
        return job.snapshot() if job is not None else None

    def clear_finished(self) -> None:
        """Forget finished jobs (their sizes stay remembered)."""
        for job_id in [j.id for j in self._jobs.values() if j.state not in _ACTIVE]:
            del self._jobs[job_id]

    def set_concurrency(self, n: int) -> None:
        """Change how many jobs run at once; lowering it lets running jobs finish."""
        if n < 1:
            raise ValueError("concurrent must be at least 1")
        self._concurrent = n
        if self._queue:
            self._pump()

    async def wait(self, job_id: int) -> PullJob:
        """Wait until the job is finished (and its connection closed); its final snapshot."""
        job = self._jobs[job_id]
        await job.done.wait()
        if job.task is not None and not job.task.done():
            await asyncio.wait({job.task})
        return job.snapshot()

    async def update_all(self, names: Iterable[str]) -> list[PullJob]:
        """Re-pull each installed model (one job each) and wait for all of them.

        Each result's `update_result` says "up to date" or "updated". A name that fails local
        validation becomes an error job rather than stopping the others.
        """
        ids: list[int] = []
        for name in names:
            try:
                job_id = self.start(name).id
            except InvalidModelName as exc:
                job_id = self._rejected(name, exc)
            if job_id not in ids:
                ids.append(job_id)
        return [await self.wait(job_id) for job_id in ids]

    async def aclose(self) -> None:
        """Cancel everything (queued and running) and wait for the tasks to end."""
        self._closed = True
        for job_id in list(self._queue):
            self.cancel(job_id)
        tasks = []
        for job in self._jobs.values():
            if job.state == "running":
                self.cancel(job.id)
            if job.task is not None and not job.task.done():
                tasks.append(job.task)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for job in self._jobs.values():
            if job.pending is not None:
                job.pending.cancel()
                job.pending = None

    # -- sizes remembered from earlier attempts ------------------------------------------------

    def known_size(self, name: str, host: str = "") -> int | None:
        """The model's size in bytes as far as an earlier job (on `host`) saw it (a lower bound
        unless that job got to verifying); None if no job has seen any of its layers."""
        known = self._sizes.get((host, normalize_model_name(name)))
        return known.total if known else None

    def free_space_warning(self, name: str, models_dir: str | os.PathLike[str] | None = None
                           ) -> str | None:
        """A warning if the disk holding `models_dir` (default: Ollama's) lacks room for the rest
        of `name`, judged from an earlier attempt on the own client; None when fine or unknown."""
        known = self._sizes.get(("", normalize_model_name(name)))
        if known is None:
            return None
        needed = max(0, known.total - known.downloaded)
        return ensure_free_space(models_dir or default_models_dir(), needed)

    # -- internals -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("PullManager is closed")

    def _active_job(self, key: str, kind: JobKind, host: str = "") -> _Job | None:
        for job in self._jobs.values():
            if job.key == key and job.kind == kind and job.host == host and job.state in _ACTIVE:
                return job
        return None

    def _new_job(self, name: str, key: str, kind: JobKind, host: str = "") -> _Job:
        known = self._sizes.get((host, key))
        progress = PullProgress(
            clock=self._clock,
            expected_total=known.total if known else None,
            expected_layers=known.layers if known and known.complete else None,
        )
        return _Job(id=next(self._ids), name=name, key=key, kind=kind, progress=progress,
                    queued_at=self._clock(), host=host)

    def _enqueue(self, job: _Job) -> PullJob:
        asyncio.get_running_loop()  # fail before recording a job that could never run
        self._jobs[job.id] = job
        self._queue.append(job.id)
        self._pump()
        if job.state == "queued":
            self._notify(job, force=True)
        return job.snapshot()

    def _rejected(self, name: str, exc: Exception) -> int:
        job = self._new_job(name, name, "pull")
        job.state = "error"
        job.error = str(exc)
        job.error_type = type(exc).__name__
        job.progress.fail(job.error)
        job.ended_at = job.queued_at
        job.done.set()
        self._jobs[job.id] = job
        self._notify(job, force=True)
        return job.id

    def _pump(self) -> None:
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        while self._queue and len(self._running) < self._concurrent:
            job = self._jobs[self._queue.popleft()]
            job.state = "running"
            job.started_at = self._clock()
            if job.opener is None:  # the own client as it is now, for the whole run
                job.client, job.models_dir = self._client, self.models_dir
            self._running.add(job.id)
            job.task = loop.create_task(self._run(job), name=f"{job.kind} {job.name}")
            job.task.add_done_callback(functools.partial(self._finished, job))
            self._notify(job, force=True)

    @staticmethod
    def _stream(job: _Job, client: Provider) -> AsyncIterator[Any]:
        if job.kind == "create":
            args = {k: v for k, v in job.create_args.items() if v is not None}
            return client.create(job.name, **args)
        return client.pull(job.name)

    async def _run(self, job: _Job) -> None:
        try:
            async with contextlib.AsyncExitStack() as held:
                if job.opener is not None:  # another host's provider, closed when the job ends
                    job.client = await held.enter_async_context(job.opener())
                elif self._hold is not None and job.client is not None:
                    await held.enter_async_context(self._hold(job.client))  # before any await
                assert job.client is not None
                await self._pull(job, job.client)
        except asyncio.CancelledError:
            job.state = "cancelled"
            raise
        except OllamaError as exc:
            self._fail(job, exc.message, type(exc).__name__)
        except Exception as exc:  # a bug or an odd server must not take the other pulls down
            log.exception("%s of %s failed", job.kind, job.name)
            self._fail(job, str(exc) or type(exc).__name__, type(exc).__name__)

    async def _pull(self, job: _Job, client: Provider) -> None:
        """The stream and the digests before and after it, all from `client`."""
        before = await _digest(client, job.key)
        checked = 0  # the bytes_total the free space was last judged against
        async with contextlib.aclosing(self._stream(job, client)) as events:
            async for event in events:
                job.progress.update(event)
                if job.models_dir is not None and job.kind == "pull" and job.progress.bytes_total > checked:
                    checked = job.progress.bytes_total  # a new layer's size came in
                    self._check_space(job)
                self._notify(job)
        if job.progress.stage != "success":
            raise OllamaError("the server ended the stream without reporting success")
        after = await _digest(client, job.key)
        job.update_result = _compare(before, after)
        job.state = "success"

    def _check_space(self, job: _Job) -> None:
        """Stop a pull whose layers (as far as their totals are known) won't fit on the disk."""
        assert job.models_dir is not None
        warning = ensure_free_space(job.models_dir, job.progress.bytes_total - job.progress.bytes_done)
        if warning:
            raise OllamaError(f"{warning}; pull stopped (free some space, then pull again: it resumes)")

    def _finished(self, job: _Job, task: asyncio.Task[None]) -> None:
        # A done callback rather than `finally`: a task cancelled before its first step never
        # runs its body at all.
        if task.cancelled() and job.state == "running":
            job.state = "cancelled"
        job.ended_at = self._clock()
        self._running.discard(job.id)
        job.client = None  # the job holds no client once it is over
        self._remember_size(job)
        job.done.set()
        self._notify(job, force=True)
        self._pump()

    def _fail(self, job: _Job, message: str, error_type: str) -> None:
        if job.state == "cancelled":
            return
        job.state = "error"
        job.error = message
        job.error_type = error_type
        job.progress.fail(message)

    def _remember_size(self, job: _Job) -> None:
        p = job.progress
        if p.layer_count == 0 or job.kind != "pull":
            return
        complete = p.total_known
        where = (job.host, job.key)  # what one host has downloaded says nothing about another's
        old = self._sizes.get(where)
        if old is not None and not complete and old.total > p.bytes_total:
            # this attempt saw fewer layers than an earlier one: keep the larger estimate
            self._sizes[where] = _KnownSize(old.total, old.layers, old.complete,
                                            max(old.downloaded, p.bytes_done))
            return
        downloaded = p.bytes_total if job.state == "success" else p.bytes_done
        self._sizes[where] = _KnownSize(p.bytes_total, p.layer_count, complete, downloaded)

    # -- coalesced notifications ---------------------------------------------------------------

    def _notify(self, job: _Job, *, force: bool = False) -> None:
        if self._on_change is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if force:
            if job.pending is not None:
                job.pending.cancel()
                job.pending = None
            job.last_notify = now
            self._emit(job)
            return
        if job.pending is not None:
            return  # a trailing call is already due; it will carry the latest state
        delay = job.last_notify + self._min_interval - now
        if delay <= 0:
            job.last_notify = now
            self._emit(job)
        else:
            job.pending = loop.call_later(delay, self._flush, job)

    def _flush(self, job: _Job) -> None:
        job.pending = None
        job.last_notify = asyncio.get_running_loop().time()
        self._emit(job)

    def _emit(self, job: _Job) -> None:
        assert self._on_change is not None
        try:
            self._on_change(job.snapshot())
        except Exception:
            log.exception("on_change callback failed for %s", job.name)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


async def _digest(client: Provider, key: str) -> str | None | _Unknown:
    """The installed model's digest on `client`'s server (None: not installed; UNKNOWN: tags
    failed)."""
    try:
        models = await client.tags()
    except OllamaError:
        return UNKNOWN
    for info in models:
        for spelling in (info.name, getattr(info, "model", "")):
            if spelling and normalize_model_name(spelling) == key:
                return info.digest
    return None


def _compare(before: str | None | _Unknown, after: str | None | _Unknown) -> UpdateResult | None:
    if isinstance(before, _Unknown) or isinstance(after, _Unknown) or after is None:
        return None
    if before is None:
        return "new"
    return "up to date" if before == after else "updated"
