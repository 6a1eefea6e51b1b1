"""Finding Ollama's server and runner processes: the pure matcher, the scanner on a fake
psutil, and one real run against a fake ``ollama`` executable (Linux)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.waiting import wait_sync
from tui.service.monitor.gpu import GpuProcess, GpuSample
from tui.service.monitor.procs import (
    NO_OLLAMA,
    OllamaMatch,
    OllamaProcs,
    ProcessScanner,
    ProcRecord,
    local_port_from_host,
    mark_ollama_gpu_processes,
    match_ollama_processes,
    might_be_ollama,
    proc_comm_names,
)


def rec(pid: int, ppid: int | None, name: str | None, *cmd: str, unknown_cmd: bool = False) -> ProcRecord:
    return ProcRecord(pid, ppid, name, None if unknown_cmd else tuple(cmd))


SYSTEMD = rec(1, 0, "systemd", "/sbin/init")
SERVER = rec(100, 1, "ollama", "/usr/local/bin/ollama", "serve")
RUNNER = rec(110, 100, "ollama", "/usr/local/bin/ollama", "runner", "--model", "/m/sha256-abc", "--port", "40000")
CLIENT = rec(200, 50, "ollama", "ollama", "run", "llama3")
SHELL = rec(50, 1, "bash", "bash")

# --------------------------------------------------------------------------- matcher


def test_match_server_and_runner_by_name() -> None:
    m = match_ollama_processes([SYSTEMD, SHELL, SERVER, RUNNER, CLIENT])
    assert m == OllamaMatch(100, (110,), "name")


def test_ollama_run_client_is_not_server_or_runner() -> None:
    assert match_ollama_processes([SHELL, CLIENT]) == OllamaMatch(None, (), "none")


def test_match_prefers_port_listener() -> None:
    other = rec(300, 1, "ollama", "ollama", "serve")
    m = match_ollama_processes([SERVER, RUNNER, other], listening_pids={300})
    assert m == OllamaMatch(300, (), "port")  # 110 is the other server's runner


def test_non_ollama_listener_is_ignored() -> None:
    proxy = rec(400, 1, "docker-proxy", "docker-proxy", "-host-port", "11434")
    m = match_ollama_processes([proxy, SERVER, RUNNER], listening_pids={400})
    assert m == OllamaMatch(100, (110,), "name")


def test_listener_that_is_a_runner_is_not_the_server() -> None:
    m = match_ollama_processes([SERVER, RUNNER], listening_pids={110})
    assert m.server == 100 and m.runners == (110,)


def test_several_servers_prefers_the_one_with_runners_then_lowest_pid() -> None:
    a = rec(500, 1, "ollama", "ollama", "serve")
    b = rec(600, 1, "ollama", "ollama", "serve")
    r = rec(610, 600, "ollama", "ollama", "runner")
    assert match_ollama_processes([a, b, r]).server == 600
    assert match_ollama_processes([b, a]).server == 500


def test_runners_of_another_server_are_not_ours() -> None:
    other = rec(300, 1, "ollama", "ollama", "serve")
    other_runner = rec(310, 300, "ollama", "ollama", "runner", "--model", "y")
    m = match_ollama_processes([SERVER, RUNNER, other, other_runner], listening_pids={100})
    assert m == OllamaMatch(100, (110,), "port")
    m = match_ollama_processes([SERVER, RUNNER, other, other_runner], listening_pids={300})
    assert m == OllamaMatch(300, (310,), "port")


def test_every_descendant_of_server_is_a_runner() -> None:
    legacy = rec(120, 100, "ollama_llama_server", "/tmp/ollama123/runners/cuda_v12/ollama_llama_server", "--model")
    llama = rec(130, 100, "llama-server", "llama-server", "-m", "x.gguf")
    grandchild = rec(131, 130, "helper", "helper")
    m = match_ollama_processes([SERVER, legacy, llama, grandchild])
    assert m == OllamaMatch(100, (120, 130, 131), "name")


def test_runner_without_visible_server() -> None:
    """Server in another namespace/user: runners are still found by name."""
    orphan = rec(110, 1, "ollama", "ollama", "runner", "--model", "m")
    legacy = rec(120, 1, "ollama_llama_server", "ollama_llama_server")
    assert match_ollama_processes([orphan, legacy]) == OllamaMatch(None, (110, 120), "name")


def test_standalone_llama_server_counts_only_without_an_ollama_server() -> None:
    llama = rec(130, 1, "llama-server", "llama-server", "-m", "x.gguf")
    assert match_ollama_processes([llama]).runners == (130,)
    assert match_ollama_processes([SERVER, llama]).runners == ()


def test_windows_and_paths() -> None:
    server = rec(10, 1, "ollama.exe", "C:\\Program Files\\Ollama\\ollama.exe", "serve")
    runner = rec(11, 10, "ollama.exe", "C:\\Program Files\\Ollama\\ollama.exe", "runner", "--model", "x")
    app = rec(9, 1, "ollama app.exe", "C:\\Program Files\\Ollama\\ollama app.exe")
    assert match_ollama_processes([app, server, runner]) == OllamaMatch(10, (11,), "name")


def test_macos_app_is_not_the_server() -> None:
    app = rec(9, 1, "Ollama", "/Applications/Ollama.app/Contents/MacOS/Ollama")
    server = rec(10, 9, "ollama", "/Applications/Ollama.app/Contents/Resources/ollama", "serve")
    assert match_ollama_processes([app, server]).server == 10


def test_unreadable_cmdline_with_children_is_a_server_guess() -> None:
    server = rec(100, 1, "ollama", unknown_cmd=True)
    child = rec(110, 100, "ollama", unknown_cmd=True)
    lone = rec(200, 1, "ollama", unknown_cmd=True)
    assert match_ollama_processes([server, child, lone]) == OllamaMatch(100, (110,), "name")
    assert match_ollama_processes([lone]) == OllamaMatch(None, (), "none")


def test_script_interpreter_in_cmdline() -> None:
    server = rec(100, 1, "ollama", "/usr/bin/python3", "/opt/ollama", "serve")
    assert match_ollama_processes([server]).server == 100


def test_empty() -> None:
    assert match_ollama_processes([]) == OllamaMatch(None, (), "none")


# --------------------------------------------------------------------------- host -> port


@pytest.mark.parametrize(
    ("host", "port"),
    [
        (None, 11434),
        ("", 11434),
        ("http://localhost:11434", 11434),
        ("http://127.0.0.1:8080", 8080),
        ("127.0.0.1", 11434),
        ("localhost:5000", 5000),
        ("0.0.0.0", 11434),
        ("http://[::1]:11434", 11434),
        ("http://localhost", 80),
        ("https://localhost", 443),
        ("http://gpu-box:11434", None),
        ("https://ollama.example.com", None),
        ("http://localhost:notaport", None),
    ],
)
def test_local_port_from_host(host: str | None, port: int | None) -> None:
    assert local_port_from_host(host) == port


# --------------------------------------------------------------------------- marking GPU processes


def test_mark_ollama_gpu_processes() -> None:
    gpu = GpuSample(
        0, "G", None, None, None, None, None, None, None, None,
        (GpuProcess(110, "ollama", 1), GpuProcess(999, "python", 2)),
    )  # fmt: skip
    other = GpuSample(1, "H", None, None, None, None, None, None, None, None, (GpuProcess(5, "Xorg", 1),))
    marked = mark_ollama_gpu_processes({100, 110}, [gpu, other])
    assert [p.is_ollama for p in marked[0].processes] == [True, False]
    assert marked[1] is other
    assert gpu.processes[0].is_ollama is False  # the input is untouched


# --------------------------------------------------------------------------- scanner on a fake psutil


class NoSuchProcess(Exception):
    pass


class ZombieProcess(NoSuchProcess):
    pass


class AccessDenied(Exception):
    pass


class FakeWorld:
    """A process table; ``Process`` objects count how often they are created and asked."""

    NoSuchProcess = NoSuchProcess
    ZombieProcess = ZombieProcess
    AccessDenied = AccessDenied

    def __init__(self, records: list[ProcRecord]) -> None:
        self.records = {r.pid: r for r in records}
        self.cpu: dict[int, float] = {}
        self.rss: dict[int, int] = {}
        self.listen: dict[int, int] = {}  # pid -> port
        self.created: list[int] = []
        self.iterations = 0
        self.conn_error: Exception | None = None
        self.conn_calls = 0
        self.iter_error: Exception | None = None
        self.denied: set[int] = set()

    def process_iter(self, attrs: list[str]) -> Any:
        self.iterations += 1
        if self.iter_error:
            raise self.iter_error
        for r in list(self.records.values()):
            yield SimpleNamespace(
                pid=r.pid, info={"pid": r.pid, "ppid": r.ppid, "name": r.name, "cmdline": list(r.cmdline or [])}
            )

    def net_connections(self, kind: str) -> list[Any]:
        self.conn_calls += 1
        if self.conn_error:
            raise self.conn_error
        return [
            SimpleNamespace(pid=pid, status="LISTEN", laddr=SimpleNamespace(ip="127.0.0.1", port=port))
            for pid, port in self.listen.items()
        ]

    def Process(self, pid: int) -> FakeProcess:  # mimics psutil
        if pid not in self.records:
            raise NoSuchProcess(pid)
        self.created.append(pid)
        return FakeProcess(self, pid)


class FakeProcess:
    def __init__(self, world: FakeWorld, pid: int) -> None:
        self.world, self.pid = world, pid
        self.cpu_calls = 0

    def _check(self) -> None:
        if self.pid not in self.world.records:
            raise NoSuchProcess(self.pid)
        if self.pid in self.world.denied:
            raise AccessDenied(self.pid)

    def is_running(self) -> bool:
        return self.pid in self.world.records

    def children(self, recursive: bool = False) -> list[FakeProcess]:
        self._check()
        out, stack = [], [self.pid]
        while stack:
            parent = stack.pop()
            for r in self.world.records.values():
                if r.ppid == parent:
                    out.append(FakeProcess(self.world, r.pid))
                    stack.append(r.pid)
        return out

    def oneshot(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def name(self) -> str:
        self._check()
        return self.world.records[self.pid].name or ""

    def ppid(self) -> int | None:
        self._check()
        return self.world.records[self.pid].ppid

    def cmdline(self) -> list[str]:
        self._check()
        cmd = self.world.records[self.pid].cmdline
        if cmd is None:  # what psutil does for another user's process on some systems
            raise AccessDenied(self.pid)
        return list(cmd)

    def cpu_percent(self, interval: float | None = None) -> float:
        self._check()
        self.cpu_calls += 1
        return self.world.cpu.get(self.pid, 0.0)

    def memory_info(self) -> Any:
        self._check()
        return SimpleNamespace(rss=self.world.rss.get(self.pid, 1000))


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make_scanner(world: FakeWorld, port: int | None = 11434) -> tuple[ProcessScanner, Clock]:
    clock = Clock()
    return ProcessScanner(port, rescan_interval=5.0, clock=clock, ps=world), clock


def test_scanner_finds_server_by_port_and_reads_metrics() -> None:
    world = FakeWorld([SYSTEMD, SERVER, RUNNER, CLIENT])
    world.listen = {100: 11434}
    world.cpu = {100: 3.0, 110: 250.0}
    world.rss = {100: 50_000_000, 110: 5_000_000_000}
    scanner, _ = make_scanner(world)
    first = scanner.scan()
    assert first.method == "port"
    assert first.server is not None and first.server.pid == 100 and first.server.role == "server"
    assert [r.pid for r in first.runners] == [110]
    assert first.server.cpu_percent is None  # the first cpu_percent reading is meaningless
    assert first.server.rss == 50_000_000
    second = scanner.scan()
    assert second.server is not None and second.server.cpu_percent == 3.0
    assert second.runner_cpu_percent == 250.0 and second.runner_rss == 5_000_000_000
    assert second.cpu_percent == 253.0 and second.rss == 5_050_000_000
    assert second.pids == {100, 110}


def test_scanner_reuses_process_objects_and_avoids_full_scans() -> None:
    world = FakeWorld([SERVER, RUNNER])
    scanner, clock = make_scanner(world)
    for _ in range(5):
        scanner.scan()
        clock.t += 1.0
    assert scanner.full_scans == 1
    assert world.iterations == 1
    assert world.created.count(100) == 1  # server object cached
    assert world.created.count(110) == 1  # runner object created once, then kept
    cached = scanner._procs[110]
    assert cached.cpu_calls == 5


def test_scanner_new_runner_is_seen_on_next_sample() -> None:
    world = FakeWorld([SERVER])
    scanner, _ = make_scanner(world)
    assert scanner.scan().runners == ()
    world.records[110] = RUNNER
    assert [r.pid for r in scanner.scan().runners] == [110]
    del world.records[110]
    assert scanner.scan().runners == ()
    assert 110 not in scanner._procs


def test_scanner_rescans_only_when_due_after_server_exit() -> None:
    world = FakeWorld([SERVER, RUNNER])
    scanner, clock = make_scanner(world)
    scanner.scan()
    del world.records[100]
    del world.records[110]
    clock.t += 1.0
    assert scanner.scan() == NO_OLLAMA
    assert scanner.full_scans == 1  # not due yet
    new_server = rec(700, 1, "ollama", "ollama", "serve")
    world.records[700] = new_server
    clock.t += 1.0
    assert scanner.scan() == NO_OLLAMA
    clock.t += 5.0
    found = scanner.scan()
    assert scanner.full_scans == 2
    assert found.server is not None and found.server.pid == 700


def test_scanner_without_permission_for_connections_falls_back_to_name() -> None:
    world = FakeWorld([SERVER, RUNNER])
    world.conn_error = AccessDenied("net_connections")
    scanner, _ = make_scanner(world)
    result = scanner.scan()
    assert result.method == "name" and result.server is not None and result.server.pid == 100


def test_scanner_access_denied_on_metrics_keeps_the_process() -> None:
    world = FakeWorld([SERVER, RUNNER])
    world.denied = {100}
    scanner, _ = make_scanner(world)
    scanner.scan()
    result = scanner.scan()
    assert result.server is not None and result.server.name == "?" and result.server.rss is None


def test_scanner_never_raises() -> None:
    world = FakeWorld([SERVER])
    world.iter_error = RuntimeError("proc is gone")
    scanner, _ = make_scanner(world)
    assert scanner.scan() == NO_OLLAMA


def test_a_scan_looks_closely_only_at_ollama_named_processes() -> None:
    """Names are read for every process; the parent and command line only for Ollama-like
    names, and which process listens on the port only when there is one."""
    others = [rec(pid, 1, "python3", "python3", "-m", "http.server") for pid in range(300, 340)]
    world = FakeWorld([SYSTEMD, *others])
    world.listen = {300: 11434}  # a non-Ollama listener on the port
    scanner, _ = make_scanner(world)
    assert scanner.scan() == NO_OLLAMA
    assert world.conn_calls == 0 and world.created == []
    world.records[100] = SERVER
    world.records[110] = RUNNER
    world.listen[100] = 11434
    scanner, _ = make_scanner(world)
    result = scanner.scan()
    assert result.method == "port" and result.server is not None and result.server.pid == 100
    assert [r.pid for r in result.runners] == [110]
    assert world.conn_calls == 1 and set(world.created) == {100, 110}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ollama", True), ("ollama.exe", True), ("Ollama", True), ("/usr/local/bin/ollama", True),
     ("ollama_llama_se", True), ("ollama_llama_server", True), ("llama-server", True),
     ("python3", False), ("llama", False), ("", False), (None, False)],
)
def test_might_be_ollama(name: str | None, expected: bool) -> None:
    assert might_be_ollama(name) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_proc_comm_names_agree_with_psutil() -> None:
    import psutil

    names = dict(proc_comm_names())
    me = psutil.Process()
    assert names[os.getpid()] == me.name()[:15]
    still_there = {pid for pid in names if psutil.pid_exists(pid)}  # one may have ended meanwhile
    assert still_there <= set(psutil.pids()) and len(still_there) >= 2


def test_scanner_without_port_uses_names() -> None:
    world = FakeWorld([SERVER, RUNNER])
    world.listen = {100: 11434}
    scanner, _ = make_scanner(world, port=None)
    assert scanner.scan().method == "name"


# --------------------------------------------------------------------------- the real psutil


FAKE_OLLAMA = """\
import socket, subprocess, sys, time
if sys.argv[1] == "serve":
    s = socket.socket()
    s.bind(("127.0.0.1", int(sys.argv[2])))
    s.listen()
    subprocess.Popen([sys.argv[0], "runner", "--model", "x"])
    print("ready", flush=True)
end = time.time() + 30
while time.time() < end:
    sum(range(20000))
    time.sleep(0.001)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process naming via shebang script is Linux-specific")
def test_scanner_against_real_processes(tmp_path: Path) -> None:
    exe = tmp_path / "ollama"
    exe.write_text(f"#!{sys.executable}\n" + textwrap.dedent(FAKE_OLLAMA))
    exe.chmod(0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(exe), "serve", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        scanner = ProcessScanner(port)

        def found_runners() -> OllamaProcs | None:
            result = scanner.scan()
            return result if result.runners else None

        result = wait_sync(found_runners, 10, 0.05, what="a scan that finds the runner")
        assert result.server is not None and result.server.pid == server.pid
        assert result.method in ("port", "name")
        assert len(result.runners) == 1
        time.sleep(0.2)
        result = scanner.scan()
        assert result.server is not None and result.server.cpu_percent is not None
        assert result.server.rss and result.server.rss > 0
        assert result.runner_rss and result.runner_rss > 0
    finally:
        for child in _children(server.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, 9)
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []
