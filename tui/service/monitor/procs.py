"""Finding the Ollama server and runner processes, and reading their CPU/RSS.

``match_ollama_processes`` is a pure function over process records; ``ProcessScanner``
feeds it from psutil and never raises out of ``scan()``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

import psutil

OLLAMA_DEFAULT_PORT = 11434
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", ""}


def local_port_from_host(host: str | None) -> int | None:
    """The TCP port of an Ollama host URL when it points at this machine, else ``None``.

    ``"http://localhost:11434"`` -> 11434, ``"127.0.0.1"`` -> 11434 (default port),
    ``"http://gpu-box:11434"`` -> None.
    """
    if not host:
        return OLLAMA_DEFAULT_PORT
    text = host.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        hostname = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if hostname not in _LOCAL_HOSTS and not hostname.startswith("127."):
        return None
    if port is not None:
        return port
    # same defaults as Ollama's own OLLAMA_HOST parsing
    if "://" in host:
        return {"http": 80, "https": 443}.get(parts.scheme, OLLAMA_DEFAULT_PORT)
    return OLLAMA_DEFAULT_PORT


@dataclass(frozen=True, slots=True)
class ProcRecord:
    """What the matcher needs to know about one process (fields may be unknown)."""

    pid: int
    ppid: int | None
    name: str | None
    cmdline: tuple[str, ...] | None  # None when the OS would not tell us


@dataclass(frozen=True, slots=True)
class OllamaMatch:
    server: int | None
    runners: tuple[int, ...]
    method: Literal["port", "name", "none"]


def _base(arg: str) -> str:
    name = arg.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def _subcommand(rec: ProcRecord) -> str | None:
    """The word after the ``ollama`` executable in the command line (``serve``, ``runner``...)."""
    if not rec.cmdline:
        return None
    for i, arg in enumerate(rec.cmdline):
        if _base(arg) == "ollama":
            return rec.cmdline[i + 1] if i + 1 < len(rec.cmdline) else ""
    return None


def _ollama_named(rec: ProcRecord) -> bool:
    return rec.name is not None and _base(rec.name) == "ollama"


def _is_server(rec: ProcRecord) -> bool:
    return _ollama_named(rec) and _subcommand(rec) == "serve"


def _is_runner(rec: ProcRecord) -> bool:
    name = _base(rec.name or "")
    if name.startswith("ollama_llama_server"):
        return True
    return _ollama_named(rec) and _subcommand(rec) == "runner"


def _is_llama_server(rec: ProcRecord) -> bool:
    return _base(rec.name or "") == "llama-server"


def might_be_ollama(name: str | None) -> bool:
    """Whether a process of this name could be an Ollama server or runner (``ollama``,
    ``ollama.exe``, ``ollama_llama_server`` even cut to Linux's 15 characters, ``llama-server``).
    Only such processes are looked at more closely by a full scan."""
    if not name:
        return False
    base = _base(name)
    return base.startswith("ollama") or base == "llama-server"


def proc_comm_names(root: str = "/proc") -> Iterator[tuple[int, str]]:
    """(pid, name) of every process from Linux's ``/proc/PID/comm``: one small read each, about
    a twentieth of what psutil's ``process_iter(["name"])`` costs per process."""
    for entry in os.listdir(root):
        if entry.isdigit():
            try:
                with open(f"{root}/{entry}/comm", "rb") as f:
                    name = f.read().rstrip(b"\n").decode("utf-8", "replace")
            except OSError:  # gone meanwhile
                continue
            yield int(entry), name


def match_ollama_processes(procs: Iterable[ProcRecord], *, listening_pids: Collection[int] = ()) -> OllamaMatch:
    """Pick the Ollama server and its runners out of a process list. Pure function.

    Server: an ``ollama``-named process listening on the configured port (``listening_pids``)
    wins; else ``ollama serve`` by command line (preferring one with runner children, then
    the lowest pid); else an ``ollama`` process with an unreadable command line that has
    children. A listener not named ``ollama`` (docker-proxy, a reverse proxy) is ignored.

    Runners: every descendant of the server. When no server is visible (another user's or
    namespace's), ``ollama runner`` / ``ollama_llama_server`` / ``llama-server`` processes
    anywhere. ``ollama run`` (the CLI client) is neither.
    """
    records = {r.pid: r for r in procs}
    children: dict[int, list[int]] = {}
    for r in records.values():
        if r.ppid is not None:
            children.setdefault(r.ppid, []).append(r.pid)

    def descendants(pid: int) -> list[int]:
        out, stack, seen = [], [pid], {pid}
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    out.append(child)
                    stack.append(child)
        return out

    named_runner = {pid for pid, r in records.items() if _is_runner(r)}

    def has_runner_child(pid: int) -> bool:
        return any(c in named_runner for c in children.get(pid, ()))

    server: int | None = None
    method: Literal["port", "name", "none"] = "none"
    listeners = sorted(
        pid for pid in listening_pids if pid in records and _ollama_named(records[pid]) and not _is_runner(records[pid])
    )
    if listeners:
        server, method = listeners[0], "port"
    else:
        servers = [pid for pid, r in records.items() if _is_server(r)]
        if not servers:
            servers = [
                pid for pid, r in records.items() if _ollama_named(r) and r.cmdline is None and children.get(pid)
            ]
        if servers:
            servers.sort(key=lambda pid: (not has_runner_child(pid), pid))
            server, method = servers[0], "name"

    runners: set[int]
    if server is not None:
        runners = set(descendants(server))  # another server's runners are not ours
    else:
        runners = named_runner | {pid for pid, r in records.items() if _is_llama_server(r)}
        method = "name" if runners else "none"
    return OllamaMatch(server, tuple(sorted(runners)), method)


@dataclass(frozen=True, slots=True)
class ProcInfo:
    pid: int
    name: str
    role: Literal["server", "runner"]
    cpu_percent: float | None  # of one core (can exceed 100); None on the first reading
    rss: int | None


@dataclass(frozen=True, slots=True)
class OllamaProcs:
    server: ProcInfo | None
    runners: tuple[ProcInfo, ...]
    method: Literal["port", "name", "none"]

    @property
    def pids(self) -> frozenset[int]:
        pids = {r.pid for r in self.runners}
        if self.server is not None:
            pids.add(self.server.pid)
        return frozenset(pids)

    @property
    def members(self) -> tuple[ProcInfo, ...]:
        """Server (when found) then runners."""
        return ((self.server,) if self.server is not None else ()) + self.runners

    @property
    def cpu_percent(self) -> float | None:
        """Server + runners, in % of one core; ``None`` when nothing was measured yet."""
        values = [p.cpu_percent for p in self.members if p.cpu_percent is not None]
        return sum(values) if values else None

    @property
    def rss(self) -> int | None:
        values = [p.rss for p in self.members if p.rss is not None]
        return sum(values) if values else None

    @property
    def runner_cpu_percent(self) -> float | None:
        values = [r.cpu_percent for r in self.runners if r.cpu_percent is not None]
        return sum(values) if values else None

    @property
    def runner_rss(self) -> int | None:
        values = [r.rss for r in self.runners if r.rss is not None]
        return sum(values) if values else None

    @property
    def found(self) -> bool:
        return self.server is not None or bool(self.runners)


NO_OLLAMA = OllamaProcs(None, (), "none")


class ProcessScanner:
    """Finds the Ollama processes and reads their CPU/RSS.

    While the server process is alive only its children are listed (cheap); a full process
    scan runs at most every ``rescan_interval`` seconds: every name is read, only Ollama-like
    ones are looked at closely, and ``net_connections`` (costly: it walks every process's open
    files) is asked only when such a process exists and a port is known. ``psutil.Process`` objects are kept between scans because
    ``cpu_percent`` measures against the previous call on the same object.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        rescan_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        ps: Any = psutil,
    ) -> None:
        self.port = port
        self.rescan_interval = rescan_interval
        self._clock = clock
        self._ps = ps
        self._server_pid: int | None = None
        self._runner_pids: tuple[int, ...] = ()
        self._method: Literal["port", "name", "none"] = "none"
        self._procs: dict[int, Any] = {}  # pid -> psutil.Process, reused for cpu_percent
        self._primed: set[int] = set()
        self._last_full: float | None = None
        self.full_scans = 0

    # -- discovery
    def _listening_pids(self) -> set[int]:
        if self.port is None:
            return set()
        try:
            conns = self._ps.net_connections(kind="tcp")
        except Exception:  # AccessDenied on macOS without root
            return set()
        return {
            c.pid
            for c in conns
            if c.pid and getattr(c, "status", None) == "LISTEN" and c.laddr and c.laddr.port == self.port
        }

    def _names(self) -> Iterator[tuple[int, str | None]]:
        if self._ps is psutil and sys.platform.startswith("linux"):
            yield from proc_comm_names()
            return
        for p in self._ps.process_iter(["name"]):
            yield p.pid, (getattr(p, "info", None) or {}).get("name")

    def _record(self, pid: int, name: str | None) -> ProcRecord | None:
        """Parent, full name and command line of one process (``None`` once it is gone);
        ``name`` (the short one already read) stands in when the full one is refused."""
        ps = self._ps
        proc = self._process(pid)  # kept: the metrics read it next (cpu_percent needs the same object)
        if proc is None:
            return None
        fields: dict[str, Any] = {}
        with proc.oneshot():
            for field in ("ppid", "name", "cmdline"):
                try:
                    fields[field] = getattr(proc, field)()
                except (ps.NoSuchProcess, ps.ZombieProcess):
                    return None
                except Exception:  # AccessDenied: unknown, not fatal
                    fields[field] = None
        cmd = fields["cmdline"]
        return ProcRecord(pid, fields["ppid"], fields["name"] or name, tuple(cmd) if cmd else None)

    def _records(self) -> list[ProcRecord]:
        """The processes that might be Ollama's: every name is read (cheap), then only those
        with an Ollama-like name are looked at closely (parent, command line). A server's
        children with other names join at the next sample (``_refresh_children``)."""
        out = []
        try:
            for pid, name in self._names():
                if might_be_ollama(name):
                    record = self._record(pid, name)
                    if record is not None:
                        out.append(record)
        except Exception:
            pass
        return out

    def _full_scan(self) -> None:
        self.full_scans += 1
        self._last_full = self._clock()
        records = self._records()
        # The listener only counts when it is an Ollama-named process: none, no need to ask
        # which process listens where (the costliest part of a scan).
        listening = self._listening_pids() if records else set()
        match = match_ollama_processes(records, listening_pids=listening)
        self._server_pid, self._runner_pids, self._method = match.server, match.runners, match.method

    def _process(self, pid: int) -> Any | None:
        proc = self._procs.get(pid)
        if proc is not None:
            return proc
        try:
            proc = self._ps.Process(pid)
        except Exception:
            return None
        self._procs[pid] = proc
        return proc

    def _alive(self, pid: int | None) -> bool:
        if pid is None:
            return False
        proc = self._process(pid)
        try:
            return bool(proc is not None and proc.is_running())
        except Exception:
            return False

    def _refresh_children(self) -> None:
        server = self._process(self._server_pid) if self._server_pid is not None else None
        if server is None:
            return
        try:
            kids = server.children(recursive=True)
        except Exception:
            return
        for kid in kids:
            self._procs.setdefault(kid.pid, kid)
        self._runner_pids = tuple(sorted(kid.pid for kid in kids))

    def scan(self) -> OllamaProcs:
        try:
            now = self._clock()
            due = self._last_full is None or now - self._last_full >= self.rescan_interval
            if self._alive(self._server_pid):
                self._refresh_children()
            elif due:
                self._full_scan()
            else:
                self._server_pid = None
                self._runner_pids = tuple(pid for pid in self._runner_pids if self._alive(pid))
            return self._read()
        except Exception:  # never raise out of a sample
            return NO_OLLAMA

    # -- metrics
    def _info(self, pid: int, role: Literal["server", "runner"]) -> ProcInfo | None:
        proc = self._process(pid)
        if proc is None:
            return None
        ps = self._ps
        try:
            with proc.oneshot():
                name = proc.name()
                cpu = proc.cpu_percent(interval=None)
                rss = proc.memory_info().rss
        except (ps.NoSuchProcess, ps.ZombieProcess):
            self._procs.pop(pid, None)
            self._primed.discard(pid)
            return None
        except Exception:  # AccessDenied and anything odd: keep the pid, no numbers
            return ProcInfo(pid, "?", role, None, None)
        first = pid not in self._primed
        self._primed.add(pid)
        return ProcInfo(pid, name or "?", role, None if first else float(cpu), int(rss))

    def _read(self) -> OllamaProcs:
        server = self._info(self._server_pid, "server") if self._server_pid is not None else None
        if server is None:
            self._server_pid = None
        runners = tuple(info for info in (self._info(pid, "runner") for pid in self._runner_pids) if info is not None)
        self._runner_pids = tuple(r.pid for r in runners)
        keep = set(self._runner_pids) | ({self._server_pid} if self._server_pid is not None else set())
        for pid in list(self._procs):
            if pid not in keep:
                del self._procs[pid]
                self._primed.discard(pid)
        method = self._method if (server is not None or runners) else "none"
        return OllamaProcs(server, runners, method)


def mark_ollama_gpu_processes(pids: Mapping[int, object] | Collection[int], gpus: Iterable[Any]) -> tuple[Any, ...]:
    """Return ``gpus`` (GpuSample) with ``is_ollama`` set on processes whose pid is in ``pids``."""
    wanted = set(pids)
    out = []
    for gpu in gpus:
        if any(p.pid in wanted for p in gpu.processes):
            procs = tuple(replace(p, is_ollama=p.is_ollama or p.pid in wanted) for p in gpu.processes)
            gpu = replace(gpu, processes=procs)
        out.append(gpu)
    return tuple(out)
