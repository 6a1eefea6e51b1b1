"""Profile the real app during one benchmark scenario, with benchmarks/sampler.py.

The app runs through the sampler launcher (main-thread stack every 2 ms, time-stamped) in
the same pty set-up as the benchmarks; the summary covers only the measured window.

    uv run python benchmarks/profile_run.py startup
    uv run python benchmarks/profile_run.py stream [--tokens 4000] [--rate 0]
    uv run python benchmarks/profile_run.py idle [--seconds 10] [--pane chat|monitor]
    uv run python benchmarks/profile_run.py open      (the history benchmark's 10k session;
                                                        run benchmarks/history.py once first)
    uv run python benchmarks/profile_run.py fleet [--seconds 30]   (benchmarks/fleet.py's 32 hosts,
                                                        on the Monitor paged down to the fleet)

Prints the timeline (what ran in each 50 ms bucket) and the totals over the window; the
raw samples stay in /tmp/otui-samples.jsonl (`benchmarks/sampler.py FILE` re-reads them).
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.sampler import label  # noqa: E402
from benchmarks.stream import settle, type_prompt  # noqa: E402
from benchmarks.term import CTRL_L, ENTER, F3, AppTerm  # noqa: E402
from benchmarks.textgen import markdown_reply  # noqa: E402
from tui.simulator import Simulator  # noqa: E402
from tui.simulator.support import tokenize  # noqa: E402

SAMPLES = "/tmp/otui-samples.jsonl"


def window(path: str, t0: float, t1: float, bucket: float, top: int, frames: int) -> str:
    rows = [json.loads(line) for line in open(path)]
    rows = [(t, st) for t, st in rows if t0 <= t <= t1]
    buckets: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    inner: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    for t, st in rows:
        lab = label(st)
        buckets[int((t - t0) / bucket)][lab] += 1
        totals[lab] += 1
        if lab.startswith("idle"):
            continue
        short = [f.split("site-packages/")[-1].split("/work/main/")[-1] for f in st]
        inner[short[-1]] += 1
        for f in set(short):
            incl[f] += 1
    out = [f"{len(rows)} samples over {t1 - t0:.2f} s"]
    for b in sorted(buckets):
        c = buckets[b]
        n = sum(c.values())
        out.append(f"{b * bucket:6.2f}s  " + ", ".join(f"{k} {v * 100 // n}%" for k, v in c.most_common(top)))
    n = max(1, len(rows))
    out.append("\nphases (share of all samples in the window):")
    out += [f"  {v * 100 / n:5.1f}%  {k}" for k, v in totals.most_common(20)]
    out.append("\ninclusive (share of samples with the frame on the stack):")
    out += [f"  {v * 100 / n:5.1f}%  {k}" for k, v in incl.most_common(frames)]
    out.append("\nself (innermost Python frame):")
    out += [f"  {v * 100 / n:5.1f}%  {k}" for k, v in inner.most_common(25)]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario", choices=["startup", "stream", "idle", "open", "fleet"])
    ap.add_argument("--tokens", type=int, default=4000)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pane", default="chat", choices=["chat", "monitor"])
    ap.add_argument("--bucket", type=float, default=0.05)
    ap.add_argument("--top", type=int, default=2)
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    final = "ZEBRAFINAL"
    text = markdown_reply(a.tokens, seed=1, final=final)
    fleet = None
    if a.scenario == "fleet":
        from benchmarks.fleet import PAGE_DOWN, Hosts, config_text

        fleet = Hosts()
    with Simulator(token_rate=a.rate, reply=text).start() as sim:
        t_launch = time.monotonic()
        app = AppTerm(host=sim.url, module="benchmarks.sampler",
                      env={"OTUI_SAMPLES": SAMPLES, "OTUI_T0": repr(t_launch)})
        if fleet is not None:
            config = app.home / ".config" / "ollama-tui" / "config.toml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(config_text(fleet.hosts))
        if a.scenario == "open":
            from benchmarks.history import CACHE

            shutil.copyfile(CACHE, app.home / "history.sqlite3")
            app.args += ["--db", str(app.home / "history.sqlite3")]
        app.start()
        try:
            if a.scenario == "startup":
                t = app.wait_text("Ask anything", timeout=30, since=0)
                row, col = app.find("Ask anything") or (0, 0)
                tk = app.send("Z")
                tv = app.wait(lambda s: s.display[row][col] == "Z", since=tk, what="typed Z")
                print(f"placeholder {t - t_launch:.3f}s, key sent {tk - t_launch:.3f}s, "
                      f"echoed {tv - t_launch:.3f}s")
                w0, w1 = 0.0, tv - t_launch
            elif a.scenario == "stream":
                settle(app)
                type_prompt(app)
                t_enter = app.send(ENTER)
                t_last = app.wait_text(final, timeout=120, since=t_enter)
                app.wait_text(f"{len(tokenize(text))} tokens", timeout=30, since=t_enter)
                t_quiet = app.wait_quiet(0.3)
                print(f"Enter -> last word {t_last - t_enter:.3f}s, -> quiet {t_quiet - t_enter:.3f}s")
                w0, w1 = t_enter - t_launch, t_quiet - t_launch
            elif a.scenario == "open":
                from benchmarks.history import BIG_TITLE, LAST_WORD

                settle(app)
                app.wait_text(BIG_TITLE, timeout=10, since=0)
                app.send(CTRL_L)
                time.sleep(0.5)
                app.wait_quiet(0.3)
                t_enter = app.send(ENTER)
                t_last = app.wait_text(LAST_WORD, timeout=60, since=t_enter)
                t_quiet = app.wait_quiet(0.3, timeout=30)
                print(f"Enter -> last message {t_last - t_enter:.3f}s, -> quiet {t_quiet - t_enter:.3f}s")
                w0, w1 = t_enter - t_launch, t_quiet - t_launch
            elif fleet is not None:
                live = sum(h["class"] in ("live", "openai") for h in fleet.hosts)
                settle(app)
                app.send(F3)
                app.wait_text(f"Fleet · {len(fleet.hosts)} hosts · {live} up", timeout=60)
                app.send(PAGE_DOWN)
                time.sleep(6.0)
                t0 = time.monotonic()
                time.sleep(a.seconds)
                w0, w1 = t0 - t_launch, time.monotonic() - t_launch
            else:
                settle(app)
                if a.pane == "monitor":
                    app.send(F3)
                    time.sleep(2)
                t0 = time.monotonic()
                time.sleep(a.seconds)
                w0, w1 = t0 - t_launch, time.monotonic() - t_launch
        finally:
            app.close()
            if fleet is not None:
                fleet.close()
    print(window(SAMPLES, w0, w1, a.bucket, a.top, a.frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
