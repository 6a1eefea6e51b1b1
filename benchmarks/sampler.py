"""A timeline sampler for profiling the real app without changing it.

Run the app through this launcher (AppTerm(module="benchmarks.sampler")): it starts a thread
that records the main thread's Python stack every SAMPLE_MS (time-stamped), then runs
`tui.cli.main()`. At exit the samples are written as JSON lines to $OTUI_SAMPLES.
`summarise()` turns them into a timeline: for each bucket of time, the frames that were
running (innermost frame of the app's own code, plus the Textual phase).

    uv run python benchmarks/sampler.py SAMPLES.jsonl [--bucket 0.05] [--until T]
"""

from __future__ import annotations

import collections
import json
import os
import sys
import threading
import time

SAMPLE_MS = float(os.environ.get("OTUI_SAMPLE_MS", "2"))

# Textual internals worth naming in a timeline (file suffix, function)
PHASES = [
    ("importlib", "_find_and_load", "import"),
    ("css/stylesheet.py", "parse", "css parse"),
    ("css/stylesheet.py", "update_nodes", "css apply"),
    ("css/stylesheet.py", "apply", "css apply"),
    ("widgets/_footer.py", "recompose", "footer recompose"),
    ("widgets/_footer.py", "_watch_compact", "footer recompose"),
    ("widget.py", "_compose", "compose"),
    ("widget.py", "mount", "mount"),
    ("app.py", "_register", "mount"),
    ("screen.py", "_refresh_layout", "layout+render"),
    ("_compositor.py", "render_update", "render"),
    ("widgets/_markdown.py", "append", "markdown append"),
    ("widgets/_markdown.py", "_update_from_block", "markdown"),
]


# functions whose `self` class is recorded too ("widget.py:mount[ModelsPane]")
NAMED = {"compose", "_compose", "_on_compose", "mount", "mount_all", "_register", "recompose",
         "on_mount", "_on_mount", "_post_mount", "refresh_bindings", "_watch_compact", "append",
         "update", "_process_messages", "_dispatch_message", "on_event", "_on_message"}


def _start_sampler(path: str, t0: float) -> None:
    main = threading.main_thread().ident
    samples: list[tuple[float, list[str]]] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            frame = sys._current_frames().get(main)
            stack = []
            while frame is not None:
                code = frame.f_code
                entry = f"{code.co_filename}:{code.co_name}"
                if code.co_name in NAMED and code.co_varnames[:1] == ("self",):
                    try:
                        entry += f"[{type(frame.f_locals['self']).__name__}]"
                    except Exception:
                        pass
                stack.append(entry)
                frame = frame.f_back
            samples.append((time.monotonic() - t0, stack[::-1]))
            time.sleep(SAMPLE_MS / 1000)

    thread = threading.Thread(target=run, daemon=True, name="sampler")
    thread.start()

    import atexit

    def dump() -> None:
        stop.set()
        thread.join(1)
        with open(path, "w") as f:
            for t, stack in samples:
                f.write(json.dumps([round(t, 4), stack]) + "\n")

    atexit.register(dump)


def label(stack: list[str]) -> str:
    """Textual phase + innermost app frame of one sample."""
    if not stack or stack[-1].endswith(":select"):
        return "idle (event loop waiting)"
    phase = ""
    who = ""
    for frame in stack:
        file, _, func = frame.rpartition(":")
        func, _, cls = func.partition("[")
        cls = cls.rstrip("]")
        for suffix, name, what in PHASES:
            if file.endswith(suffix) and func == name:
                phase = phase or what
        if cls and func in ("_process_messages", "_on_message", "compose", "_compose", "_on_compose") \
                and cls not in ("OllamaTUI", "Screen"):
            who = who or cls
    if who:
        phase = f"{phase or 'other'} in {who}"
    ours = [f for f in stack if "/tui/" in f and "/site-packages/" not in f]
    inner = ours[-1].split("/tui/", 1)[1] if ours else ""
    return f"{phase or 'other'} | {inner}"


def summarise(path: str, bucket: float = 0.05, until: float | None = None, top: int = 2) -> str:
    rows = [json.loads(line) for line in open(path)]
    out = []
    buckets: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for t, stack in rows:
        if until is not None and t > until:
            break
        buckets[int(t / bucket)][label(stack)] += 1
    for b in sorted(buckets):
        c = buckets[b]
        n = sum(c.values())
        parts = ", ".join(f"{k} {v * 100 // n}%" for k, v in c.most_common(top))
        out.append(f"{b * bucket:6.2f}s  {parts}")
    totals: collections.Counter[str] = collections.Counter()
    for c in buckets.values():
        totals.update(c)
    n = sum(totals.values())
    out.append("\ntotals (share of samples):")
    out += [f"  {v * 100 / n:5.1f}%  {k}" for k, v in totals.most_common(25)]
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("--host"):
        import argparse

        ap = argparse.ArgumentParser()
        ap.add_argument("path")
        ap.add_argument("--bucket", type=float, default=0.05)
        ap.add_argument("--until", type=float)
        ap.add_argument("--top", type=int, default=2)
        a = ap.parse_args()
        print(summarise(a.path, a.bucket, a.until, a.top))
        sys.exit(0)
    t0 = float(os.environ.get("OTUI_T0", time.monotonic()))
    _start_sampler(os.environ["OTUI_SAMPLES"], t0)
    from tui.cli import main

    sys.exit(main())
