"""Stand-ins for the exporters a GPU cluster runs, on 127.0.0.1 (stdlib only): NVIDIA's
dcgm-exporter, node_exporter, a vLLM or llama-server /metrics, and a Prometheus server's query API.

The text follows what the real exporters send (HELP/TYPE lines, metric names, units and labels:
`DCGM_FI_DEV_FB_USED` in MiB, `gpu`/`UUID`/`device`/`modelName`/`Hostname`/`DCGM_FI_DRIVER_VERSION`),
so the client is tested against the real shapes. Values are knobs (`gpus[i].util = 80`), and
`fail(status)` / `hang()` make it misbehave.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MIB = 1024 * 1024
DRIVER = "550.90.07"


@dataclass
class FakeGpu:
    index: int
    name: str = "NVIDIA H100 80GB HBM3"
    total_mib: int = 81559
    util: float = 0.0
    used_mib: int = 0
    temperature: float = 34.0
    power: float = 71.5

    @property
    def uuid(self) -> str:
        return f"GPU-{self.index:08x}-5e4b-1f2a-9c3d-0a1b2c3d4e5f"


@dataclass
class ExporterState:
    hostname: str = "gpu-node-1"
    gpus: list[FakeGpu] = field(default_factory=list)
    node: bool = True  # serve node_exporter's CPU/memory metrics too
    serving: str | None = None  # "vllm" or "llama.cpp": that engine's metrics too
    cpu_busy_share: float = 0.25  # node CPU busy fraction, accumulated into counters
    mem_total: int = 256 * 1024**3
    mem_available: int = 200 * 1024**3
    running: int = 0
    waiting: int = 0
    kv_cache: float = 0.0
    prompt_tokens: float = 0.0
    generated_tokens: float = 0.0
    status: int | None = None  # answer every request with this status
    hang: bool = False
    hostile: str = ""  # appended to every label value
    wobble: float = 0.0  # > 0: GPU util and power swing by up to this much over ~40 s (benchmarks)


def _help(name: str, text: str, kind: str = "gauge") -> str:
    return f"# HELP {name} {text}\n# TYPE {name} {kind}\n"


def _swing(state: ExporterState, g: FakeGpu) -> float:
    """-1..1, moving with time (a different phase per GPU) when the state wobbles, else 0."""
    return math.sin(time.monotonic() / 6.0 + g.index) if state.wobble else 0.0


def dcgm_text(state: ExporterState) -> str:
    out = []
    w = state.wobble
    fields = (("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", lambda g: g.temperature),
              ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).",
               lambda g: round(max(0.0, g.power + w * 3 * _swing(state, g)), 1) if w else g.power),
              ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).",
               lambda g: int(max(0, min(100, g.util + w * _swing(state, g)))) if w else g.util),
              ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", lambda g: g.total_mib - g.used_mib - 512),
              ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", lambda g: g.used_mib),
              ("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).", lambda g: 512))
    for name, text, value in fields:
        out.append(_help(name, text))
        for g in state.gpus:
            labels = (f'gpu="{g.index}",UUID="{g.uuid}",pci_bus_id="00000000:{0x18 + g.index:02X}:00.0",'
                      f'device="nvidia{g.index}",modelName="{g.name}{state.hostile}",'
                      f'Hostname="{state.hostname}{state.hostile}",DCGM_FI_DRIVER_VERSION="{DRIVER}"')
            v = value(g)
            out.append(f"{name}{{{labels}}} {v:g}\n" if isinstance(v, float) else f"{name}{{{labels}}} {v}\n")
    return "".join(out)


def node_text(state: ExporterState, cpu_seconds: tuple[float, float]) -> str:
    busy, idle = cpu_seconds
    out = [_help("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "counter")]
    for cpu in range(2):
        for mode, value in (("idle", idle / 2), ("iowait", 0.0), ("system", busy / 4), ("user", busy / 4)):
            out.append(f'node_cpu_seconds_total{{cpu="{cpu}",mode="{mode}"}} {value:.6f}\n')
    out.append(_help("node_load1", "1m load average."))
    out.append(f"node_load1 {state.cpu_busy_share * 2:.2f}\n")
    out.append(_help("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes."))
    out.append(f"node_memory_MemAvailable_bytes {float(state.mem_available):.15g}\n")
    out.append(_help("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes."))
    out.append(f"node_memory_MemTotal_bytes {float(state.mem_total):.15g}\n")
    return "".join(out)


def serving_text(state: ExporterState) -> str:
    model = f'model_name="meta-llama/Llama-3.1-8B-Instruct{state.hostile}"'
    if state.serving == "vllm":
        return (_help("vllm:num_requests_running", "Number of requests currently running on GPU.")
                + f"vllm:num_requests_running{{{model}}} {float(state.running)}\n"
                + _help("vllm:num_requests_waiting", "Number of requests waiting to be processed.")
                + f"vllm:num_requests_waiting{{{model}}} {float(state.waiting)}\n"
                + _help("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.")
                + f"vllm:gpu_cache_usage_perc{{{model}}} {state.kv_cache}\n"
                + _help("vllm:prompt_tokens_total", "Number of prefill tokens processed.", "counter")
                + f"vllm:prompt_tokens_total{{{model}}} {state.prompt_tokens}\n"
                + _help("vllm:generation_tokens_total", "Number of generation tokens processed.", "counter")
                + f"vllm:generation_tokens_total{{{model}}} {state.generated_tokens}\n")
    if state.serving == "llama.cpp":
        return (_help("llamacpp:prompt_tokens_total", "Number of prompt tokens processed.", "counter")
                + f"llamacpp:prompt_tokens_total {state.prompt_tokens}\n"
                + _help("llamacpp:tokens_predicted_total", "Number of generation tokens processed.", "counter")
                + f"llamacpp:tokens_predicted_total {state.generated_tokens}\n"
                + _help("llamacpp:kv_cache_usage_ratio", "KV-cache usage. 1 means 100 percent usage.")
                + f"llamacpp:kv_cache_usage_ratio {state.kv_cache}\n"
                + _help("llamacpp:requests_processing", "Number of requests processing.")
                + f"llamacpp:requests_processing {state.running}\n"
                + _help("llamacpp:requests_deferred", "Number of requests deferred.")
                + f"llamacpp:requests_deferred {state.waiting}\n")
    return ""


class Exporter:
    """One box's exporters on one loopback port: `/metrics` (dcgm + node + serving, as one text),
    `/dcgm`, `/node`, `/serving` separately, and `/api/v1/query` (Prometheus) for the DCGM and
    memory series, filtered by a `Hostname="…"` matcher if the query has one."""

    def __init__(self, state: ExporterState | None = None, *, gpus: int = 0, **kw) -> None:
        self.state = state or ExporterState(**kw)
        if gpus and not self.state.gpus:
            self.state.gpus = [FakeGpu(i) for i in range(gpus)]
        self.requests: list[str] = []
        self.connections = 0  # TCP connections accepted (a reader that keeps its connections makes few)
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connections: set = set()  # open keep-alive connections, cut by stop()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    @property
    def open_connections(self) -> int:
        """Connections open right now (kept alive by a client, or serving a request)."""
        with self._lock:
            return len(self._connections)

    def _cpu_seconds(self) -> tuple[float, float]:
        elapsed = 1000.0 + (time.monotonic() - self._started) * 2  # two CPUs
        return elapsed * self.state.cpu_busy_share, elapsed * (1 - self.state.cpu_busy_share)

    def text(self, path: str) -> str:
        s = self.state
        parts = {"/dcgm": dcgm_text(s) if s.gpus else "", "/node": node_text(s, self._cpu_seconds()) if s.node else "",
                 "/serving": serving_text(s)}
        if path == "/metrics":
            return "".join(parts.values())
        return parts.get(path, "")

    def query(self, promql: str) -> dict:
        wanted = re.search(r'Hostname="([^"]*)"', promql)
        result = []
        s = self.state
        for family in (dcgm_text(s), node_text(s, self._cpu_seconds()) if s.node else ""):
            for line in family.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                head, _, value = line.rpartition(" ")
                name, _, rest = head.partition("{")
                labels = dict(re.findall(r'(\w+)="([^"]*)"', rest))
                if wanted and labels.get("Hostname", s.hostname) != wanted.group(1):
                    continue
                result.append({"metric": {"__name__": name, **labels}, "value": [time.time(), value]})
        return {"status": "success", "data": {"resultType": "vector", "result": result}}

    def start(self) -> Exporter:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real (Go) exporters

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body are two writes: without this, Nagle + delayed ACK hold the
                # body back 40 ms on a kept-alive connection
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with exporter._lock:
                    exporter._connections.add(self.connection)
                    exporter.connections += 1

            def finish(self) -> None:
                with exporter._lock:
                    exporter._connections.discard(self.connection)
                super().finish()

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urlsplit(self.path)
                exporter.requests.append(parts.path)
                s = exporter.state
                if s.hang:
                    exporter._stop.wait(30)
                    self.close_connection = True
                    return
                if s.status is not None:
                    body, status, ctype = b"exporter failure", s.status, "text/plain"
                elif parts.path == "/api/v1/query":
                    q = parse_qs(parts.query).get("query", [""])[0]
                    body, status, ctype = json.dumps(exporter.query(q)).encode(), 200, "application/json"
                elif parts.path in ("/metrics", "/dcgm", "/node", "/serving"):
                    body, status, ctype = exporter.text(parts.path).encode(), 200, "text/plain; version=0.0.4"
                else:
                    body, status, ctype = b"404 page not found", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, name="exporter-sim", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:  # a stopped exporter answers no more, kept-alive or not
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> Exporter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
