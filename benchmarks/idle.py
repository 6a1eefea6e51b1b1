"""Idle cost: CPU % and bytes/s to the terminal while nothing happens.

Each run: a fresh app in a 120x40 pty on the simulator, one short reply (the simulator's
built-in Markdown answer), then
  - chat: 30 s idle in the chat with the prompt focused (cursor blinking; the app polls the
    server every 5 s for the status line),
  - monitor: F3, 2 s to settle, then 60 s idle on the Monitor pane.
CPU % = app CPU seconds (all threads) / wall seconds; bytes/s = bytes read from the pty / s.
The bytes are also split by the screen row they were written to (the last cursor move
before them), to show what keeps redrawing.

    uv run python benchmarks/idle.py [--runs 5] [--chat-seconds 30] [--monitor-seconds 60] [--demo]

--demo runs the app as `python -m tui --demo` (its own simulator in the app's process, and one
fake GPU: the Monitor then draws GPU charts too) instead of against a simulator started here;
the simulator's threads then count in the app's CPU.

Targets: chat <= 0.5 % and <= 100 B/s; Monitor <= 1 % and <= 2 KB/s.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stream import settle, type_prompt  # noqa: E402
from benchmarks.term import (  # noqa: E402
    ENTER,
    F3,
    AppTerm,
    Others,
    add_machine_args,
    attempt,
    command_line,
    load_note,
    machine,
    median,
    spread,
    table,
    verdict,
    wait_for_quiet_machine,
)
from tui.simulator import Simulator  # noqa: E402


def measure(app: AppTerm, seconds: float) -> dict[str, float]:
    with Others() as others:
        c0, b0, t0 = app.cpu(), app.nbytes, time.monotonic()
        time.sleep(seconds)
        c1, b1, t1 = app.cpu(), app.nbytes, time.monotonic()
    rows = app.bytes_by_row(t0, t1)
    top = sorted(rows.items(), key=lambda kv: -kv[1])[:4]
    return {"cpu_pct": 100 * (c1 - c0) / (t1 - t0), "bytes_per_s": (b1 - b0) / (t1 - t0),
            "rows": {r: round(b / (t1 - t0), 1) for r, b in top}, "others_cores": others.cores}


def one_run(host: str | None, chat_s: float, monitor_s: float) -> dict[str, dict]:
    with AppTerm(host=host, args=() if host else ("--demo",)) as app:
        settle(app)
        type_prompt(app)
        t = app.send(ENTER)
        app.wait_text(" tokens · ", timeout=30, since=t)  # the reply's stats line
        time.sleep(2.0)
        out = {"chat": measure(app, chat_s)}
        if monitor_s > 0:
            app.send(F3)
            time.sleep(2.0)
            out["monitor"] = measure(app, monitor_s)
            out["monitor"]["screen"] = " / ".join(line.strip()[:60] for line in app.lines()[:2])
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--chat-seconds", type=float, default=30.0)
    ap.add_argument("--monitor-seconds", type=float, default=60.0)
    ap.add_argument("--json", type=Path, help="also write the raw runs here")
    ap.add_argument("--demo", action="store_true", help="run the app with --demo (a fake GPU on the Monitor)")
    add_machine_args(ap)
    args = ap.parse_args()
    print(f"# {command_line()}\n# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine()}")
    runs = []
    with Simulator(token_rate=0).start() as sim:
        for i in range(args.runs):
            wait_for_quiet_machine(args.max_others, args.wait)
            r = attempt(one_run, None if args.demo else sim.url, args.chat_seconds, args.monitor_seconds)
            runs.append(r)
            print(f"  run {i + 1}: " + json.dumps(r), flush=True)
    rows = []
    for pane, seconds, cpu_t, bps_t in (("chat", args.chat_seconds, 0.5, 100),
                                         ("monitor", args.monitor_seconds, 1.0, 2000)):
        if pane not in runs[0]:
            continue
        cpu = [r[pane]["cpu_pct"] for r in runs]
        bps = [r[pane]["bytes_per_s"] for r in runs]
        rows.append((f"{pane}, {seconds:.0f} s idle: app CPU (% of a core)", spread(cpu, ".2f"),
                     f"<= {cpu_t}", verdict(median(cpu), cpu_t)))
        rows.append((f"{pane}: bytes/s to the terminal", spread(bps, ".0f"), f"<= {bps_t}",
                     verdict(median(bps), bps_t)))
        per_row: dict[int, list[float]] = {}
        for r in runs:
            for row, v in r[pane]["rows"].items():
                per_row.setdefault(int(row), []).append(v)
        top = sorted(per_row.items(), key=lambda kv: -median(kv[1]))[:3]
        rows.append((f"{pane}: other processes' CPU meanwhile (cores of 2)",
                     spread([r[pane]["others_cores"] for r in runs], ".2f"), "", ""))
        rows.append((f"{pane}: B/s by screen row (top 3)",
                     ", ".join(f"row {row}: {median(v):.0f}" for row, v in top), "", ""))
    print(table(rows, f"idle, {args.runs} runs"))
    print(load_note())
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
