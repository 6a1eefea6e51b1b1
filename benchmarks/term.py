"""Benchmark harness: the real app (`python -m tui`) in a pseudo-terminal we own.

`AppTerm` starts the app in a fresh pty at a fixed size (120x40, TERM=xterm-256color) with
its own HOME / XDG dirs (so a fresh config and history database), reads everything the app
writes (time-stamped, byte-counted), can send keys, samples the app's CPU time and RSS with
psutil, and waits for screen conditions with a deadline.

What is "on screen" comes from a `pyte` terminal emulator fed with exactly the bytes the app
wrote. Feeding pyte is slow-ish Python, so it is done lazily by the waiting thread, never by
the reader thread: the reader only does `os.read` and stores `(monotonic time, bytes)`.
`wait_text()` first scans the raw bytes for the text (cheap), and only then feeds pyte chunk
by chunk to find the first chunk after which the text is really on the screen; the time it
returns is when *that chunk was read from the pty*, not when pyte finished. So the
benchmark process's own emulation cost does not leak into the measured latencies (it still
competes for the machine's 2 cores, like any terminal emulator would).

Also here: `Proxy`, a tiny TCP relay between the app and the simulator that time-stamps when
a marker (the reply's last word) left for the app, and `table()`, the results printer.

Usage::

    with Simulator(token_rate=0).start() as sim, AppTerm(host=sim.url) as app:
        app.wait_text("Ask anything")
        app.send("hello\\r")
        t = app.wait_text("Anything else")
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import psutil
import pyte

REPO = Path(__file__).resolve().parent.parent
COLS, ROWS = 120, 40

# Keys as a terminal (xterm) sends them.
ENTER = "\r"
ESC = "\x1b"
TAB = "\t"
CTRL_L = "\x0c"
CTRL_N = "\x0e"
CTRL_Q = "\x11"
UP, DOWN = "\x1b[A", "\x1b[B"
PAGE_UP, PAGE_DOWN, SHIFT_TAB, CTRL_B = "\x1b[5~", "\x1b[6~", "\x1b[Z", "\x02"
F1, F2, F3, F4 = "\x1bOP", "\x1bOQ", "\x1bOR", "\x1bOS"


# Escape sequences (CSI, OSC, SS3, two-byte), removed before looking for a needle in the raw
# output: a styled cursor cell can split a word ("A" + "sk anything").
_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1bO.|\x1b[@-Z\\-_]")


_CUP = re.compile(rb"\x1b\[(\d*)(?:;\d*)?H")


class Timeout(AssertionError):
    pass


class AppTerm:
    """`python -m tui ARGS` in a pty of its own; see the module docstring."""

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        host: str | None = None,
        cols: int = COLS,
        rows: int = ROWS,
        home: str | Path | None = None,
        env: dict[str, str] | None = None,
        python_args: Sequence[str] = (),
        module: str = "tui",
    ) -> None:
        self.module = module  # `python -m MODULE` (another app: a baseline)
        self.python_args = list(python_args)  # e.g. ["-X", "importtime"] (profiling)
        self.args = ([f"--host={host}"] if host else []) + list(args)
        self.cols, self.rows = cols, rows
        self._own_home = home is None
        self.home = Path(tempfile.mkdtemp(prefix="otui-bench-")) if home is None else Path(home)
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None
        self.t_launch = 0.0
        self._master = -1
        self._chunks: list[tuple[float, bytes]] = []
        self._nbytes = 0
        self._cond = threading.Condition()
        self._eof = False
        self._reader: threading.Thread | None = None
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._fed = 0  # chunks fed to pyte so far

    # ------------------------------------------------------------------ lifecycle
    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("TEXTUAL", "OLLAMA", "XDG_", "COLUMNS", "LINES", "COLORTERM",
                                    "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM"))}
        env.update(HOME=str(self.home), TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                         ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
            path = self.home / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env.update(self.extra_env)
        return env

    def start(self) -> AppTerm:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        env = self.environment()

        def child_setup() -> None:  # runs in the child between fork and exec
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes its controlling terminal

        self.t_launch = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, *self.python_args, "-m", self.module, *self.args],
            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(REPO),
            start_new_session=True, preexec_fn=child_setup, close_fds=True,
        )
        os.close(slave)
        self._master = master
        self.ps = psutil.Process(self.proc.pid)
        self._reader = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._reader.start()
        return self

    def _read_loop(self) -> None:
        fd = self._master
        while True:
            try:
                r, _, _ = select.select([fd], [], [], 0.5)
                if not r:
                    if self.proc is not None and self.proc.poll() is not None:
                        break
                    continue
                data = os.read(fd, 1 << 16)
            except OSError:  # EIO: the app closed the terminal
                break
            if not data:
                break
            now = time.monotonic()
            with self._cond:
                self._chunks.append((now, data))
                self._nbytes += len(data)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                self.send(CTRL_Q)
                proc.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # our own child's process group
                    proc.wait(timeout=3)
                except (OSError, subprocess.TimeoutExpired):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=2)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
        if self._own_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> AppTerm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ input / counters
    def send(self, keys: str | bytes) -> float:
        """Write keys to the app's terminal; returns the monotonic time just before writing."""
        data = keys.encode() if isinstance(keys, str) else keys
        t = time.monotonic()
        os.write(self._master, data)
        return t

    @property
    def nbytes(self) -> int:
        """Bytes the app has written to the terminal so far."""
        with self._cond:
            return self._nbytes

    def bytes_between(self, t0: float, t1: float) -> int:
        """Bytes read from the pty with a time stamp in [t0, t1]."""
        with self._cond:
            return sum(len(d) for t, d in self._chunks if t0 <= t <= t1)

    def bytes_by_row(self, t0: float, t1: float) -> dict[int, int]:
        """Bytes written in [t0, t1], attributed to the screen row (1-based) of the last cursor
        move (CSI row;col H) before them: which part of the screen keeps being redrawn."""
        rows: dict[int, int] = {}
        row = 0
        with self._cond:
            chunks = [(t, d) for t, d in self._chunks if t <= t1]
        for t, data in chunks:
            pos = 0
            for m in _CUP.finditer(data):
                if t >= t0:
                    rows[row] = rows.get(row, 0) + m.start() - pos
                row, pos = int(m.group(1) or 1), m.start()
            if t >= t0:
                rows[row] = rows.get(row, 0) + len(data) - pos
        return rows

    def cpu(self) -> float:
        """CPU seconds (user + system, all threads) the app has used so far."""
        assert self.ps is not None
        c = self.ps.cpu_times()
        return c.user + c.system

    def rss(self) -> int:
        assert self.ps is not None
        return self.ps.memory_info().rss

    # ------------------------------------------------------------------ the screen
    def _feed(self, upto: int) -> None:
        with self._cond:
            chunks = self._chunks[self._fed:upto]
        for _, data in chunks:
            self._stream.feed(data)
        self._fed = max(self._fed, upto)

    def sync(self) -> None:
        """Feed pyte everything read so far."""
        with self._cond:
            n = len(self._chunks)
        self._feed(n)

    def lines(self) -> list[str]:
        self.sync()
        return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def dump(self) -> str:
        return "\n".join(f"{i:2d}|{line.rstrip()}" for i, line in enumerate(self.lines()))

    def wait(
        self,
        predicate: Callable[[pyte.Screen], bool],
        *,
        timeout: float = 10.0,
        needle: str | bytes | None = None,
        since: float | None = None,
        what: str = "condition",
    ) -> float:
        """Wait until `predicate(screen)` holds; return the time the chunk that made it true
        was read from the pty. Only chunks read after `since` (default: now) can satisfy it.

        `needle`: text the raw output must contain before the predicate can hold (a cheap
        pre-filter: pyte is fed only once it was written, and then chunk by chunk).
        """
        deadline = time.monotonic() + timeout
        since = time.monotonic() if since is None else since
        raw = needle.encode() if isinstance(needle, str) else needle
        # the first chunk that may satisfy the predicate
        with self._cond:
            start = next((i for i, (t, _) in enumerate(self._chunks) if t >= since), len(self._chunks))
        self._feed(start)
        scan, tail = start, b""
        found = raw is None
        i = start
        while True:
            with self._cond:
                n = len(self._chunks)
                if i >= n:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._eof:
                        break
                    self._cond.wait(min(left, 0.5))
                    continue
                chunks = self._chunks[:n]
            if not found:
                for j in range(scan, n):
                    data = chunks[j][1]
                    if raw in _ESCAPES.sub(b"", tail + data):
                        found = True
                        i = max(i, j)
                        break
                    tail = (tail + data)[-256:]
                scan = n
                if not found:
                    i = n
                    continue
                self._feed(i)  # everything before the chunk holding the needle, in bulk
            while i < n:
                self._feed(i + 1)
                t = chunks[i][0]
                i += 1
                if predicate(self.screen):
                    return t
        self.sync()
        if predicate(self.screen):  # e.g. the needle was split by an escape sequence
            return self._chunks[-1][0]
        raise Timeout(f"timed out after {timeout:.1f}s waiting for {what}; screen:\n{self.dump()}")

    def wait_text(self, text: str, *, timeout: float = 10.0, since: float | None = None) -> float:
        """Wait until `text` is on the screen (within one row)."""
        return self.wait(lambda s: any(text in line for line in s.display), timeout=timeout,
                         needle=text, since=since, what=repr(text))

    def wait_quiet(self, quiet: float = 0.3, *, timeout: float = 10.0, ignore_below: int = 0,
                   strict: bool = False) -> float:
        """Wait until the app wrote nothing for `quiet` s; return the time of its last write.

        Writes smaller than `ignore_below` bytes (a cursor blink is ~180 B) do not count.
        At the deadline: raise Timeout if `strict`, else return the last write's time.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                last = next((t for t, d in reversed(self._chunks) if len(d) >= ignore_below),
                            self.t_launch)
            now = time.monotonic()
            if now - last >= quiet:
                return last
            if now >= deadline:
                if strict:
                    raise Timeout(f"output did not go quiet for {quiet}s within {timeout}s")
                return last
            time.sleep(min(quiet - (now - last) + 0.005, max(0.0, deadline - now) + 0.005))

    def find(self, text: str) -> tuple[int, int] | None:
        """(row, col) of `text` on the screen, or None."""
        for row, line in enumerate(self.lines()):
            col = line.find(text)
            if col >= 0:
                return row, col
        return None


def attempt(fn: Callable[..., Any], *args: Any, tries: int = 3, pause: float = 20.0, **kwargs: Any) -> Any:
    """Run one benchmark run; if it times out (e.g. the app, edited concurrently by others, did
    not start), say why and try again after `pause` s, up to `tries` times."""
    for i in range(tries):
        try:
            return fn(*args, **kwargs)
        except Timeout as exc:
            if i == tries - 1:
                raise
            lines = [line.strip() for line in str(exc).splitlines()[2:] if line.strip(" |0123456789")]
            print(f"  (run failed: {str(exc).splitlines()[0]}; screen: {' / '.join(lines[-3:])[:300]};"
                  f" retrying in {pause:.0f} s)", flush=True)
            time.sleep(pause)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------- the shared machine
def _busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (everything but idle and iowait)."""
    c = psutil.cpu_times()
    return sum(c) - c.idle - getattr(c, "iowait", 0.0)


def _own_seconds() -> float:
    """CPU seconds of this benchmark process and its children (the apps under test)."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:4])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return total


class Others:
    """How many cores other processes (other engineers' tests) kept busy during a window.

    `with Others() as o: ...` then `o.cores`. Our own process and the app under test are
    subtracted (a child that exits inside the window is not: measure while it runs).
    """

    def __enter__(self) -> Others:
        self.t0, self.busy0, self.own0 = time.monotonic(), _busy_seconds(), _own_seconds()
        self.cores = float("nan")
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.monotonic() - self.t0
        others = (_busy_seconds() - self.busy0) - (_own_seconds() - self.own0)
        self.cores = max(0.0, others / wall) if wall > 0 else float("nan")


def add_machine_args(ap: Any) -> None:
    ap.add_argument("--max-others", type=float, default=0.5,
                    help="before each run, wait until other processes use at most this many cores")
    ap.add_argument("--wait", type=float, default=120.0, help="... but wait at most this many seconds")


def wait_for_quiet_machine(max_cores: float = 0.5, timeout: float = 120.0, window: float = 2.0) -> float:
    """Before a run: wait (up to `timeout` s) until other processes use <= `max_cores` cores
    over a `window`; returns the last level seen (the run goes ahead either way)."""
    deadline = time.monotonic() + timeout
    while True:
        with Others() as o:
            time.sleep(window)
        if o.cores <= max_cores or time.monotonic() >= deadline:
            return o.cores


# ---------------------------------------------------------------------- proxy
class Proxy:
    """A TCP relay 127.0.0.1:port -> upstream that notes when `marker` went to the client.

    `sent[marker]` = monotonic time just after the bytes holding the marker were handed to
    the app's socket (sendall returned). Only the server -> client direction is scanned.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.markers: list[bytes] = []
        self.sent: dict[bytes, float] = {}
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(16)
        self.port = self._srv.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def watch(self, marker: str) -> None:
        self.markers.append(marker.encode())

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._srv.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()
                continue
            for s in (client, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, up, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, scan: bool) -> None:
        tail = b""
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                dst.sendall(data)
                if scan and self.markers:
                    now = time.monotonic()
                    buf = tail + data
                    for m in self.markers:
                        if m not in self.sent and m in buf:
                            self.sent[m] = now
                    tail = buf[-64:]
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self._closed = True
        self._srv.close()


# ---------------------------------------------------------------------- reporting
def median(xs: Iterable[float]) -> float:
    return statistics.median(list(xs))


def spread(xs: Sequence[float], fmt: str) -> str:
    """'median (min–max)' of a sample."""
    return f"{format(median(xs), fmt)} ({format(min(xs), fmt)}–{format(max(xs), fmt)})"


def table(rows: list[tuple[str, str, str, str]], title: str) -> str:
    """Rows of (metric, median (min–max), target, verdict) as an aligned text table."""
    head = ("metric", "median (min–max)", "target", "ok?")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
    out = [title, "  ".join(h.ljust(w) for h, w in zip(head, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def verdict(value: float, limit: float) -> str:
    return "PASS" if value <= limit else "MISS"


def command_line() -> str:
    rel = os.path.relpath(sys.argv[0], REPO)
    return "uv run python " + " ".join([rel, *sys.argv[1:]])


def app_version() -> str:
    """The commit of the app measured, and whether tui/ had uncommitted changes (read-only git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tui"], cwd=REPO,
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
        dirty = [line[3:] for line in dirty if line.strip()]
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"app at {head or '?'}" + (f" + uncommitted changes in {len(dirty)} tui/ files" if dirty else "")


def machine() -> str:
    return f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, " \
           f"load avg {os.getloadavg()[0]:.2f} at start (shared machine); {app_version()}"


def load_note() -> str:
    la = os.getloadavg()
    return f"# load avg at end: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f} (2 cores; other engineers' tests were running)"


def mb(nbytes: float) -> float:
    return nbytes / 1e6
