"""Fleet watch cost: the real app on the Monitor at 120x40 watching 32 [hosts] at the default pace.

The hosts live in two child processes on loopback (several servers per process):
  - live Ollama simulators, each with an exporter simulator (dcgm-exporter with 2 GPUs whose
    util and power move, plus node_exporter): their rows change every probe, sparklines scroll;
  - OpenAI-compatible simulators with their vLLM /metrics;
  - dead hosts: "refused" (nothing listens; their exporter still answers: the box is up, Ollama
    is not) and "hung" (a socket that accepts and never answers: each probe waits its 4 s timeout).
The app gets them as [hosts] tables in its config file, shows the Monitor (F3), pages down so the
screen is fleet rows, waits for every live host to be up, then measures for --seconds:
app CPU (all threads) / wall time, bytes read from its pty / s, the probes each host got (counted
at the server: /api/ps, /v1/models, the hung socket's accepts) and the reads of its exporter
(a host's exporters are read every 2nd probe): one probe in flight per host means a hung host
gets no more probes than its timeout allows, and costs no more than a live one.

    uv run python benchmarks/fleet.py [--seconds 60] [--runs 1]

Targets: app CPU <= 2 % of a core, <= 3,000 bytes/s to the terminal.
"""

from __future__ import annotations

import argparse
import datetime
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stream import settle  # noqa: E402
from benchmarks.term import (  # noqa: E402
    F3,
    AppTerm,
    Others,
    add_machine_args,
    command_line,
    load_note,
    machine,
    median,
    spread,
    table,
    verdict,
    wait_for_quiet_machine,
)

PAGE_DOWN = "\x1b[6~"
LIVE, OPENAI, REFUSED, HUNG = 24, 4, 2, 2  # 32 hosts


# --------------------------------------------------------------------------- the hosts (child)


def serve(first: int, live: int, openai: int, refused: int, hung: int) -> None:
    """A child process: start the servers, print the hosts as JSON, answer "stats" lines with the
    counts ("NAME" probes at the server, "NAME exporter" reads of its exporter); exit when stdin
    closes."""
    from tui.simulator import Simulator
    from tui.simulator.exporter import Exporter
    from tui.simulator.openai import OpenAISimulator

    hosts, counters = [], {}
    keep = []
    for i in range(live):
        sim = Simulator(token_rate=0).start()
        ex = Exporter(gpus=2, hostname=f"gpu{first + i}", wobble=30.0).start()
        ex.state.gpus[0].util, ex.state.gpus[0].used_mib, ex.state.gpus[0].power = 60.0, 41_000, 280.0
        ex.state.gpus[1].util, ex.state.gpus[1].used_mib = 20.0, 12_000
        name = f"gpu{first + i:02d}"
        hosts.append({"name": name, "url": sim.url, "kind": "ollama", "metrics": [ex.url + "/metrics"],
                      "class": "live"})
        counters[name] = lambda sim=sim: sum(1 for r in sim.requests if r[1] == "/api/ps")
        counters[name + " exporter"] = lambda ex=ex: len(ex.requests)
        keep += [sim, ex]
    for i in range(openai):
        sim = OpenAISimulator().start()
        sim.metrics.running, sim.metrics.waiting, sim.metrics.kv_cache = 2, 1, 0.37
        name = f"vllm{first + i:02d}"
        hosts.append({"name": name, "url": sim.url + "/v1", "kind": "openai", "metrics": [sim.url + "/metrics"],
                      "class": "openai"})
        counters[name] = lambda sim=sim: sum(1 for r in sim.requests if r[1] == "/v1/models")
        counters[name + " exporter"] = lambda sim=sim: sum(1 for r in sim.requests if r[1] == "/metrics")
        keep.append(sim)
    for i in range(refused):
        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ex = Exporter(gpus=1, hostname=f"down{first + i}").start()
        name = f"down{first + i:02d}"
        hosts.append({"name": name, "url": f"http://127.0.0.1:{port}", "kind": "ollama",
                      "metrics": [ex.url + "/metrics"], "class": "refused"})
        counters[name + " exporter"] = lambda ex=ex: len(ex.requests)  # its server refuses: not counted
        keep.append(ex)
    for i in range(hung):
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(256)
        accepted = [0]
        held: list[socket.socket] = []

        def accept(silent: socket.socket = silent, accepted: list[int] = accepted, held: list = held) -> None:
            while True:
                conn, _ = silent.accept()
                accepted[0] += 1
                held.append(conn)  # never answered

        threading.Thread(target=accept, daemon=True).start()
        name = f"hung{first + i:02d}"
        hosts.append({"name": name, "url": f"http://127.0.0.1:{silent.getsockname()[1]}", "kind": "ollama",
                      "metrics": [], "class": "hung"})
        counters[name] = lambda accepted=accepted: accepted[0]
        keep.append(silent)
    print(json.dumps(hosts), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps({name: count() for name, count in counters.items()}), flush=True)


class Hosts:
    """The child processes holding the hosts."""

    def __init__(self) -> None:
        half = (LIVE // 2, OPENAI // 2, REFUSED // 2, HUNG // 2)
        self.procs = [subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(first), *map(str, half)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for first in (0, 50)]
        self.hosts = [h for p in self.procs for h in json.loads(p.stdout.readline())]

    def stats(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.procs:
            p.stdin.write("stats\n")
            p.stdin.flush()
            out.update(json.loads(p.stdout.readline()))
        return out

    def close(self) -> None:
        for p in self.procs:
            p.stdin.close()
            p.wait(timeout=10)


def config_text(hosts: list[dict]) -> str:
    out = []
    for h in hosts:
        metrics = ", ".join(f'"{m}"' for m in h["metrics"])
        out.append(f'[hosts.{h["name"]}]\nurl = "{h["url"]}"\nkind = "{h["kind"]}"\nmetrics = [{metrics}]\n')
    return "\n".join(out)


# --------------------------------------------------------------------------- the run


def one_run(fleet: Hosts, seconds: float) -> dict:
    live = sum(h["class"] in ("live", "openai") for h in fleet.hosts)
    app = AppTerm(host=fleet.hosts[0]["url"])
    config = app.home / ".config" / "ollama-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(config_text(fleet.hosts))
    with app:
        settle(app)
        app.send(F3)
        app.wait_text(f"Fleet · {len(fleet.hosts)} hosts · {live} up", timeout=60)
        app.send(PAGE_DOWN)
        time.sleep(6.0)  # the hung hosts' first timeouts, a few history samples
        with Others() as others:
            s0 = fleet.stats()
            c0, b0, t0 = app.cpu(), app.nbytes, time.monotonic()
            time.sleep(seconds)
            c1, b1, t1 = app.cpu(), app.nbytes, time.monotonic()
            s1 = fleet.stats()
        screen = app.lines()
    per_class: dict[str, list[float]] = {}
    reads: dict[str, list[float]] = {}
    for h in fleet.hosts:
        name = h["name"]
        if name in s1:
            per_class.setdefault(h["class"], []).append((s1[name] - s0[name]) * 60 / (t1 - t0))
        if name + " exporter" in s1:
            count = s1[name + " exporter"] - s0[name + " exporter"]
            reads.setdefault(h["class"], []).append(count * 60 / (t1 - t0))
    rows = app.bytes_by_row(t0, t1)
    return {"cpu_pct": 100 * (c1 - c0) / (t1 - t0), "bytes_per_s": (b1 - b0) / (t1 - t0),
            "probes_per_min": {k: round(median(v), 1) for k, v in per_class.items()},
            "exporter_reads_per_min": {k: round(median(v), 1) for k, v in reads.items()},
            "rows": {r: round(b / (t1 - t0), 1) for r, b in sorted(rows.items(), key=lambda kv: -kv[1])[:4]},
            "others_cores": others.cores, "screen": [line.rstrip() for line in screen[4:14]]}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(*map(int, sys.argv[2:7]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--json", type=Path, help="also write the raw runs here")
    add_machine_args(ap)
    args = ap.parse_args()
    print(f"# {command_line()}\n# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine()}")
    fleet = Hosts()
    runs = []
    try:
        for i in range(args.runs):
            wait_for_quiet_machine(args.max_others, args.wait)
            r = one_run(fleet, args.seconds)
            runs.append(r)
            print(f"  run {i + 1}: " + json.dumps({k: v for k, v in r.items() if k != "screen"}), flush=True)
        print("  screen (run 1, rows 4-13):\n    " + "\n    ".join(runs[0]["screen"]))
    finally:
        fleet.close()
    cpu = [r["cpu_pct"] for r in runs]
    bps = [r["bytes_per_s"] for r in runs]
    counts = {h["class"]: sum(1 for x in fleet.hosts if x["class"] == h["class"]) for h in fleet.hosts}
    rows = [
        (f"{len(fleet.hosts)} hosts, {args.seconds:.0f} s on the Monitor: app CPU (% of a core)", spread(cpu, ".2f"),
         "<= 2.0", verdict(median(cpu), 2.0)),
        ("bytes/s to the terminal", spread(bps, ".0f"), "<= 3000", verdict(median(bps), 3000)),
        *((f"probes per host per minute: {k} ({counts[k]} hosts)",
           spread([r["probes_per_min"][k] for r in runs], ".1f"), "", "") for k in counts
          if k in runs[0]["probes_per_min"]),
        *((f"exporter reads per host per minute: {k}",
           spread([r["exporter_reads_per_min"][k] for r in runs], ".1f"), "", "") for k in counts
          if k in runs[0]["exporter_reads_per_min"]),
        ("other processes' CPU meanwhile (cores of 2)", spread([r["others_cores"] for r in runs], ".2f"), "", ""),
    ]
    print(table(rows, f"fleet, {args.runs} run(s)"))
    print(load_note())
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
