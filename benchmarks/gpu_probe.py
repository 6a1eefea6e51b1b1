"""Probe the real monitoring sources and print what they return, with per-source costs.

Run on a machine with an NVIDIA GPU (and ideally a running Ollama):

    uv run python benchmarks/gpu_probe.py              # 5 samples, 1 s apart
    uv run python benchmarks/gpu_probe.py -n 20 -i 0.5 --port 11434 --ps http://localhost:11434

Three parts, all plain text:
  1. NvmlBackend.sample() N times: every reading per GPU, GPU processes, time per call.
  2. Sampler.sample_once() N times (psutil host + Ollama process scan + NVML): the values
     and the per-source costs (host / procs / gpu).
  3. Sampler.run() for N snapshots: actual spacing between samples vs the interval.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.request
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.service.monitor import Sampler, Snapshot
from tui.service.monitor.gpu import GpuReport, NvmlBackend
from tui.service.units import (
    format_bytes,
    format_percent,
    format_power,
    format_rate,
    format_temperature,
    format_used_total,
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def print_report(report: GpuReport) -> None:
    if not report.available:
        print(f"  GPU unavailable: {report.reason}")
        return
    print(f"  driver {report.driver_version or '?'}; {len(report.gpus)} GPU(s)")
    for g in report.gpus:
        print(f"  [{g.index}] {g.name} {g.uuid or ''}" + (f"  ERROR: {g.error}" if g.error else ""))
        print(
            f"      util {format_percent(g.util_percent)}  mem {format_used_total(g.mem_used, g.mem_total)}"
            f" ({format_percent(g.mem_percent)})  temp {format_temperature(g.temperature_c)}"
            f"  power {format_power(g.power_w, g.power_limit_w)}  fan {format_percent(g.fan_percent)}"
        )
        for p in g.processes:
            tag = "  <- ollama" if p.is_ollama else ""
            print(f"      pid {p.pid:>7} {p.name:<24} {format_bytes(p.used_memory)}{tag}")


def probe_nvml(n: int, interval: float) -> None:
    print(f"== NvmlBackend: {n} samples, {interval:g}s apart")
    backend = NvmlBackend()
    start = time.perf_counter()
    backend.init()
    print(f"  init: {ms(time.perf_counter() - start)}")
    costs = []
    try:
        for i in range(n):
            start = time.perf_counter()
            report = backend.sample()
            cost = time.perf_counter() - start
            costs.append(cost)
            print(f"-- sample {i + 1}: {ms(cost)}")
            print_report(report)
            if i + 1 < n:
                time.sleep(interval)
    finally:
        start = time.perf_counter()
        backend.shutdown()
        print(f"  shutdown: {ms(time.perf_counter() - start)}")
    if costs:
        print(f"  sample cost: min {ms(min(costs))}, median {ms(statistics.median(costs))}, max {ms(max(costs))}")


def print_snapshot(snap: Snapshot) -> None:
    costs = "  ".join(f"{k} {ms(v)}" for k, v in snap.costs.items())
    print(f"-- snapshot {snap.seq}: total {ms(snap.sample_cost)}  [{costs}]")
    h = snap.host
    if h is not None:
        cores = " ".join(f"{c:.0f}" for c in h.per_cpu)
        print(f"  cpu {format_percent(h.cpu_percent)}  per-core [{cores}]  load {h.load_avg}")
        print(
            f"  ram {format_used_total(h.ram_used, h.ram_total)} ({format_percent(h.ram_percent)})"
            f"  swap {format_used_total(h.swap_used, h.swap_total)}"
            f"  disk {h.disk_path}: {format_bytes(h.disk_free)} free of {format_bytes(h.disk_total)}"
            f"  net rx {format_rate(h.net_rx_rate)} tx {format_rate(h.net_tx_rate)}"
        )
    o = snap.ollama
    if o.server is None and not o.runners:
        print("  ollama: no server/runner process found")
    else:
        if o.server is not None:
            s = o.server
            print(
                f"  ollama server pid {s.pid} (found by {o.method}):"
                f" cpu {format_percent(s.cpu_percent)} rss {format_bytes(s.rss)}"
            )
        print(
            f"  ollama runners {[r.pid for r in o.runners]}: cpu {format_percent(o.runner_cpu_percent)}"
            f" rss {format_bytes(o.runner_rss)}"
        )
    print_report(snap.gpu)
    for m in snap.models:
        print(f"  loaded {m.name}: {format_bytes(m.size)} ({format_bytes(m.size_vram)} in VRAM)")
    if snap.ps_error:
        print(f"  ps error: {snap.ps_error}")
    for key, text in snap.errors.items():
        print(f"  {key} error: {text}")


def make_ps_fetch(url: str | None) -> Any:
    if not url:
        return None

    async def fetch() -> Any:
        def get() -> Any:
            with urllib.request.urlopen(url.rstrip("/") + "/api/ps", timeout=3) as resp:
                return json.load(resp)

        return await asyncio.to_thread(get)

    return fetch


def probe_sampler(n: int, interval: float, port: int | None, models_dir: str | None) -> None:
    print(f"\n== Sampler.sample_once: {n} samples, {interval:g}s apart (real psutil + NVML)")
    sampler = Sampler(NvmlBackend(), interval=interval, models_dir=models_dir, ollama_port=port)
    start = time.perf_counter()
    sampler.start()
    print(f"  start (NVML init + cpu prime): {ms(time.perf_counter() - start)}")
    try:
        for i in range(n):
            print_snapshot(sampler.sample_once())
            if i + 1 < n:
                time.sleep(interval)
    finally:
        sampler.close()


async def probe_loop(n: int, interval: float, port: int | None, models_dir: str | None, ps: str | None) -> None:
    print(f"\n== Sampler.run: {n} snapshots at interval {interval:g}s")
    sampler = Sampler(
        NvmlBackend(), interval=interval, models_dir=models_dir, ollama_port=port, ps_fetch=make_ps_fetch(ps)
    )
    snaps: list[Snapshot] = []

    def on_snapshot(s: Snapshot) -> None:
        snaps.append(s)
        if len(snaps) >= n:
            sampler.stop()

    try:
        await sampler.run(on_snapshot)
    finally:
        sampler.close()
    if snaps:
        print_snapshot(snaps[-1])
    gaps = [b.time - a.time for a, b in pairwise(snaps)]
    if gaps:
        print(
            f"  spacing: min {ms(min(gaps))}, median {ms(statistics.median(gaps))}, max {ms(max(gaps))}"
            f" (interval {ms(interval)})"
        )
    for key in sorted({k for s in snaps for k in s.costs}):
        values = [s.costs[key] for s in snaps if key in s.costs]
        print(f"  cost {key:<6} median {ms(statistics.median(values))}  max {ms(max(values))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--samples", type=int, default=5)
    parser.add_argument("-i", "--interval", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=11434, help="Ollama port on this machine (0: match by name only)")
    parser.add_argument("--models-dir", default=None)
    parser.add_argument("--ps", default=None, help="Ollama base URL to also poll /api/ps in the loop test")
    parser.add_argument("--skip", choices=["nvml", "sampler", "loop"], action="append", default=[])
    args = parser.parse_args(argv)
    port = args.port or None
    if "nvml" not in args.skip:
        probe_nvml(args.samples, args.interval)
    if "sampler" not in args.skip:
        probe_sampler(args.samples, args.interval, port, args.models_dir)
    if "loop" not in args.skip:
        asyncio.run(probe_loop(args.samples, args.interval, port, args.models_dir, args.ps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
