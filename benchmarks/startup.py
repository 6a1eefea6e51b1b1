"""Startup: launch -> a focused, usable prompt, and RSS after start.

Each run starts `python -m tui --host <simulator>` in a fresh 120x40 pty with a fresh HOME
(new config, new history database), waits until the prompt's placeholder "Ask anything" is
on screen, types one character and measures launch -> that character visible in the prompt
(the prompt had focus and the app reacts to keys). RSS is read once the app has written
nothing for 0.5 s after that.

    uv run python benchmarks/startup.py [--runs 5] [--warmup 1]

Targets: launch -> typed character visible <= 0.8 s; RSS <= 120 MB.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.term import (  # noqa: E402
    AppTerm,
    Others,
    add_machine_args,
    attempt,
    command_line,
    load_note,
    machine,
    mb,
    median,
    spread,
    table,
    verdict,
    wait_for_quiet_machine,
)
from tui.simulator import Simulator  # noqa: E402

PLACEHOLDER = "Ask anything"
TARGET_S, TARGET_MB = 0.8, 120.0


def one_run(host: str, module: str = "tui") -> dict[str, float]:
    with AppTerm(host=host, module=module) as app, Others() as others:
        t_placeholder = app.wait_text(PLACEHOLDER, timeout=30, since=app.t_launch)
        row, col = app.find(PLACEHOLDER) or (-1, -1)
        t_key = app.send("Z")
        t_visible = app.wait(
            lambda s: s.display[row][col] == "Z" and PLACEHOLDER not in s.display[row],
            timeout=10, since=t_key, what="the typed 'Z' in the prompt")
        cpu_at_usable = app.cpu()  # read a few ms after the echo: an upper bound
        app.wait_quiet(0.3, timeout=10)
        rss = app.rss()
        nbytes = app.bytes_between(0, t_visible)
    return {
        "usable_s": t_visible - app.t_launch,
        "placeholder_s": t_placeholder - app.t_launch,
        "key_echo_ms": (t_visible - t_key) * 1e3,
        "cpu_at_usable_s": cpu_at_usable,
        "rss_mb": mb(rss),
        "bytes_to_usable": nbytes,
        "others_cores": others.cores,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1, help="uncounted runs first (warm page cache, .pyc)")
    ap.add_argument("--json", type=Path, help="also write the raw runs here")
    add_machine_args(ap)
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the calibration runs of benchmarks/baseline_app.py (bare Textual)")
    args = ap.parse_args()
    print(f"# {command_line()}\n# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine()}")
    runs = []
    with Simulator(token_rate=0).start() as sim:
        for i in range(args.warmup + args.runs):
            wait_for_quiet_machine(args.max_others, args.wait)
            r = attempt(one_run, sim.url)
            counted = i >= args.warmup
            if counted:
                runs.append(r)
            print(f"  run {i + 1}{'' if counted else ' (warm-up)'}: " +
                  ", ".join(f"{k}={v:.3f}" for k, v in r.items()), flush=True)
        base = []
        if not args.no_baseline:
            for i in range(args.warmup + args.runs):
                wait_for_quiet_machine(args.max_others, args.wait)
                r = attempt(one_run, sim.url, module="benchmarks.baseline_app")
                if i >= args.warmup:
                    base.append(r)
                print(f"  baseline run {i + 1}: " + ", ".join(f"{k}={v:.3f}" for k, v in r.items()), flush=True)
    col = {k: [r[k] for r in runs] for k in runs[0]}
    rows = [
        ("launch -> typed char visible (s)", spread(col["usable_s"], ".3f"), f"<= {TARGET_S}",
         verdict(median(col["usable_s"]), TARGET_S)),
        ("launch -> placeholder painted (s)", spread(col["placeholder_s"], ".3f"), "", ""),
        ("app CPU at usable (s)", spread(col["cpu_at_usable_s"], ".3f"), "", ""),
        ("key -> echo (ms)", spread(col["key_echo_ms"], ".1f"), "", ""),
        ("RSS after start (MB)", spread(col["rss_mb"], ".1f"), f"<= {TARGET_MB:.0f}",
         verdict(median(col["rss_mb"]), TARGET_MB)),
        ("bytes written until usable", spread(col["bytes_to_usable"], ".0f"), "", ""),
        ("other processes' CPU during the runs (cores of 2)", spread(col["others_cores"], ".2f"), "", ""),
    ]
    if base:
        b = {k: [r[k] for r in base] for k in base[0]}
        rows += [
            ("baseline: bare Textual TextArea+Footer, launch -> char (s)", spread(b["usable_s"], ".3f"), "", ""),
            ("baseline: CPU at usable (s)", spread(b["cpu_at_usable_s"], ".3f"), "", ""),
            ("baseline: RSS (MB)", spread(b["rss_mb"], ".1f"), "", ""),
        ]
    print(table(rows, f"startup, {len(runs)} runs (+{args.warmup} warm-up)"))
    print(load_note())
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
