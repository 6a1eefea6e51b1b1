"""One very long code block streamed at full speed: does the cost grow with the block's length?

A reply of a single Python fence of N lines (~18 tokens a line) followed by the word
ZEBRAFINAL, streamed by the simulator as fast as it can, into a fresh app in a 120x40 pty
(the same run as benchmarks/stream.py part 1). For each N: Enter -> last word on screen, app
CPU, bytes to the terminal, RSS, and the time per 1,000 lines — flat when the cost is linear in
the length (each complete line of an open fence is rendered once; a block over 400 lines is
shown without highlighting, see `MarkdownLines.HIGHLIGHT_MAX_LINES`).

    uv run python benchmarks/long_fence.py [--lines 1000,2500,5000,10000]

No target in the issues; it guards against a frame costing more as the open block grows.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stream import reply_run  # noqa: E402
from benchmarks.term import (  # noqa: E402
    add_machine_args,
    command_line,
    load_note,
    machine,
    wait_for_quiet_machine,
)
from tui.simulator import Simulator  # noqa: E402
from tui.simulator.support import tokenize  # noqa: E402


def fence_reply(lines: int) -> str:
    code = "\n".join(f"    result_{i} = compute(values[{i}], factor={i % 7}) + offset  # step {i}"
                     for i in range(lines))
    return f"Here is the code:\n\n```python\n{code}\n```\n\nDone ZEBRAFINAL."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", default="1000,2500,5000,10000")
    add_machine_args(ap)
    args = ap.parse_args()
    print(f"# {command_line()}\n# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine()}")
    print(f"{'lines':>6}  {'tokens':>7}  {'Enter->last s':>13}  {'CPU s':>6}  {'s/1k lines':>10}  "
          f"{'KB':>6}  {'RSS MB':>6}  {'others':>6}")
    for lines in (int(x) for x in args.lines.split(",")):
        reply = fence_reply(lines)
        tokens = len(tokenize(reply))
        wait_for_quiet_machine(args.max_others, args.wait)
        with Simulator(token_rate=0, reply=reply).start() as sim:
            r = reply_run(sim.url, "ZEBRAFINAL", tokens)
        print(f"{lines:>6}  {tokens:>7}  {r['enter_to_last_s']:>13.2f}  {r['cpu_s']:>6.2f}  "
              f"{r['enter_to_last_s'] / lines * 1000:>10.2f}  {r['kbytes']:>6.0f}  {r['rss_mb']:>6.1f}  "
              f"{r['others_cores']:>6.2f}", flush=True)
    print(load_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
